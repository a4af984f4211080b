"""飞书 custom bot (自定义机器人): POST ``{"msg_type": "text", "content": {"text": ...}}``; with 签名校验,
``timestamp`` (seconds, as a string) and ``sign`` = base64(HmacSHA256(key=timestamp + "\\n" + secret,
msg=empty)) in the body. The reply is ``{"code": 0, "msg": "success"}``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from geohazard_cli.notify._http import errcode, post_json
from geohazard_cli.notify.interface import Message, Result


def sign(timestamp: str, secret: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", digestmod=hashlib.sha256).digest()).decode("ascii")


class Feishu:
    def __init__(self, name: str, settings: dict[str, Any], secret: str | None) -> None:
        self.name, self.url, self.secret = name, str(settings["url"]), secret
        self.timeout = float(settings.get("timeout", 10))

    def send(self, message: Message) -> Result:
        body: dict[str, Any] = {}
        if self.secret:
            ts = str(int(time.time()))
            body = {"timestamp": ts, "sign": sign(ts, self.secret)}
        body |= {"msg_type": "text", "content": {"text": message.text}}
        result, reply = post_json(self.url, body, self.timeout)
        if isinstance(reply, dict) and "code" not in reply and "StatusCode" in reply:  # the older reply
            reply = {"code": reply["StatusCode"], "msg": reply.get("StatusMessage")}
        return errcode(result, reply, "code")

    def close(self) -> None:
        return None
