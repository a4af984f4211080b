"""Models shared by every command: the incident as reported (§3.2.1) and its assessment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, create_model

# The field tables live in fields.py (free of pydantic, for the start-up path); re-exported here.
from geohazard_cli.fields import ALL_FIELDS as ALL_FIELDS
from geohazard_cli.fields import AMOUNT_FIELDS as AMOUNT_FIELDS
from geohazard_cli.fields import COUNT_FIELDS as COUNT_FIELDS
from geohazard_cli.fields import FIELD_LABELS as FIELD_LABELS
from geohazard_cli.fields import FIELDS, Kind
from geohazard_cli.fields import INCIDENT_FIELDS as INCIDENT_FIELDS
from geohazard_cli.fields import TEXT_FIELDS as TEXT_FIELDS
from geohazard_cli.fields import TIME_FIELDS as TIME_FIELDS

# The type a field of each kind holds in the model (what intake.parse_values makes of it).
KIND_TYPES: dict[Kind, type] = {
    "count": int, "amount": Decimal, "time": datetime, "text": str, "hazard": str, "derived": str,
}
_INCIDENT_CONFIG = ConfigDict(extra="forbid", frozen=True)
_INCIDENT_DOC = "One geohazard report (§3.2.1). ``None`` means not (yet) reported, never zero."


def _incident_model() -> type[BaseModel]:
    """``Incident``, one optional field (default ``None``) per entry of ``fields.FIELDS``, in its order."""
    spec: dict[str, Any] = {f.name: (KIND_TYPES[f.kind] | None, None) for f in FIELDS}
    return create_model("Incident", __config__=_INCIDENT_CONFIG, __doc__=_INCIDENT_DOC,
                        __module__=__name__, **spec)


def incident_stub() -> str:
    """The ``TYPE_CHECKING`` class below, as generated from the table (tests/test_plain_path.py holds
    the two equal; ``python -m geohazard_cli.models`` prints it to paste after a new field)."""
    lines = ["    class Incident(BaseModel):", f'        """{_INCIDENT_DOC}"""', "",
             '        model_config = ConfigDict(extra="forbid", frozen=True)', ""]
    lines += [f"        {f.name}: {KIND_TYPES[f.kind].__name__} | None = None  # {f.label}" for f in FIELDS]
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
    # --- end ---
else:
    Incident = _incident_model()


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


if __name__ == "__main__":
    print(incident_stub(), end="")
