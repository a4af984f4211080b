"""``dry-run``: records what would be sent, sends nothing (drills and exercises)."""

from __future__ import annotations

from typing import Any

from geohazard_cli.notify.interface import Message, Result


class DryRun:
    reaches_no_one = True  # delivery.send_all claims and records a round's messages in one go each

    def __init__(self, name: str, settings: dict[str, Any], secret: str | None) -> None:
        self.name = name

    def send(self, message: Message) -> Result:
        return Result(True, "dry-run", "not sent (dry run)")

    def close(self) -> None:
        return None
