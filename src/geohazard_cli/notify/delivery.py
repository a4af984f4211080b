"""From a response's round to messages, and the attempts at them.

Every message has an idempotency key (response, round, unit, channel, kind) and is recorded in the
journal (``message``) before anything is sent. Each attempt is recorded ``sending`` before the
request and ``sent``/``failed`` after it, so a killed run leaves an exact record:

- ``queued`` or ``failed``: not delivered; ``incident notify --retry`` sends it;
- ``sending`` with nothing after it (an orphan): the request may or may not have reached the
  platform. It is **not** sent again by ``--retry`` (nothing is sent twice); it is listed as
  ``unknown``, and ``--retry --resend-unknown`` sends it once more after the officer has checked.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geohazard_cli import lifecycle
from geohazard_cli.notify.interface import Message, Notifier, Result

if TYPE_CHECKING:
    from geohazard_cli.lifecycle import Event, State
    from geohazard_cli.notify.settings import NotifyFile
    from geohazard_cli.storage import Storage as Journal

KINDS = ("incident", "level_change", "warning", "reminder")
RETRYABLE = ("queued", "failed")


def key(response_id: int, round_seq: int, unit_key: str, channel: str, kind: str) -> str:
    return f"{response_id}/{round_seq}/{unit_key}/{channel}/{kind}"


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def kind_of(state: State, events: Iterable[Event], reminder: bool) -> str:
    """What the round's message says: the event that started the round decides it."""
    if reminder:
        return "reminder"
    if state.response == "warning":
        return "warning"
    starter = next((e for e in events if e.seq == state.round_seq), None)
    return "level_change" if starter is not None and starter.kind in ("decision", "level_change") else "incident"


def target_of(channel_type: str, channel: str, entry: dict[str, Any], settings: NotifyFile) -> str | None:
    """Where a unit's message goes: its SMS number, its address, or (a bot) the channel's group."""
    unit_key = str(entry.get("unit_key") or "")
    if channel_type == "sms-file":  # (a text goes to a mobile: a fixed line takes none)
        numbers = settings.numbers.get(unit_key) or []
        return numbers[0] if numbers else next(iter(mobiles(entry)), None)
    if channel_type == "dry-run":
        return str(entry.get("dial") or entry.get("phone") or unit_key)
    if channel_type == "email":
        return settings.channels[channel].addresses.get(unit_key)
    return f"group:{channel}"


def mobiles(entry: dict[str, Any]) -> list[str]:
    """The mobile numbers among a call-list entry's number and its backups, in that order."""
    from geohazard_cli.contacts import is_mobile

    given = [entry.get("dial"), entry.get("phone"), *lifecycle.backup_dials(entry)]
    return list(dict.fromkeys(n for n in given if isinstance(n, str) and is_mobile(n)))


def no_target(channel_type: str, entry: dict[str, Any], unit: str, unit_key: str) -> dict[str, Any]:
    """A unit nothing was sent to, and why: no number or address, or (SMS) a fixed line only."""
    fixed = channel_type == "sms-file" and bool(entry.get("dial") or entry.get("phone"))
    return {"unit": unit, "unit_key": unit_key, "why": "仅有固定电话(短信发不到)" if fixed else "无号码或地址"}


class Outcome:
    """What a run did, message by message, for the output (JSON ``messages``)."""

    __slots__ = ("messages", "no_target", "skipped")

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []  # already recorded for this round
        self.no_target: list[dict[str, Any]] = []  # no number or address known


def compose(state: State, events: list[Event], channel: str, channel_type: str, entries: list[dict[str, Any]],
            settings: NotifyFile, render: Callable[[str, dict[str, Any]], str], reminder: bool,
            outcome: Outcome) -> list[dict[str, Any]]:
    """The message records to queue for these call-list entries (new keys only)."""
    kind = kind_of(state, events, reminder)
    out = []
    for e in entries:
        unit_key, unit = str(e.get("unit_key") or ""), str(e.get("unit") or e.get("unit_key") or "")
        k = key(state.id, state.round_seq, unit_key, channel, kind)
        if k in state.messages:
            outcome.skipped.append({"key": k, "unit": unit, "status": state.messages[k].get("status")})
            continue
        target = target_of(channel_type, channel, e, settings)
        if not target:
            outcome.no_target.append(no_target(channel_type, e, unit, unit_key))
            continue
        text = render(kind, context(state, e, kind, channel, channel_type))
        out.append({"key": k, "channel": channel, "kind": kind, "unit_key": unit_key, "unit": unit,
                    "target": target, "text": text, "text_digest": digest(text), "round_seq": state.round_seq})
    return out


def reminders(state: State, late: dict[str, Any], channel: str, channel_type: str, settings: NotifyFile,
              render: Callable[[str, dict[str, Any]], str], outcome: Outcome) -> list[dict[str, Any]]:
    """Reminders (kind ``reminder``) for what ``deadlines.due`` found late in this response: each unit
    past its answer deadline, each report (速报/续报) overdue. One per deadline missed: the key holds
    the deadline (and a unit's calls so far), so a re-run sends nothing again, and a new deadline
    (the next 续报, a call that reached someone) or another call that did not get through is
    reminded anew. A report's reminder is for the duty room: it goes where the channel posts to a
    group (the bots, the webhook) or dry-run; sms-file and email list it under ``no_target``."""
    from geohazard_cli.timeline import human_time

    by_key = {str(e.get("unit_key")): e for e in lifecycle.entries(state)}
    items: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for row in late.get("overdue", []):
        if row["response_id"] == state.id:
            entry = by_key.get(str(row["unit_key"]), {"unit_key": row["unit_key"], "unit": row["unit"]})
            items.append((str(row["unit_key"]), entry, {"what": "answer", **row}))
    for row in late.get("reports_due", []):
        if row["response_id"] == state.id and row["overdue"]:
            items.append((f"report:{row['report']}", {"unit_key": f"report:{row['report']}",
                                                      "unit": row["report_name"]}, {"what": "report", **row}))
    out = []
    for unit_key, entry, why in items:
        unit = str(entry.get("unit") or unit_key)
        # one reminder per deadline missed, and again after each call since that did not get
        # through (a failed call earns no time: deadlines.FAILED_OUTCOMES)
        tries = why.get("attempts") if why["what"] == "answer" else None
        k = f"{key(state.id, state.round_seq, unit_key, channel, 'reminder')}@{why['due_at']}" + (
            f"#{tries}" if tries else "")
        if k in state.messages:
            outcome.skipped.append({"key": k, "unit": unit, "status": state.messages[k].get("status")})
            continue
        if why["what"] == "report":
            target = "值班室" if channel_type == "dry-run" else (
                None if channel_type in ("sms-file", "email") else f"group:{channel}")
        else:
            target = target_of(channel_type, channel, entry, settings)
        if not target:
            outcome.no_target.append({"unit": unit, "unit_key": unit_key, "why": "报送提醒只发往群(机器人)"}
                                     if why["what"] == "report" else no_target(channel_type, entry, unit, unit_key))
            continue
        ctx = context(state, entry, "reminder", channel, channel_type)
        ctx["late"] = {"what": why["what"], "minutes_late": why["minutes_late"],
                       "due_at": human_time(datetime.fromisoformat(why["due_at"])),
                       "report_name": why.get("report_name"), "attempts": why.get("attempts")}
        text = render("reminder", ctx)
        out.append({"key": k, "channel": channel, "kind": "reminder", "unit_key": unit_key, "unit": unit,
                    "target": target, "text": text, "text_digest": digest(text), "round_seq": state.round_seq,
                    "late": why["what"]})
    return out


def context(state: State, entry: dict[str, Any], kind: str, channel: str, channel_type: str) -> dict[str, Any]:
    from geohazard_cli.timeline import human_time

    return {"exercise": state.exercise, "kind": kind, "channel": channel, "channel_type": channel_type, "late": None,
            "id": state.id, "response": state.response, "unit": entry.get("unit"), "unit_key": entry.get("unit_key"),
            "reasons": entry.get("reasons") or [], "grade_name": state.grade_name,
            "response_level_name": state.response_level_name, "warning": state.warning or {},
            # who decided the level in force; None: the level as opened, the plan's proposal (§6.1.2)
            "decided_by": state.decided_by,
            "location": state.incident.get("location"), "hazard_type_name": state.incident.get("hazard_type_name"),
            "opened_at": human_time(state.opened_at), "round_at": human_time(state.round_at)}


def renderer(templates: Path, channel_type: str) -> Callable[[str, dict[str, Any]], str]:
    """``notify/{kind}.{channel type}.txt.j2`` where the config dir has one, else ``notify/{kind}.txt.j2``."""
    from geohazard_cli.render import render

    def text(kind: str, ctx: dict[str, Any]) -> str:
        name = f"notify/{kind}.{channel_type}"
        if not (templates / f"{name}.txt.j2").is_file():
            name = f"notify/{kind}"
        return render(templates, name, "text", **ctx).strip()

    return text


def message_of(k: str, m: dict[str, Any]) -> Message:
    return Message(key=k, channel=str(m.get("channel")), kind=str(m.get("kind")), unit_key=str(m.get("unit_key")),
                   unit=str(m.get("unit")), target=str(m.get("target")), text=str(m.get("text")))


def send_all(j: Journal, response_id: int, notifier: Notifier, keys: list[str], allowed: Iterable[str],
             retries: int, backoff: float, now: Callable[[], datetime],
             sleep: Callable[[float], None] = time.sleep) -> dict[str, dict[str, Any]]:
    """Send each message, each attempt recorded before and after; failures retried with backoff
    (``backoff``, doubling). Returns key -> {result, code, detail, attempts, extra}.

    A channel that reaches no one (``reaches_no_one``: dry-run) has its messages claimed in one
    transaction and their attempts recorded in one: nothing outside the journal can be left half
    done, so a drill's round costs two writes, not two per message. A failed one is retried as
    any other channel's."""
    from geohazard_cli.responses import claim, claim_many, record_attempts, state_of

    done: dict[str, dict[str, Any]] = {}
    first = set(allowed)
    tried: set[str] = set()  # attempted once by the batch below, to be retried
    if getattr(notifier, "reaches_no_one", False):
        claimed = claim_many(j, response_id, keys, first, now())
        results = {k: notifier.send(message_of(k, m)) for k, m in claimed.items()}
        if results:
            record_attempts(j, response_id, [_row(k, r) for k, r in results.items()], now())
        for k, r in results.items():
            done[k] = _outcome(r, 1)
        tried = {k for k, r in results.items() if not r.ok and retries > 0}
        keys = [k for k in keys if k not in claimed or k in tried]  # the rest as any channel's, below
    for k in keys:
        tries = 1 if k in tried else 0
        wait = backoff * 2 ** tries
        if tries:
            sleep(backoff)
        while True:
            m = claim(j, response_id, k, first if tries == 0 else {"failed"}, now())
            if m is None:  # what the run that recorded it left (the snapshot: one row, not the history)
                other = state_of(j, response_id).messages.get(k) or {}
                done[k] = {"result": "skipped", "code": other.get("code"), "detail": "recorded by another run",
                           "status": other.get("status"), "attempts": tries}
                break
            tries += 1
            result: Result = notifier.send(message_of(k, m))
            record_attempts(j, response_id, [_row(k, result)], now())
            done[k] = _outcome(result, tries)
            if result.ok or tries > retries:
                break
            sleep(wait)
            wait *= 2
    return done


def _row(key: str, r: Result) -> tuple[str, str, str | None, str]:
    """How an attempt ended, as ``record_attempts`` records it."""
    return key, "sent" if r.ok else "failed", r.code, r.detail


def _outcome(r: Result, attempts: int) -> dict[str, Any]:
    return {"result": "sent" if r.ok else "failed", "code": r.code, "detail": r.detail, "attempts": attempts,
            **r.extra}


def status_of(state: State, channel: str) -> dict[str, list[str]]:
    """This round's messages over ``channel`` by status (queued, sending, sent, failed)."""
    out: dict[str, list[str]] = {}
    for k, m in state.messages.items():
        if m.get("channel") == channel and m.get("round_seq") == state.round_seq:
            out.setdefault(str(m.get("status")), []).append(k)
    return out


def on_call_list(state: State, units: list[tuple[str, str]] | None) -> list[dict[str, Any]]:
    """The entries to message: the units still to answer this round, or those named (--units)."""
    if units is None:
        wanted = {p["unit_key"] for p in lifecycle.pending(state)}
        return [e for e in lifecycle.entries(state) if e.get("unit_key") in wanted]
    listed = {str(e.get("unit_key")): e for e in lifecycle.entries(state)}
    return [listed.get(k) or {"unit_key": k, "unit": name} for k, name in units]
