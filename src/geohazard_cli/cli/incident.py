"""`geohazard incident`: the incident journal (open, update, ack, show, list, close, export).

The shell only: options -> journal.py (one transaction per command) -> text or JSON. sqlite3,
platformdirs, rich, jinja2 and the roster are imported inside the commands that need them.
"""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import (
    ConfigDirOpt,
    HelpfulGroup,
    IncidentCommand,
    PlanOpt,
    RulesOpt,
    TextJson,
    command_app,
    figures,
)

if TYPE_CHECKING:
    from datetime import datetime

    from geohazard_cli.journal import Differ, Event, Journal, Reassessment, Record, Resolver
    from geohazard_cli.models import Assessment
    from geohazard_cli.roster import CallList
    from geohazard_cli.rules import Profile


class ExportFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    json = "json"


DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="Journal file (default: $GEOHAZARD_DB, else journal.sqlite3 in the user data "
                 "directory). Created on first use.", show_default=False),
]
FormatOpt = Annotated[TextJson, typer.Option("--format", "-f", help="Output format.")]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="When it happened: ISO 8601 or '2026-07-21 09:40' (no offset = the plan's "
                 "+08:00); default now.", show_default=False),
]
IdArg = Annotated[
    str, typer.Argument(metavar="ID", help="Incident id, as printed by 'incident open' / 'incident list'."),
]
RulesForIncidentOpt = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules file of the incident's plan profile, when it is not in rules/ "
                 "(it must have the same id).", show_default=False),
]

incident_app = command_app(
    name="incident",
    cls=HelpfulGroup,
    help="The incident journal: open an incident, record reports, level changes, calls and answers (叫应), "
    "close it (§6.4) and export the summary (§8(5)).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- shared helpers ---------------------------------------------------------------------------

def _incident_id(text: str) -> int:
    from geohazard_cli.errors import InputError

    raw = text.strip().removeprefix("#")
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise InputError(f'ID: "{text}" is not an incident id '
                         "(a number such as 3; see 'geohazard incident list')")
    return int(raw)


def _journal(db: Path | None, create: bool = True) -> "Journal | None":
    from geohazard_cli.journal import Journal, db_path

    path, how = db_path(db)
    return Journal.open(path, how, create=create)


def _existing(db: Path | None, incident_id: int) -> "Journal":
    """The journal for a command on an existing incident: never created by a read or a typo'd id."""
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.journal import db_path

    j = _journal(db, create=False)
    if j is None:
        path, _ = db_path(db)
        raise NotFoundError(f"no incident {incident_id}: the journal {path} does not exist yet "
                            "(start one with 'geohazard incident open')")
    return j


def _read(db: Path | None, ref: str) -> "tuple[Record, list[Event]]":
    """An existing incident's record and events, read without writing (show, export)."""
    from geohazard_cli.journal import snapshot

    incident_id = _incident_id(ref)
    j = _existing(db, incident_id)
    try:
        return snapshot(j, incident_id)
    finally:
        j.close()


def _tz_text(dt: "datetime") -> str:
    """The offset of a stored (always aware) time, "+08:00": an incident keeps its opening time zone."""
    return dt.isoformat()[-6:]


def _when(at: str | None, tz: str) -> "datetime":
    """--at, or now, in the incident's (the plan's) time zone, to the second."""
    from datetime import datetime

    from geohazard_cli.intake import parse_time

    if at is not None:
        return parse_time(at, "--at", tz)
    return datetime.now(parse_time("2000-01-01T00:00", "--at", tz).tzinfo).replace(microsecond=0)


def _profile_for(record: "Record", cfg: Path, rules: Path | None) -> "Profile":
    """The plan profile the incident was opened under (it is re-graded under the same one)."""
    from geohazard_cli.config import rules_path
    from geohazard_cli.errors import InputError, NotFoundError
    from geohazard_cli.rules import load_profile

    if rules is None:
        try:
            path = rules_path(record.plan, None, cfg)
        except NotFoundError:
            raise NotFoundError(f'incident {record.id} is graded under plan "{record.plan}", which is not in '
                                f"{cfg / 'rules'}; point at its rules with --rules FILE or --config-dir DIR") \
                from None
    else:
        path = rules_path(None, rules, cfg)
    profile = load_profile(path)
    if profile.id != record.plan:
        raise InputError(f'--rules: {rules} is plan "{profile.id}"; incident {record.id} is graded under '
                         f'"{record.plan}"')
    return profile


def _profile_or_notice(record: "Record", cfg: Path, rules: Path | None) -> "tuple[Profile | None, str | None]":
    """For show and export, which work from the stored record: the incident's profile, or (when it is
    not in the config dir and no --rules names it) None and the one line that says what is missing."""
    from geohazard_cli.config import rules_path
    from geohazard_cli.errors import NotFoundError

    if rules is None:
        try:
            rules_path(record.plan, None, cfg)
        except NotFoundError:
            return None, (f"预案方案 \"{record.plan}\" 不在 {cfg / 'rules'} 中,无法按现行规则复核等级和叫应名单;"
                          "以下为日志记录的数字、等级、叫应名单和时间线(用 --rules FILE 或 --config-dir DIR "
                          "指向该方案)")
    return _profile_for(record, cfg, rules), None


def _dispatch(cfg: Path, profile: "Profile") -> "tuple[Resolver, Differ, type[CallList]]":
    """The plan's call lists (roster.py): resolver, differ and model, for the journal's pure core."""
    from geohazard_cli.roster import CallList, call_list_diff, load_roster, resolve_call_list

    roster = load_roster(cfg)

    def resolve(assessment: "Assessment") -> CallList:
        return resolve_call_list(assessment, profile, roster)

    return resolve, call_list_diff, CallList


def _record_json(record: "Record") -> dict[str, Any]:
    return {
        "id": record.id, "status": record.status, "exercise": record.exercise, "plan": record.plan,
        "grade": record.grade, "grade_name": record.grade_name,
        "response_level": record.response_level, "response_level_name": record.response_level_name,
        "opened_at": record.opened_at.isoformat(), "updated_at": record.updated_at.isoformat(),
        "closed_at": record.closed_at.isoformat() if record.closed_at else None,
        "close_reason": record.close_reason,
        "location": record.incident.location, "hazard_type_name": record.incident.hazard_type_name,
        # The officer-supplied --id (来文编号, the reporting unit's reference); the journal's id is "id".
        "external_ref": record.incident.id,
    }


def _mark(record: "Record") -> str:
    return "【演练】" if record.exercise else ""


def _ref(record: "Record") -> str:
    """The officer-supplied --id, labelled as what it is: an external reference, not the incident id."""
    return f" · 来文编号 {record.incident.id}" if record.incident.id else ""


def _hm(dt: "datetime") -> str:
    from geohazard_cli.journal import human_time

    return human_time(dt) or ""


def _print_assessment(assessment: "Assessment") -> None:
    """classify's assessment panel, without the officer's --id in its title: in the journal the
    incident's id is the journal id (#3); the --id is shown as 来文编号 in the header line."""
    from geohazard_cli.cli.panels import print_assessment

    incident = assessment.incident.model_copy(update={"id": None})
    print_assessment(assessment.model_copy(update={"incident": incident}))


# --- commands ---------------------------------------------------------------------------------

@incident_app.command("open", cls=IncidentCommand)  # + the incident flags of fields.FIELDS and --file
def open_(
    ctx: typer.Context,
    at: AtOpt = None,
    exercise: Annotated[
        bool, typer.Option("--exercise", help="A drill (演练), not a real incident; marked everywhere."),
    ] = False,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Open an incident (接报立案): grade it, record it, print its id, the assessment and the units to call.

    Example: geohazard incident open --evacuees 40 --location 七里山街道 --hazard-type 崩塌
    """
    from geohazard_cli.cli._common import emit_json, incident_from, load_config
    from geohazard_cli.grading import grade
    from geohazard_cli.journal import open_incident

    cfg, profile = load_config(config_dir, plan, rules)
    incident = incident_from(figures(ctx), profile)
    when = _when(at, profile.timezone)
    assessment = grade(incident, profile)
    resolve, _, _ = _dispatch(cfg, profile)
    call_list = resolve(assessment).model_dump(mode="json")
    j = _journal(db)
    assert j is not None
    try:
        record, events = open_incident(j, incident, assessment, call_list, profile, when, exercise)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({**_record_json(record), "assessment": assessment.model_dump(mode="json"),
                   "call_list": call_list, "history": [e.model_dump(mode="json") for e in events]})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    out.print(f"{_mark(record)}事件 #{record.id} 已立案({_hm(record.opened_at)};{profile.short_title})"
              f"{_ref(record)}", style="bold")
    _print_assessment(assessment)
    _print_call_list(call_list, "叫应名单")
    out.print(f"记录叫应: geohazard incident ack {record.id} --unit 单位 --outcome 接通 "
              "--answerer 接听人 --by 经办人")
    return 0


@incident_app.command("update", cls=IncidentCommand)  # + the incident flags of fields.FIELDS and --file
def update(
    ctx: typer.Context,
    ref: IdArg,
    at: AtOpt = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    rules: RulesForIncidentOpt = None,
) -> int:
    """Record a new report (续报): give the figures that changed; the others carry over. Re-grades under
    the incident's plan; a level change (§6.1.2, §6.2.2) is shown with the units newly to call and
    those no longer needed.

    Example: geohazard incident update 3 --evacuees 600
    """
    from geohazard_cli.cli._common import emit_json, incident_from
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.errors import InputError
    from geohazard_cli.journal import snapshot, stated, update_incident

    given = figures(ctx)
    incident_id = _incident_id(ref)
    j = _existing(db, incident_id)
    try:
        record, _ = snapshot(j, incident_id)
        when = _when(at, _tz_text(record.opened_at))
        j.open_writable(incident_id, when)  # fail early; checked again inside the write transaction
        cfg = resolve_dir(config_dir)
        profile = _profile_for(record, cfg, rules)
        parsed = incident_from(given, profile, base=record.incident)
        typed = [k for k, v in given.items() if k != "file" and v is not None]
        delta = stated(record.incident, parsed, typed)
        if not delta and given.get("file") is None and not typed:
            raise InputError("nothing to update: give the new figures "
                             "(such as --evacuees 600) or --file PATH")
        resolve, diff, cl_type = _dispatch(cfg, profile)
        record, r, _ = update_incident(j, incident_id, delta, profile, when, resolve, diff, cl_type)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({
            **_record_json(record),
            "response_level": r.assessment.response_level,
            "previous_level": r.previous_level,
            "level_changed": r.level_changed,
            "direction": r.direction,
            "grade": r.assessment.grade,
            "previous_grade": r.previous_grade,
            "grade_changed": r.grade_changed,
            "changes": [c.model_dump(mode="json") for c in r.changes],
            "newly_called": r.newly_called,
            "no_longer_needed": r.no_longer_needed,
            "assessment": r.assessment.model_dump(mode="json"),
            "call_list": record.call_list,
        })
        return 0
    _print_update(record, r)
    return 0


@incident_app.command("ack")
def ack(
    ref: IdArg,
    unit: Annotated[str, typer.Option(
        "--unit", help="The unit called (full or short name, as in contacts.yaml).", show_default=False)],
    outcome: Annotated[str, typer.Option(
        "--outcome", help="How the call went (结果, as on the call sheet): 接通|未接|占线|其他, "
        "or 1|2|3|4, or answered|no-answer|busy|other.", show_default=False)],
    answerer: Annotated[str | None, typer.Option(
        "--answerer", help="Who answered at the unit (接听人).", show_default=False)] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="The officer who made the call (经办人).", show_default=False)] = None,
    responded_at: Annotated[str | None, typer.Option(
        "--responded-at", help="When the unit responded (回应时间), if not at the call itself; same forms "
        "as --at.", show_default=False)] = None,
    at: AtOpt = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
) -> int:
    """Record one call of the 叫应 loop (§6.3(1)): which unit, and whether it answered.

    Example: geohazard incident ack 3 --unit 七里山街道 --outcome 接通 --answerer 李四 --by 张三
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.intake import parse_text, parse_time
    from geohazard_cli.journal import acknowledge, parse_outcome, pending_units, snapshot

    incident_id = _incident_id(ref)
    result = parse_outcome(outcome)
    by_text = parse_text(by, "--by") if by is not None else None
    answerer_text = parse_text(answerer, "--answerer") if answerer is not None else None
    j = _existing(db, incident_id)
    try:
        record, _ = snapshot(j, incident_id)
        when = _when(at, _tz_text(record.opened_at))
        j.open_writable(incident_id, when)  # fail early; checked again inside the write transaction
        responded = parse_time(responded_at, "--responded-at", _tz_text(record.opened_at)) \
            if responded_at is not None else None
        from geohazard_cli.roster import load_roster

        found = load_roster(resolve_dir(config_dir)).unit(unit)
        record, event, events = acknowledge(j, incident_id, found.key, found.name, result,
                                            by_text, when, answerer_text, responded)
    finally:
        j.close()
    pending = pending_units(record, events)
    if format is TextJson.json:
        emit_json({**_record_json(record), "ack": event.model_dump(mode="json"),
                   "pending": [p.model_dump(mode="json") for p in pending]})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    out.print(f"{_mark(record)}事件 #{record.id} {event.text}({_hm(event.at)})", style="bold")
    if not event.details.get("on_call_list"):
        out.print(f"注意: {event.details['unit']} 不在当前叫应名单上", style="yellow")
    _print_pending(pending, record)
    return 0


@incident_app.command("show")
def show(
    ref: IdArg,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    rules: RulesForIncidentOpt = None,
) -> int:
    """Show an incident: figures, current assessment, call list, units not yet answered, and the timeline."""
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.grading import grade
    from geohazard_cli.journal import pending_units, recorded_assessment

    record, events = _read(db, ref)
    profile, notice = _profile_or_notice(record, resolve_dir(config_dir), rules)
    assessment = grade(record.incident, profile) if profile is not None else None
    recorded = recorded_assessment(events)
    pending = pending_units(record, events)
    if format is TextJson.json:
        emit_json({**_record_json(record), "incident": record.incident.model_dump(mode="json"),
                   "plan_available": profile is not None, "notice": notice,
                   "assessment": assessment.model_dump(mode="json") if assessment is not None else None,
                   "recorded_assessment": recorded, "call_list": record.call_list,
                   "pending": [p.model_dump(mode="json") for p in pending],
                   "history": [e.model_dump(mode="json") for e in events]})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    status = "处置中"
    if record.closed_at is not None:
        status = f"已终止({_hm(record.closed_at)}:{record.close_reason})"
    out.print(f"{_mark(record)}事件 #{record.id} · {status} · 立案 {_hm(record.opened_at)} · "
              f"更新 {_hm(record.updated_at)}{_ref(record)}", style="bold")
    if assessment is not None:
        _print_assessment(assessment)
        title = "当前叫应名单"
    else:
        from geohazard_cli.journal import recorded_figures

        out.print(f"注意: {notice}", style="yellow", soft_wrap=True, highlight=False, markup=False)
        for f in recorded_figures(record, events):
            out.print(f"{f['label']}: {f['text']}", soft_wrap=True, highlight=False, markup=False)
        if recorded is not None:
            bound = "(至少)" if recorded.get("lower_bound") else ""
            out.print(f"等级(记录): {recorded['grade_name']}{bound} → {recorded['response_level_name']}",
                      style="bold", highlight=False, markup=False)
            for line in recorded.get("deciding_text") or []:
                out.print(f"决定等级: {line}", soft_wrap=True, highlight=False, markup=False)
        title = "叫应名单(记录)"
    _print_call_list(record.call_list, title, _ack_status(record, events))
    if record.status == "open":
        _print_pending(pending, record)
    _print_history(events)
    return 0


@incident_app.command("list")
def list_(
    open_: Annotated[bool, typer.Option("--open", help="Incidents still being handled (default).")] = False,
    closed: Annotated[bool, typer.Option("--closed", help="Incidents whose response has ended.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Every incident.")] = False,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
) -> int:
    """List incidents, one row each (exercises marked 演练)."""
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import InputError
    from geohazard_cli.journal import listing

    if open_ + closed + all_ > 1:
        raise InputError("--open, --closed, --all: give at most one")
    status = None if all_ else "closed" if closed else "open"
    j = _journal(db, create=False)
    records: list[Record] = []
    if j is not None:
        try:
            records = listing(j, status)
        finally:
            j.close()
    if format is TextJson.json:
        emit_json([_record_json(r) for r in records])
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    if not records:
        out.print({"open": "没有处置中的事件", "closed": "没有已终止的事件", None: "日志中没有事件"}[status])
        return 0
    head = ("编号", "来文编号", "状态", "演练", "等级", "响应级别", "立案时间", "更新时间", "类型 · 地点")
    rows = [(f"#{r.id}", r.incident.id or "", "处置中" if r.status == "open" else "已终止",
             "演练" if r.exercise else "",
             r.grade_name, r.response_level_name, _hm(r.opened_at), _hm(r.updated_at),
             " · ".join(x for x in (r.incident.hazard_type_name, r.incident.location) if x))
            for r in records]
    # Plain aligned lines rather than a table: the place is free text and is never cut or folded.
    for row in (head, *rows):
        out.print(_aligned(row, [head, *rows]), soft_wrap=True, highlight=False, markup=False)
    return 0


def _aligned(row: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Pad every cell but the last to its column's display width (CJK characters count double)."""
    from rich.cells import cell_len

    widths = [max(cell_len(r[i]) for r in rows) for i in range(len(row) - 1)]
    cells = [c + " " * (w - cell_len(c)) for c, w in zip(row, widths, strict=False)]
    return "  ".join([*cells, row[-1]]).rstrip()


@incident_app.command("close")
def close(
    ref: IdArg,
    reason: Annotated[str, typer.Option(
        "--reason", help="Why the response ends (§6.4), e.g. 现场处置基本完成,灾情基本控制 / "
        "预警发布时段结束.",
        show_default=False)],
    by: Annotated[str | None, typer.Option(
        "--by", help="Who declared the end, or on whose advice (§6.4).", show_default=False)] = None,
    at: AtOpt = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
) -> int:
    """Terminate the response (响应终止, §6.4). A closed incident takes no more updates or calls."""
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import parse_text
    from geohazard_cli.journal import close_incident, pending_units, snapshot

    incident_id = _incident_id(ref)
    reason_text = parse_text(reason, "--reason")
    if not reason_text:
        raise InputError('--reason: "" is empty; say why the response ends (§6.4)')
    by_text = parse_text(by, "--by") if by is not None else None
    j = _existing(db, incident_id)
    try:
        record, _ = snapshot(j, incident_id)
        when = _when(at, _tz_text(record.opened_at))
        j.open_writable(incident_id, when)
        record, events = close_incident(j, incident_id, reason_text, when, by_text)
    finally:
        j.close()
    pending = pending_units(record, events)
    if format is TextJson.json:
        emit_json({**_record_json(record), "pending": [p.model_dump(mode="json") for p in pending]})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    out.print(f"{_mark(record)}事件 #{record.id} {events[-1].text}({_hm(record.closed_at or when)})",
              style="bold", soft_wrap=True)
    if pending:
        out.print("未应答的单位: " + "、".join(p.unit for p in pending), style="yellow", soft_wrap=True)
    out.print(f"总结报告: geohazard incident export {record.id} --format markdown")
    return 0


@incident_app.command("export")
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
    from geohazard_cli.journal import report

    record, events = _read(db, ref)
    cfg = resolve_dir(config_dir)
    profile, notice = _profile_or_notice(record, cfg, rules)
    data = report(record, events, profile, _when(None, _tz_text(record.opened_at)), notice)
    if format is ExportFormat.json:
        from geohazard_cli.fastjson import orjson

        text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8")
    else:
        from geohazard_cli.render import render

        text = render(templates_dir(cfg), "incident-report", format.value, r=data)
    write_output(text, output)
    return 0


# --- text output ------------------------------------------------------------------------------

def _call_table(title: str, entries: list[dict[str, Any]], status: dict[str, str] | None = None) -> Any:
    """One line per unit with the number to dial (the call sheet has the reasons and duties)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for col in ("序", "单位", "电话", *(("叫应",) if status is not None else ())):
        table.add_column(col, no_wrap=True)
    for e in entries:
        row = [str(e.get("order", "")), e.get("unit", ""), e.get("dial") or e.get("phone") or "—"]
        if status is not None:
            row.append(status.get(e.get("unit_key", ""), ""))
        table.add_row(*row)
    return table


def _print_call_list(call_list: dict[str, Any] | None, title: str, status: dict[str, str] | None = None) -> None:
    from geohazard_cli.cli._common import console

    out = console()
    if not call_list or not call_list.get("entries"):
        out.print(f"{title}: 无", style="dim")
        return
    level = call_list.get("level_name") or call_list.get("level") or ""
    out.print(_call_table(f"{title}({level},{len(call_list['entries'])}个单位)", call_list["entries"], status))


def _print_update(record: "Record", r: "Reassessment") -> None:
    from rich.panel import Panel
    from rich.text import Text

    from geohazard_cli.cli._common import console

    out = console()
    a = r.assessment
    changes = ";".join(f"{c.label} {c.old_text or '未报告'} → {c.new_text or '未报告'}" for c in r.changes)
    out.print(f"{_mark(record)}事件 #{record.id} 续报已记录:{changes or '数字无变化'}", style="bold",
              soft_wrap=True)
    if r.level_changed:
        arrow = "升级" if r.direction == "up" else "降级"
        body: list[Any] = [Text(f"{r.previous_level_name} → {a.response_level_name}({arrow})",
                                style="bold red" if r.direction == "up" else "bold yellow"),
                           Text(f"等级: {r.previous_grade_name} → {a.grade_name}")]
        body += [Text(line) for line in a.deciding_text]
        from rich.console import Group

        out.print(Panel(Group(*body), title=f"⚠ 响应级别调整 · 事件 #{record.id}", title_align="left",
                        border_style="red" if r.direction == "up" else "yellow", expand=False))
    else:
        grade_text = f"{r.previous_grade_name} → {a.grade_name}" if r.grade_changed \
            else f"{a.grade_name}(未变)"
        out.print(f"等级: {grade_text};{a.response_level_name}(未变)")
    if r.newly_called:
        out.print(_call_table(f"新增叫应单位({len(r.newly_called)})", r.newly_called))
    if r.no_longer_needed:
        out.print("不再需要: " + "、".join(e["unit"] for e in r.no_longer_needed), soft_wrap=True)
    if r.level_changed and not r.newly_called and not r.no_longer_needed:
        out.print("叫应名单未变;请将级别调整通知名单上各单位")


def _ack_status(record: "Record", events: "list[Event]") -> dict[str, str]:
    """unit key -> what the 叫应 column shows: 未应答 / the last outcome and time / 已应答."""
    from geohazard_cli.journal import OUTCOME_LABELS, pending_units

    pending = {p.unit_key: p for p in pending_units(record, events)}
    out = {}
    for e in (record.call_list or {}).get("entries", []):
        key = e.get("unit_key", "")
        p = pending.get(key)
        if p is None:
            out[key] = "已应答"
        elif p.last_at is not None and p.last_outcome is not None:
            out[key] = f"未应答({_hm(p.last_at)} {OUTCOME_LABELS.get(p.last_outcome, p.last_outcome)})"
        else:
            out[key] = "未应答"
    return out


def _print_pending(pending: list[Any], record: "Record") -> None:
    from geohazard_cli.cli._common import console

    out = console()
    if not record.call_list or not record.call_list.get("entries"):
        return
    if not pending:
        out.print("叫应名单上各单位均已应答", style="green")
        return
    out.print(f"尚未应答({len(pending)}): " + "、".join(p.unit for p in pending), style="yellow", soft_wrap=True)


def _print_history(events: "list[Event]") -> None:
    from geohazard_cli.cli._common import console
    from geohazard_cli.journal import human_time

    out = console()
    out.print("时间线", style="bold")
    for e in events:
        out.print(f"{human_time(e.at, seconds=True)}  {e.text}", soft_wrap=True, highlight=False, markup=False)
