"""A plan profile as every command reads it, and its loader (one cache of it).

``load_profile`` returns a ``Profile``: a read-only tree of plain objects with the rules file's own
names (``profile.grades[0].key``, ``profile.indicators[0].bands``, ``profile.reporting.skip_level``,
the raw ``dispatch`` and ``warning`` sections) and a few lookups (``rank``, ``level_by_key``,
``tables``, ``hazard_lookup``). The file is validated by the schema (rules_schema.py, pydantic)
once; what validation gave is kept as plain data with ``marshal`` (cache.py), and a later run
builds the same tree from it with neither YAML nor the pydantic models (start-up: README, Speed).
Grading, intake, dispatch, warnings, the journal, drills and templates all read this one type.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from geohazard_cli.nodes import Convert, Node, decimal, dict_of, list_of

SCHEMA_MODULE = "geohazard_cli.rules_schema"  # what computes the cached data (the cache keys on its sources)


class Clause(Node):
    __slots__ = _fields = ("text", "source")
    text: str
    source: str


class Band(Node):
    __slots__ = _fields = ("grade", "lower", "upper", "source")
    _convert: ClassVar[Convert] = {"lower": decimal, "upper": decimal}
    grade: str
    lower: Decimal  # "以上": included
    upper: Decimal | None  # "以下": excluded
    source: str


class Indicator(Node):
    __slots__ = _fields = ("key", "name", "category", "kind", "unit", "source", "bands")
    _convert: ClassVar[Convert] = {"bands": list_of(Band)}
    key: str
    name: str
    category: str
    kind: str  # count / amount
    unit: str
    source: str
    bands: list[Band]


class GradeDef(Node):
    __slots__ = _fields = ("key", "name", "level", "lead", "source")
    key: str
    name: str
    level: str
    lead: str
    source: str


class Lead(Node):
    __slots__ = _fields = ("name", "full_name", "text", "source")
    name: str
    full_name: str
    text: str
    source: str


class LevelDef(Node):
    __slots__ = _fields = ("key", "name", "source", "start_procedure", "measures")
    _convert: ClassVar[Convert] = {"start_procedure": Clause, "measures": list_of(Clause)}
    key: str
    name: str
    source: str
    start_procedure: Clause
    measures: list[Clause]


class AdvisoryRule(Node):
    __slots__ = _fields = ("key", "indicator", "add", "text", "source")
    key: str
    indicator: str
    add: list[str]
    text: str  # may hold {grade_name}
    source: str


class HazardType(Node):
    __slots__ = _fields = ("key", "name", "aliases")
    key: str
    name: str
    aliases: list[str]


class HazardTypes(Node):
    __slots__ = _fields = ("source", "items")
    _convert: ClassVar[Convert] = {"items": list_of(HazardType)}
    source: str
    items: list[HazardType]


class Plausible(Node):
    __slots__ = _fields = ("count", "amount", "text", "local")
    _convert: ClassVar[Convert] = {"amount": decimal}
    count: int
    amount: Decimal
    text: str
    local: bool


class Limits(Node):
    __slots__ = _fields = ("count", "amount", "warn")
    _convert: ClassVar[Convert] = {"amount": decimal, "warn": Plausible}
    count: int  # past this a figure is refused
    amount: Decimal
    warn: Plausible | None  # the jurisdiction's scale: past it a figure is graded with a warning


class ReportStep(Node):
    __slots__ = _fields = ("text", "recipients", "source")
    text: str
    recipients: list[str]
    source: str


class Deadline(Node):
    __slots__ = _fields = ("text", "source", "hours", "due", "due_unknown")
    text: str
    source: str
    hours: dict[str, int]
    due: str | None
    due_unknown: str | None


class SkipLevel(Node):
    __slots__ = _fields = ("min_grade", "casualty_indicators", "text", "recipients", "recipients_by_grade",
                           "casualty_reason", "follow_up", "otherwise", "source")
    min_grade: str
    casualty_indicators: list[str]
    text: str
    recipients: list[str]
    recipients_by_grade: dict[str, list[str]]
    casualty_reason: str
    follow_up: str
    otherwise: str
    source: str


class Reporting(Node):
    __slots__ = _fields = ("public", "first_report", "chain", "deadline", "skip_level")
    _convert: ClassVar[Convert] = {"public": ReportStep, "first_report": ReportStep, "chain": Clause,
                                   "deadline": Deadline, "skip_level": SkipLevel}
    public: ReportStep | None
    first_report: ReportStep
    chain: Clause
    deadline: Deadline
    skip_level: SkipLevel


class Termination(Node):
    __slots__ = _fields = ("decider", "advisers", "text", "source", "criteria")
    _convert: ClassVar[Convert] = {"criteria": list_of(Clause)}
    decider: str
    advisers: list[str]
    text: str
    source: str
    criteria: list[Clause]


class Task(Node):
    __slots__ = _fields = ("text", "source", "owner", "owner_source")
    text: str
    source: str
    owner: str
    owner_source: str


class Section(Node):
    __slots__ = _fields = ("title", "text", "source", "items")
    _convert: ClassVar[Convert] = {"items": list_of(Task)}
    title: str
    text: str
    source: str
    items: list[Task]


class SummaryReport(Node):
    __slots__ = _fields = ("basis", "figures", "level_changes", "calls", "termination")
    _convert: ClassVar[Convert] = {"basis": Clause}
    basis: Clause | None
    figures: str
    level_changes: str
    calls: str
    termination: str


class Definition(Node):
    __slots__ = _fields = ("key", "term", "text", "source")
    key: str
    term: str
    text: str
    source: str


class Decisions(Node):
    __slots__ = _fields = ("proposer", "consult", "decider", "text", "source", "termination")
    _convert: ClassVar[Convert] = {"termination": Termination}
    proposer: str
    consult: list[str]
    decider: str
    text: str
    source: str
    termination: Termination


class UncertainWording(Node):
    __slots__ = _fields = ("range", "same", "settle", "estimate", "value_range", "value_estimate", "callsheet")
    range: str
    same: str
    settle: str
    estimate: str
    value_range: str
    value_estimate: str
    callsheet: str


class Uncertain(Node):
    __slots__ = _fields = ("prepare_for", "reason", "source", "wording")
    _convert: ClassVar[Convert] = {"wording": UncertainWording}
    prepare_for: str  # "high" | "low"
    reason: str
    source: str
    wording: UncertainWording


class Profile(Node):
    """One plan profile (a file in rules/), as every command reads it."""

    # No __slots__: the lookups below are cached on the instance.
    _fields = ("schema_version", "id", "title", "short_title", "document", "issued", "jurisdiction", "geocode",
               "timezone", "limits", "hazard_types", "grades", "leads", "indicators", "advisories", "levels",
               "reporting", "decisions", "first_measures", "aftermath", "definitions", "summary_report",
               "uncertain_figures", "dispatch", "warning")
    _convert: ClassVar[Convert] = {"limits": Limits, "hazard_types": HazardTypes, "grades": list_of(GradeDef),
                "leads": dict_of(Lead), "indicators": list_of(Indicator), "advisories": list_of(AdvisoryRule),
                "levels": list_of(LevelDef), "reporting": Reporting, "decisions": Decisions,
                "first_measures": Section, "aftermath": Section, "definitions": list_of(Definition),
                "summary_report": SummaryReport, "uncertain_figures": Uncertain}
    schema_version: int
    id: str
    title: str
    short_title: str
    document: str
    issued: str
    jurisdiction: str
    geocode: dict[str, str]
    timezone: str
    limits: Limits
    hazard_types: HazardTypes
    grades: list[GradeDef]  # lowest first
    leads: dict[str, Lead]
    indicators: list[Indicator]
    advisories: list[AdvisoryRule]
    levels: list[LevelDef]  # highest first
    reporting: Reporting
    decisions: Decisions
    first_measures: Section | None  # §5 先期处置
    aftermath: Section | None  # §8 后期处置
    definitions: list[Definition]  # §10.1, by incident field
    summary_report: SummaryReport  # the clauses the incident export cites
    uncertain_figures: Uncertain | None  # ranges and estimates: which end to prepare for, and the wording
    dispatch: dict[str, Any]  # validated by roster.py
    warning: dict[str, Any]  # validated by warning.py

    def __init__(self, data: Mapping[str, Any], source_file: str | None = None) -> None:
        super().__init__(data)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "_source_file", source_file)

    data: Mapping[str, Any]  # the plain data it was built from (rules_schema.plain)
    _source_file: str | None

    @property
    def source_file(self) -> str:
        """The file this profile was loaded from, for messages (``rules/<id>.yaml`` if built in memory)."""
        return self._source_file or f"rules/{self.id}.yaml"

    @property
    def loaded_from(self) -> Path | None:
        """The rules file this profile was loaded from; None when built in memory."""
        return Path(self._source_file) if self._source_file is not None else None

    def model_copy(self, update: Mapping[str, Any]) -> Profile:
        """This profile with some top-level sections replaced (given as plain data)."""
        return Profile({**self.data, **update}, self._source_file)

    # --- lookups used by grading, intake and the renderers -------------------------------------
    @cached_property
    def rank(self) -> dict[str, int]:
        return {g.key: i for i, g in enumerate(self.grades)}

    @cached_property
    def level_by_key(self) -> dict[str, LevelDef]:
        return {lv.key: lv for lv in self.levels}

    @cached_property
    def tables(self) -> list[tuple[Indicator, list[Decimal], list[int]]]:
        """Per indicator: its lower bounds (ascending) and the grade rank of each band, for bisect."""
        return [(ind, [b.lower for b in ind.bands], [self.rank[b.grade] for b in ind.bands])
                for ind in self.indicators]

    @cached_property
    def hazard_lookup(self) -> dict[str, HazardType]:
        """Each hazard type by its key, name and aliases, casefolded."""
        out: dict[str, HazardType] = {}
        for h in self.hazard_types.items:
            for name in (h.key, h.name, *h.aliases):
                out[name.casefold()] = h
        return out


_cache: dict[Path, Profile] = {}


def loaded(path: Path) -> Profile | None:
    """The profile ``load_profile`` read from ``path`` in this process, if it did."""
    return _cache.get(path.resolve())


def load_profile(path: Path) -> Profile:
    """The profile in a rules file, validated (errors name the file, key path and line); from the
    cache when the file and the modules that validate it are unchanged."""
    path = path.resolve()
    if path in _cache:
        return _cache[path]
    from pydantic.version import VERSION

    from geohazard_cli.cache import cached_data

    def parse() -> dict[str, Any]:
        from geohazard_cli.rules_schema import profile_data

        return profile_data(path)

    profile = Profile(cached_data(path, parse, computed_by=SCHEMA_MODULE, key_extra=(VERSION,)), str(path))
    _cache[path] = profile
    return profile
