"""Running a drill: each step goes through the same operations as the journal (``responses.py``) on
an in-memory journal, on the drill clock, and its result is checked against the step's ``expect``.

So a drill rehearses exactly what a shift records: the same grading, the same call lists and the
same rule for 叫应 (a new level is a new round: lifecycle.py). A warning step opens a warning
response (a later one changes it), a report opens an incident, ack records answers, terminate ends
every open response of the drill.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from geohazard_cli import lifecycle, responses
from geohazard_cli.drill import Drill, Step, StepError, WarningSpec, format_offset, step_label
from geohazard_cli.errors import InputError, NotFoundError
from geohazard_cli.timeline import Outcome

if TYPE_CHECKING:
    from pathlib import Path

    from geohazard_cli.contacts import Roster
    from geohazard_cli.deadlines import LocalResponse
    from geohazard_cli.journal import Journal
    from geohazard_cli.lifecycle import State
    from geohazard_cli.models import Assessment
    from geohazard_cli.rules import Profile


# --- results ----------------------------------------------------------------------------------


class Check(BaseModel):
    """One expected key of a step, the value found, and whether it held."""

    key: str
    expected: Any
    actual: Any
    ok: bool


class Called(BaseModel):
    """A unit newly to call (叫应), with its number."""

    unit: str
    unit_key: str | None = None
    dial: str | None = None
    phone: str | None = None
    reasons: list[str] = []


class LevelChange(BaseModel):
    """A response level started, raised, lowered or ended at this step."""

    direction: Literal["start", "up", "down", "end"]
    previous_level: str | None
    previous_level_name: str | None
    level: str | None
    level_name: str | None
    newly_called: list[Called] = []
    dropped: list[str] = []
    proposed: bool = False  # the plan calls for it (a report, an update); in force only by a decide step
    by: str | None = None  # who decided it (a decide step)


class StepResult(BaseModel):
    number: int
    kind: str
    at: datetime
    offset: str
    note: str | None
    summary: str  # what happened, in the plan's terms
    result: dict[str, Any]
    checks: list[Check]  # one per expected key
    ok: bool
    level_change: LevelChange | None = None
    called: list[Called] = []  # units a warning newly calls (叫应), with their numbers
    messages: list[dict[str, Any]] = []  # the round's messages, recorded by dry-run (drill_notify.py)


class DrillRun(BaseModel):
    name: str
    description: str | None
    plan: str
    plan_title: str
    start: datetime
    end: datetime
    passed: bool
    failed: list[int]  # numbers of the steps whose expectation did not hold
    steps: list[StepResult]


# --- the runner -------------------------------------------------------------------------------


class _Drill:
    """The drill's journal and which of its responses are open now."""

    def __init__(self, profile: Profile, roster: Roster | None, local: LocalResponse | None = None) -> None:
        from geohazard_cli.journal import Journal

        self.journal: Journal = Journal.memory()
        self.profile, self.roster, self.local = profile, roster, local
        self.incident: int | None = None  # the open incident response
        self.warning: int | None = None  # the open warning response
        self.reported_step = 0
        self.newly: list[Called] = []  # units a warning step newly calls (shown with the step)

    def open_states(self) -> list[State]:
        with self.journal.transaction(write=False):
            return [self.journal.state(i) for i in (self.warning, self.incident) if i is not None]

    def unacknowledged(self) -> list[str]:
        """Units not yet answered in the current round of every open response (warning first)."""
        return list(dict.fromkeys(p["unit"] for s in self.open_states() for p in lifecycle.pending(s)))

    def acknowledged(self) -> list[str]:
        return list(dict.fromkeys(u for s in self.open_states() for u in lifecycle.acknowledged(s)))

    def resolver(self) -> responses.Resolver | None:
        roster, profile = self.roster, self.profile
        if roster is None:
            return None
        from geohazard_cli.dispatch import resolve_call_list

        def resolve(assessment: Assessment) -> dict[str, Any]:
            return resolve_call_list(assessment, profile, roster).model_dump(mode="json")

        return resolve


def run(drill: Drill, profile: Profile, roster: Roster | None = None, local: LocalResponse | None = None,
        templates: Path | None = None) -> DrillRun:
    """Run every step on the drill clock and check its expectations.

    ``roster`` resolves who each level calls and who answers. ``local`` (the config dir's
    response.local.yaml) adds, to every step's result, what is late at that moment: ``overdue``
    (units), ``due`` (reports owed) and ``reports_overdue``, as ``incident due`` judges them.
    ``templates`` (the config dir's): each 叫应 round's messages are recorded through the dry-run
    channel (``messages``, exercise-prefixed). A malformed step raises ``StepError``; an expectation
    that does not hold is recorded in the step and in ``failed``.
    """
    scenario, start = drill.scenario, drill.start
    d = _Drill(profile, roster, local)
    out: list[StepResult] = []
    try:
        for i, (step, when) in enumerate(zip(scenario.steps, drill.times, strict=True)):
            number = i + 1
            label = step_label(number, step)
            d.newly = []
            try:
                summary, result, change = _STEPS[step.kind](step, when, number, d)
                if local is not None:
                    result = {**result, **_late(d, when, local)}
            except StepError:
                raise
            except (InputError, NotFoundError) as exc:  # NotFoundError: a unit the roster does not know
                raise StepError(f"{label}: {exc}", ["steps", i, step.kind]) from None
            checks = check(step.expect, result, label, ["steps", i, "expect"], plan_terms(d.profile))
            messages = []
            if templates is not None and roster is not None:
                from geohazard_cli.drill_notify import dry_run_messages

                messages = dry_run_messages(d.journal, d.open_states(), templates, when)
            out.append(StepResult(
                number=number, kind=step.kind, at=when, offset=format_offset(when - start), note=step.note,
                summary=summary, result=result, checks=checks, ok=all(c.ok for c in checks),
                level_change=change, called=d.newly, messages=messages,
            ))
    finally:
        d.journal.close()
    failed = [s.number for s in out if not s.ok]
    return DrillRun(
        name=scenario.name, description=scenario.description, plan=profile.id, plan_title=profile.title,
        start=start, end=drill.times[-1], passed=not failed, failed=failed, steps=out,
    )


_StepOut = tuple[str, dict[str, Any], LevelChange | None]


def _late(d: _Drill, when: datetime, local: LocalResponse) -> dict[str, Any]:
    """What ``incident due`` would say at this step's time (the journal's own computation)."""
    from geohazard_cli.deadlines import due

    data = due(d.open_states(), when, local, lambda _plan: d.profile)
    return {"overdue": list(dict.fromkeys(r["unit"] for r in data["overdue"])),
            "due": [r["report_name"] for r in data["reports_due"]],
            "reports_overdue": [r["report_name"] for r in data["reports_due"] if r["overdue"]]}


def _called(entries: list[dict[str, Any]]) -> list[Called]:
    return [Called(unit=str(e.get("unit")), unit_key=e.get("unit_key"), dial=e.get("dial"), phone=e.get("phone"),
                   reasons=list(e.get("reasons") or [])) for e in entries]


def _newly_listed(events: list[lifecycle.Event]) -> list[dict[str, Any]]:
    return [e for ev in events if ev.kind == "call" for e in ev.details.get("newly", [])]


def _warning(step: Step, when: datetime, number: int, d: _Drill) -> _StepOut:
    spec = step.warning
    assert spec is not None
    result = warning_response(spec, when, d.profile, d.roster)
    if d.warning is None:
        state, events = responses.open_warning(d.journal, result, d.profile.id, when, exercise=True)
        d.warning = state.id
    else:
        colours = list(reversed(responses.warning_colours(d.profile)))
        state, events = responses.change_warning(d.journal, d.warning, result, colours, when)
    newly = _newly_listed(events)
    d.newly = _called(newly)
    result = {**result, "newly_called": [e["unit"] for e in newly], "unacknowledged": d.unacknowledged()}
    area = "、".join(result.get("areas") or [])
    period = _period_name(result)
    summary = f"发布{result.get('level_name')}{result.get('event')}" + (f"({area})" if area else "")
    summary += f",{period}启动" if result.get("active") else f",不启动{period}"
    return summary, result, None


def warning_response(spec: WarningSpec, when: datetime, profile: Profile, roster: Roster | None) -> dict[str, Any]:
    """The warning core's answer for this colour and area: the dict ``warning --format json
    --exercise --sent WHEN`` prints (a drill is an exercise; it is sent at the step's time)."""
    import geohazard_cli.warning as core
    from geohazard_cli.timeutil import cap_time

    section = core.load_section(profile, profile.id)
    colour = core.parse_colour(spec.level, section, field="warning")
    areas = core.parse_areas(spec.area, field="warning.area")
    response = core.respond(profile, section, colour, areas, roster.unit if roster is not None else None,
                            field="warning.area")
    data: dict[str, Any] = core.as_json(response)
    data["sent"] = cap_time(when, profile.timezone)
    data["exercise"] = True
    return data


def _period_name(warning: dict[str, Any]) -> str:
    """The warning-period response's name as the profile gives it (§6.3 预警期应急响应)."""
    activation = warning.get("activation")
    return str(activation.get("name")) if isinstance(activation, dict) else ""


def _dispatch_result(result: dict[str, Any], state: State, events: list[lifecycle.Event], d: _Drill) -> None:
    if d.roster is None:
        return
    calls = [ev for ev in events if ev.kind == "call"]
    result["call_list"] = [e.get("unit") for e in lifecycle.entries(state)]
    result["newly_called"] = [e["unit"] for ev in calls for e in ev.details.get("newly", [])]
    result["dropped"] = [e["unit"] for ev in calls for e in ev.details.get("dropped", [])]
    result["unacknowledged"] = d.unacknowledged()


def _report(step: Step, when: datetime, number: int, d: _Drill) -> _StepOut:
    from geohazard_cli.intake import parse_incident

    if d.incident is not None:
        raise InputError(f"an incident is already reported (step {d.reported_step}); "
                         "use update for new figures, or terminate it first")
    raw = dict(step.report or {})
    raw.setdefault("reported_at", when)
    incident = parse_incident(raw, d.profile, now=when)
    state, events, assessment, _ = responses.open_incident(d.journal, incident, d.profile, d.resolver(), when,
                                                           exercise=True)
    d.incident, d.reported_step = state.id, number
    result = assessment.model_dump(mode="json")
    _dispatch_result(result, state, events, d)
    # The level as reported is the plan's, proposed to 区政府 (§6.1.2, §6.2.2) until a decide step:
    # its units are called at once all the same (叫应).
    change = LevelChange(direction="start", previous_level=None, previous_level_name=None,
                         level=assessment.response_level, level_name=assessment.response_level_name,
                         newly_called=_called(_newly_listed(events)) if d.roster is not None else [],
                         proposed=True)
    what = " · ".join(x for x in (incident.hazard_type_name, incident.location) if x)
    summary = (f"接报险情灾情{(': ' + what) if what else ''} → {assessment.grade_name},"
               f"按预案拟启动{assessment.response_level_name}(待决定)")
    return summary, result, change


def _update(step: Step, when: datetime, number: int, d: _Drill) -> _StepOut:
    from geohazard_cli.intake import parse_incident

    if d.incident is None:
        raise InputError("no incident to update: report one first")
    with d.journal.transaction(write=False):
        before = responses.incident_of(d.journal.state(d.incident))
    parsed = parse_incident(step.update or {}, d.profile, base=before, now=when)
    delta = responses.stated(before, parsed, (step.update or {}).keys())
    state, events, r = responses.update_incident(d.journal, d.incident, delta, d.profile, d.resolver(), when)
    a = r.assessment
    result = a.model_dump(mode="json")
    result["previous_grade"] = r.previous_grade
    result["previous_level"] = r.previous_level
    result["level_changed"] = r.level_changed
    _dispatch_result(result, state, events, d)
    if not r.level_changed:
        return f"续报 → {a.grade_name},维持{a.response_level_name}", result, None
    change = LevelChange(direction="up" if r.direction == "up" else "down", previous_level=r.previous_level,
                         previous_level_name=r.previous_level_name, level=a.response_level,
                         level_name=a.response_level_name, proposed=True)
    if d.roster is not None:
        change.newly_called = _called(r.newly_called)
        change.dropped = [e["unit"] for e in r.no_longer_needed]
    verb = "升级" if r.direction == "up" else "降级"
    who = d.profile.decisions
    summary = (f"续报 → {a.grade_name},建议响应{verb}:{r.previous_level_name} → {a.response_level_name}"
               f"(由{who.proposer}向{who.decider}提出,待决定)")
    return summary, result, change


def _decide(step: Step, when: datetime, number: int, d: _Drill) -> _StepOut:
    spec = step.decide
    assert spec is not None
    if d.incident is None:
        raise InputError("no incident to decide on: report one first")
    by = spec.by or d.profile.decisions.decider
    with d.journal.transaction(write=False):
        before = d.journal.state(d.incident)
    state, events = responses.decide(d.journal, d.incident, spec.level, by, d.profile, d.resolver(), when, spec.note)
    dec = events[-1].details
    result: dict[str, Any] = {
        "response_level": state.response_level, "response_level_name": state.response_level_name,
        "previous_level": before.response_level, "level_changed": dec["direction"] in ("up", "down"),
        "by": by, "as_proposed": dec["as_proposed"], "proposed_level": (state.proposed or {}).get("response_level"),
    }
    _dispatch_result(result, state, [lifecycle.Event(0, "call", when, when, dec)], d)
    change = None
    if dec["direction"] in ("up", "down"):
        change = LevelChange(direction=dec["direction"], previous_level=before.response_level,
                             previous_level_name=before.response_level_name, level=state.response_level,
                             level_name=state.response_level_name, by=by,
                             newly_called=_called(dec["newly"]) if d.roster is not None else [],
                             dropped=[e["unit"] for e in dec["dropped"]] if d.roster is not None else [])
    verb = {"up": "升级", "down": "降级"}.get(dec["direction"])
    summary = (f"{by}决定:{before.response_level_name} → {state.response_level_name}(响应{verb})" if verb
               else f"{by}决定:维持{state.response_level_name}")
    return summary, result, change


def _terminate(step: Step, when: datetime, number: int, d: _Drill) -> _StepOut:
    spec = step.terminate
    assert spec is not None
    if d.incident is None and d.warning is None:
        raise InputError("nothing to terminate: no incident reported and no warning issued")
    states = {s.response: s for s in d.open_states()}
    inc, warn = states.get("incident"), states.get("warning")
    result: dict[str, Any] = {
        "terminated": True,
        "reason": spec.reason,
        "by": spec.by,
        "ended": [k for k in ("incident", "warning") if k in states],
        "grade": inc.grade if inc else None,
        "grade_name": inc.grade_name if inc else None,
        "response_level": inc.response_level if inc else None,
        "response_level_name": inc.response_level_name if inc else None,
        "duration_minutes": (int((when - inc.opened_at).total_seconds() // 60)
                             if inc is not None and inc.opened_at is not None else None),
        "warning_level": (warn.warning or {}).get("level") if warn else None,
        "unacknowledged": d.unacknowledged(),
    }
    from geohazard_cli.clauses import confirmed_criteria, termination_criteria

    # Each response ends only once its §6.4 criteria are confirmed, as `incident close` asks. Ending an
    # incident and a warning period at once, the numbers count in each one's own list (1 is the first
    # criterion of both); a number past the longest list is an error.
    how = "confirm: [1, 2, ...] or confirm: all"
    if spec.confirm == "all":
        confirmed = {k: confirmed_criteria(d.profile, k, "all", "confirm", how) for k in states}
    else:
        numbers = spec.confirm or []
        sizes = {k: len(termination_criteria(d.profile, k)) for k in states}
        longest = max(sizes, key=sizes.__getitem__)
        if any(not 1 <= n <= sizes[longest] for n in numbers):
            confirmed_criteria(d.profile, longest, numbers, "confirm", how)  # names the number that is none
        confirmed = {k: confirmed_criteria(d.profile, k, [n for n in numbers if n <= sizes[k]], "confirm", how)
                     for k in states}
    result["confirmed"] = [f"{c['text']}({c['source']})" for k in states for c in confirmed[k]]
    for k, s in states.items():
        reason = spec.reason or "、".join(c["text"] for c in confirmed[k])
        responses.close(d.journal, s.id, reason, spec.by, when, [f"{c['text']}({c['source']})" for c in confirmed[k]])
    change = None
    names = []
    if inc is not None:
        change = LevelChange(direction="end", previous_level=inc.response_level,
                             previous_level_name=inc.response_level_name, level=None, level_name=None)
        names.append(inc.response_level_name)
    if warn is not None:
        names.append(str((warn.warning or {}).get("period") or ""))
    summary = f"{spec.by or ''}宣布终止{'、'.join(names)}" + (f"({spec.reason})" if spec.reason else "")
    d.incident = d.warning = None
    return summary, result, change


def _ack(step: Step, when: datetime, number: int, d: _Drill) -> _StepOut:
    from geohazard_cli.timeline import parse_outcome

    answered: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []  # calls recorded with another outcome (无人接听, 占线 ...)
    for spec in step.ack or []:
        key, name = _resolve_unit(spec.unit, d)
        outcome = parse_outcome(spec.outcome, "outcome") if spec.outcome is not None else Outcome.answered
        targets = _targets(d, key)
        for rid in targets:
            responses.acknowledge(d.journal, rid, [(key, name)], outcome, spec.by, when, spec.answerer)
        was_called = any(lifecycle.on_list(s, key) for s in d.open_states())
        record = {"unit": name, "answerer": spec.answerer, "by": spec.by, "acknowledged_at": when.isoformat(),
                  "called": was_called}
        if outcome is Outcome.answered:
            answered.append(record)
        else:
            failed.append({**record, "outcome": outcome.value})
    names = "、".join(r["unit"] + (f"({r['answerer']})" if r["answerer"] else "") for r in answered)
    not_called = [r["unit"] for r in answered + failed if not r["called"]]
    result: dict[str, Any] = {
        "units": [r["unit"] for r in answered + failed],
        "answered": answered,
        "failed_calls": failed,
        "not_called": not_called,
        "acknowledged": d.acknowledged(),
        "unacknowledged": d.unacknowledged(),
    }
    from geohazard_cli.timeline import OUTCOME_LABELS

    parts = [f"{names} 回应"] if answered else []
    parts += [f"{r['unit']} {OUTCOME_LABELS[r['outcome']]}" for r in failed]
    summary = ";".join(parts) + (f"(未被叫应:{'、'.join(not_called)})" if not_called else "")
    return summary, result, None


def _submit(step: Step, when: datetime, number: int, d: _Drill) -> _StepOut:
    spec = step.submit
    assert spec is not None
    if d.incident is None:
        raise InputError("no incident to report on: report one first")
    from geohazard_cli.deadlines import parse_report_kind

    kind = parse_report_kind(spec.report, "submit.report")
    state, events = responses.report_sent(d.journal, d.incident, kind, spec.to, spec.by, when, spec.note)
    result = {"report": kind, "to": spec.to, "reports": state.reports}
    from geohazard_cli.journal import event_text

    return event_text(events[-1]), result, None


def _targets(d: _Drill, key: str) -> list[int]:
    """Which open responses an answer is recorded on: each where the unit is still to answer this
    round; else the latest that lists it; else the latest open one (an answer nobody asked for)."""
    states = d.open_states()
    waiting = [s.id for s in states if any(p["unit_key"] == key for p in lifecycle.pending(s))]
    if waiting:
        return waiting
    listing = [s.id for s in states if lifecycle.on_list(s, key)]
    return listing[-1:] or [s.id for s in states][-1:]


def _resolve_unit(name: str, d: _Drill) -> tuple[str, str]:
    return responses.resolve_unit(name, d.roster, d.open_states(), responses.street_suffixes(d.profile), "unit")


_STEPS = {"warning": _warning, "report": _report, "update": _update, "decide": _decide, "submit": _submit,
          "terminate": _terminate, "ack": _ack}


# --- expectations -----------------------------------------------------------------------------


_ROMAN = str.maketrans({"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV"})


def _term(text: str) -> str:
    """A grade or level as written, normalised: Ⅱ级响应, II级, ii -> ii; 中型 -> 中型."""
    return text.translate(_ROMAN).strip().removesuffix("响应").removesuffix("级").casefold()


def plan_terms(profile: Profile) -> dict[str, dict[str, str]]:
    """The plan's words for the grade and level keys an expectation may use (``grade: 中型``,
    ``response_level: II级``), by the result key they apply to: term -> key."""
    grades = {_term(name): g.key for g in profile.grades for name in (g.key, g.name)}
    levels = {_term(name): lv.key for lv in profile.levels for name in (lv.key, lv.name)}
    return {"grade": grades, "response_level": levels, "previous_level": levels}


def check(expect: dict[str, Any], result: dict[str, Any], label: str,
          loc: list[str | int] | None = None, terms: dict[str, dict[str, str]] | None = None) -> list[Check]:
    """Check every expected key against the result. A key the result does not have is a scenario
    error (a typo would otherwise never hold); dotted keys reach inside (``lead.name``). A grade or
    level may be written in the plan's terms (``terms``: plan_terms), as well as by its key."""
    out = []
    for key, wanted in expect.items():
        found, actual = lookup(result, str(key))
        if not found:
            keys = ", ".join(k for k in result)
            raise StepError(f"{label}: expect: {key}: not a key of this step's result (keys: {keys})",
                            [*(loc or []), str(key)])
        table = (terms or {}).get(str(key).rsplit(".", 1)[-1])
        as_key = table.get(_term(wanted), wanted) if table is not None and isinstance(wanted, str) else wanted
        out.append(Check(key=str(key), expected=_jsonable(wanted), actual=actual, ok=matches(as_key, actual)))
    return out


def show(value: Any) -> str:
    """A value as the scenario would write it: true/false/null, [a, b], numbers and text bare."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def lookup(result: Any, key: str) -> tuple[bool, Any]:
    if isinstance(result, dict) and key in result:
        return True, result[key]
    node = result
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def matches(wanted: Any, actual: Any) -> bool:
    """YAML value against a JSON result value: numbers by value (amounts are JSON strings),
    times as instants, mappings as subsets, lists item by item, booleans only as booleans."""
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual
    if wanted is None or actual is None:
        return wanted is actual
    if isinstance(wanted, int | float | Decimal):
        number = _number(actual)
        return number is not None and number == _number(wanted)
    if isinstance(wanted, datetime):
        try:
            return isinstance(actual, str) and datetime.fromisoformat(actual) == wanted
        except ValueError:
            return False
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and matches(v, actual[k]) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (isinstance(actual, list) and len(actual) == len(wanted)
                and all(matches(w, a) for w, a in zip(wanted, actual, strict=True)))
    return bool(wanted == actual)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)) if isinstance(value, int | float | Decimal | str) else None
    except InvalidOperation:
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
