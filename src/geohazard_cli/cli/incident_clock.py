"""`geohazard incident due|report|amend`: the 叫应 loop through time: what is late (answers, 速报,
续报), a report sent, and a correction of a mistyped time or figure."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, IncidentCommand, TextJson, command_app, figures
from geohazard_cli.cli.incident_common import (
    AtOpt,
    DbOpt,
    FormatOpt,
    IdArg,
    RulesForIncidentOpt,
    after_commit,
    db_flag,
    existing,
    hm,
    journal_for,
    mark,
    noun,
    parse_id,
    profile_for,
    read_response,
    required_text,
    resolver_for,
    say_set_aside,
    skew_of,
    tz_text,
    when_of,
)
from geohazard_cli.timeline import minutes_text

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from geohazard_cli.rules import Profile

app = command_app()


def profiles_in(cfg: Path) -> "Callable[[str], Profile | None]":
    """A response's plan profile by its id, from the config dir (None when it has no such profile),
    each loaded once: what ``due`` asks for the plan's deadlines (and the board for who decides)."""
    from geohazard_cli.config import rules_path
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.rules import load_profile

    profiles: dict[str, Profile | None] = {}

    def profile_of(plan: str) -> "Profile | None":
        if plan not in profiles:
            try:
                profiles[plan] = load_profile(rules_path(plan, None, cfg))
            except NotFoundError:
                profiles[plan] = None
        return profiles[plan]

    return profile_of


def due_data(db: str | None, ref: str | None, at: str | None, config_dir: Path | None) -> dict[str, Any]:
    """What ``incident due`` shows (and the board refreshes): across open responses, or one."""
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.deadlines import due, load

    cfg = resolve_dir(config_dir)
    local = load(cfg)
    missing: str | None = None  # the journal named, when it does not exist
    profile_of = profiles_in(cfg)
    if ref is not None:
        state, _ = read_response(db, ref)
        states = [state]
    else:
        j = journal_for(db, create=False, readonly=True)
        states = []
        if j is None:  # said, so that a wrong --db never reads as "nothing is late"
            from geohazard_cli.storage import locate, shown

            missing = shown(locate(db)[0])
        if j is not None:
            try:
                say_set_aside(j)
                with j.transaction(write=False):
                    states = j.states("open")
            finally:
                j.close()
    tz = tz_text(states[0].opened_at) if states else "+08:00"
    clock = when_of(at, tz, skew_minutes=10**6)  # --at here is the clock itself: any time may be asked about
    data = due(states, clock, local, profile_of)
    data["journal_missing"] = missing
    return data


@app.command("due")
def due_cmd(
    ref: Annotated[str | None, typer.Argument(
        metavar="[ID]", help="One response (default: every open one).", show_default=False)] = None,
    at: Annotated[str | None, typer.Option(
        "--at", help="The clock to judge by (default now): ISO 8601, '2026-07-21 09:40', '7月21日 9:40' "
                "or '09:40' (today).",
        show_default=False)] = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
) -> int:
    """What is late: each called unit with no answer past its deadline (minutes late, attempts so far,
    the number to try next), the units with no call recorded this round, and the reports due (速报,
    续报) with their deadlines and where each comes from (the plan's clause, or response.local.yaml).

    Example: geohazard incident due --at "2026-07-21 09:55"
    """
    from geohazard_cli.cli._common import emit_json

    data = due_data(db, ref, at, config_dir)
    if format is TextJson.json:
        emit_json(data)
        return 0
    for line in due_lines(data):
        print(line)
    return 0


def _hm(iso: str | None) -> str:
    return iso[11:16] if iso else "—"


def due_lines(data: dict[str, Any]) -> list[str]:
    """``incident due`` as text: per response, the units late with a call recorded (each with the number
    to try next), those never called this round (one line), the units still in time, the reports due."""
    from geohazard_cli.deadlines import FILENAME
    from geohazard_cli.timeline import OUTCOME_LABELS

    out = []
    if data.get("journal_missing"):
        out.append(f"日志 {data['journal_missing']} 尚不存在:还没有立案或记录预警"
                   "(若应有记录,检查 --db 或 $GEOHAZARD_DB)")
        return out
    if not data["configured"]:
        out.append(f"注意: 配置目录中没有 {FILENAME}(本局的应答、速报时限),无法判断逾期;只列出未呼叫的单位")
    kinds = {"incident": "事件", "warning": "预警响应"}
    rows = data["overdue"] + data["waiting"]
    ids = list(dict.fromkeys([r["response_id"] for r in rows] + [r["response_id"] for r in data["reports_due"]]
                             + [r["response_id"] for r in data["never_called"]]))
    for rid in ids:
        mine = [r for r in rows if r["response_id"] == rid]
        head = next(iter(mine), None)
        listed = next((r for r in data["never_called"] if r["response_id"] == rid), None)
        kind = kinds[(head or listed or {"kind": "incident"})["kind"]]
        line = f"{kind} #{rid}"
        if head:
            line += (f" · 本轮叫应 {_hm(head['round_started_at'])} 起 · 应答时限 {head['deadline']['minutes']} 分钟"
                     "(本局规定)")
        out.append(line)
        for r in (r for r in data["overdue"] if r["response_id"] == rid and r["called_at"]):
            outcome = OUTCOME_LABELS.get(r["last_outcome"] or "", "")
            out.append(f"  逾期 {minutes_text(r['minutes_late'])}  {r['unit']}  呼叫 {_hm(r['called_at'])} {outcome},"
                       f"已拨{r['attempts']}次  再拨 {r['next_number'] or '(无号码)'}")
        silent = [r for r in data["overdue"] if r["response_id"] == rid and not r["called_at"]]
        if silent:
            out.append(f"  逾期 {minutes_text(silent[0]['minutes_late'])}  未呼叫({len(silent)}): "
                       + "、".join(r["unit"] for r in silent))
        for r in (r for r in data["waiting"] if r["response_id"] == rid):
            outcome = OUTCOME_LABELS.get(r["last_outcome"] or "", "")
            called = f"呼叫 {_hm(r['called_at'])} {outcome},已拨{r['attempts']}次" if r["called_at"] else "未呼叫"
            out.append(f"  待应答  {r['unit']}  剩 {minutes_text(r['minutes_left'])}({called})")
        if not data["configured"]:
            units = [r["unit"] for r in data["never_called"] if r["response_id"] == rid]
            out.append(f"  未呼叫({len(units)}): " + "、".join(units))
        for r in (r for r in data["reports_due"] if r["response_id"] == rid):
            d = r["deadline"]
            where = d["clause"] if not d.get("local") else f"本局规定,{FILENAME}" + (
                f";预案:{d['plan']}({d['clause']})" if d.get("plan") else "")
            state = (f"已超时 {minutes_text(r['minutes_late'])}" if r["overdue"]
                     else f"剩 {minutes_text(r['minutes_left'])}")
            out.append(f"  {'逾期' if r['overdue'] else '待办'}  {r['report_name']} 应于 {_hm(r['due_at'])} 前"
                       f"({where}):{state}")
    if not out:
        out.append("没有逾期的叫应或上报")
    return out


@app.command("report")
@after_commit
def report(
    ref: IdArg,
    kind: Annotated[str, typer.Option(
        "--kind", help="速报 (the first report upward, §3.2.1), 续报 (a later one) or 更正 (a 续报 correcting "
        "figures amended after the 速报); also first, follow-up, correction.",
        show_default=False)],
    to: Annotated[list[str] | None, typer.Option(
        "--to", help="To whom (repeat): e.g. 区政府, 市应急局.", show_default=False)] = None,
    by: Annotated[str | None, typer.Option("--by", help="The officer who sent it (经办人).",
                                           show_default=False)] = None,
    note: Annotated[str | None, typer.Option("--note", help="How it was sent, its reference.",
                                             show_default=False)] = None,
    at: AtOpt = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
) -> int:
    """Record a report sent upward (速报 or 续报): 'incident due' then counts it.

    Example: geohazard incident report 3 --kind 速报 --to 区政府 --to 市应急局 --by 张三
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.deadlines import parse_report_kind
    from geohazard_cli.intake import parse_text
    from geohazard_cli.journal import event_json, event_text
    from geohazard_cli.responses import report_sent, state_of

    report_kind = parse_report_kind(kind, "--kind")
    recipients = [t for t in (parse_text(x, "--to") for x in to or []) if t]
    by_text = parse_text(by, "--by") if by is not None else None
    note_text = parse_text(note, "--note") if note is not None else None
    incident_id = parse_id(ref)
    j = existing(db, incident_id)
    try:
        record = state_of(j, incident_id)
        when = when_of(at, tz_text(record.opened_at), skew_minutes=skew_of(resolve_dir(config_dir)))
        record, events = report_sent(j, incident_id, report_kind, recipients, by_text, when, note_text)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({"id": record.id, "report": event_json(events[-1]), "reports": record.reports})
        return 0
    print(f"{mark(record)}{noun(record)} #{record.id} {event_text(events[-1])}({when.strftime('%Y-%m-%d %H:%M')})")
    return 0


@app.command("amend", cls=IncidentCommand)  # + the incident flags of fields.FIELDS and --file
@after_commit
def amend(
    ctx: typer.Context,
    ref: IdArg,
    reason: Annotated[str, typer.Option(
        "--reason", help="Why: what was mistyped (笔误, 时间录错).", show_default=False)],
    opened_at: Annotated[str | None, typer.Option(
        "--opened-at", help="The time it was really opened (接报时间), when the recorded one was mistyped.",
        show_default=False)] = None,
    at: AtOpt = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    rules: RulesForIncidentOpt = None,
) -> int:
    """Correct a mistyped opening time or figure, as a new event: the history keeps both, and the
    export shows the correction. A corrected figure is re-assessed (a level it calls for is proposed).

    Example: geohazard incident amend 3 --opened-at "2026-07-21 03:05" --reason 时间录错
    """
    from geohazard_cli.cli._common import emit_json, incident_values
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.errors import InputError
    from geohazard_cli.journal import event_json, event_text
    from geohazard_cli.models import Incident
    from geohazard_cli.responses import amend as amend_response
    from geohazard_cli.responses import incident_of, state_of, stated

    reason_text = required_text(reason, "--reason", "say what was mistyped")
    given = figures(ctx)
    typed = [k for k, v in given.items() if k != "file" and v is not None]
    incident_id = parse_id(ref)
    cfg = resolve_dir(config_dir)
    j = existing(db, incident_id)
    try:
        record = state_of(j, incident_id)
        tz = tz_text(record.opened_at)
        skew = skew_of(cfg)
        when = when_of(at, tz, skew_minutes=skew)
        opened: datetime | None = when_of(opened_at, tz, "--opened-at", skew) if opened_at is not None else None
        delta: dict[str, Any] = {}
        profile = None
        if typed or given.get("file") is not None:
            if record.response != "incident":
                raise InputError(f"ID: {incident_id} is a warning response; it has no figures to correct")
            profile = profile_for(record, cfg, rules)
            before = incident_of(record)
            delta = stated(before, Incident(**incident_values(given, profile, base=before)), typed)
        if not delta and opened is None:
            raise InputError("nothing to correct: give --opened-at TIME or the corrected figures")
        record, events = amend_response(j, incident_id, reason_text, when, profile,
                                        resolver_for(cfg, profile) if profile is not None else None,
                                        delta or None, opened)
    finally:
        j.close()
    if format is TextJson.json:
        from geohazard_cli.cli.incident_common import record_json

        emit_json({**record_json(record), "amend": event_json(events[0]),
                   "events": [event_json(e) for e in events]})
        return 0
    for e in events:
        print(f"{mark(record)}{noun(record)} #{record.id} {event_text(e)}")
    if delta and record.reports.get("correction"):  # the 速报 carried the figures now corrected
        from datetime import datetime as dt

        first = hm(dt.fromisoformat(record.reports["first"]))
        print(f"速报已报送({first}):更正后的数字须再报(续报/更正),'geohazard incident due {record.id}{db_flag(db)}' "
              f"列出期限;报送后: geohazard incident report {record.id}{db_flag(db)} --kind 更正")
    return 0
