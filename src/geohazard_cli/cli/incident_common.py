"""What the `geohazard incident` commands share: their options, how they open the journal and read
a response, the clock (--at), the profile an incident is graded under, and the text output.

The shell only: options -> responses.py (one transaction per command) -> text or JSON. sqlite3,
platformdirs, jinja2 and the roster are imported inside the functions that need them.
"""


import functools
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from geohazard_cli.cli._common import (
    TextJson,
)
from geohazard_cli.cli.clock import DEFAULT_SKEW_MINUTES as DEFAULT_SKEW_MINUTES
from geohazard_cli.cli.clock import refuse_future as refuse_future
from geohazard_cli.cli.clock import skew_of as skew_of
from geohazard_cli.cli.clock import when_of as when_of

if TYPE_CHECKING:
    from datetime import datetime

    from geohazard_cli.cli.term import Term
    from geohazard_cli.lifecycle import Event, State
    from geohazard_cli.models import Assessment
    from geohazard_cli.responses import Resolver, Update
    from geohazard_cli.rules import Profile
    from geohazard_cli.storage import Storage as Journal  # either backend


class ExportFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    json = "json"


DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Journal file, or a postgresql://user@host/db URL shared by several stations "
                 "(default: $GEOHAZARD_DB, else journal.sqlite3 in the user data directory). Created on first use.",
                 show_default=False),
]
FormatOpt = Annotated[TextJson, typer.Option("--format", "-f", help="Output format.")]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="When it happened: ISO 8601, '2026-07-21 09:40', '2026年7月21日9时40分', "
                 "'7月21日 9:40' (this year) or '09:40' (today); no offset = the plan's +08:00; default now.",
                 show_default=False),
]
IdArg = Annotated[
    str, typer.Argument(metavar="ID", help="Incident id, as printed by 'incident open' / 'incident list'."),
]
RulesForIncidentOpt = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules file of the incident's plan profile, when it is not in rules/ "
                 "(it must have the same id).", show_default=False),
]


# --- shared helpers ---------------------------------------------------------------------------

def parse_id(text: str) -> int:
    from geohazard_cli.errors import InputError

    raw = text.strip().removeprefix("#")
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise InputError(f'ID: "{text}" is not an incident id '
                         "(a number such as 3; see 'geohazard incident list')")
    return int(raw)


def journal_for(db: str | None, create: bool = True, readonly: bool = False) -> "Journal | None":
    """The journal (an SQLite file or a PostgreSQL URL: ``storage.open_journal``); ``readonly`` for the
    reading commands (never created or migrated; a file is opened ``mode=ro``). A writer records who
    writes: the station and officer (``station.resolve``)."""
    from geohazard_cli.storage import locate, open_journal

    spec, how = locate(db)
    j = open_journal(spec, how, create=create, readonly=readonly, waiting=say)
    if j is not None and not readonly:
        from geohazard_cli.cli.incident import who
        from geohazard_cli.config import config_dir
        from geohazard_cli.station import resolve

        found = resolve(who.get("station"), who.get("officer"), config_dir(None))
        j.station, j.officer = found.station, found.officer
    return j


def db_flag(db: str | None) -> str:
    """`` --db X`` for the next-step commands a command prints, when --db was given, so the line
    pasted as printed reaches the same journal; a URL's password is left out (it comes from
    PGPASSWORD or ~/.pgpass), never printed."""
    if not db:
        return ""
    import shlex

    from geohazard_cli.storage import is_url

    if is_url(db):
        from geohazard_cli.journal_pg import redact

        db = redact(db, mask=False)
    return f" --db {shlex.quote(db)}"


def say(text: str) -> None:
    """A line on stderr while the command goes on (waiting for the journal's lock)."""
    print(f"geohazard: {text}", file=sys.stderr, flush=True)


def say_set_aside(j: "Journal") -> None:
    """Each row a read set aside, one warning line each: the rest is shown."""
    for damage in dict.fromkeys(j.set_aside):
        say(f"warning: {damage.text()} (see 'geohazard incident check')")


def existing(db: str | None, incident_id: int, readonly: bool = False) -> "Journal":
    """The journal for a command on an existing incident: never created by a read or a typo'd id."""
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.storage import locate, shown

    j = journal_for(db, create=False, readonly=readonly)
    if j is None:
        path = shown(locate(db)[0])
        raise NotFoundError(f"no incident {incident_id}: the journal {path} does not exist yet "
                            "(start one with 'geohazard incident open')")
    return j


def read_response(db: str | None, ref: str, whole: bool = False) -> "tuple[State, list[Event]]":
    """An existing incident's record and events, read without writing (show, export). Rows that do not
    read back are set aside with a warning; ``whole`` (a report) refuses a timeline missing an event."""
    from geohazard_cli.journal import Damaged
    from geohazard_cli.responses import read

    incident_id = parse_id(ref)
    j = existing(db, incident_id, readonly=True)
    try:
        record, events = read(j, incident_id)
    finally:
        j.close()
    say_set_aside(j)
    lost = [d for d in j.set_aside if d.seq is not None]
    if whole and lost:
        raise Damaged(f"incident {incident_id}: {len(lost)} event(s) of its timeline cannot be read, so no "
                      "report is made from it (see 'geohazard incident check'; 'geohazard incident show "
                      f"{incident_id}' shows the rest)")
    return record, events


F = TypeVar("F", bound=Callable[..., Any])


def after_commit(func: F) -> F:
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
            say(f"warning: recorded in the journal, but the result could not be shown "
                 f"({type(exc).__name__}: {reason}); do not enter it again: {where} shows it")
            return 0

    return wrapper  # type: ignore[return-value]


def writable_at(j: "Journal", incident_id: int, at: str | None) -> "tuple[State, datetime]":
    """The response's state and the command's time (--at or now, in its zone), refusing a closed
    response or a time before it opened: checked early, and again inside the write transaction."""
    from geohazard_cli.journal import check_writable
    from geohazard_cli.responses import state_of

    record = state_of(j, incident_id)
    when = when_of(at, tz_text(record.opened_at))
    check_writable(record, when)
    return record, when


def required_text(value: str, flag: str, what: str) -> str:
    """Free text that may not be empty (a reason, who decided): one line saying what is wanted."""
    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import parse_text

    text = parse_text(value, flag)
    if not text:
        raise InputError(f'{flag}: "" is empty; {what}')
    return text


def tz_text(dt: "datetime | None") -> str:
    """The offset of a stored (always aware) time, "+08:00": an incident keeps its opening time zone."""
    return dt.isoformat()[-6:] if dt is not None else "+08:00"


def profile_for(record: "State", cfg: Path, rules: Path | None) -> "Profile":
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


def profile_or_notice(record: "State", cfg: Path, rules: Path | None) -> "tuple[Profile | None, str | None]":
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
    return profile_for(record, cfg, rules), None


def suffixes_for(record: "State", cfg: Path) -> list[str]:
    """The street-name endings of the incident's profile (responses.resolve_unit reads short street
    names with them, as warning --area does); none when the profile is not in the config dir."""
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.responses import street_suffixes

    try:
        return street_suffixes(profile_for(record, cfg, None))
    except NotFoundError:
        return []


def resolver_for(cfg: Path, profile: "Profile") -> "Resolver":
    """Who each level calls (the plan's call lists, from the roster), as the lifecycle core takes it."""
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.dispatch import resolve_call_list

    roster = load_roster(cfg)
    said: set[str] = set()  # (a command may resolve more than one call list)

    def resolve(assessment: "Assessment") -> dict[str, Any]:
        from geohazard_cli.cli._common import say_unmatched_location

        say_unmatched_location(assessment.incident.location, roster, said)
        return resolve_call_list(assessment, profile, roster).model_dump(mode="json")

    return resolve


def record_json(record: "State") -> dict[str, Any]:
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
        "linked_warning": record.linked_warning,  # the warning response open for its street at opening
        "location": record.incident.get("location"), "hazard_type_name": record.incident.get("hazard_type_name"),
        # The officer-supplied --id (来文编号, the reporting unit's reference); the journal's id is "id".
        "external_ref": record.incident.get("id"),
    }


def level_line(record: "State", profile: "Profile | None") -> str:
    """The level in force and who decided it, and a proposal not yet decided: never one for the other."""
    decider = profile.decisions.decider if profile is not None else ""
    if record.proposed:
        return (f"建议 {record.proposed['response_level_name']}(待{decider}决定;现行 {record.response_level_name})")
    who = f"{record.decided_by}决定" if record.decided_by else f"接报级别,待{decider}决定"
    return f"现行 {record.response_level_name}({who})"


def noun(record: "State") -> str:
    """What a response is called on screen: 事件 (an incident) or 预警响应 (a warning period)."""
    return "预警响应" if record.response == "warning" else "事件"


def mark(record: "State") -> str:
    return "【演练】" if record.exercise else ""


def ref_text(record: "State") -> str:
    """The officer-supplied --id, labelled as what it is: an external reference, not the incident id."""
    ref = record.incident.get("id")
    return f" · 来文编号 {ref}" if ref else ""


def hm(dt: "datetime | None") -> str:
    from geohazard_cli.timeline import human_time

    return human_time(dt) or ""


def print_journal_assessment(assessment: "Assessment") -> None:
    """classify's assessment panel, without the officer's --id in its title: in the journal the
    incident's id is the journal id (#3); the --id is shown as 来文编号 in the header line."""
    from geohazard_cli.cli.panels import print_assessment

    incident = assessment.incident.model_copy(update={"id": None})
    print_assessment(assessment.model_copy(update={"incident": incident}))



# --- text output ------------------------------------------------------------------------------

def call_table(out: "Term", title: str, entries: list[dict[str, Any]],
               status: dict[str, str] | None = None) -> None:
    """One line per unit with the number to dial (the call sheet has the reasons and duties)."""
    from geohazard_cli.cli.term import Column

    columns = [Column(c) for c in ("序", "单位", "电话", *(("叫应",) if status is not None else ()))]
    # With contacts.local.yaml numbers on the list, every number says where it comes from.
    tagged = any(e.get("origin") == "local" or e.get("backups") for e in entries)
    rows = []
    for e in entries:
        row = [str(e.get("order", "")), e.get("unit", ""), numbers_text(e, tagged)]
        if status is not None:
            row.append(status.get(e.get("unit_key", ""), ""))
        rows.append((row, ""))
    out.table(columns, rows, title)


def numbers_text(entry: dict[str, Any], tagged: bool) -> str:
    """The numbers of a call-list entry: the primary, then the backups; each with 〔预案〕/〔本地〕
    when ``tagged``."""
    from geohazard_cli.documents import ORIGIN_NAMES

    first = entry.get("dial") or entry.get("phone")
    if not first:
        return "—"
    numbers = [(first, entry.get("origin")), *((b.get("dial"), b.get("origin")) for b in entry.get("backups") or [])]
    return " / ".join(f"{n}〔{ORIGIN_NAMES.get(o or 'plan', o)}〕" if tagged else str(n) for n, o in numbers)


def print_call_list(call_list: dict[str, Any] | None, title: str, status: dict[str, str] | None = None) -> None:
    from geohazard_cli.cli.term import Term

    out = Term()
    if not call_list or not call_list.get("entries"):
        out.print(f"{title}: 无", style="dim")
        return
    level = call_list.get("level_name") or call_list.get("level") or ""
    call_table(out, f"{title}({level},{len(call_list['entries'])}个单位)", call_list["entries"], status)


def print_update(record: "State", r: "Update", profile: "Profile", db: str | None = None) -> None:
    from geohazard_cli.cli.term import Term

    out = Term()
    a = r.assessment
    changes = ";".join(f"{c['label']} {c['old_text'] or '未报告'} → {c['new_text'] or '未报告'}" for c in r.changes)
    out.print(f"{mark(record)}{noun(record)} #{record.id} 续报已记录:{changes or '数字无变化'}", style="bold",
              wrap=False)
    if r.level_changed:
        arrow = "升级" if r.direction == "up" else "降级"
        d = profile.decisions
        lv = a.response_level
        body = [[(f"建议 {r.previous_level_name} → {a.response_level_name}({arrow})",
                  "bold red" if r.direction == "up" else "bold yellow")],
                [(f"等级: {r.previous_grade_name} → {a.grade_name}", "")]]
        body += [[(line, "")] for line in a.deciding_text]
        body.append([(f"现行级别仍为 {r.previous_level_name},由{d.proposer}向{d.decider}提出建议,"
                      f"{d.decider}决定({d.source})", "")])
        out.panel(f"⚠ 建议调整响应级别 · {noun(record)} #{record.id}", body,
                  border="red" if r.direction == "up" else "yellow", expand=False)
        # outside the panel, on one line, so it can be copied and pasted whole
        out.print(f"决定后记录: geohazard incident decide {record.id}{db_flag(db)} --level {lv} --by {d.decider}",
                  wrap=False)
    else:
        grade_text = f"{r.previous_grade_name} → {a.grade_name}" if r.grade_changed \
            else f"{a.grade_name}(未变)"
        out.print(f"等级: {grade_text};{a.response_level_name}(未变)")
    if r.newly_called:  # for a proposal: the units to prepare, called once it is decided
        title = f"拟新增叫应单位({len(r.newly_called)},待决定)" if r.level_changed \
            else f"新增叫应单位({len(r.newly_called)})"
        call_table(out, title, r.newly_called)
    if r.no_longer_needed:
        out.print(f"{'拟' if r.level_changed else ''}不再需要: " + "、".join(e["unit"] for e in r.no_longer_needed),
                  wrap=False)
    if r.level_changed and not r.newly_called and not r.no_longer_needed:
        out.print("叫应名单不变;决定后请将级别调整通知名单上各单位")


def ack_status(record: "State", events: "list[Event]") -> dict[str, str]:
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
            out[key] = (f"未应答({hm(datetime.fromisoformat(p['last_at']))} "
                        f"{OUTCOME_LABELS.get(p['last_outcome'], p['last_outcome'])})")
        else:
            out[key] = "未应答"
    return out


def print_pending(pending: list[Any], record: "State", out: "Term | None" = None) -> None:
    from geohazard_cli.cli.term import Term

    out = out or Term()
    if not record.call_list or not record.call_list.get("entries"):
        return
    if not pending:
        out.print("叫应名单上各单位均已应答", style="green")
        return
    out.print(f"尚未应答({len(pending)}): " + "、".join(p["unit"] for p in pending), style="yellow", wrap=False)


def print_history(events: "list[Event]") -> None:
    from geohazard_cli.cli.term import Term
    from geohazard_cli.journal import event_text
    from geohazard_cli.timeline import human_time

    out = Term()
    out.print("时间线", style="bold")
    for e in events:
        who = " ".join(x for x in (e.station, e.officer) if x)
        out.print(f"{human_time(e.at, seconds=True)}  {event_text(e)}" + (f"  [{who}]" if who else ""), wrap=False)


