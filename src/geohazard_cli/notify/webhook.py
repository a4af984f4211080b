"""A generic JSON webhook: POST the message as JSON; with a secret, the header
``X-Geohazard-Signature: sha256=<hex HMAC-SHA256 of the body>``. Any 2xx is delivered."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from geohazard_cli.notify._http import post_json
from geohazard_cli.notify.interface import Message, Result


def body_of(message: Message) -> dict[str, Any]:
    return {"key": message.key, "kind": message.kind, "unit": message.unit, "unit_key": message.unit_key,
            "target": message.target, "text": message.text}


def signature(body: dict[str, Any], secret: str) -> str:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return "sha256=" + hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


class Webhook:
    def __init__(self, name: str, settings: dict[str, Any], secret: str | None) -> None:
        self.name, self.url, self.secret = name, str(settings["url"]), secret
        self.timeout = float(settings.get("timeout", 10))

    def send(self, message: Message) -> Result:
        body = body_of(message)
        headers = {"X-Geohazard-Signature": signature(body, self.secret)} if self.secret else None
        result, _ = post_json(self.url, body, self.timeout, headers)
        return result

    def close(self) -> None:
        return None
