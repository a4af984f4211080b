"""`geohazard incident open|update|decide|ack|close`: the commands that write a response's events."""

from typing import TYPE_CHECKING, Annotated

import typer

from geohazard_cli.cli._common import (
    ConfigDirOpt,
    IncidentCommand,
    PlanOpt,
    RulesOpt,
    SiteIncidentCommand,
    TextJson,
    command_app,
    figures,
)
from geohazard_cli.cli.incident_common import (
    AtOpt,
    DbOpt,
    FormatOpt,
    IdArg,
    RulesForIncidentOpt,
    after_commit,
    call_table,
    db_flag,
    existing,
    hm,
    journal_for,
    mark,
    noun,
    parse_id,
    print_call_list,
    print_journal_assessment,
    print_pending,
    print_update,
    profile_for,
    record_json,
    ref_text,
    refuse_future,
    required_text,
    resolver_for,
    suffixes_for,
    tz_text,
    when_of,
    writable_at,
)

if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

    from geohazard_cli.lifecycle import State
    from geohazard_cli.rules import Profile

app = command_app()


@app.command("open", cls=SiteIncidentCommand)  # + the flags of fields.FIELDS, --file, --site, --sites
@after_commit
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
    from geohazard_cli.clauses import first_measures
    from geohazard_cli.cli._common import emit_json, incident_values, load_config
    from geohazard_cli.journal import event_json
    from geohazard_cli.models import Incident
    from geohazard_cli.responses import open_incident

    cfg, profile = load_config(config_dir, plan, rules)
    given = figures(ctx)
    incident = Incident(**incident_values(given, profile))
    refuse_future(incident, profile.timezone, given)
    when = when_of(at, profile.timezone)
    resolve = resolver_for(cfg, profile)
    j = journal_for(db)
    assert j is not None
    try:
        record, events, assessment, call_list = open_incident(j, incident, profile, resolve, when, exercise)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({**record_json(record), "assessment": assessment.model_dump(mode="json"),
                   "first_measures": first_measures(profile),
                   "call_list": call_list, "history": [event_json(e) for e in events]})
        return 0
    from geohazard_cli.cli.term import Term

    out = Term()
    out.print(f"{mark(record)}{noun(record)} #{record.id} 已立案({hm(record.opened_at)};{profile.short_title})"
              f"{ref_text(record)}", style="bold")
    if record.linked_warning:
        out.print(f"关联预警响应 #{record.linked_warning}(接报时其街道的预警期应急响应)")
    print_journal_assessment(assessment)
    _print_first_measures(profile)
    print_call_list(call_list, "叫应名单")
    out.print(f"记录叫应: geohazard incident ack {record.id}{db_flag(db)} --unit 单位 --outcome 接通 "
              "--answerer 接听人 --by 经办人", wrap=False)
    return 0


@app.command("update", cls=IncidentCommand)  # + the incident flags of fields.FIELDS and --file
@after_commit
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
    from geohazard_cli.models import Incident
    from geohazard_cli.responses import incident_of, stated, update_incident

    given = figures(ctx)
    incident_id = parse_id(ref)
    j = existing(db, incident_id)
    try:
        record, when = writable_at(j, incident_id, at)
        cfg = resolve_dir(config_dir)
        profile = profile_for(record, cfg, rules)
        before = incident_of(record)
        parsed = Incident(**incident_values(given, profile, base=before))
        refuse_future(parsed, tz_text(record.opened_at), given)
        typed = [k for k, v in given.items() if k != "file" and v is not None]
        delta = stated(before, parsed, typed)
        if not delta and given.get("file") is None and not typed:
            raise InputError("nothing to update: give the new figures "
                             "(such as --evacuees 600) or --file PATH")
        record, _, r = update_incident(j, incident_id, delta, profile, resolver_for(cfg, profile), when)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({
            **record_json(record),  # response_level: the level in force; proposed_level: what the figures call for
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
    print_update(record, r, profile, db)
    return 0


@app.command("decide")
@after_commit
def decide(
    ref: IdArg,
    level: Annotated[str, typer.Option(
        "--level", help="The response level decided: its key (II), its name (II级响应) or II级.", show_default=False)],
    by: Annotated[str, typer.Option(
        "--by", help="Who decided (the plan's decider, as its profile names it in decisions.decider: the "
        "district plan's is 区政府).", show_default=False)],
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
    from geohazard_cli.intake import parse_text
    from geohazard_cli.journal import event_json, event_text
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import decide as decide_level

    incident_id = parse_id(ref)
    by_text = parse_text(by, "--by")
    note_text = parse_text(note, "--note") if note is not None else None
    j = existing(db, incident_id)
    try:
        record, when = writable_at(j, incident_id, at)
        cfg = resolve_dir(config_dir)
        profile = profile_for(record, cfg, rules)
        who = profile.decisions
        by_text = required_text(by_text or "", "--by", f"name who decided (the plan's decider: {who.decider}, "
                                f"§{who.source})")
        record, events = decide_level(j, incident_id, level, by_text, profile, resolver_for(cfg, profile), when,
                                      note_text)
    finally:
        j.close()
    decision = events[-1].details
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**record_json(record), "decision": event_json(events[-1]), "newly_called": decision["newly"],
                   "no_longer_needed": decision["dropped"], "call_list": record.call_list, "pending": pending})
        return 0
    from geohazard_cli.cli.term import Term

    out = Term()
    out.print(f"{mark(record)}{noun(record)} #{record.id} {event_text(events[-1])}({hm(when)})", style="bold")
    decider = profile.decisions.decider
    if by_text != decider:  # recorded as given: the officer may be minuting a delegated decision
        out.print(f"注意: 预案规定由{decider}决定({profile.decisions.source});已按所填记录决定人“{by_text}”",
                  style="yellow", wrap=False)
    if decision["newly"]:
        call_table(out, f"新增叫应单位({len(decision['newly'])})", decision["newly"])
    if decision["dropped"]:
        out.print("不再需要: " + "、".join(e["unit"] for e in decision["dropped"]), wrap=False)
    if decision["direction"] in ("up", "down"):
        out.print("新一轮叫应:请将级别调整通知名单上各单位")
    print_pending(pending, record)
    return 0


def _unit_of(name: str, record: "State", config_dir: "Path | None") -> tuple[str, str]:
    """The unit an ack names: as the response's call list names it (key or full name), else as the
    roster resolves it (aliases, short street names, the closest name when unknown)."""
    from geohazard_cli.responses import listed_unit, resolve_unit

    found = listed_unit(name, [record])
    if found is not None:
        return found
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.contacts_load import load_roster

    cfg = resolve_dir(config_dir)
    return resolve_unit(name, load_roster(cfg), [record], suffixes_for(record, cfg))


@app.command("ack")
@after_commit
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
    from geohazard_cli.intake import parse_text, parse_time
    from geohazard_cli.journal import event_json, event_text
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import acknowledge
    from geohazard_cli.timeline import parse_outcome

    incident_id = parse_id(ref)
    result = parse_outcome(outcome)
    by_text = parse_text(by, "--by") if by is not None else None
    answerer_text = parse_text(answerer, "--answerer") if answerer is not None else None
    j = existing(db, incident_id)
    try:
        record, when = writable_at(j, incident_id, at)
        responded = parse_time(responded_at, "--responded-at", tz_text(record.opened_at)) \
            if responded_at is not None else None
        calls = list(dict.fromkeys(_unit_of(u, record, config_dir) for u in unit))
        record, events = acknowledge(j, incident_id, calls, result, by_text, when, answerer_text, responded)
    finally:
        j.close()
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**record_json(record), "ack": event_json(events[-1]), "acks": [event_json(e) for e in events],
                   "pending": pending})
        return 0
    from geohazard_cli.cli.term import Term

    out = Term()
    for event in events:
        out.print(f"{mark(record)}{noun(record)} #{record.id} {event_text(event)}({hm(event.at)})", style="bold")
        if not event.details.get("on_call_list"):
            out.print(f"注意: {event.details['unit']} 不在当前叫应名单上", style="yellow")
    print_pending(pending, record, out)
    return 0



@app.command("close")
@after_commit
def close(
    ref: IdArg,
    confirm: Annotated[list[str] | None, typer.Option(
        "--confirm", metavar="N", help="A criterion of the response's end (§6.4(1), as numbered by 'incident close "
        "ID' without it) the officer confirms holds: repeat it, or 1,2,3.", show_default=False)] = None,
    confirm_all: Annotated[bool, typer.Option(
        "--confirm-all", help="Every criterion of §6.4 holds (they are printed with the result).")] = False,
    reason: Annotated[str | None, typer.Option(
        "--reason", help="Why the response ends, in the officer's words (default: the confirmed criteria).",
        show_default=False)] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who declared the end, or on whose advice (§6.4: the profile names the decider).",
        show_default=False)] = None,
    at: AtOpt = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    rules: RulesForIncidentOpt = None,
) -> int:
    """Terminate the response (响应终止, §6.4), once each criterion is confirmed. A closed incident takes
    no more updates or calls. Without --confirm it lists the criteria, numbered, and closes nothing.

    Example: geohazard incident close 3 --confirm-all --by 区政府
    """
    from geohazard_cli.clauses import confirmed_criteria
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.intake import parse_text
    from geohazard_cli.journal import event_text
    from geohazard_cli.lifecycle import pending as pending_of
    from geohazard_cli.responses import close as close_response

    incident_id = parse_id(ref)
    numbers = _criterion_numbers(confirm or [])
    reason_text = required_text(reason, "--reason", "say why the response ends (§6.4)") if reason is not None else None
    by_text = parse_text(by, "--by") if by is not None else None
    j = existing(db, incident_id)
    try:
        record, when = writable_at(j, incident_id, at)
        profile = profile_for(record, resolve_dir(config_dir), rules)  # its criteria (§6.4)
        if not numbers and not confirm_all and format is TextJson.text:
            import sys

            # the checklist, on stderr before the refusal below (a refusal writes nothing to stdout)
            _print_termination_criteria(profile, record, stream=sys.stderr)
        criteria = confirmed_criteria(profile, record.response, "all" if confirm_all else numbers)
        if reason_text is None:
            reason_text = required_text("、".join(c["text"] for c in criteria), "--reason",
                                        "say why the response ends (§6.4)")
        confirmed = [f"{c['text']}({c['source']})" for c in criteria]
        record, events = close_response(j, incident_id, reason_text, by_text, when, confirmed)
    finally:
        j.close()
    pending = pending_of(record)
    if format is TextJson.json:
        emit_json({**record_json(record), "pending": pending, "confirmed": confirmed})
        return 0
    from geohazard_cli.cli.term import Term

    out = Term()
    out.print(f"{mark(record)}{noun(record)} #{record.id} {event_text(events[-1])}({hm(record.closed_at or when)})",
              style="bold", wrap=False)
    if pending:
        out.print("未应答的单位: " + "、".join(p["unit"] for p in pending), style="yellow", wrap=False)
    _print_termination_criteria(profile, record, ticked=True)
    if by_text is None:  # a decision names who decided: say it is missing, and how to give it next time
        out.print(f"注意: 未记录宣布终止者({profile.decisions.termination.decider}宣布,"
                  f"{profile.decisions.termination.source});以 --by 记录", style="yellow", wrap=False)
    out.print(f"总结报告: geohazard incident export {record.id}{db_flag(db)} --format markdown", wrap=False)
    return 0


def _criterion_numbers(given: list[str]) -> list[int]:
    """--confirm 1 --confirm 2, or --confirm 1,2 (、 and ，too): the criterion numbers."""
    import re

    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import nfkc

    out: list[int] = []
    for value in given:
        for part in re.split(r"[,、\s]+", nfkc(value).strip()):
            if not part.isascii() or not part.isdigit():
                raise InputError(f'--confirm: "{value}" is not a criterion number (1, 2, ... or 1,2,3; '
                                 "'incident close ID' lists them)")
            out.append(int(part))
    return out


# --- the plan's clauses where they act (pure data from clauses.py) ----------------------------

def _print_first_measures(profile: "Profile") -> None:
    """§5 先期处置, for every level, after the assessment of a new incident."""
    from geohazard_cli.clauses import first_measures
    from geohazard_cli.cli.term import Term

    fm = first_measures(profile)
    if fm is None:
        return
    out = Term()
    out.print(f"{fm['title']}({fm['source']}):{fm['text']}", style="bold", wrap=False)
    for m in fm["items"]:
        out.print(f"  [ ] {m['text']}({m['source']})", wrap=False)


def _print_termination_criteria(profile: "Profile", record: "State", ticked: bool = False,
                                stream: "TextIO | None" = None) -> None:
    """§6.4: each criterion of the response's end, numbered for --confirm (``ticked`` once confirmed),
    and who decides, from the incident's own profile; to ``stream`` (default stdout)."""
    from geohazard_cli.clauses import termination_lines
    from geohazard_cli.cli.term import Term

    lines = termination_lines(profile, record.response, ticked)
    if lines:
        out = Term(stream)
        title = "已确认终止条件:" if ticked else f"终止响应前请逐条确认(确认后: geohazard incident close {record.id} " \
            "--confirm N ... 或 --confirm-all):"
        out.print(title, style="bold", wrap=False)
        for line in lines:
            out.print(f"  {line}", wrap=False)
