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
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    from geohazard_cli.cli._common import console
    from geohazard_cli.fields import FIELD_LABELS

    a = assessment if isinstance(assessment, dict) else assessment.model_dump()
    out = console()
    inc = a["incident"]
    title = f"地质灾害分级 · {a['plan_title']}" + (f" · 编号 {inc['id']}" if inc["id"] else "")
    head = Text()
    head.append(f"{a['grade_name']}", style="bold reverse")
    if a["lower_bound"]:
        head.append("(至少)", style="bold")
    head.append("  →  ")
    head.append(a["response_level_name"], style="bold")
    head.append(f"   牵头: {a['lead']['name']}")

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

    # Cells fold rather than truncate: a figure or bound cut short is a figure misread. Every cell and
    # title is a Text, never markup: an id like "[/x]" is shown as typed (and rich need not parse it).
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column(Text("指标"), no_wrap=True)
    table.add_column(Text("数值"), justify="right", no_wrap=True)
    table.add_column(Text("本项等级"), no_wrap=True)
    table.add_column(Text("区间"), no_wrap=True)
    table.add_column(Text("条款"), overflow="fold")
    for b in a["basis"]:
        if b["reported"]:
            mark = "◀" if b["indicator"] in a["deciding"] else ""
            cells = (b["name"], b["value_text"], f"{b['grade_name']}{mark}", b["bound"]["text"] if b["bound"] else "",
                     b["source"])
            table.add_row(*map(Text, cells))
        else:
            table.add_row(*map(Text, (b["name"], "未报告", "—", "", b["source"])), style="dim")

    lines: list[Any] = [Rule(Text(title, style="rule.text"), align="left"), head]
    uncertain = a.get("uncertain")
    if uncertain:  # figures reported as a range or an estimate: what to prepare for, and why
        for said in uncertain["text"]:
            lines.append(Text(said, style="bold"))
        lines.append(Text(f"依据:{uncertain['reason']}({uncertain['source']})"))
    if facts:
        lines.append(Text("  ".join(facts)))
    prose_from = len(lines)
    lines.append(Text(""))
    for text in a["deciding_text"]:
        lines.append(Text(f"决定等级: {text}"))
    lines.append(table)
    lines.append(Text(""))
    if a["not_reported"]:
        names = "、".join(FIELD_LABELS[k] for k in a["not_reported"])
        if a["lower_bound"]:
            lines.append(Text(f"未报告: {names}。等级按已报数字定为下限(至少{a['grade_name']}),补报后可能升级。",
                              style="bold"))
        else:
            lines.append(Text(f"未报告: {names}(已达最高等级,不影响定级)。"))
    lead = a["lead"]
    lines.append(Text(f"指挥: {lead['full_name']} — {lead['text']}({lead['source']})"))
    sk = a["skip_level_report"]
    to = "、".join(sk["recipients"])
    follow = f",{sk['follow_up']}" if sk["follow_up"] else ""
    if sk["applies"]:
        lines.append(Text(f"越级上报: 适用 — {';'.join(sk['reasons'])}。可越级上报{to}{follow}({sk['source']})",
                          style="bold"))
    elif sk["undetermined"]:
        unknown = "、".join(FIELD_LABELS[k] for k in sk["undetermined"])
        lines.append(Text(f"越级上报: 尚不能确定 — {unknown}未报告或待核实,达到条件即可越级上报{to};"
                          f"目前{sk['otherwise']}({sk['source']})", style="bold"))
    else:
        lines.append(Text(f"越级上报: 不适用 — {sk['otherwise']}({sk['source']})"))
    for adv in a["advisories"]:
        lines.append(Text(f"提示: {adv['text']}({adv['source']})", style="yellow"))

    for i, line in enumerate(lines):
        if i >= prose_from and isinstance(line, Text):
            # Chinese prose folds at the width; a stray ASCII space (as in "死亡人数 1人") would be
            # taken as the only break point and strand the figure on the next line.
            line.plain = line.plain.replace(" — ", "—").replace(" ", "")
        out.print(line)
    out.print(Rule(style="dim"))
