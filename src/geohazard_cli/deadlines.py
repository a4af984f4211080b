"""What is late: the 叫应 answers and the reports a response owes, from its state and the clock.

Deadlines are data. Where the plan sets one it carries its clause (the national profile's 4 h /
12 h 速报: ``reporting.deadline.hours``); where the plan says only 立即 or 第一时间, the bureau's own
figure comes from the local file ``response.local.yaml`` in the config dir (marked ``local: true``,
never mixed into the plan's files). ``due`` is pure: the CLI's ``incident due`` and the live board
(``incident watch``) and drill expectations all ask it, with ``--at`` or the drill clock as the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geohazard_cli import lifecycle
from geohazard_cli.timeline import Outcome

if TYPE_CHECKING:
    from geohazard_cli.lifecycle import State
    from geohazard_cli.rules import Profile

FILENAME = "response.local.yaml"
_STRICT = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class AnswerRule(BaseModel):
    model_config = _STRICT
    minutes: int = Field(gt=0, le=24 * 60)
    levels: list[str] = []  # incident response levels (I, II, ...); none and no warnings: every response
    warnings: list[str] = []  # warning colours (red, orange, ...)


class FirstReport(BaseModel):
    model_config = _STRICT
    minutes: int = Field(gt=0, le=7 * 24 * 60)


class FollowUp(BaseModel):
    model_config = _STRICT
    every_minutes: int = Field(gt=0, le=7 * 24 * 60)
    levels: list[str] = Field(min_length=1)


class LocalResponse(BaseModel):
    """``response.local.yaml``: the bureau's figures for what the plan leaves open."""

    model_config = _STRICT
    local: Literal[True]  # says, in the file itself, that these are the bureau's figures
    answer: list[AnswerRule] = Field(min_length=1)
    first_report: FirstReport
    # A figure corrected after the 速报 went out: the corrected report (续报/更正) is due this many
    # minutes after the correction (default: as the 速报, first_report).
    correction_report: FirstReport | None = None
    follow_up: list[FollowUp] = []
    clock_skew_minutes: int = Field(default=5, ge=0, le=24 * 60)


def path_of(cfg: Path) -> Path:
    return cfg / FILENAME


def parse(text: str, name: str) -> LocalResponse:
    from geohazard_cli.loader import parse_model

    return parse_model(LocalResponse, text, name)


def load(cfg: Path) -> LocalResponse | None:
    """The config dir's local response settings, or None when it has none (nothing is then 'late')."""
    from geohazard_cli.loader import read_text

    path = path_of(cfg)
    if not path.exists():
        return None
    from geohazard_cli.loader import parse_model

    return parse_model(LocalResponse, read_text(path), str(path), path)


# --- what is due ---------------------------------------------------------------------------------


def answer_minutes(state: State, local: LocalResponse) -> int:
    """Minutes a called unit has to answer in this response (the first matching rule)."""
    colour = (state.warning or {}).get("level") if state.response == "warning" else None
    for rule in local.answer:
        if not rule.levels and not rule.warnings:
            return rule.minutes
        if colour is not None and colour in rule.warnings:
            return rule.minutes
        if colour is None and state.response_level in rule.levels:
            return rule.minutes
    return local.answer[-1].minutes


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def next_number(entry: dict[str, Any], attempts: int) -> str | None:
    """The number to try next: the primary, or after a failed attempt the next backup (in turn)."""
    numbers = [n for n in [entry.get("dial") or entry.get("phone"), *lifecycle.backup_dials(entry)] if n]
    if not numbers:
        return None
    return str(numbers[attempts % len(numbers)])  # attempts 0: the primary; then each backup in turn


FAILED_OUTCOMES = (Outcome.no_answer.value, Outcome.busy.value)  # the call did not get through


def units_due(state: State, at: datetime, local: LocalResponse) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                        list[dict[str, Any]]]:
    """(overdue, waiting, never_called) units of the current round of one open response."""
    minutes = answer_minutes(state, local)
    round_at = state.round_at or state.opened_at or at
    by_key = {e.get("unit_key"): e for e in lifecycle.entries(state)}
    overdue, waiting, never = [], [], []
    for p in lifecycle.pending(state):
        entry = by_key.get(p["unit_key"], {})
        last = datetime.fromisoformat(p["last_at"]) if p["last_at"] else None
        called = last if last is not None and last >= round_at and p["attempts"] else None
        # A call that did not get through (未接, 占线) earns no time: the answer is still due when
        # the round's is, and the row says to call again (next_number). One that reached someone
        # without an answer yet (其他: a message left, a call back promised) starts the wait anew.
        failed = called is not None and p["last_outcome"] in FAILED_OUTCOMES
        start = round_at if called is None or failed else called
        due_at = start + timedelta(minutes=minutes)
        row = {"response_id": state.id, "kind": state.response, "unit": p["unit"], "unit_key": p["unit_key"],
               "round_started_at": _iso(round_at), "called_at": _iso(called) if called else None,
               "due_at": _iso(due_at), "attempts": p["attempts"], "last_outcome": p["last_outcome"] if called else None,
               "next_number": next_number(entry, p["attempts"]),
               "deadline": {"minutes": minutes, "local": True, "file": FILENAME}}
        if at > due_at:
            overdue.append({**row, "minutes_late": _minutes(at - due_at)})
        else:
            waiting.append({**row, "minutes_left": _minutes(due_at - at)})
        if not p["attempts"]:
            never.append({"response_id": state.id, "kind": state.response, "unit": p["unit"],
                          "unit_key": p["unit_key"], "round_started_at": _iso(round_at),
                          "next_number": next_number(entry, 0)})
    return overdue, waiting, never


def reports_due(state: State, at: datetime, profile: Profile | None, local: LocalResponse) -> list[dict[str, Any]]:
    """The 速报 and 续报 an open incident owes (the first still due, the next follow-up), each with its
    deadline and where it comes from: the plan's clause, or the local file."""
    if state.response != "incident":
        return []
    out = []
    reports = state.reports
    opened = state.opened_at or at
    if reports.get("first") is None:
        reported = state.incident.get("reported_at")
        start = datetime.fromisoformat(reported) if isinstance(reported, str) else opened
        deadline = profile.reporting.deadline if profile is not None else None
        hours = deadline.hours.get(state.grade) if deadline is not None else None
        if hours:
            due_at, source = start + timedelta(hours=hours), {"clause": deadline.source, "local": False,  # type: ignore[union-attr]
                                                              "hours": hours}
        else:
            due_at = start + timedelta(minutes=local.first_report.minutes)
            source = {"local": True, "file": FILENAME, "minutes": local.first_report.minutes,
                      "plan": deadline.text if deadline is not None else None,
                      "clause": deadline.source if deadline is not None else None}
        out.append(_report_row(state, "first", due_at, at, source))
    corrected = reports.get("correction")
    if corrected:
        minutes = (local.correction_report or local.first_report).minutes
        due_at = datetime.fromisoformat(corrected) + timedelta(minutes=minutes)
        out.append(_report_row(state, "correction", due_at, at, {
            "local": True, "file": FILENAME, "minutes": minutes,
            "key": "correction_report" if local.correction_report is not None else "first_report"}))
    for rule in local.follow_up:
        if state.response_level in rule.levels:
            last = reports.get("last")
            start = datetime.fromisoformat(last) if last else opened
            due_at = start + timedelta(minutes=rule.every_minutes)
            out.append(_report_row(state, "follow_up", due_at, at, {"local": True, "file": FILENAME,
                                                                     "every_minutes": rule.every_minutes}))
            break
    return out


# 更正报告: a 续报 correcting figures the 速报 carried (typed as 更正 too)
REPORT_NAMES = {"first": "速报", "follow_up": "续报", "correction": "更正报告"}


def parse_report_kind(text: str, field: str) -> str:
    """A report kind as typed: 速报/续报 (its name) or first/follow-up (its key)."""
    from geohazard_cli.errors import field_error

    raw = text.strip()
    by_name = {name: key for key, name in REPORT_NAMES.items()} | {"更正": "correction"}
    kind = by_name.get(raw) or raw.replace("-", "_")
    if kind not in REPORT_NAMES:
        raise field_error(field, text, "is not a report kind (accepted: 速报, 续报, 更正, 更正报告, first, follow-up, "
                          "correction)")
    return kind


def _report_row(state: State, kind: str, due_at: datetime, at: datetime, source: dict[str, Any]) -> dict[str, Any]:
    late = at > due_at
    return {"response_id": state.id, "report": kind, "report_name": REPORT_NAMES[kind], "due_at": _iso(due_at),
            "overdue": late, "minutes_late": _minutes(at - due_at) if late else 0,
            "minutes_left": 0 if late else _minutes(due_at - at), "deadline": source}


def due(states: Iterable[State], at: datetime, local: LocalResponse | None,
        profile_of: Callable[[str], Profile | None]) -> dict[str, Any]:
    """Across open responses: ``overdue`` (units of the current round without an answer past their
    deadline), ``waiting`` (not yet late, with minutes left), ``never_called`` (no call attempt
    recorded this round), ``reports_due`` (速报/续报 with deadline and source). ``local`` None: the
    config dir sets no deadlines, so nothing is late; ``configured`` says so."""
    out: dict[str, Any] = {"at": _iso(at), "configured": local is not None, "overdue": [], "waiting": [],
                           "never_called": [], "reports_due": []}
    for state in states:
        if state.status != "open":
            continue
        if local is None:
            out["never_called"] += [{"response_id": state.id, "kind": state.response, "unit": p["unit"],
                                     "unit_key": p["unit_key"], "round_started_at": None, "next_number": p["dial"]}
                                    for p in lifecycle.pending(state) if not p["attempts"]]
            continue
        overdue, waiting, never = units_due(state, at, local)
        out["overdue"] += overdue
        out["waiting"] += waiting
        out["never_called"] += never
        out["reports_due"] += reports_due(state, at, profile_of(state.plan), local)
    out["overdue"].sort(key=lambda r: -r["minutes_late"])
    out["waiting"].sort(key=lambda r: r["minutes_left"])
    return out


def names(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [r["unit"] for r in rows]
