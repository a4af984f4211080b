"""Models shared by every command: the incident as reported (§3.2.1) and its assessment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, field_validator

# The field tables live in fields.py (free of pydantic, for the start-up path); re-exported here.
from geohazard_cli.fields import ALL_FIELDS as ALL_FIELDS
from geohazard_cli.fields import AMOUNT_FIELDS as AMOUNT_FIELDS
from geohazard_cli.fields import COUNT_FIELDS as COUNT_FIELDS
from geohazard_cli.fields import FIELD_LABELS as FIELD_LABELS
from geohazard_cli.fields import INCIDENT_FIELDS as INCIDENT_FIELDS
from geohazard_cli.fields import TEXT_FIELDS as TEXT_FIELDS
from geohazard_cli.fields import TIME_FIELDS as TIME_FIELDS


class Reported(BaseModel):
    """A figure reported as a range or an estimate, as typed (ranges.Reported)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: int | Decimal
    high: int | Decimal
    estimate: bool = False  # 约/左右/余/多
    text: str  # as typed: "80-150", "约300人"


class Incident(BaseModel):
    """One geohazard report (§3.2.1). ``None`` means not (yet) reported, never zero."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    hazard_type: str | None = None  # key from the profile's hazard_types (§1.3)
    hazard_type_name: str | None = None  # 崩塌, 滑坡...
    location: str | None = None  # 地点
    reported_at: datetime | None = None  # 报告时间 (aware; +08:00 when typed without offset)
    occurred_at: datetime | None = None  # 发生时间
    scale: str | None = None  # 规模
    evacuees: int | None = None  # 需搬迁转移人数
    potential_loss: Decimal | None = None  # 潜在经济损失, yuan
    deaths: int | None = None  # 死亡人数
    missing: int | None = None  # 失踪人数
    injured: int | None = None  # 受伤人数
    direct_loss: Decimal | None = None  # 直接经济损失, yuan
    households: int | None = None  # 受威胁户数
    threatened: int | None = None  # 受威胁人数
    cause: str | None = None  # 引发原因
    trend: str | None = None  # 发展趋势
    measures_taken: str | None = None  # 已采取措施
    suggestions: str | None = None  # 意见建议
    reporter: str | None = None  # 报告人
    notes: str | None = None  # 备注
    ranges: dict[str, Reported] | None = None  # figures reported as a range or an estimate

    @field_validator("ranges", mode="after")
    @classmethod
    def _money_exact(cls, value: dict[str, Reported] | None) -> dict[str, Reported] | None:
        # Money is Decimal after a JSON round trip too ("4000000" would otherwise come back an int).
        if value is None:
            return None
        return {k: r.model_copy(update={"low": Decimal(r.low), "high": Decimal(r.high)})
                if k in AMOUNT_FIELDS else r for k, r in value.items()}


class Bound(BaseModel):
    """A grade's band on one indicator: [from, below), as the plan words it."""

    lower: Decimal  # "以上": included
    upper: Decimal | None  # "以下": excluded; None = no upper bound
    text: str  # "100人以上、500人以下"


class IndicatorResult(BaseModel):
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
    range: Reported | None = None  # reported as a range or an estimate: its ends as typed


class LeadInfo(BaseModel):
    key: str
    name: str
    full_name: str
    text: str
    source: str


class SkipLevelReport(BaseModel):
    """§3.2.2 越级上报: whether the district may report straight to the province."""

    applies: bool
    reasons: list[str]
    undetermined: list[str]  # casualty figures not reported, which could make it apply
    text: str
    recipients: list[str]
    follow_up: str  # still owed after a skip-level report (e.g. 并完成逐级补报工作), may be ""
    otherwise: str  # the ordinary way when it does not apply
    source: str


class Advisory(BaseModel):
    key: str
    text: str
    grade: str
    grade_name: str
    source: str


class GradeRange(BaseModel):
    low: str  # grade key at the low ends of the figures
    high: str  # grade key at the high ends


class Settle(BaseModel):
    """A bound of 附件2 a reported range straddles: knowing which side the figure is on settles the grade."""

    indicator: str
    name: str
    bound: int | Decimal
    bound_text: str  # "500人"
    grade: str  # the grade reaching it gives
    grade_name: str


class Uncertainty(BaseModel):
    text: list[str]  # "等级在中型至大型之间；按大型准备；…即可定级", "等级按估计数定为…"
    prepare: str  # the profile's policy: high | low
    reason: str
    source: str
    callsheet: str  # the line on top of a call sheet or form


class Assessment(BaseModel):
    """The result of grading one incident under one plan profile."""

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
