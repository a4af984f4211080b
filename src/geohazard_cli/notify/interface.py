"""The one notifier interface every delivery channel implements (pip-audit's ``_format/interface.py``
shape): a message goes in, a result comes out. Channels never touch the journal; ``delivery.py``
records each attempt before and after the call."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol


class Message(NamedTuple):
    """One 叫应 message: to one unit, over one channel. ``key`` is its idempotency key."""

    key: str
    channel: str
    kind: str  # incident | level_change | warning | reminder
    unit_key: str
    unit: str
    target: str  # the number, the address, or the group the bot posts to
    text: str
    subject: str = ""


class Result:
    """What one attempt gave: ``ok``; ``code`` the platform's reply code (HTTP status, errcode,
    SMTP code, or a word such as ``timeout``); ``detail`` a short reason (never a secret). (A plain
    class: records here are not dataclasses, whose generated methods cost start-up time.)"""

    __slots__ = ("code", "detail", "extra", "ok")

    def __init__(self, ok: bool, code: str, detail: str = "", extra: dict[str, Any] | None = None) -> None:
        self.ok, self.code, self.detail = ok, code, detail
        self.extra: dict[str, Any] = {} if extra is None else extra

    def __eq__(self, other: object) -> bool:
        return type(other) is Result and (self.ok, self.code, self.detail, self.extra) == (
            other.ok, other.code, other.detail, other.extra)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Result(ok={self.ok!r}, code={self.code!r}, detail={self.detail!r}, extra={self.extra!r})"


class Notifier(Protocol):
    """A delivery channel, built from its ``notify.yaml`` settings and the secret named there."""

    name: str

    def send(self, message: Message) -> Result: ...

    def close(self) -> None: ...
