"""The rules-file schema (a plan profile) and its self-checks: what validates a rules file.

A profile is the plan as data: grades, indicators with their bands, response levels, leads, the
reporting chain. ``profile_data`` refuses an unsound profile with a message naming the file, the
key path and (where it can) the line: bands must tile [0, ∞) with no gap or overlap, grades must
rise along every indicator, every grade needs a known level and lead. What it returns is plain
data (what ``marshal`` keeps): rules.py caches it and builds the runtime ``rules.Profile`` from it,
so this module and its pydantic models load only when a rules file is actually parsed (and for
``geohazard check``).
"""

from __future__ import annotations

import itertools
import string
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geohazard_cli.errors import ConfigError
from geohazard_cli.fields import COUNT_FIELDS, FIELD_LABELS

# defer_build: a validator is built only when a rules file is parsed (a cached profile is not).
_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _amount(value: Any) -> Any:
    """Bounds may be written as the plan prints them ("500万", "1亿"); parse those exactly."""
    if isinstance(value, str):
        from geohazard_cli.money import parse_amount

        try:
            return parse_amount(value, "amount")
        except Exception as exc:
            raise ValueError(str(exc).removeprefix("amount: ")) from None
    if isinstance(value, float):
        raise ValueError("write bounds as whole numbers or as 500万 / 1亿, not floats")
    return value


class Clause(BaseModel):
    model_config = _STRICT
    text: str
    source: str


class Band(BaseModel):
    model_config = _STRICT
    grade: str
    lower: Decimal = Field(default=Decimal(0), alias="from")  # "以上": included
    upper: Decimal | None = Field(default=None, alias="below")  # "以下": excluded
    source: str

    _parse = field_validator("lower", "upper", mode="before")(_amount)


class Indicator(BaseModel):
    model_config = _STRICT
    key: str
    name: str
    category: str
    kind: Literal["count", "amount"]
    unit: str
    source: str
    bands: list[Band] = Field(min_length=1)


class GradeDef(BaseModel):
    model_config = _STRICT
    key: str
    name: str
    level: str
    lead: str
    source: str


class Lead(BaseModel):
    model_config = _STRICT
    name: str
    full_name: str
    text: str
    source: str


class LevelDef(BaseModel):
    model_config = _STRICT
    key: str
    name: str
    source: str
    start_procedure: Clause
    measures: list[Clause]


class AdvisoryRule(BaseModel):
    model_config = _STRICT
    key: str
    indicator: str
    add: list[str]
    text: str  # may hold {grade_name}
    source: str


class HazardType(BaseModel):
    model_config = _STRICT
    key: str
    name: str
    aliases: list[str] = []


class HazardTypes(BaseModel):
    model_config = _STRICT
    source: str
    items: list[HazardType] = Field(min_length=1)


class Plausible(BaseModel):
    """The scale of the jurisdiction (``limits.warn``): a figure past it is graded as given, with a
    warning that shows it, for the officer to check (a typo, or a truly exceptional event)."""

    model_config = _STRICT
    count: int = Field(gt=0)
    amount: Decimal = Field(gt=0)
    text: str = Field(min_length=1)  # why this scale: what the officer checks the figure against
    local: Literal[True]  # not the plan's: the bureau's (or this tool's) setting

    _parse = field_validator("amount", mode="before")(_amount)


class Limits(BaseModel):
    model_config = _STRICT
    count: int = Field(gt=0)  # past this a figure is refused: a typo, not an incident
    amount: Decimal = Field(gt=0)
    warn: Plausible | None = None

    _parse = field_validator("amount", mode="before")(_amount)


class ReportStep(BaseModel):
    model_config = _STRICT
    text: str
    recipients: list[str]
    source: str


class Deadline(BaseModel):
    model_config = _STRICT
    text: str
    source: str
    hours: dict[str, int] = {}
    # The deadline as the forms word it, required when `hours` are given: `due` with the report
    # time known ({due} {hours}), `due_unknown` without it ({hours}).
    due: str | None = None
    due_unknown: str | None = None


class SkipLevel(BaseModel):
    model_config = _STRICT
    min_grade: str
    casualty_indicators: list[str]
    text: str
    recipients: list[str]
    recipients_by_grade: dict[str, list[str]] = {}  # overrides `recipients` for these grades
    casualty_reason: str = ""  # the plan's words for the casualty condition (有人员伤亡)
    follow_up: str  # what is still owed after reporting straight up (并完成逐级补报工作), may be ""
    otherwise: str  # the ordinary way, when skip-level reporting does not apply
    source: str


class Reporting(BaseModel):
    model_config = _STRICT
    public: ReportStep | None = None  # who else reports, and to whom (the district plan's §3.2.2)
    first_report: ReportStep
    chain: Clause
    deadline: Deadline
    skip_level: SkipLevel


class Termination(BaseModel):
    """Who ends a response, on whose advice (§6.4)."""

    model_config = _STRICT
    decider: str
    advisers: list[str] = []
    text: str
    source: str
    criteria: list[Clause] = []  # each condition the officer confirms before closing an incident


class Task(BaseModel):
    """One task of a section (§5, §8), with who does it where the profile can say."""

    model_config = _STRICT
    text: str
    source: str
    owner: str = ""
    owner_source: str = ""  # the clause the owner is read from, when it is not the task's own


class Section(BaseModel):
    """A clause read out as a checklist where it acts (§5 先期处置, §8 后期处置)."""

    model_config = _STRICT
    title: str
    text: str = ""
    source: str
    items: list[Task] = Field(min_length=1)


class Definition(BaseModel):
    """A term of the plan's definitions (§10.1), keyed by the incident field it defines."""

    model_config = _STRICT
    key: str
    term: str
    text: str
    source: str


class SummaryReport(BaseModel):
    """The clauses the incident export (summary report) cites: the clause it answers (``basis``)
    and the clause beside each heading ("" = the plan has none: the heading stands alone)."""

    model_config = _STRICT
    basis: Clause | None = None
    figures: str = ""
    level_changes: str = ""
    calls: str = ""
    termination: str = ""


class Decisions(BaseModel):
    """Who proposes a response level, who is consulted, who decides it (§6.1.2, §6.2.2) and who ends
    the response (§6.4): the tool's assessment is the proposal; the decision is recorded with its maker."""

    model_config = _STRICT
    proposer: str
    consult: list[str] = []
    decider: str
    text: str
    source: str
    termination: Termination


class ProfileSchema(BaseModel):
    """One plan profile (a file in rules/), as the file is validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    schema_version: Literal[1] = Field(alias="schema")
    id: str
    title: str
    short_title: str
    document: str
    issued: str
    jurisdiction: str
    geocode: dict[str, str]
    timezone: str = Field(pattern=r"^[+-]\d\d:\d\d$")
    limits: Limits
    hazard_types: HazardTypes
    grades: list[GradeDef] = Field(min_length=1)  # lowest first
    leads: dict[str, Lead]
    indicators: list[Indicator] = Field(min_length=1)
    advisories: list[AdvisoryRule] = []
    levels: list[LevelDef] = Field(min_length=1)
    reporting: Reporting
    decisions: Decisions
    first_measures: Section | None = None
    aftermath: Section | None = None
    definitions: list[Definition] = []
    summary_report: SummaryReport = SummaryReport()
    dispatch: dict[str, Any] = {}  # validated by dispatch.py
    warning: dict[str, Any] = {}  # validated by warning.py

    @model_validator(mode="after")
    def _sound(self) -> ProfileSchema:
        problems = check_profile(self)
        if problems:
            raise ValueError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        return self


def check_profile(p: ProfileSchema) -> list[str]:
    """Every soundness problem of a profile, each naming its key path."""
    problems: list[str] = []
    keys = [g.key for g in p.grades]
    rank = {k: i for i, k in enumerate(keys)}
    level_keys = [lv.key for lv in p.levels]
    if len(set(keys)) != len(keys):
        problems.append(f"grades: a grade key is listed twice ({', '.join(keys)})")
    if len(set(level_keys)) != len(level_keys):
        problems.append("levels: a level key is listed twice")
    warn = p.limits.warn
    if warn is not None:  # the jurisdiction's scale lies below the refusal ceiling
        if warn.count >= p.limits.count:
            problems.append(f"limits.warn.count: {warn.count} is not below limits.count ({p.limits.count})")
        if warn.amount >= p.limits.amount:
            problems.append(f"limits.warn.amount: {warn.amount} is not below limits.amount ({p.limits.amount})")
    for i, g in enumerate(p.grades):
        if g.level not in level_keys:
            problems.append(f"grades.{i} ({g.key}).level: {g.level!r} is not a key of levels ({', '.join(level_keys)})")
        if g.lead not in p.leads:
            problems.append(f"grades.{i} ({g.key}).lead: {g.lead!r} is not a key of leads ({', '.join(p.leads)})")
    # Higher grades may not start lower levels: the level order follows the grade order.
    seen_levels = [g.level for g in p.grades if g.level in level_keys]
    order = [level_keys.index(lv) for lv in seen_levels]
    if any(b > a for a, b in itertools.pairwise(order)):
        problems.append("grades: response levels must not get lower as grades rise "
                        "(list levels from the highest, I, down)")
    ind_keys = [ind.key for ind in p.indicators]
    if len(set(ind_keys)) != len(ind_keys):
        problems.append("indicators: an indicator key is listed twice")
    for i, ind in enumerate(p.indicators):
        where = f"indicators.{i} ({ind.key})"
        if ind.key not in FIELD_LABELS or ind.key in ("id",):
            problems.append(f"{where}.key: {ind.key!r} is not an incident figure")
        elif (ind.kind == "count") != (ind.key in COUNT_FIELDS):
            problems.append(f"{where}.kind: {ind.key} is {'a count' if ind.key in COUNT_FIELDS else 'an amount'}")
        prev_rank = -1
        for j, b in enumerate(ind.bands):
            bw = f"{where}.bands.{j}"
            if b.grade not in rank:
                problems.append(f"{bw}.grade: {b.grade!r} is not a grade ({', '.join(keys)})")
                continue
            if rank[b.grade] <= prev_rank:
                problems.append(f"{bw}.grade: {b.grade} does not rise above the band before it")
            prev_rank = rank[b.grade]
            if j == 0 and b.lower != 0:
                problems.append(f"{bw}.from: the first band must start at 0, not {b.lower} (gap below it)")
            if j > 0:
                prev = ind.bands[j - 1]
                if prev.upper is None:
                    problems.append(f"{bw}: follows a band with no upper bound (overlap)")
                elif b.lower > prev.upper:
                    problems.append(f"{bw}.from: gap between {prev.upper} and {b.lower}")
                elif b.lower < prev.upper:
                    problems.append(f"{bw}.from: {b.lower} overlaps the band before it (below {prev.upper})")
            if b.upper is not None and b.upper <= b.lower:
                problems.append(f"{bw}.below: {b.upper} is not above from ({b.lower})")
            if ind.kind == "count" and (b.lower % 1 or (b.upper is not None and b.upper % 1)):
                problems.append(f"{bw}: a count bound must be a whole number")
        if ind.bands[-1].upper is not None:
            problems.append(f"{where}.bands: the last band must have no upper bound (gap above {ind.bands[-1].upper})")
    for i, a in enumerate(p.advisories):
        fields = [f for _, f, _, _ in string.Formatter().parse(a.text) if f is not None]
        if any(f != "grade_name" for f in fields):
            problems.append(f"advisories.{i}.text: only {{grade_name}} may be filled in (found {fields})")
        if a.indicator not in ind_keys:
            problems.append(f"advisories.{i}.indicator: {a.indicator!r} is not an indicator")
        for f in a.add:
            if f not in COUNT_FIELDS:
                problems.append(f"advisories.{i}.add: {f!r} is not a count figure ({', '.join(COUNT_FIELDS)})")
    sk = p.reporting.skip_level
    if sk.min_grade not in rank:
        problems.append(f"reporting.skip_level.min_grade: {sk.min_grade!r} is not a grade")
    if sk.casualty_indicators and not sk.casualty_reason:
        problems.append("reporting.skip_level.casualty_reason: required when casualty_indicators are given")
    for f in sk.casualty_indicators:
        if f not in COUNT_FIELDS:
            problems.append(f"reporting.skip_level.casualty_indicators: {f!r} is not a count figure")
    for k in sk.recipients_by_grade:
        if k not in rank:
            problems.append(f"reporting.skip_level.recipients_by_grade: {k!r} is not a grade")
    dl = p.reporting.deadline
    for k in dl.hours:
        if k not in rank:
            problems.append(f"reporting.deadline.hours: {k!r} is not a grade")
    from geohazard_cli.phrasing import placeholder_problem

    for key, text, allowed in (("due", dl.due, ("due", "hours")), ("due_unknown", dl.due_unknown, ("hours",))):
        if text is None:
            if dl.hours:
                problems.append(f"reporting.deadline.{key}: required when hours are given "
                                f"(a template with {', '.join('{' + a + '}' for a in allowed)})")
        elif bad := placeholder_problem(text, allowed):
            problems.append(f"reporting.deadline.{key}: {bad}")
    names = set()
    for h in p.hazard_types.items:
        for n in (h.key, h.name, *h.aliases):
            if n.casefold() in names:
                problems.append(f"hazard_types: {n!r} names two hazard types")
            names.add(n.casefold())
    return problems


def _unsound(exc: ValidationError, name: str, text: str) -> str | None:
    """A soundness problem (raised whole by ProfileSchema._sound) as ``file:line: key.path: message``,
    pointing at ``geohazard check`` for the full list; None for any other validation error."""
    import re

    from geohazard_cli.loader import line_of

    errors = exc.errors()
    if len(errors) != 1 or errors[0].get("loc") != () or errors[0].get("type") != "value_error":
        return None
    message = str(errors[0]["msg"]).removeprefix("Value error, ")
    key, _, _ = message.partition(": ")
    loc: list[str | int] = [int(p) if p.isdigit() else p for p in re.sub(r" \([^)]*\)", "", key).split(".")]
    line = line_of(text, loc)
    where = f"{name}:{line}" if line else name
    return f"{where}: {message} (geohazard check --config-dir DIR lists every problem)"


def plain(profile: ProfileSchema) -> dict[str, Any]:
    """A validated profile as plain data (str, int, None, list, dict; bounds and amounts as decimal
    text), the form rules.Profile is built from and the cache keeps with marshal. The ``dispatch``
    and ``warning`` sections stay as the file gave them (roster.py and warning.py validate them)."""
    data = profile.model_dump()
    for ind in data["indicators"]:
        for band in ind["bands"]:
            band["lower"] = str(band["lower"])
            band["upper"] = None if band["upper"] is None else str(band["upper"])
    data["limits"]["amount"] = str(data["limits"]["amount"])
    if data["limits"]["warn"] is not None:
        data["limits"]["warn"]["amount"] = str(data["limits"]["warn"]["amount"])
    return data


def profile_data(path: Path) -> dict[str, Any]:
    """Read and validate a rules file into plain data; errors name the file, key path and line."""
    from geohazard_cli.loader import describe_validation_error, load_yaml, read_text

    text = read_text(path)
    try:
        return plain(ProfileSchema.model_validate(load_yaml(text, str(path))))
    except ValidationError as exc:
        message = _unsound(exc, str(path), text) or describe_validation_error(exc, str(path), text)
        raise ConfigError(message) from None
