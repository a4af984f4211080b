"""Scripted drills (§7.7): a scenario file of timed steps, run on a drill clock, each step's result
checked against what the scenario expects.

The runner is pure: no sleeping, no wall clock, no printing. A step's time is the scenario's
``start`` plus its offset, so the same file gives the same result every time. A malformed scenario
(unknown key, a step out of order, a bad figure or colour) raises ``InputError`` naming the step
and key (exit 2); an expectation that does not hold is recorded in the step's result (the CLI
turns a failed run into exit 1).

Step kinds:
- ``warning``: a geohazard weather risk warning is issued (as ``geohazard warning``);
- ``report``: an incident is reported (figures as ``classify`` takes them);
- ``update``: new figures for the reported incident, the others carry over (续报);
- ``terminate``: the response ends (§6.4);
- ``ack``: a called unit answers (叫应), so a drill can check that every called unit answered.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geohazard_cli.errors import InputError, NotFoundError
from geohazard_cli.models import Assessment, Incident
from geohazard_cli.rules import Profile

if TYPE_CHECKING:
    from geohazard_cli.contacts import Roster
    from geohazard_cli.dispatch import CallList

KINDS = ("warning", "report", "update", "terminate", "ack")
STEP_KEYS = ("at", "note", *KINDS, "expect")
_SPEC_KEYS = {"warning": "level, area", "ack": "unit, answerer, by, note", "terminate": "reason, by"}
_STRICT = ConfigDict(extra="forbid", frozen=True)
_OFFSET = re.compile(r"^\+(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m(?:in)?)?$")
OFFSET_EXAMPLES = 'an offset from start such as "+0m", "+45m", "+2h", "+1h30m", or an ISO time'


# --- the scenario file ------------------------------------------------------------------------


class WarningSpec(BaseModel):
    """``warning: orange`` or ``warning: {level: orange, area: [七里山街道]}``."""

    model_config = _STRICT
    level: str
    area: list[str] = []


class AckSpec(BaseModel):
    """``ack: 七里山街道`` or ``ack: {unit: 七里山街道, answerer: 王某, by: 张三}``; a list answers for several.

    The same two people as ``geohazard incident ack`` and the paper call sheet: ``answerer`` is
    接听人 (who answered at the unit), ``by`` is 经办人 (the officer who made the call)."""

    model_config = _STRICT
    unit: str
    answerer: str | None = None  # 接听人: who answered at the unit
    by: str | None = None  # 经办人: the officer who made the call
    note: str | None = None


class TerminateSpec(BaseModel):
    """``terminate: {reason: 现场处置基本完成}`` (§6.4); ``terminate: 预警发布时段结束`` also works."""

    model_config = _STRICT
    reason: str | None = None
    by: str | None = None  # who declared the end (§6.4: 区政府宣布终止)


class Step(BaseModel):
    """One timed step: ``at``, exactly one step kind, an optional ``note`` and ``expect``."""

    model_config = _STRICT
    at: str | datetime
    note: str | None = None
    warning: WarningSpec | None = None
    report: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    terminate: TerminateSpec | None = None
    ack: list[AckSpec] | None = Field(default=None, min_length=1)
    expect: dict[str, Any] = {}
    kind: Literal["warning", "report", "update", "terminate", "ack"] = Field(exclude=True)  # set by _shape

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        kinds = [k for k in KINDS if isinstance(data, dict) and k in data]
        if len(kinds) != 1:  # parse_scenario's prescan says which, with the line
            raise ValueError(f"a step is a mapping with at and exactly one of {', '.join(KINDS)}")
        data = dict(data)
        kind = kinds[0]
        value = data[kind]
        if kind == "warning" and isinstance(value, str | int):
            data[kind] = {"level": str(value)}
        elif kind == "terminate" and (value is None or isinstance(value, str)):
            data[kind] = {"reason": value}
        elif kind == "ack":
            items = value if isinstance(value, list) else [value]
            data[kind] = [{"unit": v} if isinstance(v, str) else v for v in items]
        elif kind in ("report", "update") and value is None:
            data[kind] = {}
        if data.get("expect") is None:
            data["expect"] = {}
        data["kind"] = kind
        return data

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return value
        if isinstance(value, str):
            text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
            if text.startswith("+"):
                if text == "+" or not _OFFSET.match(text):
                    raise ValueError(f'"{value}" is not {OFFSET_EXAMPLES}')
                return text
            return value  # an absolute time, parsed against the plan's timezone later
        raise ValueError(f'"{value}" is not {OFFSET_EXAMPLES}')


class Scenario(BaseModel):
    """A drill scenario file."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    start: datetime | str
    plan: str | None = None
    description: str | None = None
    steps: list[Step] = Field(min_length=1)


def parse_offset(text: str) -> timedelta:
    m = _OFFSET.match(text)
    if m is None:  # pragma: no cover - Step._at has checked it
        raise InputError(f'"{text}" is not {OFFSET_EXAMPLES}')
    return timedelta(days=int(m["d"] or 0), hours=int(m["h"] or 0), minutes=int(m["m"] or 0))


def format_offset(delta: timedelta) -> str:
    """``+1h30m``, ``+0m``, ``+2d3h``: the inverse of ``parse_offset`` for whole minutes."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return "+" + (text or "0m")


def step_label(number: int, step: Step | str) -> str:
    kind = step if isinstance(step, str) else step.kind
    return f"step {number} ({kind})"


class StepError(InputError):
    """A malformed step; ``loc`` is its key path in the file, for the line number."""

    def __init__(self, message: str, loc: list[str | int]) -> None:
        super().__init__(message)
        self.loc = loc


class Drill(BaseModel):
    """A validated scenario on its clock: the absolute time of the start and of every step."""

    scenario: Scenario
    start: datetime
    times: list[datetime]


def parse_scenario(data: Any, name: str, text: str | None = None) -> Scenario:
    """Validate a loaded scenario mapping. Messages name the file, the line where known, the
    step and the key: ``drills/x.yaml:14: step 3 (update): at: ...``."""
    if not isinstance(data, dict):
        raise InputError(f"{name}: the top level must be a mapping with name, start and steps")
    steps = data.get("steps")
    for i, raw in enumerate(steps if isinstance(steps, list) else []):
        _prescan(raw, i, name, text)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(_describe(exc, data, name, text)) from None


def _prescan(raw: Any, i: int, name: str, text: str | None) -> None:
    """Step shape problems, each with the line of the offending key (pydantic only knows the step)."""
    loc: list[str | int] = ["steps", i]
    if not isinstance(raw, dict):
        raise InputError(f"{_where(name, text, loc)}: step {i + 1}: a step is a mapping with at and one of "
                         f"{', '.join(KINDS)}")
    kinds = [k for k in KINDS if k in raw]
    label = f"step {i + 1}" + (f" ({kinds[0]})" if len(kinds) == 1 else "")
    for key in raw:
        if key not in STEP_KEYS:
            what = "unknown step kind" if not kinds else "unknown key"
            where = _where(name, text, [*loc, str(key)])
            raise InputError(f"{where}: {label}: {key}: {what} (a step has at, note, expect and one of "
                             f"{', '.join(KINDS)})")
    if len(kinds) != 1:
        found = f"found {' and '.join(kinds)}" if kinds else "found none"
        raise InputError(f"{_where(name, text, loc)}: {label}: a step needs exactly one of "
                         f"{', '.join(KINDS)} ({found})")
    if "at" not in raw:
        raise InputError(f"{_where(name, text, loc)}: {label}: at: required key is missing (when the step "
                         f"happens: {OFFSET_EXAMPLES})")


def schedule(scenario: Scenario, tz: str = "+08:00") -> Drill:
    """Put the steps on the drill clock, in the plan's zone; a step earlier than the one before
    it is an error."""
    from geohazard_cli.intake import parse_time
    from geohazard_cli.timeutil import local

    try:
        start = local(parse_time(scenario.start, "start", tz), tz)
    except InputError as exc:
        raise StepError(str(exc), ["start"]) from None
    times: list[datetime] = []
    previous = start
    for i, step in enumerate(scenario.steps):
        label = step_label(i + 1, step)
        loc: list[str | int] = ["steps", i, "at"]
        if isinstance(step.at, str) and step.at.startswith("+"):
            try:
                when = start + parse_offset(step.at)
            except OverflowError:
                raise StepError(f'{label}: at: "{step.at}" is too far from start', loc) from None
        else:
            try:
                when = local(parse_time(step.at, "at", tz), tz)
            except InputError:
                raise StepError(f"{label}: at: {_show_at(step.at)} is not {OFFSET_EXAMPLES}", loc) from None
        if when < start:
            raise StepError(f"{label}: at: {when.isoformat()} is before the drill starts "
                            f"({start.isoformat()})", loc)
        if when < previous:
            raise StepError(f"{label}: at: {_show_at(step.at)} is earlier than step {i} "
                            f"({format_offset(previous - start)}); steps must be in time order", loc)
        times.append(when)
        previous = when
    return Drill(scenario=scenario, start=start, times=times)


def read_scenario(path: Path) -> tuple[Scenario, str]:
    """Read and validate a scenario file; returns the scenario and the file text (for lines)."""
    from geohazard_cli.loader import load_yaml, read_text

    text = read_text(path, InputError)
    data = load_yaml(text, str(path), InputError)
    return parse_scenario(data, str(path), text), text


def locate(exc: InputError, name: str, text: str | None) -> InputError:
    """Prefix a runner or clock error with the file name and, for a step, the line."""
    loc = exc.loc if isinstance(exc, StepError) else []
    return InputError(f"{_where(name, text, loc)}: {exc}")


def locate_key(name: str, text: str | None, loc: list[str | int]) -> str:
    """``file:line`` of a key path in the scenario file (``file`` when the line is not known)."""
    return _where(name, text, loc)


def _show_at(at: str | datetime) -> str:
    return at.isoformat() if isinstance(at, datetime) else f'"{at}"'


def _where(name: str, text: str | None, loc: list[str | int]) -> str:
    from geohazard_cli.loader import line_of

    line = line_of(text, loc) if text else None
    return f"{name}:{line}" if line else name


def _describe(exc: ValidationError, data: dict[str, Any], name: str, text: str | None) -> str:
    """One line from the first validation problem, naming the step and key."""
    err = exc.errors()[0]
    loc = [p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))]
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    kind = err.get("type")
    if kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "missing":
        msg = "required key is missing"
    head = _where(name, text, loc)
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        idx = loc[1]
        raw = data.get("steps")
        step_raw = raw[idx] if isinstance(raw, list) and idx < len(raw) else None
        kinds = [k for k in KINDS if isinstance(step_raw, dict) and k in step_raw]
        label = f"step {idx + 1}" + (f" ({kinds[0]})" if len(kinds) == 1 else "")
        rest = ".".join(str(p) for p in loc[2:])
        if kind == "too_short" and loc[2:] == ["ack"]:
            msg = "name at least one unit that answered"
        if kind == "extra_forbidden" and len(loc) >= 4 and loc[2] in KINDS:
            known = _SPEC_KEYS.get(str(loc[2]))
            msg = f"unknown key (known: {known})" if known else msg
            if not str(loc[-1]).isascii():  # `{reason: 甲,乙}`: a comma inside {...} starts a new key
                msg += '; a comma inside {...} starts a new key: put the text in quotes'
        return f"{head}: {label}: {rest + ': ' if rest else ''}{msg}"
    if loc == ["steps"] and kind == "too_short":
        msg = "needs at least one step"
    elif kind == "extra_forbidden" and len(loc) == 1:
        msg = "unknown key (a scenario has name, start, plan, description, steps)"
    path = ".".join(str(p) for p in loc) or "(top level)"
    return f"{head}: {path}: {msg}"


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


class _State:
    """What the drill has done so far: the incident, the warning, who was called and who answered."""

    def __init__(self) -> None:
        self.incident: Incident | None = None
        self.assessment: Assessment | None = None
        self.call_list: CallList | None = None
        self.reported_step = 0
        self.reported_at: datetime | None = None
        self.warning: dict[str, Any] | None = None
        self.called: dict[str, str] = {}  # unit key -> name, in call order
        self.acked: dict[str, dict[str, Any]] = {}
        self.newly: list[Called] = []  # units a warning step newly calls (shown with the step)

    def unacknowledged(self) -> list[str]:
        return [name for key, name in self.called.items() if key not in self.acked]


def run(drill: Drill, profile: Profile, roster: Roster | None = None) -> DrillRun:
    """Run every step on the drill clock and check its expectations.

    ``roster`` resolves who each level calls and who answers (issue 3). A malformed step raises
    ``StepError``; an expectation that does not hold is recorded in the step and in ``failed``.
    """
    scenario, start = drill.scenario, drill.start
    state = _State()
    out: list[StepResult] = []
    for i, (step, when) in enumerate(zip(scenario.steps, drill.times, strict=True)):
        number = i + 1
        label = step_label(number, step)
        state.newly = []
        try:
            summary, result, change = _STEPS[step.kind](step, when, number, state, profile, roster)
        except StepError:
            raise
        except (InputError, NotFoundError) as exc:  # NotFoundError: a unit the roster does not know
            raise StepError(f"{label}: {exc}", ["steps", i, step.kind]) from None
        checks = check(step.expect, result, label, ["steps", i, "expect"])
        out.append(StepResult(
            number=number, kind=step.kind, at=when, offset=format_offset(when - start), note=step.note,
            summary=summary, result=result, checks=checks, ok=all(c.ok for c in checks),
            level_change=change, called=state.newly,
        ))
    failed = [s.number for s in out if not s.ok]
    return DrillRun(
        name=scenario.name, description=scenario.description, plan=profile.id, plan_title=profile.title,
        start=start, end=drill.times[-1], passed=not failed, failed=failed, steps=out,
    )


_StepOut = tuple[str, dict[str, Any], LevelChange | None]


def _warning(step: Step, when: datetime, number: int, state: _State, profile: Profile,
             roster: Roster | None) -> _StepOut:
    spec = step.warning
    assert spec is not None
    result = warning_response(spec, when, profile, roster)
    state.warning = result
    contacts = [c for c in result.get("contacts", []) if isinstance(c, dict)]
    newly = _call(state, [(str(c.get("unit") or ""), c.get("unit_key")) for c in contacts])
    state.newly = [Called(unit=str(c.get("unit")), unit_key=c.get("unit_key"), dial=c.get("dial"),
                          phone=c.get("phone"), reasons=[_reason_text(r) for r in c.get("reasons", [])])
                   for c in contacts if c.get("unit") in newly]
    result = {**result, "newly_called": newly, "unacknowledged": state.unacknowledged()}
    area = "、".join(result.get("areas") or [])
    period = _period_name(result)
    summary = f"发布{result.get('level_name')}{result.get('event')}" + (f"({area})" if area else "")
    summary += f",{period}启动" if result.get("active") else f",不启动{period}"
    return summary, result, None


def warning_response(spec: WarningSpec, when: datetime, profile: Profile, roster: Roster | None) -> dict[str, Any]:
    """The warning core's answer for this colour and area: the dict ``warning --format json
    --exercise --sent WHEN`` prints (a drill is an exercise; it is sent at the step's time)."""
    import geohazard_cli.warning as core
    from geohazard_cli.cap import cap_time

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


def _reason_text(reason: Any) -> str:
    if isinstance(reason, dict):
        text, source = reason.get("text", ""), reason.get("source")
        return f"{text}({source})" if source else str(text)
    return str(reason)


def _report(step: Step, when: datetime, number: int, state: _State, profile: Profile,
            roster: Roster | None) -> _StepOut:
    from geohazard_cli.grading import grade
    from geohazard_cli.intake import parse_incident

    if state.incident is not None:
        raise InputError(f"an incident is already reported (step {state.reported_step}); "
                         "use update for new figures, or terminate it first")
    raw = dict(step.report or {})
    raw.setdefault("reported_at", when)
    incident = parse_incident(raw, profile)
    assessment = grade(incident, profile)
    state.incident, state.assessment = incident, assessment
    state.reported_step, state.reported_at = number, when
    result = assessment.model_dump(mode="json")
    change = _dispatch(state, assessment, profile, roster, result, previous_level=None)
    what = " · ".join(x for x in (incident.hazard_type_name, incident.location) if x)
    summary = (f"接报险情灾情{(': ' + what) if what else ''} → {assessment.grade_name},"
               f"启动{assessment.response_level_name}")
    return summary, result, change


def _update(step: Step, when: datetime, number: int, state: _State, profile: Profile,
            roster: Roster | None) -> _StepOut:
    from geohazard_cli.grading import grade
    from geohazard_cli.intake import parse_incident

    if state.incident is None or state.assessment is None:
        raise InputError("no incident to update: report one first")
    previous = state.assessment
    incident = parse_incident(step.update or {}, profile, base=state.incident)
    assessment = grade(incident, profile)
    state.incident, state.assessment = incident, assessment
    result = assessment.model_dump(mode="json")
    result["previous_grade"] = previous.grade
    result["previous_level"] = previous.response_level
    result["level_changed"] = previous.response_level != assessment.response_level
    change = _dispatch(state, assessment, profile, roster, result, previous_level=previous.response_level)
    if change is None:
        summary = f"续报 → {assessment.grade_name},维持{assessment.response_level_name}"
    else:
        verb = "升级" if change.direction == "up" else "降级"
        summary = (f"续报 → {assessment.grade_name},响应{verb}:{previous.response_level_name} → "
                   f"{assessment.response_level_name}")
    return summary, result, change


def _terminate(step: Step, when: datetime, number: int, state: _State, profile: Profile,
               roster: Roster | None) -> _StepOut:
    spec = step.terminate
    assert spec is not None
    if state.assessment is None and state.warning is None:
        raise InputError("nothing to terminate: no incident reported and no warning issued")
    a, warning = state.assessment, state.warning
    result: dict[str, Any] = {
        "terminated": True,
        "reason": spec.reason,
        "by": spec.by,
        "ended": [k for k, v in (("incident", a), ("warning", warning)) if v is not None],
        "grade": a.grade if a else None,
        "grade_name": a.grade_name if a else None,
        "response_level": a.response_level if a else None,
        "response_level_name": a.response_level_name if a else None,
        "duration_minutes": (int((when - state.reported_at).total_seconds() // 60)
                             if a and state.reported_at else None),
        "warning_level": warning.get("level") if warning else None,
        "unacknowledged": state.unacknowledged(),
    }
    change = None
    if a is not None:
        change = LevelChange(direction="end", previous_level=a.response_level,
                             previous_level_name=a.response_level_name, level=None, level_name=None)
    names = [a.response_level_name] if a is not None else []
    if warning is not None:
        names.append(_period_name(warning))
    summary = f"{spec.by or ''}宣布终止{'、'.join(names)}" + (f"({spec.reason})" if spec.reason else "")
    state.incident = state.assessment = state.call_list = None
    state.warning = None
    state.reported_at = None
    return summary, result, change


def _ack(step: Step, when: datetime, number: int, state: _State, profile: Profile,
         roster: Roster | None) -> _StepOut:
    specs = step.ack or []
    answered: list[dict[str, Any]] = []
    for spec in specs:
        key, name = _resolve_unit(spec.unit, state, roster)
        was_called = key in state.called
        record = {"unit": name, "answerer": spec.answerer, "by": spec.by, "acknowledged_at": when.isoformat(),
                  "called": was_called}
        state.acked.setdefault(key, record)
        answered.append(record)
    names = "、".join(r["unit"] + (f"({r['answerer']})" if r["answerer"] else "") for r in answered)
    not_called = [r["unit"] for r in answered if not r["called"]]
    result: dict[str, Any] = {
        "units": [r["unit"] for r in answered],
        "answered": answered,
        "not_called": not_called,
        "acknowledged": [state.called[k] for k in state.called if k in state.acked],
        "unacknowledged": state.unacknowledged(),
    }
    summary = f"{names} 回应" + (f"(未被叫应:{'、'.join(not_called)})" if not_called else "")
    return summary, result, None


def _resolve_unit(name: str, state: _State, roster: Roster | None) -> tuple[str, str]:
    """A unit that answers: one already called (by name, alias or key), else any unit the roster
    knows (an answer from a unit nobody called); unknown names are an error."""
    wanted = unicodedata.normalize("NFKC", name).strip().casefold()
    unit = roster.find(name) if roster is not None else None
    if unit is not None:
        return unit.key, unit.name
    for key, called in state.called.items():
        if wanted in (key.casefold(), unicodedata.normalize("NFKC", called).strip().casefold()):
            return key, called
    if roster is not None:
        roster.unit(name)  # raises NotFoundError with the closest name
    return name, name


def _call(state: _State, units: list[tuple[str, str | None]]) -> list[str]:
    """Add units to the 叫应 ledger; returns the names newly called."""
    newly = []
    for name, key in units:
        k = key or name
        if k and k not in state.called:
            state.called[k] = name
            newly.append(name)
    return newly


def _dispatch(state: _State, assessment: Assessment, profile: Profile, roster: Roster | None,
              result: dict[str, Any], previous_level: str | None) -> LevelChange | None:
    """Resolve who this level calls; on a level change, who is newly to call and who is dropped."""
    level = assessment.response_level
    if previous_level == level:
        change = None
    else:
        order = [lv.key for lv in profile.levels]  # highest (I) first
        direction: Literal["start", "up", "down"] = (
            "start" if previous_level is None
            else "up" if order.index(level) < order.index(previous_level) else "down"
        )
        prev = profile.level_by_key[previous_level] if previous_level is not None else None
        change = LevelChange(
            direction=direction, previous_level=previous_level,
            previous_level_name=prev.name if prev is not None else None,
            level=level, level_name=assessment.response_level_name,
        )
    if roster is None:
        return change
    from geohazard_cli.dispatch import call_list_diff, resolve_call_list

    call_list = resolve_call_list(assessment, profile, roster)
    newly, dropped = call_list_diff(state.call_list, call_list)
    state.call_list = call_list
    _call(state, [(e.unit, e.unit_key) for e in call_list.entries])
    result["call_list"] = call_list.names()
    result["newly_called"] = [e.unit for e in newly]
    result["dropped"] = [e.unit for e in dropped]
    result["unacknowledged"] = state.unacknowledged()
    if change is not None:
        change.newly_called = [Called(unit=e.unit, unit_key=e.unit_key, dial=e.dial, phone=e.phone,
                                      reasons=list(e.reasons)) for e in newly]
        change.dropped = [e.unit for e in dropped]
    return change


_STEPS = {"warning": _warning, "report": _report, "update": _update, "terminate": _terminate, "ack": _ack}


# --- expectations -----------------------------------------------------------------------------


def check(expect: dict[str, Any], result: dict[str, Any], label: str,
          loc: list[str | int] | None = None) -> list[Check]:
    """Check every expected key against the result. A key the result does not have is a scenario
    error (a typo would otherwise never hold); dotted keys reach inside (``lead.name``)."""
    out = []
    for key, wanted in expect.items():
        found, actual = lookup(result, str(key))
        if not found:
            keys = ", ".join(k for k in result)
            raise StepError(f"{label}: expect: {key}: not a key of this step's result (keys: {keys})",
                            [*(loc or []), str(key)])
        out.append(Check(key=str(key), expected=_jsonable(wanted), actual=actual, ok=matches(wanted, actual)))
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
