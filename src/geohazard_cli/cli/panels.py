"""Rendering shared by commands: the assessment panel of classify, incident open and show."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from geohazard_cli.models import Assessment


def _local(when: "datetime | None", tz: str) -> str | None:
    """A time as the officer reads it: in the plan's zone (Beijing), '2026-07-21 09:40'."""
    if when is None:
        return None
    from geohazard_cli.timeutil import local_text

    return local_text(when, tz)


def print_assessment(assessment: "Assessment | dict[str, Any]", tz: str = "+08:00") -> None:
    """The compact Chinese panel for a terminal (plain text when piped or NO_COLOR).

    Takes an Assessment or the same data as a dict (grading.assess)."""
    from geohazard_cli.cli.term import Cell, Column, Term
    from geohazard_cli.fields import FIELD_LABELS

    a = assessment if isinstance(assessment, dict) else assessment.model_dump()
    out = Term()
    inc = a["incident"]
    title = f"地质灾害分级 · {a['plan_title']}" + (f" · 编号 {inc['id']}" if inc["id"] else "")
    head = [(a["grade_name"], "bold reverse"), *((("(至少)", "bold"),) if a["lower_bound"] else ()),
            ("  →  ", ""), (a["response_level_name"], "bold"), (f"   牵头: {a['lead']['name']}", "")]

    facts = [
        f"{FIELD_LABELS[k]}: {v}"
        for k, v in (
            ("hazard_type", inc["hazard_type_name"]),
            ("location", inc["location"]),
            ("reported_at", _local(inc["reported_at"], tz)),
            ("occurred_at", _local(inc["occurred_at"], tz)),
            ("missing", inc["missing"]),
            ("injured", inc["injured"]),
            ("households", inc["households"]),
        )
        if v is not None
    ]

    # Cells are never cut: a figure or bound cut short is a figure misread; the clause column folds.
    columns = [Column("指标"), Column("数值", right=True), Column("本项等级"), Column("区间"),
               Column("条款", fold=True)]
    rows: list[tuple[list[Cell], str]] = []
    for b in a["basis"]:
        if b["reported"]:
            mark = "◀" if b["indicator"] in a["deciding"] else ""
            rows.append(([b["name"], b["value_text"], f"{b['grade_name']}{mark}",
                          b["bound"]["text"] if b["bound"] else "", b["source"]], ""))
        else:
            rows.append(([b["name"], "未报告", "—", "", b["source"]], "dim"))

    def prose(text: str, style: str = "") -> None:
        # Chinese prose: no stray ASCII space (as in "死亡人数 1人") to part a figure from its unit.
        out.print(text.replace(" — ", "—").replace(" ", ""), style)

    out.rule(title)
    out.line(head)
    uncertain = a.get("uncertain")
    if uncertain:  # figures reported as a range or an estimate: what to prepare for, and why
        for said in uncertain["text"]:
            out.print(said, "bold")
        out.print(f"依据:{uncertain['reason']}({uncertain['source']})")
    if facts:
        out.print("  ".join(facts))
    out.print()
    for text in a["deciding_text"]:
        prose(f"决定等级: {text}")
    out.table(columns, rows)
    out.print()
    if a["not_reported"]:
        names = "、".join(FIELD_LABELS[k] for k in a["not_reported"])
        if a["lower_bound"]:
            prose(f"未报告: {names}。等级按已报数字定为下限(至少{a['grade_name']}),补报后可能升级。", "bold")
        else:
            prose(f"未报告: {names}(已达最高等级,不影响定级)。")
    lead = a["lead"]
    prose(f"指挥: {lead['full_name']} — {lead['text']}({lead['source']})")
    sk = a["skip_level_report"]
    to = "、".join(sk["recipients"])
    follow = f",{sk['follow_up']}" if sk["follow_up"] else ""
    if sk["applies"]:
        prose(f"越级上报: 适用 — {';'.join(sk['reasons'])}。可越级上报{to}{follow}({sk['source']})", "bold")
    elif sk["undetermined"]:
        unknown = "、".join(FIELD_LABELS[k] for k in sk["undetermined"])
        prose(f"越级上报: 尚不能确定 — {unknown}未报告或待核实,达到条件即可越级上报{to};"
              f"目前{sk['otherwise']}({sk['source']})", "bold")
    else:
        prose(f"越级上报: 不适用 — {sk['otherwise']}({sk['source']})")
    for adv in a["advisories"]:
        prose(f"提示: {adv['text']}({adv['source']})", "yellow")
    out.rule()
