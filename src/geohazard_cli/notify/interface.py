"""The one notifier interface every delivery channel implements (pip-audit's ``_format/interface.py``
shape): a message goes in, a result comes out. Channels never touch the journal; ``delivery.py``
records each attempt before and after the call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Message:
    """One 叫应 message: to one unit, over one channel. ``key`` is its idempotency key."""

    key: str
    channel: str
    kind: str  # incident | level_change | warning | reminder
    unit_key: str
    unit: str
    target: str  # the number, the address, or the group the bot posts to
    text: str
    subject: str = ""


@dataclass(frozen=True, slots=True)
class Result:
    """What one attempt gave: ``ok``; ``code`` the platform's reply code (HTTP status, errcode,
    SMTP code, or a word such as ``timeout``); ``detail`` a short reason (never a secret)."""

    ok: bool
    code: str
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    """A delivery channel, built from its ``notify.yaml`` settings and the secret named there."""

    name: str

    def send(self, message: Message) -> Result: ...

    def close(self) -> None: ...
