"""`geohazard incident`: the incident journal (open, update, ack, show, list, close, export).

The shell only: options -> journal.py (one transaction per command) -> text or JSON. sqlite3,
platformdirs, rich, jinja2 and the roster are imported inside the commands that need them.
"""

import functools
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from geohazard_cli.cli._common import (
    ConfigDirOpt,
    HelpfulGroup,
    IncidentCommand,
    PlanOpt,
    RulesOpt,
    SiteIncidentCommand,
    TextJson,
    command_app,
    figures,
)

if TYPE_CHECKING:
    from datetime import datetime

    from geohazard_cli.journal import Journal
    from geohazard_cli.lifecycle import Event, State
    from geohazard_cli.models import Assessment
    from geohazard_cli.responses import Resolver, Update
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


def _journal(db: Path | None, create: bool = True, readonly: bool = False) -> "Journal | None":
    """The journal; ``readonly`` for the reading commands (opened ``mode=ro``: never created or migrated,
    readable in a directory this user cannot write)."""
    from geohazard_cli.journal import Journal, db_path

    path, how = db_path(db)
    return Journal.open(path, how, create=create, readonly=readonly, waiting=_say)


def _say(text: str) -> None:
    """A line on stderr while the command goes on (waiting for the journal's lock)."""
    print(f"geohazard: {text}", file=sys.stderr, flush=True)


def _say_set_aside(j: "Journal") -> None:
    """Each row a read set aside, one warning line each: the rest is shown."""
    for damage in dict.fromkeys(j.set_aside):
        _say(f"warning: {damage.text()} (see 'geohazard incident check')")


def _existing(db: Path | None, incident_id: int, readonly: bool = False) -> "Journal":
    """The journal for a command on an existing incident: never created by a read or a typo'd id."""
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.journal import db_path

    j = _journal(db, create=False, readonly=readonly)
    if j is None:
        path, _ = db_path(db)
        raise NotFoundError(f"no incident {incident_id}: the journal {path} does not exist yet "
                            "(start one with 'geohazard incident open')")
    return j


def _read(db: Path | None, ref: str, whole: bool = False) -> "tuple[State, list[Event]]":
    """An existing incident's record and events, read without writing (show, export). Rows that do not
    read back are set aside with a warning; ``whole`` (a report) refuses a timeline missing an event."""
    from geohazard_cli.journal import Damaged
    from geohazard_cli.responses import read

    incident_id = _incident_id(ref)
    j = _existing(db, incident_id, readonly=True)
    try:
        record, events = read(j, incident_id)
    finally:
        j.close()
    _say_set_aside(j)
    lost = [d for d in j.set_aside if d.seq is not None]
    if whole and lost:
        raise Damaged(f"incident {incident_id}: {len(lost)} event(s) of its timeline cannot be read, so no "
                      "report is made from it (see 'geohazard incident check'; 'geohazard incident show "
                      f"{incident_id}' shows the rest)")
    return record, events


F = TypeVar("F", bound=Callable[..., Any])


def _after_commit(func: F) -> F:
    """Nothing after the commit fails the command: what is recorded is recorded, and an officer told
    it failed would enter it again. An error while printing the result is a warning, exit 0."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from geohazard_cli.journal import committed

        before = committed()
        try:
            rv = func(*args, **kwargs)
            sys.stdout.flush()
            return rv
        except BrokenPipeError:
            raise  # the reader went away: nothing more to say (the boundary ends quietly)
        except (Exception, KeyboardInterrupt) as exc:
            if committed() == before:
                raise
            ref = kwargs.get("ref")
            where = f"'geohazard incident show {ref}'" if ref else "'geohazard incident list'"
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _say(f"warning: recorded in the journal, but the result could not be shown "
                 f"({type(exc).__name__}: {reason}); do not enter it again: {where} shows it")
            return 0

    return wrapper  # type: ignore[return-value]


def _tz_text(dt: "datetime | None") -> str:
    """The offset of a stored (always aware) time, "+08:00": an incident keeps its opening time zone."""
    return dt.isoformat()[-6:] if dt is not None else "+08:00"


def _when(at: str | None, tz: str) -> "datetime":
    """--at, or now, in the incident's (the plan's) time zone, to the second."""
    from datetime import datetime

    from geohazard_cli.intake import parse_time

    if at is not None:
        return parse_time(at, "--at", tz)
    return datetime.now(parse_time("2000-01-01T00:00", "--at", tz).tzinfo).replace(microsecond=0)


def _profile_for(record: "State", cfg: Path, rules: Path | None) -> "Profile":
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


def _profile_or_notice(record: "State", cfg: Path, rules: Path | None) -> "tuple[Profile | None, str | None]":
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


def _dispatch(cfg: Path, profile: "Profile") -> "Resolver":
    """Who each level calls (the plan's call lists, from the roster), as the lifecycle core takes it."""
    from geohazard_cli.contacts import load_roster
    from geohazard_cli.dispatch import resolve_call_list

    roster = load_roster(cfg)

    def resolve(assessment: "Assessment") -> dict[str, Any]:
        return resolve_call_list(assessment, profile, roster).model_dump(mode="json")

    return resolve


def _record_json(record: "State") -> dict[str, Any]:
    return {
        "id": record.id, "status": record.status, "exercise": record.exercise, "plan": record.plan,
        "grade": record.grade, "grade_name": record.grade_name,
        "response_level": record.response_level, "response_level_name": record.response_level_name,
        "opened_at": record.opened_at.isoformat() if record.opened_at else None,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
        "closed_at": record.closed_at.isoformat() if record.closed_at else None,
        "close_reason": record.close_reason,
        "kind": record.response,
        # The assessment is a proposal: a level it calls for that is not (yet) decided, and who decided
        # the level in force (None: as opened, not yet decided).
        "proposed_level": (record.proposed or {}).get("response_level"),
        "proposed_level_name": (record.proposed or {}).get("response_level_name"),
        "decided_by": record.decided_by,
        "location": record.incident.get("location"), "hazard_type_name": record.incident.get("hazard_type_name"),
        # The officer-supplied --id (来文编号, the reporting unit's reference); the journal's id is "id".
        "external_ref": record.incident.get("id"),
    }


def _level_line(record: "State", profile: "Profile | None") -> str:
    """The level in force and who decided it, and a proposal not yet decided: never one for the other."""
    decider = profile.decisions.decider if profile is not None else ""
    if record.proposed:
        return (f"建议 {record.proposed['response_level_name']}(待{decider}决定;现行 {record.response_level_name})")
    who = f"{record.decided_by}决定" if record.decided_by else f"接报级别,待{decider}决定"
    return f"现行 {record.response_level_name}({who})"


def _noun(record: "State") -> str:
    """What a response is called on screen: 事件 (an incident) or 预警响应 (a warning period)."""
    return "预警响应" if record.response == "warning" else "事件"


def _mark(record: "State") -> str:
    return "【演练】" if record.exercise else ""


def _ref(record: "State") -> str:
    """The officer-supplied --id, labelled as what it is: an external reference, not the incident id."""
    ref = record.incident.get("id")
    return f" · 来文编号 {ref}" if ref else ""


def _hm(dt: "datetime | None") -> str:
    from geohazard_cli.timeline import human_time

    return human_time(dt) or ""


def _print_assessment(assessment: "Assessment") -> None:
    """classify's assessment panel, without the officer's --id in its title: in the journal the
    incident's id is the journal id (#3); the --id is shown as 来文编号 in the header line."""
    from geohazard_cli.cli.panels import print_assessment

    incident = assessment.incident.model_copy(update={"id": None})
    print_assessment(assessment.model_copy(update={"incident": incident}))


# --- commands ---------------------------------------------------------------------------------

@incident_app.command("open", cls=SiteIncidentCommand)  # + the flags of fields.FIELDS, --file, --site, --sites
@_after_commit
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
    from geohazard_cli.cli._common import emit_json, incident_values, load_config
    from geohazard_cli.journal import event_json
    from geohazard_cli.models import Incident
    from geohazard_cli.responses import open_incident

    cfg, profile = load_config(config_dir, plan, rules)
    incident = Incident(**incident_values(figures(ctx), profile))
    when = _when(at, profile.timezone)
    resolve = _dispatch(cfg, profile)
    j = _journal(db)
    assert j is not None
    try:
        record, events, assessment, call_list = open_incident(j, incident, profile, resolve, when, exercise)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({**_record_json(record), "assessment": assessment.model_dump(mode="json"),
                   "call_list": call_list, "history": [event_json(e) for e in events]})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    out.print(f"{_mark(record)}{_noun(record)} #{record.id} 已立案({_hm(record.opened_at)};{profile.short_title})"
              f"{_ref(record)}", style="bold")
    _print_assessment(assessment)
    _print_call_list(call_list, "叫应名单")
    out.print(f"记录叫应: geohazard incident ack {record.id} --unit 单位 --outcome 接通 "
              "--answerer 接听人 --by 经办人")
    return 0


@incident_app.command("update", cls=IncidentCommand)  # + the incident flags of fields.FIELDS and --file
@_after_commit
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
    from geohazard_cli.cli._common import emit_json, incident_values
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.errors import InputError
    from geohazard_cli.journal import check_writable
    from geohazard_cli.models import Incident
    from geohazard_cli.responses import incident_of, read, stated, update_incident

    given = figures(ctx)
    incident_id = _incident_id(ref)
    j = _existing(db, incident_id)
    try:
        record, _ = read(j, incident_id)
        when = _when(at, _tz_text(record.opened_at))
        check_writable(record, when)  # fail early; checked again inside the write transaction
        cfg = resolve_dir(config_dir)
        profile = _profile_for(record, cfg, rules)
        before = incident_of(record)
        parsed = Incident(**incident_values(given, profile, base=before))
        typed = [k for k, v in given.items() if k != "file" and v is not None]
        delta = stated(before, parsed, typed)
        if not delta and given.get("file") is None and not typed:
            raise InputError("nothing to update: give the new figures "
                             "(such as --evacuees 600) or --file PATH")
        record, _, r = update_incident(j, incident_id, delta, profile, _dispatch(cfg, profile), when)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({
            **_record_json(record),  # response_level: the level in force; proposed_level: what the figures call for
            "assessed_level": r.assessment.response_level,
            "previous_level": r.previous_level,
            "level_changed": r.level_changed,  # the assessment calls for another level: proposed, not in force
            "direction": r.direction,
            "grade": r.assessment.grade,
            "previous_grade": r.previous_grade,
            "grade_changed": r.grade_changed,
            "changes": r.changes,
            "newly_called": r.newly_called,
            "no_longer_needed": r.no_longer_needed,
            "assessment": r.assessment.model_dump(mode="json"),
            "call_list": record.call_list,
            # The proposed level's call list, to prepare (newly_called / no_longer_needed are against it).
            "proposed_call_list": r.call_list if r.level_changed else None,
        })
        return 0
    _print_update(record, r, profile)
    return 0


@incident_app.command("decide")
@_after_commit
def decide(
    ref: IdArg,
    level: Annotated[str, typer.Option(
        "--level", help="The response level decided: its key (II), its name (II级响应) or II级.", show_default=False)],
    by: Annotated[str, typer.Option(
        "--by", help="Who decided (the plan's decider, e.g. 区政府; §6.1.2, §6.2.2).", show_default=False)],
    note: Annotated[str | None, typer.Option(
        "--note", help="What was decided, as minuted (会商意见, 文号).", show_default=False)] = None,
    at: AtOpt = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    rules: RulesForIncidentOpt = None,
) -> int:
    """Record the decision on an incident's response level (启动/调整, §6.1.2, §6.2.2): the tool's
    assessment is a proposal; the level in force changes only by a decision, which names who made it.
    A changed level is a new round of 叫应: every unit on its call list is to be called again.

    Example: geohazard incident decide 3 --level II --by 区政府
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import parse_text
    from geohazard_cli.journal import check_writable, event_json, event_text
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import decide as decide_level
    from geohazard_cli.responses import read

    incident_id = _incident_id(ref)
    by_text = parse_text(by, "--by")
    if not by_text:
        raise InputError('--by: "" is empty; name who decided (e.g. 区政府)')
    note_text = parse_text(note, "--note") if note is not None else None
    j = _existing(db, incident_id)
    try:
        record, _ = read(j, incident_id)
        when = _when(at, _tz_text(record.opened_at))
        check_writable(record, when)
        cfg = resolve_dir(config_dir)
        profile = _profile_for(record, cfg, rules)
        record, events = decide_level(j, incident_id, level, by_text, profile, _dispatch(cfg, profile), when,
                                      note_text)
    finally:
        j.close()
    decision = events[-1].details
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**_record_json(record), "decision": event_json(events[-1]), "newly_called": decision["newly"],
                   "no_longer_needed": decision["dropped"], "call_list": record.call_list, "pending": pending})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    out.print(f"{_mark(record)}{_noun(record)} #{record.id} {event_text(events[-1])}({_hm(when)})", style="bold")
    if decision["newly"]:
        out.print(_call_table(f"新增叫应单位({len(decision['newly'])})", decision["newly"]))
    if decision["dropped"]:
        out.print("不再需要: " + "、".join(e["unit"] for e in decision["dropped"]), soft_wrap=True)
    if decision["direction"] in ("up", "down"):
        out.print("新一轮叫应:请将级别调整通知名单上各单位")
    _print_pending(pending, record)
    return 0


@incident_app.command("ack")
@_after_commit
def ack(
    ref: IdArg,
    unit: Annotated[list[str], typer.Option(
        "--unit", help="The unit called (full or short name, as in contacts.yaml); repeat it to record "
        "the same outcome for several units in one go.", show_default=False)],
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
    from geohazard_cli.journal import check_writable, event_json, event_text
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import acknowledge, read, resolve_unit
    from geohazard_cli.timeline import parse_outcome

    incident_id = _incident_id(ref)
    result = parse_outcome(outcome)
    by_text = parse_text(by, "--by") if by is not None else None
    answerer_text = parse_text(answerer, "--answerer") if answerer is not None else None
    j = _existing(db, incident_id)
    try:
        record, _ = read(j, incident_id)
        when = _when(at, _tz_text(record.opened_at))
        check_writable(record, when)  # fail early; checked again inside the write transaction
        responded = parse_time(responded_at, "--responded-at", _tz_text(record.opened_at)) \
            if responded_at is not None else None
        from geohazard_cli.contacts import load_roster

        roster = load_roster(resolve_dir(config_dir))
        calls = list(dict.fromkeys(resolve_unit(u, roster, [record]) for u in unit))
        record, events = acknowledge(j, incident_id, calls, result, by_text, when, answerer_text, responded)
    finally:
        j.close()
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**_record_json(record), "ack": event_json(events[-1]), "acks": [event_json(e) for e in events],
                   "pending": pending})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    for event in events:
        out.print(f"{_mark(record)}{_noun(record)} #{record.id} {event_text(event)}({_hm(event.at)})", style="bold",
                  markup=False)
        if not event.details.get("on_call_list"):
            out.print(f"注意: {event.details['unit']} 不在当前叫应名单上", style="yellow", markup=False)
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
    from geohazard_cli.journal import event_json
    from geohazard_cli.lifecycle import acknowledged
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import incident_of
    from geohazard_cli.summary import recorded_assessment

    record, events = _read(db, ref)
    profile, notice = _profile_or_notice(record, resolve_dir(config_dir), rules)
    assessment = grade(incident_of(record), profile) if profile is not None and record.response == "incident" \
        else None
    recorded = recorded_assessment(events)
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**_record_json(record), "incident": record.incident,
                   "warning": record.warning,
                   "plan_available": profile is not None, "notice": notice,
                   "assessment": assessment.model_dump(mode="json") if assessment is not None else None,
                   "recorded_assessment": recorded, "call_list": record.call_list,
                   "round_started_at": record.round_at.isoformat() if record.round_at else None,
                   "pending": pending, "acknowledged": acknowledged(record),
                   "history": [event_json(e) for e in events]})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    status = "处置中"
    if record.closed_at is not None:
        status = f"已终止({_hm(record.closed_at)}:{record.close_reason})"
    out.print(f"{_mark(record)}{_noun(record)} #{record.id} · {status} · 立案 {_hm(record.opened_at)} · "
              f"更新 {_hm(record.updated_at)}{_ref(record)}", style="bold")
    if record.response == "warning":
        w = record.warning or {}
        out.print(f"{w.get('level_name')}{w.get('event') or ''}({'、'.join(w.get('areas') or [])})"
                  + (f" · {w['period']}" if w.get("active") and w.get("period") else ""), style="bold")
        title = "当前叫应名单"
    elif assessment is not None:
        _print_assessment(assessment)
        out.print(_level_line(record, profile), style="bold yellow" if record.proposed else "bold")
        title = "当前叫应名单"
    else:
        from geohazard_cli.responses import recorded_figures

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
    from geohazard_cli.responses import listing

    if open_ + closed + all_ > 1:
        raise InputError("--open, --closed, --all: give at most one")
    status = None if all_ else "closed" if closed else "open"
    j = _journal(db, create=False, readonly=True)
    records: list[State] = []
    if j is not None:
        try:
            records = listing(j, status)
        finally:
            j.close()
        _say_set_aside(j)
    if format is TextJson.json:
        emit_json([_record_json(r) for r in records])
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    if not records:
        out.print({"open": "没有处置中的事件", "closed": "没有已终止的事件", None: "日志中没有事件"}[status])
        return 0
    head = ("编号", "来文编号", "状态", "演练", "等级", "响应级别", "立案时间", "更新时间", "类型 · 地点")
    rows = [(f"#{r.id}", r.incident.get("id") or "", "处置中" if r.status == "open" else "已终止",
             "演练" if r.exercise else "",
             r.grade_name or _noun(r), r.response_level_name, _hm(r.opened_at), _hm(r.updated_at),
             " · ".join(x for x in (r.incident.get("hazard_type_name"), r.incident.get("location"),
                                    *((r.warning or {}).get("areas") or [])) if x))
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
@_after_commit
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
    from geohazard_cli.journal import check_writable, event_text
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import close as close_response
    from geohazard_cli.responses import read

    incident_id = _incident_id(ref)
    reason_text = parse_text(reason, "--reason")
    if not reason_text:
        raise InputError('--reason: "" is empty; say why the response ends (§6.4)')
    by_text = parse_text(by, "--by") if by is not None else None
    j = _existing(db, incident_id)
    try:
        record, _ = read(j, incident_id)
        when = _when(at, _tz_text(record.opened_at))
        check_writable(record, when)
        record, events = close_response(j, incident_id, reason_text, by_text, when)
    finally:
        j.close()
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**_record_json(record), "pending": pending})
        return 0
    from geohazard_cli.cli._common import console

    out = console()
    out.print(f"{_mark(record)}{_noun(record)} #{record.id} {event_text(events[-1])}({_hm(record.closed_at or when)})",
              style="bold", soft_wrap=True, markup=False)
    if pending:
        out.print("未应答的单位: " + "、".join(p["unit"] for p in pending), style="yellow", soft_wrap=True,
                  markup=False)
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
    from geohazard_cli.summary import report

    record, events = _read(db, ref, whole=True)
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
    # With contacts.local.yaml numbers on the list, every number says where it comes from.
    tagged = any(e.get("origin") == "local" or e.get("backups") for e in entries)
    for e in entries:
        row = [str(e.get("order", "")), e.get("unit", ""), _numbers_text(e, tagged)]
        if status is not None:
            row.append(status.get(e.get("unit_key", ""), ""))
        table.add_row(*row)
    return table


def _numbers_text(entry: dict[str, Any], tagged: bool) -> str:
    """The numbers of a call-list entry: the primary, then the backups; each with 〔预案〕/〔本地〕
    when ``tagged``."""
    from geohazard_cli.documents import ORIGIN_NAMES

    first = entry.get("dial") or entry.get("phone")
    if not first:
        return "—"
    numbers = [(first, entry.get("origin")), *((b.get("dial"), b.get("origin")) for b in entry.get("backups") or [])]
    return " / ".join(f"{n}〔{ORIGIN_NAMES.get(o or 'plan', o)}〕" if tagged else str(n) for n, o in numbers)


def _print_call_list(call_list: dict[str, Any] | None, title: str, status: dict[str, str] | None = None) -> None:
    from geohazard_cli.cli._common import console

    out = console()
    if not call_list or not call_list.get("entries"):
        out.print(f"{title}: 无", style="dim")
        return
    level = call_list.get("level_name") or call_list.get("level") or ""
    out.print(_call_table(f"{title}({level},{len(call_list['entries'])}个单位)", call_list["entries"], status))


def _print_update(record: "State", r: "Update", profile: "Profile") -> None:
    from rich.panel import Panel
    from rich.text import Text

    from geohazard_cli.cli._common import console

    out = console()
    a = r.assessment
    changes = ";".join(f"{c['label']} {c['old_text'] or '未报告'} → {c['new_text'] or '未报告'}" for c in r.changes)
    out.print(f"{_mark(record)}{_noun(record)} #{record.id} 续报已记录:{changes or '数字无变化'}", style="bold",
              soft_wrap=True, markup=False)
    if r.level_changed:
        arrow = "升级" if r.direction == "up" else "降级"
        d = profile.decisions
        lv = a.response_level
        body: list[Any] = [Text(f"建议 {r.previous_level_name} → {a.response_level_name}({arrow})",
                                style="bold red" if r.direction == "up" else "bold yellow"),
                           Text(f"等级: {r.previous_grade_name} → {a.grade_name}")]
        body += [Text(line) for line in a.deciding_text]
        body.append(Text(f"现行级别仍为 {r.previous_level_name},由{d.proposer}向{d.decider}提出建议,"
                         f"{d.decider}决定({d.source})"))
        body.append(Text(f"决定后记录: geohazard incident decide {record.id} --level {lv} --by {d.decider}"))
        from rich.console import Group

        out.print(Panel(Group(*body), title=f"⚠ 建议调整响应级别 · {_noun(record)} #{record.id}",
                        title_align="left", border_style="red" if r.direction == "up" else "yellow", expand=False))
    else:
        grade_text = f"{r.previous_grade_name} → {a.grade_name}" if r.grade_changed \
            else f"{a.grade_name}(未变)"
        out.print(f"等级: {grade_text};{a.response_level_name}(未变)")
    if r.newly_called:  # for a proposal: the units to prepare, called once it is decided
        title = f"拟新增叫应单位({len(r.newly_called)},待决定)" if r.level_changed \
            else f"新增叫应单位({len(r.newly_called)})"
        out.print(_call_table(title, r.newly_called))
    if r.no_longer_needed:
        out.print(f"{'拟' if r.level_changed else ''}不再需要: " + "、".join(e["unit"] for e in r.no_longer_needed),
                  soft_wrap=True)
    if r.level_changed and not r.newly_called and not r.no_longer_needed:
        out.print("叫应名单不变;决定后请将级别调整通知名单上各单位")


def _ack_status(record: "State", events: "list[Event]") -> dict[str, str]:
    """unit key -> what the 叫应 column shows: 未应答 / the last outcome and time / 已应答."""
    from datetime import datetime

    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.timeline import OUTCOME_LABELS

    pending = {p["unit_key"]: p for p in pending_of(record)}
    out = {}
    for e in (record.call_list or {}).get("entries", []):
        key = e.get("unit_key", "")
        p = pending.get(key)
        if p is None:
            out[key] = "已应答"
        elif p["last_at"] is not None and p["last_outcome"] is not None:
            out[key] = (f"未应答({_hm(datetime.fromisoformat(p['last_at']))} "
                        f"{OUTCOME_LABELS.get(p['last_outcome'], p['last_outcome'])})")
        else:
            out[key] = "未应答"
    return out


def _print_pending(pending: list[Any], record: "State") -> None:
    from geohazard_cli.cli._common import console

    out = console()
    if not record.call_list or not record.call_list.get("entries"):
        return
    if not pending:
        out.print("叫应名单上各单位均已应答", style="green")
        return
    out.print(f"尚未应答({len(pending)}): " + "、".join(p["unit"] for p in pending), style="yellow", soft_wrap=True,
              markup=False)


def _print_history(events: "list[Event]") -> None:
    from geohazard_cli.cli._common import console
    from geohazard_cli.journal import event_text
    from geohazard_cli.timeline import human_time

    out = console()
    out.print("时间线", style="bold")
    for e in events:
        out.print(f"{human_time(e.at, seconds=True)}  {event_text(e)}", soft_wrap=True, highlight=False,
                  markup=False)


# --- the journal's health ---------------------------------------------------------------------

@incident_app.command("check")
def check(
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
) -> int:
    """Check the journal: SQLite's integrity_check and foreign_key_check, every row read back, every
    stored state against its events replayed. Exit 2 on any damage. Reads only.
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.journal import db_path
    from geohazard_cli.journal_check import check as check_journal

    j = _journal(db, create=False, readonly=True)
    if j is None:
        raise NotFoundError(f"the journal {db_path(db)[0]} does not exist yet (nothing to check)")
    try:
        report = check_journal(j)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json(report.plain())
    else:
        from geohazard_cli.cli._common import console

        out = console()
        out.print(f"日志 {report.path}(schema {report.schema_version})", style="bold", soft_wrap=True)
        out.print(f"SQLite integrity_check: {'; '.join(report.integrity)}", soft_wrap=True)
        out.print(f"SQLite foreign_key_check: {'; '.join(report.foreign_keys) or 'ok'}", soft_wrap=True)
        out.print(f"已检查: {report.responses} 个响应, {report.events} 条事件;搁置 {len(report.set_aside)} 条;"
                  f"状态与事件不符 {len(report.disagreements)} 个")
        for damage in (*report.set_aside, *report.disagreements):
            out.print(f"  {damage.text()}", style="yellow", soft_wrap=True)
        out.print("结论: 有损坏" if report.damaged else "结论: 完好", style="bold")
    if report.damaged:
        _say(f"error: the journal {report.path} is damaged: {len(report.set_aside)} row(s) set aside, "
             f"{len(report.disagreements)} stored state(s) disagree with their events"
             + ("" if report.integrity == ["ok"] and not report.foreign_keys else ", SQLite's checks failed"))
        return 2
    return 0


@incident_app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy (replaced whole if "
                                         "it exists; written 0600).", show_default=False)],
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
) -> int:
    """Copy the journal with SQLite's online backup: a consistent copy while others write. Reads only.

    Example: geohazard incident backup /mnt/usb/journal-2026-07-21.sqlite3
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.journal import db_path
    from geohazard_cli.journal_check import backup as backup_journal

    j = _journal(db, create=False, readonly=True)
    if j is None:
        raise NotFoundError(f"the journal {db_path(db)[0]} does not exist yet (nothing to back up)")
    try:
        written, size = backup_journal(j, file)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({"source": str(j.path), "backup": str(written), "bytes": size})
        return 0
    from geohazard_cli.cli._common import console

    console().print(f"已备份: {j.path} → {written}({size} 字节;可用 --db {written} 查看)", soft_wrap=True)
    return 0
