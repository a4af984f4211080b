"""`geohazard warning LEVEL`: what a geohazard weather risk warning starts (§3.1.4, §6.3), who to
call, and the CAP 1.2 alert for it."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geohazard_cli.cli._common import ConfigDirOpt, PlanOpt, RulesOpt, SitesOpt, command_app

if TYPE_CHECKING:
    from datetime import datetime

    from geohazard_cli.cap import CapRef, MsgType
    from geohazard_cli.cap_read import Upstream
    from geohazard_cli.contacts import Roster, Unit
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Site
    from geohazard_cli.warning import ExerciseMarks, WarningResponse, WarningSection


class CapScope(StrEnum):
    public = "public"
    restricted = "restricted"


class CapLang(StrEnum):
    zh = "zh"
    en = "en"


class WarningFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"
    cap = "cap"


app = command_app()


@app.command("warning")
def warning(
    level: Annotated[str | None, typer.Argument(
        metavar="LEVEL", help="Warning colour: a key, name or alias of the profile's warning.colours "
             "(e.g. red, 红色, 红; full-width and any case too). May be omitted with --update/--cancel "
             "FILE (the earlier alert's colour).",
        show_default=False)] = None,
    area: Annotated[list[str] | None, typer.Option(
        "--area", help="街道办事处 or places the warning covers: repeat, or separate with , 、 ; or spaces. "
                        "Short forms (七里山) resolve through the roster; a misspelt street is refused.",
        show_default=False)] = None,
    format: Annotated[WarningFormat, typer.Option("--format", "-f", help="Output format.")] = WarningFormat.text,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of stdout.", show_default=False)] = None,
    exercise: Annotated[bool, typer.Option(
        "--exercise", help="A drill: CAP status Exercise, and the sheet is marked 演练.")] = False,
    actual: Annotated[bool, typer.Option(
        "--actual", help="A real alert: CAP status Actual (the default, said aloud on stderr when neither "
        "--actual nor --exercise is given with --format cap).")] = False,
    update: Annotated[str | None, typer.Option(
        "--update", metavar="REF", help="CAP Update of an earlier alert: its CAP file (the description "
        "says what changed; no --area keeps its areas), or sender,identifier,sent.",
        show_default=False)] = None,
    cancel: Annotated[str | None, typer.Option(
        "--cancel", metavar="REF", help="CAP Cancel of an earlier alert: its CAP file (colour and areas "
        "are taken from it; a different LEVEL or --area is refused), or sender,identifier,sent (then "
        "LEVEL and --area must match the alert: the officer's responsibility).",
        show_default=False)] = None,
    identifier: Annotated[str | None, typer.Option(
        "--identifier", help="CAP identifier (default: GB/T 35965.1 form, warning.cap.sender_code + "
        "_YYYYMMDDhhmmss of --sent + _N of --sequence).", show_default=False)] = None,
    sequence: Annotated[int, typer.Option(
        "--sequence", help="N of the GB/T 35965.1 identifier (0-9): for a second alert sent in the same second.")] = 0,
    scope: Annotated[CapScope | None, typer.Option(
        "--scope", help="CAP scope (with --format cap): public (default; the instruction says what residents "
        "must do) or restricted (with <restriction>; the instruction is the staff duty list).",
        show_default=False)] = None,
    sent: Annotated[str | None, typer.Option(
        "--sent", help="Issue time, ISO 8601 or '2026-07-21 08:30' (no offset = +08:00; default: now).",
        show_default=False)] = None,
    lang: Annotated[CapLang, typer.Option(
        "--lang", help="With --format cap: en adds an en-US <info> (warning.cap.en) after the zh-CN one.",
    )] = CapLang.zh,
    from_cap: Annotated[Path | None, typer.Option(
        "--from-cap", metavar="FILE", help="Start the response an upstream CAP 1.2 alert calls for (济南市's "
        "地质灾害气象风险预警, zh-CN): its colour (headline 蓝/黄/橙/红色, else severity), the district's streets "
        "its areas name, its sent time. Instead of LEVEL and --area; --record and every format apply.",
        show_default=False)] = None,
    record: Annotated[bool, typer.Option(
        "--record", help="Also record it in the journal as a warning-period response: the first warning "
        "for these areas opens one (its id is printed; 'incident ack ID' records who answered), a later "
        "one changes it (a new colour is a new round of 叫应), a --cancel ends it (§6.4(2)).")] = False,
    db: Annotated[str | None, typer.Option(
        "--db", help="Journal file or postgresql:// URL for --record (default: $GEOHAZARD_DB, else "
        "journal.sqlite3 in the user data directory).", show_default=False)] = None,
    sites: SitesOpt = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Respond to a geohazard weather risk warning: measures, call list, CAP alert.

    From the profile's activation colour (warning.activation.from) up, the warning-period response
    starts: the measures and units to call (叫应) that apply from that colour, each with its clause.
    Below it, the routine duties. Everything shown comes from the profile's warning: section.

    --update/--cancel REF (with --format cap): when REF is the earlier alert's CAP file, a Cancel
    takes its colour and areas (a different LEVEL or --area is refused), an Update says what
    changed, and a Cancel file or a --sent before the alert's is refused. When REF is only
    sender,identifier,sent, only the time is checked: the colour and areas are the officer's
    responsibility.

    Example: geohazard warning red --area 七里山街道 --format html -o warning.html
    """
    from datetime import datetime

    from geohazard_cli import warning as core
    from geohazard_cli.cli._common import load_config
    from geohazard_cli.config import rules_path
    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import parse_time
    from geohazard_cli.loader import read_text

    if actual and exercise:
        raise InputError("--actual and --exercise: a warning is either real (CAP status Actual) or a drill "
                         "(Exercise); give one")
    cfg, profile = load_config(config_dir, plan, rules)
    path = rules_path(plan, rules, cfg)
    section = core.load_section(profile, str(path), read_text(path))
    colour = core.parse_colour(level, section) if level is not None else None
    areas = core.parse_areas(area or [])
    roster = _roster(cfg)
    street_units = [u for u in roster.units if u.kind == "street"]
    upstream = None
    if from_cap is not None:
        upstream = _upstream(from_cap, section, profile.geocode, street_units, given=(level, area, update, cancel))
        colour, areas = core.parse_colour(upstream.colour, section), upstream.areas
        if sent is None:
            sent = upstream.sent

    if update is not None and cancel is not None:
        raise InputError("--update and --cancel: give one, not both")
    if format is not WarningFormat.cap:
        for flag, value in (("--update", update), ("--cancel", cancel), ("--identifier", identifier),
                            ("--scope", scope), ("--sequence", sequence or None),
                            ("--lang", None if lang is CapLang.zh else lang)):
            if value is not None:
                raise InputError(f"{flag}: only with --format cap")
    msg_type: MsgType = "Alert"
    ref: CapRef | None = None
    ref_flag = "--update" if update is not None else "--cancel"
    if update is not None or cancel is not None:
        msg_type = "Update" if update is not None else "Cancel"
        ref = _reference(update if update is not None else cancel or "", ref_flag, section)
    if colour is None:
        if ref is None or ref.colour is None:
            raise InputError("LEVEL: missing; give the warning colour (it may be left out only with "
                             "--update/--cancel FILE, which names the earlier alert's colour)")
        colour = core.parse_colour(ref.colour, section)
    if not areas and ref is not None and ref.areas:
        areas = ref.areas  # the earlier alert's areas (already resolved names)
    from geohazard_cli.timeutil import cap_time, zone

    # Now in the plan's zone (Beijing), not the machine's: what is recorded reads as every other time.
    moment = parse_time(sent, "--sent", profile.timezone) if sent is not None else \
        datetime.now(zone(profile.timezone)).replace(microsecond=0)
    sent_text = cap_time(moment, profile.timezone)

    response = core.respond(profile, section, colour, areas, roster.unit, street_units,
                            sites=_register(cfg, sites, profile, roster) if areas else ())
    if ref is not None:
        from geohazard_cli.cap import check_reference

        check_reference(ref, response, section, msg_type=msg_type, sent=sent_text, field=ref_flag,
                        level=level, areas_given=bool(area))

    if db is not None and not record:
        raise InputError("--db: only with --record")
    recorded = None
    if record:
        data = {**core.as_json(response), "sent": sent_text, "exercise": exercise}
        lifted = f"{section.end.text}({section.end.source})" if section.end is not None else "预警解除"
        recorded = _record(db, data, profile.id, [c.key for c in section.colours], moment, exercise,
                           lifted if msg_type == "Cancel" else None)
    if format is WarningFormat.json:
        from geohazard_cli.cli._common import emit_json

        data = core.as_json(response)
        data["sent"] = sent_text
        data["exercise"] = exercise
        if recorded is not None:
            data["id"], data["recorded"] = recorded
        if upstream is not None:
            data["upstream"] = upstream.model_dump()
        if output is None:
            emit_json(data)
        else:
            from geohazard_cli.cli._common import write_output
            from geohazard_cli.fastjson import orjson

            write_output(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n", output)
        return 0
    if format is WarningFormat.cap:
        from geohazard_cli import cap
        from geohazard_cli.cap_area import load_margins
        from geohazard_cli.cli._common import write_output


        ident = cap.check_identifier(identifier) if identifier is not None else (
            cap.make_identifier(section, sent_text, sequence))
        xml = cap.build_cap(response, section, profile.geocode, identifier=ident, sent=sent_text,
                            exercise=exercise, msg_type=msg_type, references=[ref] if ref else [],
                            scope="Restricted" if scope is CapScope.restricted else
                            "Public" if scope is CapScope.public else None, english=lang is CapLang.en,
                            margins=load_margins(cfg))
        write_output(xml, output)
        if not exercise and not actual:  # a real alert by default: never silently
            print("notice: CAP status Actual (a real alert, not a drill); --actual says so, --exercise makes it "
                  "a drill", file=sys.stderr)
        return 0
    human = core.human_time(sent_text)
    if format is WarningFormat.text and output is None:
        print_warning(response, human, section, section.exercise if exercise else None)
        if recorded is not None:
            print(_recorded_line(*recorded, db))
        return 0
    from geohazard_cli.cli._common import write_output
    from geohazard_cli.config import templates_dir
    from geohazard_cli.render import render

    text = render(templates_dir(cfg), "warning", format.value, w=response, sent=human, sent_iso=sent_text,
                  time_label=section.time_label, routine_title=section.routine_title, exercise=exercise,
                  marks=section.exercise)
    write_output(text, output)
    return 0


def _register(cfg: Path, option: Path | None, profile: "Profile", roster: "Roster") -> "list[Site]":
    """The hazard-site register's sites (``--sites``, else the config dir's sites.yaml; none without one)."""
    from geohazard_cli.sites import load_bounds, sites_path
    from geohazard_cli.sites_load import load_sites

    path = sites_path(cfg, option)
    if path is None:
        return []
    return load_sites(path, profile, roster, load_bounds(cfg)).sites


def _record(db: str | None, data: dict[str, object], plan: str, colours: list[str], moment: "datetime",
            exercise: bool, lifted: str | None) -> tuple[int, str]:
    """Record the warning in the journal (``responses.record_warning``): (response id, what happened)."""
    from geohazard_cli.responses import record_warning
    from geohazard_cli.storage import locate, open_journal

    j = open_journal(*locate(db))
    assert j is not None
    from geohazard_cli.config import config_dir
    from geohazard_cli.station import resolve

    who = resolve(None, None, config_dir(None))  # $GEOHAZARD_STATION/$GEOHAZARD_OFFICER, station.local.yaml
    j.station, j.officer = who.station, who.officer
    try:
        state, _, what = record_warning(j, data, plan, colours, moment.replace(microsecond=0), exercise, lifted)
    finally:
        j.close()
    return state.id, what


def _recorded_line(response_id: int, what: str, db: str | None) -> str:
    from geohazard_cli.cli.incident_common import db_flag

    verb = {"opened": "已记录:预警响应", "changed": "已记录到预警响应", "lifted": "已解除预警响应"}[what]
    flag = db_flag(db)
    return (f"{verb} #{response_id}(记录叫应: geohazard incident ack {response_id}{flag} --unit 单位 --outcome 接通;"
            f"查看: geohazard incident show {response_id}{flag})")


def _reference(value: str, flag: str, section: "WarningSection") -> "CapRef":
    """REF: ``sender,identifier,sent`` when it has commas, else the earlier alert's CAP file."""
    from geohazard_cli import cap

    if "," in value:
        return cap.parse_reference(value, flag)
    from geohazard_cli.errors import InputError
    from geohazard_cli.loader import read_text

    return cap.reference_from_xml(read_text(Path(value), InputError), value, flag, section)


def _upstream(path: Path, section: "WarningSection", geocode: dict[str, str], streets: "list[Unit]",
              given: tuple[object, ...]) -> "Upstream":
    """The upstream alert ``--from-cap`` names (cap_read.read_upstream); its notes go to stderr."""
    import sys
    from datetime import datetime

    from geohazard_cli.cap_read import read_upstream
    from geohazard_cli.errors import InputError
    from geohazard_cli.loader import read_text

    level, area, update, cancel = given
    if level is not None or area:
        raise InputError("--from-cap: the alert gives the colour and areas; leave out LEVEL and --area")
    if update is not None or cancel is not None:
        raise InputError("--from-cap: not with --update/--cancel (those name an alert this tool wrote)")
    up = read_upstream(read_text(path, InputError), str(path), section, geocode, streets,
                       datetime.now().astimezone())  # an instant: only compared with the alert's times
    until = f",有效至 {up.expires}" if up.expires else ""
    kind = "更新" if up.msg_type == "Update" else "预警"
    print(f"geohazard: 上游{kind} {up.identifier}({up.sender},发布 {up.sent}{until})", file=sys.stderr)
    for note in up.notes:
        print(f"geohazard: 注意: {note}", file=sys.stderr)
    return up


def _roster(cfg: Path) -> "Roster":
    """The roster (names and numbers from contacts.yaml, 附件3): its ``unit`` lookup and units."""
    from geohazard_cli.contacts_load import load_roster

    return load_roster(cfg)


# --- the terminal panel: lines wrapped by cli/term.py with the break rules of textlayout, so a clause
# such as (6.3(1); 10.1) or a closing quote never starts or splits across a line -------------------

def print_warning(w: "WarningResponse", sent: str, section: "WarningSection", marks: "ExerciseMarks | None") -> None:
    """The Chinese panel for a terminal (plain text when piped or NO_COLOR); ``marks`` for a drill."""
    from geohazard_cli.cli.term import Line, Part, Term, fill
    from geohazard_cli.textlayout import width as text_width

    con = Term()
    width = max(4, con.width - 4)  # the panel's border and padding

    def para(parts: list[Part], first: str = "", indent: str | None = None) -> None:
        lines.extend(fill(parts, width, first, indent))

    def clause(source: str) -> Part:
        return (f"({source})", "", True)

    time_label = section.time_label
    style = {c.key: c.style for c in section.colours}
    lines: list[Line] = []
    banner: Line | None = None
    if marks:  # centred
        text = f"{marks.mark} {marks.banner}"
        pad = " " * max(0, (width - text_width(text)) // 2)
        banner = [(pad, ""), (text, "bold reverse red")]
    if banner is not None:
        lines.append(banner)
    para([((marks.mark if marks else "") + f"{w.level_name}{w.event}", style.get(w.level, "bold"), False)])
    label = f"({time_label})" if time_label else ""
    para([("发布: ", "", True), (w.issuer, "", False), ("   ", "", False), (f"时间: {sent}{label}", "", True),
          ("   ", "", False), ("范围: ", "", True), (w.areas_text(), "", False)])
    a = w.activation
    if w.active:
        para([(f"{a.name}: 启动(", "bold", False), (a.text, "", False), (f",{a.source})", "", True)])
        lines.append([])
        lines.append([("应采取的措施", "bold")])
        for n, m in enumerate(w.measures, start=1):
            para([(m.text, "", False), clause(m.source)], f"{n}.")
            for i, item in enumerate(m.items, start=1):
                para([(item, "", False)], f"   ({i})")
    else:
        para([(f"{a.name}: 未启动(启动条件: ", "bold", False), (a.text, "", False), (f",{a.source})", "", True)])
        lines.append([])
        lines.append([(f"{section.routine_title}(仍适用)", "bold")])
        for n, duty in enumerate(w.routine, start=1):
            para([(duty.text, "", False), clause(duty.source)], f"{n}.")
        for note in w.notes:
            para([(note.text, "yellow", False), clause(note.source)], "注意:")
    lines.append([])
    if w.sites:
        lines.append([(f"隐患点(sites.yaml,本地数据;{len(w.sites)}处)", "bold")])
        for st in w.sites:
            roles = (("防灾责任人", st.responsible_name, st.responsible_phone),
                     ("监测人", st.monitor_name, st.monitor_phone))
            people = "  ".join(f"{label}: {name or '未填'} {phone or '无号码'}" for label, name, phone in roles)
            threat = f";威胁{st.threatened}人" if st.threatened is not None else ""
            para([(f"{st.id} {st.name}({st.street};{st.hazard_type_name}{threat})", "", False)], "- ")
            para([(people, "", False)], "  ")
            if st.evacuation_route or st.evacuation_place:
                route = f"撤离: {st.evacuation_route or '路线未填'} → {st.evacuation_place or '避险场所未填'}"
                para([(route, "", False)], "  ")
        lines.append([])
    if w.contacts:
        lines.append([("叫应名单", "bold")])
        for c in w.contacts:
            number = c.dial or c.phone
            row: list[Part] = [(c.unit, "", False), ("  ", "", False),
                               (number or "无号码", "bold" if number else "bold red", True)]
            if c.note:
                row.append((f"({c.note})", "dim", False))
            para(row, f"{c.order}.")
            reasons: list[Part] = []
            for r in c.reasons:
                reasons += [(";" if reasons else "", "", False), (r.text, "", False), clause(r.source)]
            para(reasons, "   事由:")
            for d in c.duties:
                para([(d.text, "", False), clause(d.source)], "   职责:")
            para([("叫应时间:＿＿＿＿", "dim", True), ("  ", "", False), ("应答人:＿＿＿＿", "dim", True),
                  ("  ", "", False), ("回应时间:＿＿＿＿", "dim", True)], "   ")
    else:
        para([(f"叫应名单: 无(未启动{a.name})", "", False)])
    if w.end:
        para([("响应终止: ", "", True), (w.end.text, "", False), clause(w.end.source)])
    if banner is not None:
        lines.append(banner)
    title = f"{marks.mark if marks else ''}{w.event} · {w.plan_title}"
    con.panel(title, lines, border="bold red" if marks else "")
