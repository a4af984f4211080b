"""钉钉 custom group robot (自定义机器人): POST ``{"msgtype": "text", "text": {"content": ...}}`` to its
webhook; with 加签, ``&timestamp=<ms>&sign=<urlencode(base64(HmacSHA256(key=secret,
msg=timestamp + "\\n" + secret)))>`` on the URL. The reply is ``{"errcode": 0, "errmsg": "ok"}``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Any

from geohazard_cli.notify._http import errcode, post_json
from geohazard_cli.notify.interface import Message, Result


def sign(timestamp: str, secret: str) -> str:
    string_to_sign = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, digestmod=hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class DingTalk:
    def __init__(self, name: str, settings: dict[str, Any], secret: str | None) -> None:
        self.name, self.url, self.secret = name, str(settings["url"]), secret
        self.timeout = float(settings.get("timeout", 10))

    def send(self, message: Message) -> Result:
        url = self.url
        if self.secret:
            ts = str(round(time.time() * 1000))
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign(ts, self.secret)}"
        result, reply = post_json(url, {"msgtype": "text", "text": {"content": message.text}}, self.timeout)
        return errcode(result, reply)

    def close(self) -> None:
        return None
