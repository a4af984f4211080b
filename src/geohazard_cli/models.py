"""Models shared by every command: the incident as reported (§3.2.1) and its assessment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, create_model, field_validator

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
_INCIDENT_CONFIG = ConfigDict(extra="forbid", frozen=True)
_INCIDENT_DOC = "One geohazard report (§3.2.1). ``None`` means not (yet) reported, never zero."


class Reported(BaseModel):
    """A figure reported as a range or an estimate, as typed (ranges.Reported)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: int | Decimal
    high: int | Decimal
    estimate: bool = False  # 约/左右/余/多
    text: str  # as typed: "80-150", "约300人"


# The type a field of the kind "reported" holds: {field: its range or estimate as typed}.
KIND_TYPES["reported"] = dict[str, Reported]


def _money_exact(cls: Any, value: dict[str, Reported] | None) -> dict[str, Reported] | None:
    """Money in ``ranges`` is Decimal after a JSON round trip too ("4000000" would come back an int)."""
    if value is None:
        return None
    return {k: r.model_copy(update={"low": Decimal(r.low), "high": Decimal(r.high)})
            if k in AMOUNT_FIELDS else r for k, r in value.items()}


def _incident_model() -> type[BaseModel]:
    """``Incident``, one optional field (default ``None``) per entry of ``fields.FIELDS``, in its order."""
    spec: dict[str, Any] = {f.name: (KIND_TYPES[f.kind] | None, None) for f in FIELDS}
    validators = {"_money_exact": field_validator("ranges", mode="after")(_money_exact)} if "ranges" in spec else {}
    return create_model("Incident", __config__=_INCIDENT_CONFIG, __doc__=_INCIDENT_DOC,
                        __module__=__name__, __validators__=validators, **spec)


def _type_name(t: Any) -> str:
    return t.__name__ if isinstance(t, type) else str(t).replace(f"{__name__}.", "")


def incident_stub() -> str:
    """The ``TYPE_CHECKING`` class below, as generated from the table (tests/test_plain_path.py holds
    the two equal; ``python -m geohazard_cli.models`` prints it to paste after a new field)."""
    lines = ["    class Incident(BaseModel):", f'        """{_INCIDENT_DOC}"""', "",
             '        model_config = ConfigDict(extra="forbid", frozen=True)', ""]
    lines += [f"        {f.name}: {_type_name(KIND_TYPES[f.kind])} | None = None  # {f.label}" for f in FIELDS]
    return "\n".join(lines) + "\n"


if TYPE_CHECKING:
    # What type checkers and readers see; at run time the class is built from fields.FIELDS (below).
    # Generated: `python -m geohazard_cli.models` prints it; a test fails when it and the table differ.
    # --- generated from fields.FIELDS ---
    class Incident(BaseModel):
        """One geohazard report (§3.2.1). ``None`` means not (yet) reported, never zero."""

        model_config = ConfigDict(extra="forbid", frozen=True)

        id: str | None = None  # 编号
        hazard_type: str | None = None  # 地质灾害类型
        hazard_type_name: str | None = None  # 地质灾害类型
        location: str | None = None  # 地点
        reported_at: datetime | None = None  # 报告时间
        occurred_at: datetime | None = None  # 发生时间
        scale: str | None = None  # 规模
        evacuees: int | None = None  # 需搬迁转移人数
        potential_loss: Decimal | None = None  # 潜在经济损失
        deaths: int | None = None  # 死亡人数
        missing: int | None = None  # 失踪人数
        injured: int | None = None  # 受伤人数
        direct_loss: Decimal | None = None  # 直接经济损失
        households: int | None = None  # 受威胁户数
        threatened: int | None = None  # 受威胁人数
        cause: str | None = None  # 引发原因
        trend: str | None = None  # 发展趋势
        measures_taken: str | None = None  # 已采取措施
        suggestions: str | None = None  # 意见建议
        reporter: str | None = None  # 报告人
        notes: str | None = None  # 备注
        ranges: dict[str, Reported] | None = None  # 范围或估计数
    # --- end ---
else:
    Incident = _incident_model()


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


class Range(Node):
    """A figure reported as a range or an estimate, its ends as typed (Incident.ranges' entry)."""

    __slots__ = _fields = ("low", "high", "estimate", "text")
    _defaults: ClassVar[dict[str, Any]] = {"estimate": False}
    low: int | Decimal
    high: int | Decimal
    estimate: bool  # 约/左右/余/多
    text: str  # as typed: "80-150", "约300人"


class IndicatorResult(Node):
    __slots__ = _fields = ("indicator", "name", "category", "unit", "reported", "value", "value_text", "grade",
                           "grade_name", "bound", "source", "range")
    _convert: ClassVar[Convert] = {"bound": node(Bound), "range": node(Range)}
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
    range: Range | None  # reported as a range or an estimate: its ends as typed


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
