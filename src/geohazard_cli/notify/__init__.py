"""Delivery of the 叫应 messages: one notifier interface (``interface.py``), one module per channel,
picked from ``REGISTRY`` (pre-commit's ``all_languages.py`` shape) and imported only when used.

``dry-run`` and ``sms-file`` are built in; the others are configured in the local ``notify.yaml``
(``settings.py``). ``delivery.py`` turns a response's round into messages and runs the attempts."""

from __future__ import annotations

import importlib
from typing import Any

from geohazard_cli.notify.interface import Message, Notifier, Result

# channel type -> "module:class" under geohazard_cli.notify
REGISTRY = {
    "dry-run": "dry_run:DryRun",
    "sms-file": "sms_file:SmsFile",
    "dingtalk": "dingtalk:DingTalk",
    "wecom": "wecom:WeCom",
    "feishu": "feishu:Feishu",
    "webhook": "webhook:Webhook",
    "email": "email:Email",
}
BUILT_IN = ("dry-run", "sms-file")


def notifier(kind: str, name: str, settings: dict[str, Any], secret: str | None) -> Notifier:
    module, _, attr = REGISTRY[kind].partition(":")
    cls = getattr(importlib.import_module(f"geohazard_cli.notify.{module}"), attr)
    built: Notifier = cls(name, settings, secret)
    return built


__all__ = ["BUILT_IN", "REGISTRY", "Message", "Notifier", "Result", "notifier"]
