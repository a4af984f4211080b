"""企业微信 group robot (群机器人): POST ``{"msgtype": "text", "text": {"content": ...}}`` to its webhook
(the ``key`` in the URL is the only credential; the platform does not sign). The reply is
``{"errcode": 0, "errmsg": "ok"}``. A unit's mobile (``mentions``) is @-mentioned."""

from __future__ import annotations

from typing import Any

from geohazard_cli.notify._http import errcode, post_json
from geohazard_cli.notify.interface import Message, Result


class WeCom:
    def __init__(self, name: str, settings: dict[str, Any], secret: str | None) -> None:
        self.name, self.url = name, str(settings["url"])
        self.timeout = float(settings.get("timeout", 10))
        self.mentions: dict[str, str] = dict(settings.get("mentions") or {})

    def send(self, message: Message) -> Result:
        text: dict[str, Any] = {"content": message.text}
        mobile = self.mentions.get(message.unit_key)
        if mobile:
            text["mentioned_mobile_list"] = [mobile]
        result, reply = post_json(self.url, {"msgtype": "text", "text": text}, self.timeout)
        return errcode(result, reply)

    def close(self) -> None:
        return None
