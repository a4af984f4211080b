"""The journal: one SQLite file holding every response (incidents and warning periods) as its events.

Storage only: it appends the events the lifecycle core (``lifecycle.py``) decides and keeps, beside
them, the state the core folds from them (a snapshot, so a write reads one row, never the whole
history). What a response *is* lives in the core; ``responses.py`` holds the operations.

- one file; the schema carries a version (``PRAGMA user_version``) and is moved forward by
  ``MIGRATIONS`` inside one transaction; ``PRAGMA application_id`` marks the file as ours;
- every command is one transaction (``BEGIN IMMEDIATE`` for writes, so the state a command decides
  on is the state it commits over); WAL mode and a busy timeout let two officers write at once;
  ``synchronous=FULL`` so a reported success survives a crash;
- events are only ever appended; figures are stored as JSON (money as exact decimal text, never REAL).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geohazard_cli import lifecycle
from geohazard_cli.errors import ConfigError, InputError, NotFoundError, StateError
from geohazard_cli.lifecycle import Draft, Event, State
from geohazard_cli.timeline import describe, human_time, offset_of

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
    (
        # 3: warning periods are responses too (kind), and each row keeps the lifecycle core's state
        # as a snapshot (null: not yet computed; the next read replays the events). The event kinds
        # are checked by the core, so new kinds need no table rebuild.
        "ALTER TABLE incidents ADD COLUMN response TEXT NOT NULL DEFAULT 'incident'",
        "ALTER TABLE incidents ADD COLUMN state TEXT",
        """CREATE TABLE events_v3 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            grade TEXT,
            response_level TEXT,
            details TEXT NOT NULL,
            answerer TEXT,
            responded_at TEXT
        )""",
        "INSERT INTO events_v3 SELECT seq, incident_id, kind, at, recorded_at, grade, response_level, details, "
        "answerer, responded_at FROM events",
        "DROP TABLE events",
        "ALTER TABLE events_v3 RENAME TO events",
        "CREATE INDEX events_by_incident ON events (incident_id, seq)",
        "CREATE INDEX incidents_by_status ON incidents (status, id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def db_path(option: Path | None) -> tuple[Path, str]:
    """The journal file in force and how it was chosen: --db, $GEOHAZARD_DB, or the user data dir."""
    if option is not None:
        return option, "--db"
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env), ENV_DB
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME, "default"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def event_json(e: Event) -> dict[str, Any]:
    """An event as ``--format json`` shows it in a history."""
    return {"seq": e.seq, "kind": e.kind, "at": e.at.isoformat(), "recorded_at": e.recorded_at.isoformat(),
            "grade": e.grade, "response_level": e.response_level, "text": event_text(e),
            "details": e.details, "answerer": e.answerer,
            "responded_at": e.responded_at.isoformat() if e.responded_at else None}


def event_text(e: Event) -> str:
    return describe(e.kind, e.details, e.answerer, e.responded_at)


_EVENT_COLUMNS = "seq, kind, at, recorded_at, grade, response_level, details, answerer, responded_at"
_STATE_COLUMNS = "id, state"


class Journal:
    """An open journal. Use ``transaction(write=...)`` around every command's reads and writes."""

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
        return cls._ready(conn, path, how, migrations)

    @classmethod
    def memory(cls, name: str = "drill") -> Journal:
        """A journal that lives in memory only (a drill rehearses on one)."""
        journal = cls._ready(sqlite3.connect(":memory:", isolation_level=None), Path(f":memory:{name}"),
                             "--db", MIGRATIONS)
        assert journal is not None
        return journal

    @classmethod
    def _ready(cls, conn: sqlite3.Connection, path: Path, how: str,
               migrations: Sequence[Sequence[str]]) -> Journal:
        journal = cls(conn, path, how)
        try:
            with journal._errors():
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = FULL")
                journal._check_ours()
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
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
        a command reads is what it commits over; nothing is visible or kept unless COMMIT succeeds."""
        with self._errors():
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # -- reads (inside a transaction) --
    def state(self, response_id: int) -> State:
        """The response's state: its snapshot, or (a journal migrated from before snapshots) its
        events replayed."""
        row = self.conn.execute("SELECT id, state, call_list FROM incidents WHERE id = ?",
                                (response_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no incident {response_id} in {self.path} "
                                "(see 'geohazard incident list --all')")
        return self._state_of(row)

    def _state_of(self, row: Sequence[Any]) -> State:
        response_id, snapshot, call_list = row
        if snapshot is not None:
            return lifecycle.from_plain(json.loads(snapshot))
        state = lifecycle.replay(response_id, self.events(response_id))
        if call_list is not None:  # written before call events carried the whole list
            state.call_list = json.loads(call_list)
        return state

    def states(self, status: str | None = None, response: str | None = None) -> list[State]:
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if response:
            where.append("response = ?")
            params.append(response)
        sql = "SELECT id, state, call_list FROM incidents" + (f" WHERE {' AND '.join(where)}" if where else "")
        return [self._state_of(r) for r in self.conn.execute(sql + " ORDER BY id", params).fetchall()]

    def events(self, response_id: int) -> list[Event]:
        rows = self.conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE incident_id = ? ORDER BY seq",
                                 (response_id,))
        return [_event(r) for r in rows]

    def writable(self, response_id: int, at: datetime | None = None) -> State:
        """The state, refusing a closed response or a time before it was opened."""
        state = self.state(response_id)
        check_writable(state, at)
        return state

    # -- writes (inside a write transaction) --
    def create(self, drafts: Sequence[Draft]) -> tuple[State, list[Event]]:
        """A new response from its opening events."""
        head = drafts[0]
        d = head.details
        cur = self.conn.execute(
            "INSERT INTO incidents (status, exercise, plan, opened_at, updated_at, grade, grade_name, "
            "response_level, response_level_name, incident, call_list, created_at, response) "
            "VALUES ('open', ?, ?, ?, ?, '', '', '', '', '{}', NULL, ?, ?)",
            (int(bool(d.get("exercise"))), d.get("plan", ""), head.at.isoformat(), head.at.isoformat(),
             utcnow().isoformat(), d.get("response", "incident")))
        response_id = int(cur.lastrowid or 0)
        return self.append(lifecycle.State(id=response_id), drafts)

    def append(self, state: State, drafts: Sequence[Draft]) -> tuple[State, list[Event]]:
        """Store events, fold them into ``state`` and store the new state beside them."""
        stored = []
        for draft in drafts:
            recorded = utcnow()
            cur = self.conn.execute(
                "INSERT INTO events (incident_id, kind, at, recorded_at, grade, response_level, details, "
                "answerer, responded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (state.id, draft.kind, draft.at.isoformat(), recorded.isoformat(), draft.grade,
                 draft.response_level, _dumps(draft.details), draft.answerer,
                 draft.responded_at.isoformat() if draft.responded_at is not None else None))
            ev = Event(int(cur.lastrowid or 0), draft.kind, draft.at, recorded, draft.details, draft.grade,
                       draft.response_level, draft.answerer, draft.responded_at)
            lifecycle.apply(state, ev)
            stored.append(ev)
        self._store(state)
        return state, stored

    def _store(self, s: State) -> None:
        self.conn.execute(
            "UPDATE incidents SET status = ?, updated_at = ?, closed_at = ?, close_reason = ?, grade = ?, "
            "grade_name = ?, response_level = ?, response_level_name = ?, incident = ?, call_list = ?, "
            "state = ? WHERE id = ?",
            (s.status, _iso(s.updated_at), _iso(s.closed_at), s.close_reason, s.grade, s.grade_name,
             s.response_level, s.response_level_name, _dumps(s.incident),
             _dumps(s.call_list) if s.call_list is not None else None, _dumps(lifecycle.to_plain(s)), s.id))


def check_writable(state: State, at: datetime | None) -> None:
    """A closed response takes nothing more; nothing happens before a response was opened."""
    what = "warning response" if state.response == "warning" else "incident"
    if state.status == "closed":
        closed = human_time(state.closed_at) or "?"
        raise StateError(f"{what} {state.id} was closed at {closed} ({state.close_reason}); "
                         f"a closed {what} cannot be changed")
    if at is not None and state.opened_at is not None and at < state.opened_at:
        raise InputError(f'--at: "{human_time(at, offset_of(state.opened_at))}" is before {what} '
                         f"{state.id} was opened ({human_time(state.opened_at)})")


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _event(row: Sequence[Any]) -> Event:
    seq, kind, at, recorded_at, g, lv, details, answerer, responded_at = row
    return Event(seq, kind, datetime.fromisoformat(at), datetime.fromisoformat(recorded_at), json.loads(details),
                 g, lv, answerer, datetime.fromisoformat(responded_at) if responded_at else None)
