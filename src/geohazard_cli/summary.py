"""The summary report of a response (§8(5)): figures, levels, every call and answer, the timeline.

The same dict feeds the templates (``templates/incident-report.*.j2``) and ``--format json``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from geohazard_cli import lifecycle
from geohazard_cli.clauses import aftermath, termination
from geohazard_cli.journal import event_text
from geohazard_cli.lifecycle import KIND_LABELS, Event, State
from geohazard_cli.responses import incident_of, recorded_figures, reported_figures, warning_colours
from geohazard_cli.timeline import OUTCOME_LABELS, Outcome, human_time

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile


# The events that put a level in force (a proposal does not), and those that move it.
CHANGES = ("decision", "level_change")
IN_FORCE = ("open", *CHANGES)


def recorded_assessment(events: Sequence[Event]) -> dict[str, Any] | None:
    """The assessment as last recorded (opening or latest update): grade, level, lower bound, the
    deciding figures. Needs no profile: it is what the journal holds."""
    last = [e for e in events if e.kind in ("open", "update") and isinstance(e.details.get("assessment"), dict)]
    return dict(last[-1].details["assessment"]) if last else None


def _t(value: datetime | None) -> str | None:
    return human_time(value)


def _unit_row(unit: str, key: str, phone: str | None) -> dict[str, Any]:
    return {"unit": unit, "unit_key": key, "phone": phone,
            "listed_at": None, "listed_text": None,            # put on the call list (列入名单)
            "first_call_at": None, "first_call_text": None,    # first recorded call, any result
            "first_answer_at": None, "first_answer_text": None,  # first recorded 接通
            "calls": [], "status": "pending"}


def _peak_from_events(events: Sequence[Event]) -> str | None:
    """The highest level reached, from the recorded level changes alone (no profile at hand): each
    change says which of its two levels is the stronger. None if the record cannot tell."""
    seen = [e.response_level for e in events if e.response_level and e.kind in IN_FORCE]
    above: dict[str, set[str]] = {}  # level -> levels known to be stronger
    for e in events:
        if e.kind in CHANGES and e.details.get("direction") in ("up", "down"):
            old, new = e.details["previous_level"], e.details["response_level"]
            low, high = (old, new) if e.details["direction"] == "up" else (new, old)
            above.setdefault(low, set()).add(high)
    beaten = {lv for lv in seen if above.get(lv)}
    candidates = list(dict.fromkeys(lv for lv in seen if lv not in beaten))
    return candidates[0] if len(candidates) == 1 else None


def _level_names(events: Sequence[Event]) -> dict[str, str]:
    names: dict[str, str] = {}
    for e in events:
        a = e.details.get("assessment")
        if isinstance(a, dict):
            names[a["response_level"]] = a["response_level_name"]
        if e.kind in CHANGES:
            names[e.details["previous_level"]] = e.details["previous_level_name"]
            names[e.details["response_level"]] = e.details["response_level_name"]
    return names


def report(record: State, events: Sequence[Event], profile: Profile | None,
           generated_at: datetime, notice: str | None = None) -> dict[str, Any]:
    """The data of the summary report (§8(5)): the same dict feeds the templates and ``--format json``.

    It claims no call that was not recorded: a unit's time on the call list (``listed_at``) is kept
    apart from its first recorded call (``first_call_at``) and answer (``first_answer_at``).

    ``profile`` None: the incident's plan profile is not at hand; everything comes from the record
    (figures as recorded, the peak from the recorded level changes) and ``notice`` says so."""
    levels = [{"at": e.at.isoformat(), "at_text": _t(e.at), "direction": e.details["direction"],
               "from": e.details["previous_level_name"], "to": e.details["response_level_name"],
               "from_grade": e.details["previous_grade_name"], "to_grade": e.details["grade_name"],
               "by": e.details.get("by")}
              for e in events if e.kind in CHANGES and e.details.get("direction") in ("up", "down")]
    opening = next((e for e in events if e.kind == "open"), None)
    seen_levels = [e.response_level for e in events if e.response_level and e.kind in IN_FORCE]
    if record.response == "warning":  # a warning's level is its colour: the strongest one issued
        colours = {e.details["warning"]["level"]: e.details["warning"]["level_name"] for e in events
                   if isinstance(e.details.get("warning"), dict)}
        order = list(reversed(warning_colours(profile))) if profile is not None else list(colours)
        peak = min(colours, key=lambda k: order.index(k) if k in order else len(order), default=None)
        peak_name = colours.get(peak) if peak is not None else None
    elif profile is not None:
        order = [lv.key for lv in profile.levels]
        peak = min(seen_levels, key=lambda k: order.index(k) if k in order else len(order), default=None)
        peak_name = profile.level_by_key[peak].name if peak in profile.level_by_key else peak
    else:
        peak = _peak_from_events(events)
        peak_name = _level_names(events).get(peak, peak) if peak is not None else None
    units: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.kind in ("call", "decision"):
            for entry in e.details.get("newly", []):
                u = units.setdefault(entry["unit_key"], _unit_row(entry["unit"], entry["unit_key"],
                                                                  entry.get("dial") or entry.get("phone")))
                if u["listed_at"] is None:
                    u["listed_at"], u["listed_text"] = e.at.isoformat(), _t(e.at)
        elif e.kind == "ack":
            key = e.details["unit_key"]
            u = units.setdefault(key, _unit_row(e.details["unit"], key, None))
            outcome = e.details["outcome"]
            if u["first_call_at"] is None:
                u["first_call_at"], u["first_call_text"] = e.at.isoformat(), _t(e.at)
            if outcome == Outcome.answered.value and u["first_answer_at"] is None:
                u["first_answer_at"], u["first_answer_text"] = e.at.isoformat(), _t(e.at)
            u["calls"].append({"at": e.at.isoformat(), "at_text": _t(e.at), "outcome": outcome,
                               "outcome_name": OUTCOME_LABELS.get(outcome, outcome),
                               "by": e.details.get("by"), "answerer": e.answerer,
                               "responded_at": e.responded_at.isoformat() if e.responded_at else None,
                               "responded_text": _t(e.responded_at)})
    pending = {p["unit_key"] for p in lifecycle.pending(record)}
    # The call list's order (as the call sheet and the 尚未应答 line); units no longer on it after.
    listed = [e.get("unit_key") for e in (record.call_list or {}).get("entries", [])]
    current = set(listed)
    for key, u in units.items():
        if key in pending:
            u["status"] = "pending"
        elif key in current:
            u["status"] = "answered"
        else:
            u["status"] = "not_needed"
    closing = next((e for e in events if e.kind == "close"), None)
    duration = None
    end = record.closed_at or None
    if end is not None:
        minutes = int((end - (record.opened_at or end)).total_seconds() // 60)
        duration = {"minutes": minutes, "text": f"{minutes // 60}小时{minutes % 60}分"}
    latest = recorded_assessment(events)
    current_grade = {"grade": record.grade, "grade_name": record.grade_name,
                     "response_level": record.response_level,
                     "response_level_name": record.response_level_name,
                     "lower_bound": bool(latest and latest.get("lower_bound"))}
    ordered = sorted(units.values(),
                     key=lambda u: listed.index(u["unit_key"]) if u["unit_key"] in current else len(listed))
    return {
        "id": record.id,
        "external_ref": record.incident.get("id"),
        "status": record.status,
        "exercise": record.exercise,
        "plan": record.plan,
        "plan_available": profile is not None,
        "notice": notice,
        "plan_title": profile.title if profile is not None else None,
        # The clauses its headings cite, from the profile (none without it).
        "cites": profile.summary_report.model_dump(mode="json") if profile is not None else
        {"basis": None, "figures": "", "level_changes": "", "calls": "", "termination": ""},
        "document": profile.document if profile is not None else None,
        "opened_at": record.opened_at.isoformat() if record.opened_at else None,
        "opened_text": _t(record.opened_at),
        "closed_at": record.closed_at.isoformat() if record.closed_at else None,
        "closed_text": _t(record.closed_at),
        "close_reason": record.close_reason,
        "close_by": closing.details.get("by") if closing else None,
        "duration": duration,
        "generated_at": generated_at.isoformat(),
        "generated_text": _t(generated_at),
        "initial": opening.details.get("assessment") if opening else None,
        "kind": record.response,
        "noun": "预警响应" if record.response == "warning" else "事件",
        "warning": record.warning,
        # The grade now: 当前 while the incident is open, 终判 (final) only once it is closed.
        "current": current_grade,
        "final": current_grade if record.status == "closed" else None,
        "peak_level": peak,
        "peak_level_name": peak_name,
        "figures": reported_figures(incident_of(record), profile) if profile is not None
        else recorded_figures(record, events),
        "level_changes": levels,
        "units": ordered,
        "pending": lifecycle.pending(record),
        "counts": {kind: sum(1 for e in events if e.kind == kind) for kind in KIND_LABELS},
        # §6.4's criteria to confirm and who decides; §8 后期处置 as a checklist with owners.
        "termination": _ticked(termination(profile, record.response), closing) if profile is not None else None,
        "aftermath": aftermath(profile) if profile is not None and record.response == "incident" else None,
        "history": [{"seq": e.seq, "kind": e.kind, "kind_name": KIND_LABELS[e.kind], "at": e.at.isoformat(),
                     "at_text": human_time(e.at, seconds=True), "text": event_text(e)} for e in events],
    }


def _ticked(t: dict[str, Any], closing: Event | None) -> dict[str, Any]:
    """Each §6.4 criterion marked ``confirmed`` when the close event recorded it (as "text(clause)")."""
    done = set(closing.details.get("confirmed") or []) if closing is not None else set()
    return {**t, "criteria": [{**c, "confirmed": f"{c['text']}({c['source']})" in done} for c in t["criteria"]]}
