"""The live board (``incident watch``) as data: one frame of the open responses, from their states and
what ``deadlines.due`` says is late. Pure: no journal, no clock, no terminal; the shell refreshes it
and renders it (cli/incident_watch.py).

A frame is plain data (JSON-ready): per open response its kind and id, the level in force (and who
decided it), a level proposed and not yet decided (建议, with who decides), each unit of the current
round of 叫应 (answered, or how many calls, the last outcome, minutes since the call, minutes left or
late), the reports due (速报/续报), and the figures reported as a range or an estimate with the grades
they span (``reported``: ``incident list`` shows them too). ``overdue_keys`` names what is late, so the shell can ring
only when something becomes overdue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from geohazard_cli import lifecycle

if TYPE_CHECKING:
    from geohazard_cli.lifecycle import State

KIND_NAMES = {"incident": "事件", "warning": "预警响应"}
# How a unit's row stands, worst first: the board lists the rows in this order.
STANDING = ("overdue", "waiting", "answered")


def _minutes_since(at: datetime, iso: str | None) -> int | None:
    if iso is None:
        return None
    return max(int((at - datetime.fromisoformat(iso)).total_seconds() // 60), 0)


def _units(state: State, at: datetime, rows: dict[tuple[int, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """The current round's units: each row's standing, calls and countdown, worst first."""
    out = []
    for order, e in enumerate(lifecycle.entries(state)):
        key = e.get("unit_key") or ""
        last = state.last.get(key)
        attempts = state.attempts.get(key, 0)
        called_at = last["at"] if last and attempts else None  # a call of this round (attempts are per round)
        unit: dict[str, Any] = {
            "unit": e.get("unit", key), "unit_key": key, "order": e.get("order") or order + 1,
            "attempts": attempts, "last_outcome": last["outcome"] if called_at and last else None,
            "called_at": called_at, "minutes_since_call": _minutes_since(at, called_at),
            "answered_at": state.answered.get(key), "minutes_left": None, "minutes_late": None,
            "due_at": None, "next_number": e.get("dial") or e.get("phone"),
        }
        due = rows.get((state.id, key))
        if key in state.answered:
            unit["standing"] = "answered"
        elif due is not None and "minutes_late" in due:
            unit |= {"standing": "overdue", "minutes_late": due["minutes_late"], "due_at": due["due_at"],
                     "next_number": due["next_number"]}
        else:
            unit["standing"] = "waiting"
            if due is not None:
                unit |= {"minutes_left": due["minutes_left"], "due_at": due["due_at"],
                         "next_number": due["next_number"]}
        out.append(unit)
    out.sort(key=lambda u: (STANDING.index(u["standing"]), -(u["minutes_late"] or 0),
                            u["minutes_left"] if u["minutes_left"] is not None else 10**9, u["order"]))
    return out


def reported(state: State, grade_names: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The figures of ``state`` reported as a range or an estimate (as typed) and the grades they span
    (the recorded assessment's ``grade_range`` and ``prepare_for``); None when every figure is exact.
    ``grade_names``: grade key -> name (the plan profile's); the grade in force is named without it."""
    from geohazard_cli.fields import FIELD_LABELS

    ranges = state.incident.get("ranges") or {}
    if not ranges:
        return None
    a = state.assessment or {}
    span = a.get("grade_range") or {"low": state.grade, "high": state.grade}
    prepare = a.get("prepare_for") or state.grade
    names = {**(grade_names or {}), state.grade: state.grade_name}

    def name(key: str) -> str:
        return names.get(key) or key

    return {"figures": [{"field": k, "label": FIELD_LABELS.get(k, k), "text": r.get("text"),
                         "estimate": bool(r.get("estimate"))} for k, r in ranges.items()],
            "grade_range": {"low": span["low"], "high": span["high"], "low_name": name(span["low"]),
                            "high_name": name(span["high"])},
            "prepare_for": prepare, "prepare_for_name": name(prepare)}


def reported_text(r: dict[str, Any]) -> tuple[str, str]:
    """How a response's range reads: the figures as typed ("需搬迁转移人数 80-150"), and its grade
    ("小型至中型(按中型准备)", or the one grade when both ends agree)."""
    figures = "、".join(f"{f['label']} {f['text']}" for f in r["figures"])
    span = r["grade_range"]
    if span["low"] == span["high"]:
        return figures, span["low_name"]
    return figures, f"{span['low_name']}至{span['high_name']}(按{r['prepare_for_name']}准备)"


def frame(states: Iterable[State], due: dict[str, Any], at: datetime,
          decider_of: Callable[[str], str | None],
          grade_names: Callable[[str], Mapping[str, str] | None] | None = None) -> dict[str, Any]:
    """One frame of the board: every open response in ``states``, with ``due`` (``deadlines.due`` over
    the same states and clock) placed on its units and reports. ``decider_of(plan)`` names who decides
    a proposed level (the profile's ``decisions.decider``), None when the profile is not found;
    ``grade_names(plan)`` the profile's grade names (for a range's grades)."""
    rows = {(r["response_id"], r["unit_key"]): r for r in [*due["overdue"], *due["waiting"]]}
    answer_minutes = {r["response_id"]: r["deadline"]["minutes"] for r in [*due["overdue"], *due["waiting"]]}
    responses: list[dict[str, Any]] = []
    for s in states:
        if s.status != "open":
            continue
        proposed = None
        if s.proposed:
            proposed = {"level": s.proposed.get("response_level"), "level_name": s.proposed.get("response_level_name"),
                        "decider": decider_of(s.plan), "at": s.proposed.get("at")}
        units = _units(s, at, rows)
        response: dict[str, Any] = {
            "id": s.id, "kind": s.response, "kind_name": KIND_NAMES.get(s.response, s.response),
            "exercise": s.exercise, "level": s.response_level, "level_name": s.response_level_name,
            "decided_by": s.decided_by, "decider": decider_of(s.plan), "proposed": proposed,
            "location": s.incident.get("location") or ", ".join((s.warning or {}).get("areas") or []) or None,
            "round_started_at": s.round_at.isoformat() if s.round_at else None,
            "answer_minutes": answer_minutes.get(s.id),
            "answered": sum(1 for u in units if u["standing"] == "answered"), "units": units,
            "reports": [r for r in due["reports_due"] if r["response_id"] == s.id],
            "reported": reported(s, grade_names(s.plan) if grade_names is not None else None),
        }
        responses.append(response)
    return {"at": due["at"], "configured": due["configured"], "responses": responses,
            "overdue": sum(u["standing"] == "overdue" for r in responses for u in r["units"])
            + sum(bool(r["overdue"]) for x in responses for r in x["reports"])}


def overdue_keys(f: dict[str, Any]) -> frozenset[tuple[int, str, str]]:
    """What is late in a frame: (response id, "unit" or "report", unit key or report kind)."""
    units = {(r["id"], "unit", u["unit_key"]) for r in f["responses"] for u in r["units"] if u["standing"] == "overdue"}
    reports = {(r["id"], "report", d["report"]) for r in f["responses"] for d in r["reports"] if d["overdue"]}
    return frozenset(units | reports)
