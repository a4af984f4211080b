"""The incident journal: one SQLite file holding every incident, report, level change, call and answer.

An incident is not one call (§6.1.2, §6.2.2 "可视灾情及其发展情况及时调整响应级别"): reports arrive,
the grade is re-assessed, units are called and must answer (叫应, §6.3(1)), the response ends (§6.4)
and is summarised (§8(5)). The journal keeps all of it durably:

- one file; the schema carries a version (``PRAGMA user_version``) and is moved forward by
  ``MIGRATIONS`` inside one transaction; ``PRAGMA application_id`` marks the file as ours;
- every command is one transaction (``BEGIN IMMEDIATE`` for writes, so the state an update builds
  on is the state it commits over); WAL mode and a busy timeout let two officers write at once;
  ``synchronous=FULL`` so a reported success survives a crash;
- figures are stored as the model's JSON (money as exact decimal text, never REAL).

The re-grading and call-list diff (``reassess``, ``pending_units``, ``report``) are pure; the
``Journal`` class is the only code that touches the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from geohazard_cli.errors import ConfigError, InputError, NotFoundError, StateError, field_error
from geohazard_cli.grading import grade
from geohazard_cli.models import AMOUNT_FIELDS, FIELD_LABELS, TIME_FIELDS, Assessment, Incident
from geohazard_cli.money import format_wan
from geohazard_cli.rules import Profile
from geohazard_cli.timeutil import zone

ENV_DB = "GEOHAZARD_DB"
APP_NAME = "geohazard-cli"
DB_FILENAME = "journal.sqlite3"
APPLICATION_ID = 0x47484A4C  # "GHJL": marks a file as a geohazard journal
BUSY_TIMEOUT_S = 30.0

# Forward migrations: MIGRATIONS[n] takes a journal from schema version n to n + 1. Never edit a
# released entry; append a new one. Statements run one by one inside a single transaction.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE incidents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            exercise INTEGER NOT NULL CHECK (exercise IN (0, 1)),
            plan TEXT NOT NULL,                -- the plan profile id it is graded under
            opened_at TEXT NOT NULL,           -- ISO 8601 with offset
            updated_at TEXT NOT NULL,
            closed_at TEXT,
            close_reason TEXT,
            grade TEXT NOT NULL,
            grade_name TEXT NOT NULL,
            response_level TEXT NOT NULL,
            response_level_name TEXT NOT NULL,
            incident TEXT NOT NULL,            -- Incident as JSON; money as decimal text
            call_list TEXT,                    -- the current call list as JSON (null: none)
            created_at TEXT NOT NULL           -- wall clock (UTC) when the row was written
        )""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            kind TEXT NOT NULL
                CHECK (kind IN ('open', 'update', 'level_change', 'call', 'ack', 'close')),
            at TEXT NOT NULL,                  -- when it happened (--at, default now)
            recorded_at TEXT NOT NULL,         -- wall clock (UTC) when it was written
            grade TEXT,
            response_level TEXT,
            details TEXT NOT NULL              -- JSON
        )""",
        "CREATE INDEX events_by_incident ON events (incident_id, seq)",
    ),
    (
        # 2: the paper call sheet's 接听人 (who answered at the unit; the caller, 经办人, is details "by")
        # and 回应时间 (when the unit responded, ISO 8601; the call itself is "at", 呼叫时间).
        "ALTER TABLE events ADD COLUMN answerer TEXT",
        "ALTER TABLE events ADD COLUMN responded_at TEXT",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class Outcome(StrEnum):
    """How one call in the 叫应 loop went."""

    answered = "answered"
    no_answer = "no-answer"
    busy = "busy"
    other = "other"


# Labels for people, as on the paper call sheet (结果: 1 接通 2 未接 3 占线 4 其他; see
# templates/callsheet.*.j2); the machine keys above are what JSON carries.
OUTCOME_LABELS = {"answered": "接通", "no-answer": "未接", "busy": "占线", "other": "其他"}
OUTCOME_CODES = {"1": "answered", "2": "no-answer", "3": "busy", "4": "other"}
OUTCOME_ACCEPTED = "answered|no-answer|busy|other, 接通|未接|占线|其他 or 1|2|3|4"


def parse_outcome(text: str, field: str = "--outcome") -> Outcome:
    """An outcome as typed: the English key, the call sheet's label (接通) or its code (1)."""
    import unicodedata

    raw = unicodedata.normalize("NFKC", text).strip()
    key = raw.lower().replace("_", "-")
    by_label = {label: k for k, label in OUTCOME_LABELS.items()}
    value = OUTCOME_CODES.get(key) or by_label.get(raw) or key
    try:
        return Outcome(value)
    except ValueError:
        raise field_error(field, text, f"is not a call outcome (accepted: {OUTCOME_ACCEPTED})") from None
KIND_LABELS = {"open": "接报", "update": "续报", "level_change": "级别调整", "call": "叫应",
               "ack": "回应", "close": "响应终止"}


# --- models -----------------------------------------------------------------------------------

class Event(BaseModel):
    """One line of an incident's timeline."""

    seq: int
    kind: Literal["open", "update", "level_change", "call", "ack", "close"]
    at: datetime
    recorded_at: datetime
    grade: str | None
    response_level: str | None
    text: str  # the one-line Chinese description shown in the timeline
    details: dict[str, Any]
    answerer: str | None = None  # ack: 接听人, who answered at the unit (the caller is details "by")
    responded_at: datetime | None = None  # ack: 回应时间, when the unit responded (the call is "at")


class Record(BaseModel):
    """One incident as the journal holds it now."""

    id: int
    status: Literal["open", "closed"]
    exercise: bool
    plan: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    grade: str
    grade_name: str
    response_level: str
    response_level_name: str
    incident: Incident
    call_list: dict[str, Any] | None


class Change(BaseModel):
    """One figure that an update changed."""

    field: str
    label: str
    old: Any
    new: Any
    old_text: str | None
    new_text: str | None


class Reassessment(BaseModel):
    """What an update does: the new figures and grade, and how the level and call list moved."""

    incident: Incident
    assessment: Assessment
    changes: list[Change]
    previous_grade: str
    previous_grade_name: str
    previous_level: str
    previous_level_name: str
    grade_changed: bool
    level_changed: bool
    direction: Literal["up", "down", "same"]
    call_list: dict[str, Any] | None
    newly_called: list[dict[str, Any]]
    no_longer_needed: list[dict[str, Any]]


class PendingUnit(BaseModel):
    """A unit on the current call list with no 'answered' since the level was last set."""

    order: int | None
    unit: str
    unit_key: str
    phone: str | None
    dial: str | None
    last_outcome: str | None
    last_at: datetime | None


# A call-list resolver: assessment -> CallList (a pydantic model from roster.py), or None when the
# profile defines no dispatch. Passed in so the core stays pure and testable without a roster.
Resolver = Callable[[Assessment], Any]
Differ = Callable[[Any, Any], tuple[Sequence[Any], Sequence[Any]]]


# --- pure core ----------------------------------------------------------------------------------

def stated(previous: Incident, parsed: Incident, typed: Iterable[str]) -> dict[str, Any]:
    """The fields an update states: every flag typed (even if unchanged) and whatever else it changes.

    Applied over the latest state inside the write transaction, so two officers updating different
    figures at once both keep theirs (figures carry over; the last statement of a figure wins).
    """
    typed = set(typed)
    out = {k: getattr(parsed, k) for k in Incident.model_fields
           if k in typed or getattr(parsed, k) != getattr(previous, k)}
    if "hazard_type" in out:
        out["hazard_type_name"] = parsed.hazard_type_name
    return out


def merge(previous: Incident, delta: dict[str, Any]) -> Incident:
    """The previous figures with the stated ones replacing them (figures carry over)."""
    return Incident.model_validate({**previous.model_dump(), **delta})


def human_time(value: datetime | None, tz: str | None = None) -> str | None:
    """A time as people read it, "2026-07-21 09:40" (no T, no offset), in ``tz`` ("+08:00") if given.

    Text, Markdown and HTML show this; JSON keeps ISO 8601 with the offset."""
    if value is None:
        return None
    if tz is not None and value.tzinfo is not None:
        value = value.astimezone(zone(tz))
    return value.strftime("%Y-%m-%d %H:%M")


def value_text(field: str, value: Any, profile: Profile) -> str | None:
    """A figure as people read it: 140人, 500万元, 2026-07-21 09:40."""
    if value is None:
        return None
    if field in AMOUNT_FIELDS:
        return format_wan(Decimal(value))
    if field in TIME_FIELDS:
        return human_time(value, profile.timezone) if isinstance(value, datetime) else str(value)
    for ind in profile.indicators:
        if ind.key == field and ind.kind == "count":
            return f"{value}{ind.unit}"
    return str(value)


def figure_changes(old: Incident, new: Incident, profile: Profile) -> list[Change]:
    changes = []
    for field in Incident.model_fields:
        if field == "hazard_type_name":
            continue
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            shown = "hazard_type_name" if field == "hazard_type" else field
            changes.append(Change(
                field=field, label=FIELD_LABELS.get(field, field),
                old=_plain(a), new=_plain(b),
                old_text=value_text(field, getattr(old, shown), profile),
                new_text=value_text(field, getattr(new, shown), profile),
            ))
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def level_direction(profile: Profile, old: str, new: str) -> Literal["up", "down", "same"]:
    """Levels are listed highest first (I, II, III): a smaller index is a stronger response."""
    order = [lv.key for lv in profile.levels]
    if old == new or old not in order or new not in order:
        return "same"
    return "up" if order.index(new) < order.index(old) else "down"


def reassess(
    record: Record,
    delta: dict[str, Any],
    profile: Profile,
    resolve: Resolver | None = None,
    diff: Differ | None = None,
    call_list_type: Any = None,
) -> Reassessment:
    """Re-grade an incident with new figures; the level change and call-list diff it implies."""
    if profile.id != record.plan:
        raise InputError(f'incident {record.id} is graded under plan "{record.plan}", not "{profile.id}"')
    new_incident = merge(record.incident, delta)
    assessment = grade(new_incident, profile)
    call_list = resolve(assessment) if resolve is not None else None
    new_dump = call_list.model_dump(mode="json") if call_list is not None else None
    newly: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    if call_list is not None and diff is not None:
        old_obj = (call_list_type or type(call_list)).model_validate(record.call_list) \
            if record.call_list is not None else None
        n, d = diff(old_obj, call_list)
        newly = [e.model_dump(mode="json") for e in n]
        dropped = [e.model_dump(mode="json") for e in d]
    return Reassessment(
        incident=new_incident,
        assessment=assessment,
        changes=figure_changes(record.incident, new_incident, profile),
        previous_grade=record.grade,
        previous_grade_name=record.grade_name,
        previous_level=record.response_level,
        previous_level_name=record.response_level_name,
        grade_changed=assessment.grade != record.grade,
        level_changed=assessment.response_level != record.response_level,
        direction=level_direction(profile, record.response_level, assessment.response_level),
        call_list=new_dump,
        newly_called=newly,
        no_longer_needed=dropped,
    )


def pending_units(record: Record, events: Sequence[Event]) -> list[PendingUnit]:
    """Units on the current call list not yet acknowledged (叫应 not closed).

    An 'answered' counts from the last time the level was set (opening or a level change): a unit
    that answered for III级响应 has to be told that it is now II级响应.
    """
    if not record.call_list:
        return []
    since = 0
    for ev in events:
        if ev.kind in ("open", "level_change"):
            since = ev.seq
    answered: set[str] = set()
    last: dict[str, Event] = {}
    for ev in events:
        if ev.kind != "ack":
            continue
        key = ev.details.get("unit_key")
        if not isinstance(key, str):
            continue
        last[key] = ev
        if ev.seq > since and ev.details.get("outcome") == Outcome.answered.value:
            answered.add(key)
    out = []
    for entry in record.call_list.get("entries", []):
        key = entry.get("unit_key")
        if key in answered:
            continue
        prev = last.get(key) if isinstance(key, str) else None
        out.append(PendingUnit(
            order=entry.get("order"), unit=entry.get("unit", key), unit_key=key or "",
            phone=entry.get("phone"), dial=entry.get("dial"),
            last_outcome=prev.details.get("outcome") if prev else None,
            last_at=prev.at if prev else None,
        ))
    return out


def describe(kind: str, details: dict[str, Any], answerer: str | None = None,
             responded_at: datetime | None = None) -> str:
    """The one-line Chinese timeline text for an event (labels only; no plan wording)."""
    if kind == "open":
        a = details["assessment"]
        mark = "【演练】" if details.get("exercise") else ""
        figs = ";".join(f"{c['label']} {c['text']}" for c in details.get("figures", []))
        tail = f"({figs})" if figs else ""
        return f"{mark}接报立案:{a['grade_name']} → {a['response_level_name']}{tail}"
    if kind == "update":
        a = details["assessment"]
        figs = ";".join(f"{c['label']} {c['old_text'] or '未报告'} → {c['new_text'] or '未报告'}"
                        for c in details.get("changes", []))
        return f"续报:{figs or '数字无变化'};等级 {a['grade_name']},{a['response_level_name']}"
    if kind == "level_change":
        arrow = {"up": "升级", "down": "降级"}.get(details.get("direction", ""), "调整")
        return (f"响应级别调整({arrow}):{details['previous_level_name']} → {details['response_level_name']}"
                f"({details['previous_grade_name']} → {details['grade_name']})")
    if kind == "call":
        parts = []
        if details.get("newly"):
            parts.append("需叫应 " + "、".join(e["unit"] for e in details["newly"]))
        if details.get("dropped"):
            parts.append("不再需要 " + "、".join(e["unit"] for e in details["dropped"]))
        return "叫应名单:" + ";".join(parts)
    if kind == "ack":
        people = [f"{label}:{name}" for label, name in (("接听人", answerer), ("经办人", details.get("by")),
                                                       ("回应时间", human_time(responded_at)))
                  if name]
        who = f"({';'.join(people)})" if people else ""
        return f"叫应 {details['unit']}:{OUTCOME_LABELS.get(details['outcome'], details['outcome'])}{who}"
    if kind == "close":
        who = f"(宣布/意见:{details['by']})" if details.get("by") else ""
        return f"响应终止:{details['reason']}{who}"
    return kind  # pragma: no cover - kinds are checked by the schema


def assessment_summary(a: Assessment) -> dict[str, Any]:
    return {
        "grade": a.grade, "grade_name": a.grade_name,
        "response_level": a.response_level, "response_level_name": a.response_level_name,
        "lower_bound": a.lower_bound, "deciding_text": a.deciding_text,
    }


def reported_figures(incident: Incident, profile: Profile) -> list[dict[str, Any]]:
    """The figures an incident holds, labelled, for the opening line and the report."""
    out = []
    for field in Incident.model_fields:
        if field in ("hazard_type_name", "id"):
            continue
        shown = "hazard_type_name" if field == "hazard_type" else field
        text = value_text(field, getattr(incident, shown), profile)
        if text is not None:
            out.append({"field": field, "label": FIELD_LABELS.get(field, field),
                        "value": _plain(getattr(incident, field)), "text": text})
    return out


# --- storage -------------------------------------------------------------------------------------

def db_path(option: Path | None) -> tuple[Path, str]:
    """The journal file in force and how it was chosen: --db, $GEOHAZARD_DB, or the user data dir."""
    if option is not None:
        return option, "--db"
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env), ENV_DB
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME, "default"


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Journal:
    """An open journal file. Use ``transaction(write=...)`` around every command's reads and writes."""

    def __init__(self, conn: sqlite3.Connection, path: Path, how: str) -> None:
        self.conn = conn
        self.path = path
        self.how = how

    # -- connection and schema --
    @classmethod
    def open(cls, path: Path, how: str = "--db", create: bool = True,
             migrations: Sequence[Sequence[str]] = MIGRATIONS) -> Journal | None:
        """Open (and create or migrate) the journal; ``None`` if it does not exist and not ``create``."""
        label = how if how != "default" else "journal"
        if not path.exists():
            if not create:
                return None
            if how == "default":
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise InputError(f"{label}: {path}: the directory {path.parent} does not exist")
        elif path.is_dir():
            raise InputError(f"{label}: {path} is a directory; expected a journal file")
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(f"{label}: {path}: cannot open ({exc})") from None
        journal = cls(conn, path, how)
        try:
            with journal._errors():
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = FULL")
                journal._check_ours()
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                journal._migrate(migrations)
        except BaseException:
            conn.close()
            raise
        return journal

    def close(self) -> None:
        self.conn.close()

    def _check_ours(self) -> None:
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == APPLICATION_ID:
            return
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != 0 or version != 0 or tables:
            raise InputError(f"{self._label}: {self.path} is an SQLite file but not a geohazard journal")

    def _migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        target = len(migrations)
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == target:
            return
        if version > target:
            raise ConfigError(f"{self._label}: {self.path} has schema version {version}, newer than this "
                              f"geohazard knows ({target}); upgrade geohazard-cli")
        with self.transaction(write=True):
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            for step in migrations[version:]:
                for statement in step:
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.conn.execute(f"PRAGMA user_version = {target}")

    @property
    def _label(self) -> str:
        return self.how if self.how != "default" else "journal"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn SQLite failures into one-line messages naming the file."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if "locked" in msg or "busy" in msg:
                raise StateError(f"{self.path}: the journal stayed busy for {BUSY_TIMEOUT_S:.0f} s "
                                 "(another command is writing); try again") from None
            raise InputError(f"{self._label}: {self.path}: {msg}") from None
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self._label}: {self.path}: not a readable journal ({exc})") from None

    @contextmanager
    def transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One command = one transaction. Writes take the write lock first (BEGIN IMMEDIATE), so what
        an update reads is what it commits over; nothing is visible or kept unless COMMIT succeeds."""
        with self._errors():
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # -- reads (inside a transaction) --
    def get(self, incident_id: int) -> Record:
        row = self.conn.execute(
            "SELECT id, status, exercise, plan, opened_at, updated_at, closed_at, close_reason, grade, "
            "grade_name, response_level, response_level_name, incident, call_list "
            "FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no incident {incident_id} in {self.path} "
                                "(see 'geohazard incident list --all')")
        return _record(row)

    def records(self, status: str | None) -> list[Record]:
        sql = ("SELECT id, status, exercise, plan, opened_at, updated_at, closed_at, close_reason, grade, "
               "grade_name, response_level, response_level_name, incident, call_list FROM incidents")
        rows = (self.conn.execute(sql + " WHERE status = ? ORDER BY id", (status,)) if status
                else self.conn.execute(sql + " ORDER BY id"))
        return [_record(r) for r in rows]

    def history(self, incident_id: int) -> list[Event]:
        rows = self.conn.execute(
            "SELECT seq, kind, at, recorded_at, grade, response_level, details, answerer, responded_at "
            "FROM events WHERE incident_id = ? ORDER BY seq", (incident_id,))
        out = []
        for seq, kind, at, recorded_at, g, lv, details, answerer, responded_at in rows:
            d = json.loads(details)
            responded = datetime.fromisoformat(responded_at) if responded_at else None
            out.append(Event(seq=seq, kind=kind, at=at, recorded_at=recorded_at, grade=g, response_level=lv,
                             text=describe(kind, d, answerer, responded), details=d, answerer=answerer,
                             responded_at=responded))
        return out

    # -- writes (inside a write transaction) --
    def add_event(self, incident_id: int, kind: str, at: datetime, details: dict[str, Any],
                  grade_key: str | None = None, level: str | None = None, answerer: str | None = None,
                  responded_at: datetime | None = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO events (incident_id, kind, at, recorded_at, grade, response_level, details, answerer, "
            "responded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (incident_id, kind, _iso(at), _iso(utcnow()), grade_key, level, _dumps(details), answerer,
             _iso(responded_at) if responded_at is not None else None))
        return int(cur.lastrowid or 0)

    def open_writable(self, incident_id: int, at: datetime | None = None) -> Record:
        """The record, refusing a closed incident or a time before it was opened."""
        record = self.get(incident_id)
        if record.status == "closed":
            closed = human_time(record.closed_at) or "?"
            raise StateError(f"incident {incident_id} was closed at {closed} ({record.close_reason}); "
                             "a closed incident cannot be changed")
        if at is not None and at < record.opened_at:
            raise InputError(f'--at: "{human_time(at, _offset(record.opened_at))}" is before incident '
                             f"{incident_id} was opened ({human_time(record.opened_at)})")
        return record


def _offset(dt: datetime) -> str:
    """The offset of a stored (always aware) time, "+08:00"."""
    return dt.isoformat()[-6:]


def _record(row: Sequence[Any]) -> Record:
    (id_, status, exercise, plan, opened_at, updated_at, closed_at, close_reason, g, gname, lv, lvname,
     incident, call_list) = row
    return Record(
        id=id_, status=status, exercise=bool(exercise), plan=plan, opened_at=opened_at, updated_at=updated_at,
        closed_at=closed_at, close_reason=close_reason, grade=g, grade_name=gname, response_level=lv,
        response_level_name=lvname, incident=Incident.model_validate_json(incident),
        call_list=json.loads(call_list) if call_list else None,
    )


# --- operations: one transaction each ---------------------------------------------------------

def _later(a: datetime, b: datetime) -> datetime:
    return a if a >= b else b


def open_incident(j: Journal, incident: Incident, assessment: Assessment, call_list: dict[str, Any] | None,
                  profile: Profile, at: datetime, exercise: bool) -> tuple[Record, list[Event]]:
    """Record a new incident, its first assessment and the units to call."""
    summary = assessment_summary(assessment)
    with j.transaction(write=True) as conn:
        cur = conn.execute(
            "INSERT INTO incidents (status, exercise, plan, opened_at, updated_at, grade, grade_name, "
            "response_level, response_level_name, incident, call_list, created_at) "
            "VALUES ('open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (int(exercise), profile.id, _iso(at), _iso(at), assessment.grade, assessment.grade_name,
             assessment.response_level, assessment.response_level_name, incident.model_dump_json(),
             _dumps(call_list) if call_list is not None else None, _iso(utcnow())))
        incident_id = int(cur.lastrowid or 0)
        j.add_event(incident_id, "open", at, {
            "exercise": exercise, "plan": profile.id, "figures": reported_figures(incident, profile),
            "incident": incident.model_dump(mode="json"), "assessment": summary,
        }, assessment.grade, assessment.response_level)
        if call_list is not None and call_list.get("entries"):
            j.add_event(incident_id, "call", at, {"newly": call_list["entries"], "dropped": []},
                        assessment.grade, assessment.response_level)
        return j.get(incident_id), j.history(incident_id)


def update_incident(j: Journal, incident_id: int, delta: dict[str, Any], profile: Profile, at: datetime,
                    resolve: Resolver | None = None, diff: Differ | None = None,
                    call_list_type: Any = None) -> tuple[Record, Reassessment, list[int]]:
    """Apply a new report to an open incident: re-grade, record the update, any level change and
    any change to the call list, all in one transaction."""
    with j.transaction(write=True):
        record = j.open_writable(incident_id, at)
        r = reassess(record, delta, profile, resolve, diff, call_list_type)
        a = r.assessment
        seqs = [j.add_event(incident_id, "update", at, {
            "given": {k: _plain(v) for k, v in delta.items()},
            "changes": [c.model_dump(mode="json") for c in r.changes],
            "incident": r.incident.model_dump(mode="json"),
            "assessment": assessment_summary(a),
        }, a.grade, a.response_level)]
        if r.level_changed:
            seqs.append(j.add_event(incident_id, "level_change", at, {
                "direction": r.direction,
                "previous_level": r.previous_level, "previous_level_name": r.previous_level_name,
                "response_level": a.response_level, "response_level_name": a.response_level_name,
                "previous_grade": r.previous_grade, "previous_grade_name": r.previous_grade_name,
                "grade": a.grade, "grade_name": a.grade_name,
            }, a.grade, a.response_level))
        if r.newly_called or r.no_longer_needed:
            seqs.append(j.add_event(incident_id, "call", at, {"newly": r.newly_called,
                                                               "dropped": r.no_longer_needed},
                                    a.grade, a.response_level))
        call_list = r.call_list if r.call_list is not None else record.call_list
        j.conn.execute(
            "UPDATE incidents SET incident = ?, grade = ?, grade_name = ?, response_level = ?, "
            "response_level_name = ?, call_list = ?, updated_at = ? WHERE id = ?",
            (r.incident.model_dump_json(), a.grade, a.grade_name, a.response_level, a.response_level_name,
             _dumps(call_list) if call_list is not None else None,
             _iso(_later(record.updated_at, at)), incident_id))
        return j.get(incident_id), r, seqs


def acknowledge(j: Journal, incident_id: int, unit_key: str, unit_name: str, outcome: Outcome,
                by: str | None, at: datetime, answerer: str | None = None,
                responded_at: datetime | None = None) -> tuple[Record, Event, list[Event]]:
    """Record one call of the 叫应 loop, one row of the paper call sheet: ``at`` 呼叫时间, ``outcome``
    结果, ``answerer`` 接听人 (who answered at the unit), ``responded_at`` 回应时间, and ``by`` 经办人
    (the officer who made the call)."""
    if responded_at is not None and responded_at < at:
        raise InputError(f'--responded-at: "{human_time(responded_at, _offset(at))}" is before the call '
                         f"({human_time(at)})")
    with j.transaction(write=True):
        record = j.open_writable(incident_id, at)
        on_list = any(e.get("unit_key") == unit_key for e in (record.call_list or {}).get("entries", []))
        seq = j.add_event(incident_id, "ack", at, {
            "unit": unit_name, "unit_key": unit_key, "outcome": outcome.value, "by": by,
            "on_call_list": on_list,
        }, record.grade, record.response_level, answerer, responded_at)
        j.conn.execute("UPDATE incidents SET updated_at = ? WHERE id = ?",
                       (_iso(_later(record.updated_at, at)), incident_id))
        events = j.history(incident_id)
        return j.get(incident_id), next(e for e in events if e.seq == seq), events


def close_incident(j: Journal, incident_id: int, reason: str, at: datetime,
                   by: str | None = None) -> tuple[Record, list[Event]]:
    """Terminate the response (§6.4): the incident takes no more updates."""
    with j.transaction(write=True):
        record = j.open_writable(incident_id, at)
        j.add_event(incident_id, "close", at, {"reason": reason, "by": by}, record.grade, record.response_level)
        j.conn.execute("UPDATE incidents SET status = 'closed', closed_at = ?, close_reason = ?, "
                       "updated_at = ? WHERE id = ?",
                       (_iso(at), reason, _iso(_later(record.updated_at, at)), incident_id))
        return j.get(incident_id), j.history(incident_id)


def snapshot(j: Journal, incident_id: int) -> tuple[Record, list[Event]]:
    """The record and its timeline, read in one transaction (a consistent view)."""
    with j.transaction(write=False):
        return j.get(incident_id), j.history(incident_id)


def listing(j: Journal, status: str | None) -> list[Record]:
    with j.transaction(write=False):
        return j.records(status)


# --- the §8(5) summary report -------------------------------------------------------------------

def _t(value: datetime | None) -> str | None:
    return human_time(value)


def _unit_row(unit: str, key: str, phone: str | None) -> dict[str, Any]:
    return {"unit": unit, "unit_key": key, "phone": phone,
            "listed_at": None, "listed_text": None,            # put on the call list (列入名单)
            "first_call_at": None, "first_call_text": None,    # first recorded call, any result
            "first_answer_at": None, "first_answer_text": None,  # first recorded 接通
            "calls": [], "status": "pending"}


def report(record: Record, events: Sequence[Event], profile: Profile,
           generated_at: datetime) -> dict[str, Any]:
    """The data of the summary report (§8(5)): the same dict feeds the templates and ``--format json``.

    It claims no call that was not recorded: a unit's time on the call list (``listed_at``) is kept
    apart from its first recorded call (``first_call_at``) and answer (``first_answer_at``)."""
    levels = [{"at": e.at.isoformat(), "at_text": _t(e.at), "direction": e.details["direction"],
               "from": e.details["previous_level_name"], "to": e.details["response_level_name"],
               "from_grade": e.details["previous_grade_name"], "to_grade": e.details["grade_name"]}
              for e in events if e.kind == "level_change"]
    opening = next((e for e in events if e.kind == "open"), None)
    order = [lv.key for lv in profile.levels]
    seen_levels = [e.response_level for e in events if e.response_level]
    peak = min(seen_levels, key=lambda k: order.index(k) if k in order else len(order), default=None)
    units: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.kind == "call":
            for entry in e.details.get("newly", []):
                u = units.setdefault(entry["unit_key"], _unit_row(entry["unit"], entry["unit_key"],
                                                                  entry.get("dial") or entry.get("phone")))
                if u["listed_at"] is None:
                    u["listed_at"], u["listed_text"] = e.at.isoformat(), _t(e.at)
        elif e.kind == "ack":
            key = e.details["unit_key"]
            u = units.setdefault(key, _unit_row(e.details["unit"], key, None))
            outcome = e.details["outcome"]
            if u["first_call_at"] is None:
                u["first_call_at"], u["first_call_text"] = e.at.isoformat(), _t(e.at)
            if outcome == Outcome.answered.value and u["first_answer_at"] is None:
                u["first_answer_at"], u["first_answer_text"] = e.at.isoformat(), _t(e.at)
            u["calls"].append({"at": e.at.isoformat(), "at_text": _t(e.at), "outcome": outcome,
                               "outcome_name": OUTCOME_LABELS.get(outcome, outcome),
                               "by": e.details.get("by"), "answerer": e.answerer,
                               "responded_at": e.responded_at.isoformat() if e.responded_at else None,
                               "responded_text": _t(e.responded_at)})
    pending = {p.unit_key for p in pending_units(record, events)}
    current = {e.get("unit_key") for e in (record.call_list or {}).get("entries", [])}
    for key, u in units.items():
        if key in pending:
            u["status"] = "pending"
        elif key in current:
            u["status"] = "answered"
        else:
            u["status"] = "not_needed"
    closing = next((e for e in events if e.kind == "close"), None)
    duration = None
    end = record.closed_at or None
    if end is not None:
        minutes = int((end - record.opened_at).total_seconds() // 60)
        duration = {"minutes": minutes, "text": f"{minutes // 60}小时{minutes % 60}分"}
    current_grade = {"grade": record.grade, "grade_name": record.grade_name,
                     "response_level": record.response_level,
                     "response_level_name": record.response_level_name}
    return {
        "id": record.id,
        "external_ref": record.incident.id,
        "status": record.status,
        "exercise": record.exercise,
        "plan": record.plan,
        "plan_title": profile.title,
        "document": profile.document,
        "opened_at": record.opened_at.isoformat(),
        "opened_text": _t(record.opened_at),
        "closed_at": record.closed_at.isoformat() if record.closed_at else None,
        "closed_text": _t(record.closed_at),
        "close_reason": record.close_reason,
        "close_by": closing.details.get("by") if closing else None,
        "duration": duration,
        "generated_at": generated_at.isoformat(),
        "generated_text": _t(generated_at),
        "initial": opening.details["assessment"] if opening else None,
        # The grade now: 当前 while the incident is open, 终判 (final) only once it is closed.
        "current": current_grade,
        "final": current_grade if record.status == "closed" else None,
        "peak_level": peak,
        "peak_level_name": profile.level_by_key[peak].name if peak in profile.level_by_key else peak,
        "figures": reported_figures(record.incident, profile),
        "level_changes": levels,
        "units": list(units.values()),
        "pending": [p.model_dump(mode="json") for p in pending_units(record, events)],
        "counts": {kind: sum(1 for e in events if e.kind == kind) for kind in KIND_LABELS},
        "history": [{"seq": e.seq, "kind": e.kind, "kind_name": KIND_LABELS[e.kind], "at": e.at.isoformat(),
                     "at_text": _t(e.at), "text": e.text} for e in events],
    }
