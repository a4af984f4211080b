"""A drill's 叫应 messages through the ``dry-run`` channel: after each step, every open response's
units still to answer this round get their message composed, queued and "sent" by dry-run in the
drill's own journal, with the same functions ``incident notify`` uses (``notify/delivery.py``). A
drill's responses are exercises, so each text carries the exercise prefix (【演练】), as CAP's
Exercise status does. Each round is messaged once (the idempotency key holds the round)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geohazard_cli.lifecycle import State
    from geohazard_cli.storage import Storage as Journal

CHANNEL = "dry-run"


def dry_run_messages(j: Journal, states: list[State], templates: Path, when: datetime) -> list[dict[str, Any]]:
    """What would be sent now for each open response's round (new messages only)."""
    from geohazard_cli.notify import delivery as dl
    from geohazard_cli.notify import notifier
    from geohazard_cli.notify.settings import NotifyFile
    from geohazard_cli.responses import queue_messages, read

    settings = NotifyFile.model_validate({"schema": 1})
    render = dl.renderer(templates, CHANNEL)
    sender = notifier(CHANNEL, CHANNEL, {}, None)
    out: list[dict[str, Any]] = []
    try:
        for state in states:
            record, events = read(j, state.id)
            fresh = dl.compose(record, events, CHANNEL, CHANNEL, dl.on_call_list(record, None), settings, render,
                               False, dl.Outcome())
            if not fresh:
                continue
            queue_messages(j, state.id, fresh, when)
            done = dl.send_all(j, state.id, sender, [m["key"] for m in fresh], ["queued"], 0, 0.0, lambda: when)
            out += [{"response_id": state.id, "key": m["key"], "kind": m["kind"], "unit": m["unit"],
                     "unit_key": m["unit_key"], "target": m["target"], "text": m["text"],
                     "result": done[m["key"]]["result"]} for m in fresh]
    finally:
        sender.close()
    return out
