"""Models shared by every command: the incident as reported (§3.2.1) and its assessment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic_core import to_jsonable_python

# The field tables live in fields.py (free of pydantic, for the start-up path); re-exported here.
from geohazard_cli.fields import ALL_FIELDS as ALL_FIELDS
from geohazard_cli.fields import AMOUNT_FIELDS as AMOUNT_FIELDS
from geohazard_cli.fields import COUNT_FIELDS as COUNT_FIELDS
from geohazard_cli.fields import FIELD_LABELS as FIELD_LABELS
from geohazard_cli.fields import FIELDS, Kind
from geohazard_cli.fields import INCIDENT_FIELDS as INCIDENT_FIELDS
from geohazard_cli.fields import TEXT_FIELDS as TEXT_FIELDS
from geohazard_cli.fields import TIME_FIELDS as TIME_FIELDS
from geohazard_cli.nodes import Convert, Node, decimal, list_of, node

# The type a field of each kind holds in the model (what intake.parse_values makes of it).
KIND_TYPES: dict[Kind, Any] = {
    "count": int, "amount": Decimal, "time": datetime, "text": str, "hazard": str, "derived": str,
}
_INCIDENT_DOC = "One geohazard report (§3.2.1). ``None`` means not (yet) reported, never zero."


class Reported(Node):
    """A figure reported as a range or an estimate, as typed (ranges.Reported)."""

    __slots__ = _fields = ("low", "high", "estimate", "text")
    _defaults: ClassVar[dict[str, Any]] = {"estimate": False}
    low: int | Decimal
    high: int | Decimal
    estimate: bool  # 约/左右/余/多
    text: str  # as typed: "80-150", "约300人"


# The type a field of the kind "reported" holds: {field: its range or estimate as typed}.
KIND_TYPES["reported"] = dict[str, Reported]


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _ranges(value: dict[str, Any]) -> dict[str, Reported]:
    """Each entry a Reported; money exact (Decimal) after a JSON round trip too ("4000000" would
    come back an int or text)."""
    out = {}
    for k, r in value.items():
        if not isinstance(r, Reported):
            r = Reported(r)
        if k in AMOUNT_FIELDS and not (isinstance(r.low, Decimal) and isinstance(r.high, Decimal)):
            r = r.model_copy(update={"low": decimal(r.low), "high": decimal(r.high)})
        out[k] = r
    return out


_FROM_PLAIN: dict[Kind, Any] = {"amount": decimal, "time": _time, "reported": _ranges}


_I = TypeVar("_I", bound="_IncidentNode")


class _IncidentNode(Node):
    """``Incident(field=value, ...)``: the fields of ``fields.FIELDS``, each ``None`` when not given.
    Values are taken as intake made them (typed); from the journal's JSON, money, times and ranges
    are read back (``model_validate``). A plain object: no schema to build at start-up."""

    __slots__ = ()
    model_fields: ClassVar[dict[str, Any]] = {}  # the field names, in the table's order

    def __init__(self, **values: Any) -> None:
        unknown = [k for k in values if k not in self.model_fields]
        if unknown:
            raise TypeError(f"Incident: unknown field {unknown[0]!r}")
        super().__init__(values)

    @classmethod
    def model_validate(cls: type[_I], data: Mapping[str, Any]) -> _I:
        """From the journal's JSON (or the fields as typed)."""
        return cls(**data)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """(field, value) pairs, as a pydantic model iterates: ``dict(incident)``."""
        return ((f, getattr(self, f)) for f in self._fields)

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        out = super().model_dump(mode)
        if mode == "json":  # times as pydantic writes them (what the plain path writes too)
            for name in TIME_FIELDS:
                if out.get(name) is not None:
                    out[name] = to_jsonable_python(out[name])
        return out


def _incident_class() -> type[_IncidentNode]:
    """``Incident``, one optional field (default ``None``) per entry of ``fields.FIELDS``, in its order."""
    names = tuple(f.name for f in FIELDS)
    return type("Incident", (_IncidentNode,), {
        "__slots__": names, "_fields": names, "__doc__": _INCIDENT_DOC, "__module__": __name__,
        "_convert": {f.name: _FROM_PLAIN[f.kind] for f in FIELDS if f.kind in _FROM_PLAIN},
        "_defaults": dict.fromkeys(names), "model_fields": dict.fromkeys(names),
    })


def _type_name(t: Any) -> str:
    return t.__name__ if isinstance(t, type) else str(t).replace(f"{__name__}.", "")


def incident_stub() -> str:
    """The ``TYPE_CHECKING`` class below, as generated from the table (tests/test_plain_path.py holds
    the two equal; ``python -m geohazard_cli.models`` prints it to paste after a new field)."""
    lines = ["    class Incident(_IncidentNode):", f'        """{_INCIDENT_DOC}"""', ""]
    lines += [f"        {f.name}: {_type_name(KIND_TYPES[f.kind])} | None  # {f.label}" for f in FIELDS]
    return "\n".join(lines) + "\n"


if TYPE_CHECKING:
    # What type checkers and readers see; at run time the class is built from fields.FIELDS (below).
    # Generated: `python -m geohazard_cli.models` prints it; a test fails when it and the table differ.
    # --- generated from fields.FIELDS ---
    class Incident(_IncidentNode):
        """One geohazard report (§3.2.1). ``None`` means not (yet) reported, never zero."""

        id: str | None  # 编号
        hazard_type: str | None  # 地质灾害类型
        hazard_type_name: str | None  # 地质灾害类型
        location: str | None  # 地点
        reported_at: datetime | None  # 报告时间
        occurred_at: datetime | None  # 发生时间
        scale: str | None  # 规模
        evacuees: int | None  # 需搬迁转移人数
        potential_loss: Decimal | None  # 潜在经济损失
        deaths: int | None  # 死亡人数
        missing: int | None  # 失踪人数
        injured: int | None  # 受伤人数
        direct_loss: Decimal | None  # 直接经济损失
        households: int | None  # 受威胁户数
        threatened: int | None  # 受威胁人数
        cause: str | None  # 引发原因
        trend: str | None  # 发展趋势
        measures_taken: str | None  # 已采取措施
        suggestions: str | None  # 意见建议
        reporter: str | None  # 报告人
        notes: str | None  # 备注
        ranges: dict[str, Reported] | None  # 范围或估计数
    # --- end ---
else:
    Incident = _incident_class()


# --- the assessment: what grading.assess computed, as read-only plain objects (nodes.Node): no
# schema to build at start-up, and nothing to validate (our own code made the data; the plain-path
# tests hold its JSON to what the typed model wrote) ---------------------------------------------


class Bound(Node):
    """A grade's band on one indicator: [from, below), as the plan words it."""

    __slots__ = _fields = ("lower", "upper", "text")
    _convert: ClassVar[Convert] = {"lower": decimal, "upper": decimal}
    lower: Decimal  # "以上": included
    upper: Decimal | None  # "以下": excluded; None = no upper bound
    text: str  # "100人以上、500人以下"


class IndicatorResult(Node):
    __slots__ = _fields = ("indicator", "name", "category", "unit", "reported", "value", "value_text", "grade",
                           "grade_name", "bound", "source", "range")
    _convert: ClassVar[Convert] = {"bound": node(Bound), "range": node(Reported)}
    _defaults: ClassVar[dict[str, Any]] = {"range": None}
    indicator: str  # evacuees, potential_loss, deaths, direct_loss
    name: str  # 需搬迁转移人数...
    category: str  # 险情 / 灾情
    unit: str
    reported: bool
    value: int | Decimal | None
    value_text: str | None  # "140人", "500万元"
    grade: str | None
    grade_name: str | None
    bound: Bound | None
    source: str
    range: Reported | None  # reported as a range or an estimate: its ends as typed


class LeadInfo(Node):
    __slots__ = _fields = ("key", "name", "full_name", "text", "source")
    key: str
    name: str
    full_name: str
    text: str
    source: str


class SkipLevelReport(Node):
    """§3.2.2 越级上报: whether the district may report straight to the province."""

    __slots__ = _fields = ("applies", "reasons", "undetermined", "text", "recipients", "follow_up", "otherwise",
                           "source")
    applies: bool
    reasons: list[str]
    undetermined: list[str]  # casualty figures not reported, which could make it apply
    text: str
    recipients: list[str]
    follow_up: str  # still owed after a skip-level report (e.g. 并完成逐级补报工作), may be ""
    otherwise: str  # the ordinary way when it does not apply
    source: str


class Advisory(Node):
    __slots__ = _fields = ("key", "text", "grade", "grade_name", "source")
    key: str
    text: str
    grade: str
    grade_name: str
    source: str


class GradeRange(Node):
    __slots__ = _fields = ("low", "high")
    low: str  # grade key at the low ends of the figures
    high: str  # grade key at the high ends


class Settle(Node):
    """A bound of 附件2 a reported range straddles: knowing which side the figure is on settles the grade."""

    __slots__ = _fields = ("indicator", "name", "bound", "bound_text", "grade", "grade_name")
    indicator: str
    name: str
    bound: int | Decimal
    bound_text: str  # "500人"
    grade: str  # the grade reaching it gives
    grade_name: str


class Uncertainty(Node):
    __slots__ = _fields = ("text", "prepare", "reason", "source", "callsheet")
    text: list[str]  # "等级在中型至大型之间；按大型准备；…即可定级", "等级按估计数定为…"
    prepare: str  # the profile's policy: high | low
    reason: str
    source: str
    callsheet: str  # the line on top of a call sheet or form


class Assessment(Node):
    """The result of grading one incident under one plan profile (grading.grade)."""

    __slots__ = _fields = ("plan", "plan_title", "grade", "grade_name", "response_level", "response_level_name",
                           "lower_bound", "basis", "deciding", "deciding_text", "not_reported", "lead",
                           "skip_level_report", "advisories", "incident", "grade_range", "prepare_for", "settles",
                           "estimated", "uncertain")
    _convert: ClassVar[Convert] = {"basis": list_of(IndicatorResult), "lead": node(LeadInfo),
                                   "skip_level_report": node(SkipLevelReport), "advisories": list_of(Advisory),
                                   "grade_range": node(GradeRange), "settles": list_of(Settle),
                                   "uncertain": node(Uncertainty)}
    plan: str
    plan_title: str
    grade: str
    grade_name: str
    response_level: str
    response_level_name: str
    lower_bound: bool  # some indicators not reported: the true grade may be higher
    basis: list[IndicatorResult]
    deciding: list[str]
    deciding_text: list[str]
    not_reported: list[str]
    lead: LeadInfo
    skip_level_report: SkipLevelReport
    advisories: list[Advisory]
    incident: Incident
    grade_range: GradeRange  # equal ends when every figure is exact
    prepare_for: str  # the grade to prepare for (the profile's uncertain_figures policy)
    settles: list[Settle]  # bounds a range straddles that would settle the grade
    estimated: list[str]  # figures given as estimates (约300人)
    uncertain: Uncertainty | None  # None when every figure is exact


if __name__ == "__main__":
    print(incident_stub(), end="")
