"""`geohazard incident show|list|export`: reading responses (the journal is opened read-only)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geohazard_cli.cli._common import ConfigDirOpt, TextJson, command_app
from geohazard_cli.cli.incident_common import (
    DbOpt,
    ExportFormat,
    FormatOpt,
    IdArg,
    RulesForIncidentOpt,
    ack_status,
    hm,
    journal_for,
    level_line,
    mark,
    noun,
    print_call_list,
    print_history,
    print_journal_assessment,
    print_pending,
    profile_or_notice,
    read_response,
    record_json,
    ref_text,
    say_set_aside,
    tz_text,
    when_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from geohazard_cli.lifecycle import State

app = command_app()


@app.command("show")
def show(
    ref: IdArg,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    rules: RulesForIncidentOpt = None,
) -> int:
    """Show an incident: figures, current assessment, call list, units not yet answered, and the timeline."""
    from geohazard_cli.clauses import first_measures
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.grading import grade
    from geohazard_cli.journal import event_json
    from geohazard_cli.lifecycle import acknowledged
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import incident_of
    from geohazard_cli.summary import recorded_assessment

    record, events = read_response(db, ref)
    profile, notice = profile_or_notice(record, resolve_dir(config_dir), rules)
    assessment = grade(incident_of(record), profile) if profile is not None and record.response == "incident" \
        else None
    recorded = recorded_assessment(events)
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**record_json(record), "incident": record.incident,
                   "warning": record.warning,
                   "plan_available": profile is not None, "notice": notice,
                   "assessment": assessment.model_dump(mode="json") if assessment is not None else None,
                   "first_measures": first_measures(profile) if profile is not None and record.response == "incident"
                   else None,
                   "recorded_assessment": recorded, "call_list": record.call_list,
                   "round_started_at": record.round_at.isoformat() if record.round_at else None,
                   "pending": pending, "acknowledged": acknowledged(record),
                   "history": [event_json(e) for e in events]})
        return 0
    from geohazard_cli.cli.term import Term

    out = Term()
    status = "处置中"
    if record.closed_at is not None:
        status = f"已终止({hm(record.closed_at)}:{record.close_reason})"
    out.print(f"{mark(record)}{noun(record)} #{record.id} · {status} · 立案 {hm(record.opened_at)} · "
              f"更新 {hm(record.updated_at)}{ref_text(record)}", style="bold")
    if record.linked_warning:
        out.print(f"关联预警响应 #{record.linked_warning}(接报时其街道的预警期应急响应)")
    if record.response == "warning":
        w = record.warning or {}
        out.print(f"{w.get('level_name')}{w.get('event') or ''}({'、'.join(w.get('areas') or [])})"
                  + (f" · {w['period']}" if w.get("active") and w.get("period") else ""), style="bold")
        title = "当前叫应名单"
    elif assessment is not None:
        if record.proposed:  # the level in force first: the panel below grades the latest figures, a proposal
            out.print(f"现行 {record.response_level_name} · 以下分级为据最新数字的建议,尚未决定", style="bold yellow")
        print_journal_assessment(assessment)
        out.print(level_line(record, profile), style="bold yellow" if record.proposed else "bold")
        title = "当前叫应名单"
    else:
        from geohazard_cli.responses import recorded_figures

        out.print(f"注意: {notice}", style="yellow", wrap=False)
        for f in recorded_figures(record, events):
            out.print(f"{f['label']}: {f['text']}", wrap=False)
        if recorded is not None:
            bound = "(至少)" if recorded.get("lower_bound") else ""
            out.print(f"等级(记录): {recorded['grade_name']}{bound} → {recorded['response_level_name']}",
                      style="bold")
            for line in recorded.get("deciding_text") or []:
                out.print(f"决定等级: {line}", wrap=False)
        title = "叫应名单(记录)"
    print_call_list(record.call_list, title, ack_status(record, events))
    if record.status == "open":
        print_pending(pending, record)
    print_history(events)
    return 0


@app.command("list")
def list_(
    open_: Annotated[bool, typer.Option("--open", help="Incidents still being handled (default).")] = False,
    closed: Annotated[bool, typer.Option("--closed", help="Incidents whose response has ended.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Every incident.")] = False,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
) -> int:
    """List incidents, one row each (exercises marked 演练; a figure reported as a range or an
    estimate shown as typed, with the grades it spans)."""
    from geohazard_cli.board import reported, reported_text
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import InputError
    from geohazard_cli.responses import listing

    if open_ + closed + all_ > 1:
        raise InputError("--open, --closed, --all: give at most one")
    status = None if all_ else "closed" if closed else "open"
    j = journal_for(db, create=False, readonly=True)
    records: list[State] = []
    if j is not None:
        try:
            records = listing(j, status)
        finally:
            j.close()
        say_set_aside(j)
    names = _grade_names(records, config_dir)
    spans = {r.id: reported(r, names(r)) for r in records}
    if format is TextJson.json:
        emit_json([{**record_json(r), "reported": spans[r.id]} for r in records])
        return 0
    from geohazard_cli.cli.term import Term

    out = Term()
    if j is None:
        from geohazard_cli.storage import locate, shown

        out.print(f"日志 {shown(locate(db)[0])} 尚不存在:还没有立案或记录预警(若应有记录,检查 --db 或 $GEOHAZARD_DB)",
                  wrap=False)
        return 0
    if not records:
        out.print({"open": "没有处置中的事件", "closed": "没有已终止的事件", None: "日志中没有事件"}[status])
        return 0
    head = ("编号", "来文编号", "状态", "演练", "等级", "响应级别", "立案时间", "更新时间", "类型 · 地点")
    spans_text = {i: reported_text(sp) if sp else ("", "") for i, sp in spans.items()}
    rows = [(f"#{r.id}", r.incident.get("id") or "", "处置中" if r.status == "open" else "已终止",
             "演练" if r.exercise else "",
             spans_text[r.id][1] or r.grade_name or noun(r), r.response_level_name, hm(r.opened_at), hm(r.updated_at),
             " · ".join(x for x in (r.incident.get("hazard_type_name"), r.incident.get("location"),
                                    *((r.warning or {}).get("areas") or []), spans_text[r.id][0]) if x))
            for r in records]
    # Plain aligned lines rather than a table: the place is free text and is never cut or folded.
    for row in (head, *rows):
        out.print(_aligned(row, [head, *rows]), wrap=False)
    return 0


def _grade_names(records: "list[State]", config_dir: Path | None) -> "Callable[[State], dict[str, str] | None]":
    """Per record, its plan profile's grade names by key (for a range's grades): the profiles are
    loaded only when a record holds a range; None when the config dir has no sound such profile (the
    grade in force is still named: it is recorded)."""
    from geohazard_cli.cli.incident_clock import profiles_in
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.errors import GeohazardError

    if not any(r.incident.get("ranges") for r in records):
        return lambda r: None
    profile_of = profiles_in(resolve_dir(config_dir))

    def names(r: "State") -> dict[str, str] | None:
        try:
            profile = profile_of(r.plan)
        except GeohazardError:
            return None
        return {g.key: g.name for g in profile.grades} if profile is not None else None

    return names


def _aligned(row: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Pad every cell but the last to its column's display width (CJK characters count double)."""
    from geohazard_cli.textlayout import width

    widths = [max(width(r[i]) for r in rows) for i in range(len(row) - 1)]
    cells = [c + " " * (w - width(c)) for c, w in zip(row, widths, strict=False)]
    return "  ".join([*cells, row[-1]]).rstrip()



@app.command("export")
def export(
    ref: IdArg,
    format: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="Report format.")] = ExportFormat.markdown,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (default: stdout).", show_default=False)] = None,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    rules: RulesForIncidentOpt = None,
) -> int:
    """Export the incident's summary report (§8(5)): figures, levels, every call and answer, the timeline."""
    from geohazard_cli.cli._common import write_output
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.config import templates_dir
    from geohazard_cli.summary import report

    record, events = read_response(db, ref, whole=True)
    cfg = resolve_dir(config_dir)
    profile, notice = profile_or_notice(record, cfg, rules)
    data = report(record, events, profile, when_of(None, tz_text(record.opened_at)), notice)
    if format is ExportFormat.json:
        from geohazard_cli.fastjson import orjson

        text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8")
    else:
        from geohazard_cli.render import render

        text = render(templates_dir(cfg), "incident-report", format.value, r=data)
    write_output(text, output)
    return 0
