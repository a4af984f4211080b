"""The incident's fields, defined once: ``FIELDS``. Everything else here is derived from it.

Each field's name is its ``--file`` key, its batch CSV header and its JSON key; its flag is the name
with dashes (``--direct-loss``), with the help text here. Kept apart from models.py (and free of
pydantic) so the start-up path of ``classify`` can parse and grade figures without defining the
pydantic models; models.py re-exports every name. How to add a field: docs/fields.md.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Kind = Literal["count", "amount", "time", "text", "hazard", "derived"]


class Field(NamedTuple):
    name: str  # snake_case: --file key, CSV header, JSON key; the flag is --name-with-dashes
    label: str  # the plan's term (§3.2.1), in messages, panels and forms
    kind: Kind  # how intake.py parses it; "derived" is filled by intake, never given
    help: str  # the flag's help text
    sheet: int = 0  # its place among the facts on the call sheet (1 first); 0: not shown there


# models.Incident is built from this table, in its order (the order of the JSON output).
FIELDS: tuple[Field, ...] = (
    Field("id", "编号", "text", "An identifier echoed in the output."),
    Field("hazard_type", "地质灾害类型", "hazard",
          "灾害类型: as the profile's hazard_types name it (district plan §1.3: 崩塌 滑坡 泥石流 地面塌陷 地裂缝, "
          "or collapse, landslide, ...).", sheet=1),
    Field("hazard_type_name", "地质灾害类型", "derived", ""),
    Field("location", "地点", "text", "地点: where.", sheet=2),
    Field("reported_at", "报告时间", "time", "报告时间: ISO 8601, '2026-07-21 09:40', 2026年7月21日9时40分, "
          "'7月21日 9:40' (this year) or 09:40 (today); no offset = +08:00.", sheet=4),
    Field("occurred_at", "发生时间", "time", "发生时间: when it happened.", sheet=3),
    Field("scale", "规模", "text", "规模: scale of the hazard body, as text.", sheet=5),
    Field("evacuees", "需搬迁转移人数", "count", "需搬迁转移人数: people to evacuate (险情).", sheet=6),
    Field("potential_loss", "潜在经济损失", "amount", "潜在经济损失: potential loss (险情); yuan, or 500万 / 1.2亿.",
          sheet=7),
    Field("deaths", "死亡人数", "count", "死亡人数: deaths (灾情).", sheet=8),
    Field("missing", "失踪人数", "count",
          "失踪人数: missing (not graded; an advisory says if it would raise the grade).", sheet=9),
    Field("injured", "受伤人数", "count", "受伤人数: injured.", sheet=10),
    Field("direct_loss", "直接经济损失", "amount", "直接经济损失: direct loss (灾情); yuan, or 500万 / 1.2亿.",
          sheet=11),
    Field("households", "受威胁户数", "count", "受威胁户数: households threatened.", sheet=12),
    Field("threatened", "受威胁人数", "count", "受威胁人数: people threatened.", sheet=13),
    Field("cause", "引发原因", "text", "引发原因: cause."),
    Field("trend", "发展趋势", "text", "发展趋势: trend."),
    Field("measures_taken", "已采取措施", "text", "已采取措施: measures taken."),
    Field("suggestions", "意见建议", "text", "意见建议: suggestions."),
    Field("reporter", "报告人", "text", "报告人: who reported it."),
    Field("notes", "备注", "text", "备注: notes."),
)


def _of(kind: Kind) -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.kind == kind)


# The facts a call sheet shows, in their order there (documents.callsheet_context).
SHEET_FACTS = tuple(f.name for f in sorted((f for f in FIELDS if f.sheet), key=lambda f: f.sheet))

# Incident fields by kind: the parser (intake.py) and every input path use these.
COUNT_FIELDS = _of("count")
AMOUNT_FIELDS = _of("amount")
TEXT_FIELDS = _of("text")
TIME_FIELDS = _of("time")
# What may be given (flags, --file keys, CSV headers), in the order messages list them.
ALL_FIELDS = (*_of("hazard"), *COUNT_FIELDS, *AMOUNT_FIELDS, *TIME_FIELDS, *TEXT_FIELDS)

# Chinese labels of the fields that can be given, in model order (messages and forms).
FIELD_LABELS = {f.name: f.label for f in FIELDS if f.kind != "derived"}

# Every field of ``models.Incident``, in its order (the order of the JSON output).
INCIDENT_FIELDS = tuple(f.name for f in FIELDS)

# The incident flags in the order --help lists them: the graded figures and casualties first.
FLAG_FIELDS = tuple(sorted((f for f in FIELDS if f.kind != "derived"), key=lambda f: f.kind not in ("count", "amount")))


def flag(name: str) -> str:
    """The command-line flag of a field: ``direct_loss`` -> ``--direct-loss``."""
    return "--" + name.replace("_", "-")
