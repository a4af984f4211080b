"""`geohazard warning LEVEL`: what a geohazard weather risk warning starts (§3.1.4, §6.3), who to
call, and the CAP 1.2 alert for it."""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, PlanOpt, RulesOpt

if TYPE_CHECKING:
    from geohazard_cli.warning import Lookup, WarningResponse


class WarningFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"
    cap = "cap"


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("warning")(warning)


def warning(
    level: Annotated[str, typer.Argument(
        metavar="LEVEL", help="Warning colour: blue|yellow|orange|red, 蓝色|黄色|橙色|红色 or 蓝|黄|橙|红.",
        show_default=False)],
    area: Annotated[list[str] | None, typer.Option(
        "--area", help="A 街道办事处 or place the warning covers (repeat for each).", show_default=False)] = None,
    format: Annotated[WarningFormat, typer.Option("--format", "-f", help="Output format.")] = WarningFormat.text,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of stdout.", show_default=False)] = None,
    exercise: Annotated[bool, typer.Option(
        "--exercise", help="A drill: CAP status Exercise, and the sheet is marked 演练.")] = False,
    update: Annotated[str | None, typer.Option(
        "--update", metavar="REF", help="CAP Update of an earlier alert: its CAP file, or sender,identifier,sent.",
        show_default=False)] = None,
    cancel: Annotated[str | None, typer.Option(
        "--cancel", metavar="REF", help="CAP Cancel of an earlier alert: its CAP file, or sender,identifier,sent.",
        show_default=False)] = None,
    identifier: Annotated[str | None, typer.Option(
        "--identifier", help="CAP identifier (default: a new uuid-based one).", show_default=False)] = None,
    sent: Annotated[str | None, typer.Option(
        "--sent", help="Issue time, ISO 8601 or '2026-07-21 08:30' (no offset = +08:00; default: now).",
        show_default=False)] = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Respond to a geohazard weather risk warning (§3.1.4, §6.3): measures, call list, CAP alert.

    Yellow and above start the warning-period response (叫应 the office and the affected 街道办事处,
    patrols, double control; red adds 集结待命 and evacuation). Blue lists the routine duties.

    Example: geohazard warning red --area 七里山街道 --format html -o warning.html
    """
    from datetime import datetime

    from geohazard_cli import warning as core
    from geohazard_cli.cli._common import load_config
    from geohazard_cli.config import rules_path
    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import parse_time
    from geohazard_cli.loader import read_text

    cfg, profile = load_config(config_dir, plan, rules)
    path = rules_path(plan, rules, cfg)
    section = core.load_section(profile, str(path), read_text(path))
    colour = core.parse_colour(level, section)
    areas = core.parse_areas(area or [])

    if update is not None and cancel is not None:
        raise InputError("--update and --cancel: give one, not both")
    if format is not WarningFormat.cap:
        for flag, value in (("--update", update), ("--cancel", cancel), ("--identifier", identifier)):
            if value is not None:
                raise InputError(f"{flag}: only with --format cap")
    moment = parse_time(sent, "--sent", profile.timezone) if sent is not None else datetime.now().astimezone()
    sent_text = core.cap_time(moment, profile.timezone)

    response = core.respond(profile, section, colour, areas, _lookup(cfg))

    if format is WarningFormat.json:
        from geohazard_cli.cli._common import emit_json

        data = core.as_json(response)
        data["sent"] = sent_text
        data["exercise"] = exercise
        if output is None:
            emit_json(data)
        else:
            import orjson

            from geohazard_cli.cli._common import write_output

            write_output(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n", output)
        return 0
    if format is WarningFormat.cap:
        import uuid

        from geohazard_cli.cli._common import write_output

        ident = core.check_identifier(identifier) if identifier is not None else (
            f"{section.cap.identifier_prefix}{uuid.uuid4()}")
        msg_type: core.MsgType = "Alert"
        refs = []
        for flag, value, kind in (("--update", update, "Update"), ("--cancel", cancel, "Cancel")):
            if value is not None:
                refs.append(_reference(value, flag))
                msg_type = "Update" if kind == "Update" else "Cancel"
        xml = core.build_cap(response, section, profile.geocode, identifier=ident, sent=sent_text,
                             exercise=exercise, msg_type=msg_type, references=refs)
        write_output(xml, output)
        return 0
    if format is WarningFormat.text and output is None:
        print_warning(response, sent_text, exercise)
        return 0
    from geohazard_cli.cli._common import write_output
    from geohazard_cli.config import templates_dir
    from geohazard_cli.render import render

    text = render(templates_dir(cfg), "warning", format.value, w=response, sent=sent_text, exercise=exercise)
    write_output(text, output)
    return 0


def _reference(value: str, flag: str) -> Any:
    """REF: ``sender,identifier,sent`` when it has commas, else the earlier alert's CAP file."""
    from geohazard_cli import warning as core

    if "," in value:
        return core.parse_reference(value, flag)
    from geohazard_cli.errors import InputError
    from geohazard_cli.loader import read_text

    return core.reference_from_xml(read_text(Path(value), InputError), value, flag)


def _lookup(cfg: Path) -> "Lookup":
    """The roster's unit lookup (names and numbers from contacts.yaml, 附件3)."""
    from geohazard_cli.roster import load_roster

    return load_roster(cfg).unit


def print_warning(w: "WarningResponse", sent: str, exercise: bool) -> None:
    """The Chinese panel for a terminal (plain text when piped or NO_COLOR)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from geohazard_cli.cli._common import console

    style = {"blue": "bold blue", "yellow": "bold yellow", "orange": "bold dark_orange", "red": "bold red"}
    lines: list[Any] = []
    if exercise:
        lines.append(Text("【演练 EXERCISE】非真实预警", style="bold reverse"))
    head = Text()
    head.append(f"{w.level_name}{w.event}", style=style.get(w.level, "bold"))
    head.append(f"   发布: {w.issuer}   时间: {sent}   范围: {w.areas_text()}")
    lines.append(head)
    a = w.activation
    if w.active:
        lines.append(Text(f"{a.name}: 启动({a.text},{a.source})", style="bold"))
        lines.append(Text(""))
        lines.append(Text("应采取的措施", style="bold"))
        for n, m in enumerate(w.measures, start=1):
            lines.append(Text(f"{n}.{m.text}({m.source})"))
            for i, item in enumerate(m.items, start=1):
                lines.append(Text(f"   ({i}){item}"))
    else:
        lines.append(Text(f"{a.name}: 未启动(启动条件: {a.text},{a.source})", style="bold"))
        lines.append(Text(""))
        lines.append(Text("日常预防预警工作(仍适用)", style="bold"))
        for n, duty in enumerate(w.routine, start=1):
            lines.append(Text(f"{n}.{duty.text}({duty.source})"))
        for note in w.notes:
            lines.append(Text(f"注意:{note.text}({note.source})", style="yellow"))
    lines.append(Text(""))
    if w.contacts:
        lines.append(Text("叫应名单", style="bold"))
        for c in w.contacts:
            row = Text(f"{c.order}.{c.unit}  ")
            row.append(c.dial or c.phone or "无号码", style="bold" if (c.dial or c.phone) else "bold red")
            if c.note:
                row.append(f"({c.note})", style="dim")
            lines.append(row)
            lines.append(Text("   事由:" + ";".join(f"{r.text}({r.source})" for r in c.reasons)))
            for d in c.duties:
                lines.append(Text(f"   职责:{d.text}({d.source})"))
            lines.append(Text("   叫应时间:＿＿＿＿  应答人:＿＿＿＿  回应时间:＿＿＿＿", style="dim"))
    else:
        lines.append(Text(f"叫应名单: 无(未启动{a.name})"))
    if w.end:
        lines.append(Text(f"响应终止: {w.end.text}({w.end.source})"))
    console().print(Panel(Group(*lines), title=f"地质灾害气象风险预警 · {w.plan_title}", title_align="left"))
