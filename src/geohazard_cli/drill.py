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
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geohazard_cli.errors import InputError

KINDS = ("warning", "report", "update", "decide", "submit", "terminate", "ack")
STEP_KEYS = ("at", "note", *KINDS, "expect")
_SPEC_KEYS = {"warning": "level, area", "ack": "unit, outcome, answerer, by, note", "terminate": "confirm, reason, by",
              "decide": "level, by, note", "submit": "report, to, by, note"}
_STRICT = ConfigDict(defer_build=True, extra="forbid", frozen=True)
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
    outcome: str | None = None  # how the call went (默认 接通); 无人接听, 占线 ... record a failed call
    answerer: str | None = None  # 接听人: who answered at the unit
    by: str | None = None  # 经办人: the officer who made the call
    note: str | None = None


class DecideSpec(BaseModel):
    """``decide: II`` or ``decide: {level: II, by: 区政府}``: the decision on the response level
    (§6.1.2, §6.2.2); ``by`` defaults to the profile's decider."""

    model_config = _STRICT
    level: str
    by: str | None = None
    note: str | None = None


class SubmitSpec(BaseModel):
    """``submit: 速报`` or ``submit: {report: 续报, to: [区政府, 市应急局]}``: a report sent upward."""

    model_config = _STRICT
    report: str
    to: list[str] = []
    by: str | None = None
    note: str | None = None


class TerminateSpec(BaseModel):
    """``terminate: {confirm: all, reason: 现场处置基本完成, by: 区政府}`` (§6.4); ``terminate: all``
    confirms every criterion with no reason of its own."""

    model_config = _STRICT
    reason: str | None = None
    by: str | None = None  # who declared the end (§6.4: 区政府宣布终止)
    # The §6.4 criteria confirmed, by number (as `incident close ID` lists them), or "all": as
    # `incident close --confirm`, a response ends only once each of its criteria is confirmed.
    confirm: list[int] | Literal["all"] | None = None


class Step(BaseModel):
    """One timed step: ``at``, exactly one step kind, an optional ``note`` and ``expect``."""

    model_config = _STRICT
    at: str | datetime
    note: str | None = None
    warning: WarningSpec | None = None
    report: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    decide: DecideSpec | None = None
    submit: SubmitSpec | None = None
    terminate: TerminateSpec | None = None
    ack: list[AckSpec] | None = Field(default=None, min_length=1)
    expect: dict[str, Any] = {}
    kind: Literal["warning", "report", "update", "decide", "submit", "terminate", "ack"] = Field(
        exclude=True)  # set by _shape

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        kinds = [k for k in KINDS if isinstance(data, dict) and k in data]
        if len(kinds) != 1:  # parse_scenario's prescan says which, with the line
            raise ValueError(f"a step is a mapping with at and exactly one of {', '.join(KINDS)}")
        data = dict(data)
        kind = kinds[0]
        value = data[kind]
        if kind in ("warning", "decide") and isinstance(value, str | int):
            data[kind] = {"level": str(value)}
        elif kind == "submit" and isinstance(value, str):
            data[kind] = {"report": value}
        elif kind == "terminate" and (value is None or isinstance(value, str)):
            data[kind] = {"confirm": "all"} if value == "all" else {"reason": value}
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
                when = local(parse_time(step.at, "at", tz, start), tz)
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
    """Read and validate a scenario file; returns the scenario and the file text (for lines). The
    validated scenario is kept in cache.py (as a rules profile is) and rebuilt without the YAML
    parser or validation while the file and this module are unchanged."""
    from geohazard_cli.cache import cached_data
    from geohazard_cli.construct import construct, plain
    from geohazard_cli.loader import load_yaml, read_text

    text = read_text(path, InputError)
    parsed: list[Scenario] = []

    def parse() -> Any:
        parsed.append(parse_scenario(load_yaml(text, str(path), InputError), str(path), text))
        return _frozen(plain(parsed[0]))

    data = cached_data(path, parse, computed_by=__name__, kind="scenario")  # a file it cannot stat: parsed
    return (parsed[0] if parsed else construct(Scenario, _thawed(data))), text


# marshal holds no datetime (a YAML timestamp: ``start: 2026-07-21T08:30:00+08:00``): in the cached
# data it is a tuple ("datetime", its ISO text), which plain data never holds otherwise (lists only).
def _frozen(value: Any) -> Any:
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_frozen(v) for v in value]
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, tuple):
        return datetime.fromisoformat(value[1])
    if isinstance(value, dict):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_thawed(v) for v in value]
    return value


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
