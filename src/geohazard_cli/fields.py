"""The incident's fields as plain tables: which are counts, amounts, times, text, and their labels.

Kept apart from models.py (and free of pydantic) so the start-up path of ``classify`` can parse and
grade figures without defining the pydantic models; models.py re-exports every name.
"""

from __future__ import annotations

# Incident fields by kind. The parser (intake.py) and every input path use these tables, so a new
# field is added here once (and on models.Incident).
COUNT_FIELDS = ("evacuees", "deaths", "missing", "injured", "households", "threatened")
AMOUNT_FIELDS = ("potential_loss", "direct_loss")
TEXT_FIELDS = (
    "id", "location", "scale", "cause", "trend", "measures_taken", "suggestions", "reporter", "notes",
)
TIME_FIELDS = ("reported_at", "occurred_at")
ALL_FIELDS = ("hazard_type", *COUNT_FIELDS, *AMOUNT_FIELDS, *TIME_FIELDS, *TEXT_FIELDS)

# Chinese labels for fields, as §3.2.1 words them (used in messages and forms).
FIELD_LABELS = {
    "id": "编号",
    "hazard_type": "地质灾害类型",
    "location": "地点",
    "reported_at": "报告时间",
    "occurred_at": "发生时间",
    "scale": "规模",
    "evacuees": "需搬迁转移人数",
    "potential_loss": "潜在经济损失",
    "deaths": "死亡人数",
    "missing": "失踪人数",
    "injured": "受伤人数",
    "direct_loss": "直接经济损失",
    "households": "受威胁户数",
    "threatened": "受威胁人数",
    "cause": "引发原因",
    "trend": "发展趋势",
    "measures_taken": "已采取措施",
    "suggestions": "意见建议",
    "reporter": "报告人",
    "notes": "备注",
}

# Every field of ``models.Incident``, in its order (the order of the JSON output; a test keeps the two
# in step).
INCIDENT_FIELDS = (
    "id", "hazard_type", "hazard_type_name", "location", "reported_at", "occurred_at", "scale", "evacuees",
    "potential_loss", "deaths", "missing", "injured", "direct_loss", "households", "threatened", "cause",
    "trend", "measures_taken", "suggestions", "reporter", "notes",
)
