"""POSTing JSON with the standard library, for the bot channels. No message here ever names the URL
(a bot's URL carries its access token)."""

from __future__ import annotations

import json
from typing import Any

from geohazard_cli.notify.interface import Result


def post_json(url: str, body: dict[str, Any], timeout: float, headers: dict[str, str] | None = None,
              ) -> tuple[Result, Any]:
    """POST ``body``; (a failed Result or an HTTP 2xx Result, the decoded JSON reply or None)."""
    import urllib.error
    import urllib.request

    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(1 << 16)
            status = response.status
    except urllib.error.HTTPError as exc:
        return Result(False, str(exc.code), f"HTTP {exc.code}"), None
    except TimeoutError:
        return Result(False, "timeout", f"no reply within {timeout:g} s"), None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return Result(False, "timeout", f"no reply within {timeout:g} s"), None
        return Result(False, "unreachable", type(reason).__name__ if not isinstance(reason, str) else reason), None
    except OSError as exc:
        return Result(False, "unreachable", type(exc).__name__), None
    try:
        reply = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        reply = None
    return Result(True, str(status)), reply


def errcode(result: Result, reply: Any, field: str = "errcode") -> Result:
    """A bot's own answer inside an HTTP 200: ``{"errcode": 0}`` (钉钉, 企业微信) or ``{"code": 0}`` (飞书)."""
    if not result.ok:
        return result
    if not isinstance(reply, dict) or field not in reply:
        return Result(False, result.code, "the reply is not the platform's JSON")
    code = reply.get(field)
    message = str(reply.get("errmsg") or reply.get("msg") or "")[:200]
    return Result(code == 0, str(code), message)
