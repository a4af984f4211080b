"""The journal on PostgreSQL (psycopg 3): several duty stations writing one database at once.

The same design as the SQLite journal (``journal.py``): events appended, the lifecycle core's state
kept as a snapshot per response row, rows decoded and checked by the same functions. What differs:

- the schema version lives in ``geohazard_schema``; ``PG_MIGRATIONS`` moves it forward in one
  transaction under an advisory lock (two stations starting at once do not both migrate);
- events are append-only in the database itself: a trigger refuses UPDATE, DELETE and TRUNCATE;
- a write takes the response's row lock (``SELECT ... FOR UPDATE``) before it reads the state it
  decides on, so two stations writing one response serialise as ``BEGIN IMMEDIATE`` does in SQLite;
  writes to different responses go on side by side;
- every event and response carries a client-chosen ``uid`` (unique): derived from the command's
  request key (``$GEOHAZARD_REQUEST_ID``, else a fresh uuid per command) and its position, so a
  transaction whose COMMIT lost its connection is looked up, not guessed at, and the same request
  sent again finds its events already there and writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from geohazard_cli import lifecycle
from geohazard_cli.errors import ConfigError, InputError, NotFoundError, StateError
from geohazard_cli.journal import (
    ENV_TIMEOUT,
    NOTICE_AFTER_S,
    Damage,
    Rows,
    _dumps,
    busy_timeout,
    stored_event,
    utcnow,
)
from geohazard_cli.lifecycle import Draft, Event, State

if TYPE_CHECKING:
    import psycopg

ENV_REQUEST = "GEOHAZARD_REQUEST_ID"
UID_NAMESPACE = uuid.UUID("5c1e6a52-7d1b-4f0e-9c39-0b6f3e0a1f19")
LOCK_KEY = 0x47484A4C  # the advisory lock migrations take ("GHJL")

# PG_MIGRATIONS[n] takes the database from schema version n to n + 1 (append only, never edit).
PG_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE incidents (
            id BIGSERIAL PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,           -- client-chosen: the request that opened it
            response TEXT NOT NULL DEFAULT 'incident',
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            exercise INTEGER NOT NULL CHECK (exercise IN (0, 1)),
            plan TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT,
            close_reason TEXT,
            grade TEXT NOT NULL,
            grade_name TEXT NOT NULL,
            response_level TEXT NOT NULL,
            response_level_name TEXT NOT NULL,
            incident TEXT NOT NULL,
            call_list TEXT,
            state TEXT,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE events (
            seq BIGSERIAL PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,           -- client-chosen: a retried request writes nothing twice
            incident_id BIGINT NOT NULL REFERENCES incidents (id),
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            grade TEXT,
            response_level TEXT,
            details TEXT NOT NULL,
            answerer TEXT,
            responded_at TEXT,
            station TEXT,
            officer TEXT
        )""",
        "CREATE INDEX events_by_incident ON events (incident_id, seq)",
        "CREATE INDEX incidents_by_status ON incidents (status, id)",
        """CREATE OR REPLACE FUNCTION geohazard_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             RAISE EXCEPTION 'geohazard journal events are append-only: % refused (a correction is a new event)',
               TG_OP;
           END $$""",
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION geohazard_append_only()",
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION geohazard_append_only()",
    ),
)

CHANNEL = "geohazard_journal"  # NOTIFY'd by every write (payload: the response id) at its COMMIT; watch LISTENs
APPEND_ONLY_TRIGGERS = ("events_append_only", "events_no_truncate")  # what ``incident check`` looks for
_EVENT_COLUMNS = "seq, kind, at, recorded_at, grade, response_level, details, answerer, responded_at, station, officer"


def redact(url: str, mask: bool = True) -> str:
    """The URL without its password: masked (``postgresql://duty:***@host/db``; ``password=`` too),
    or with ``mask=False`` left out, for a command line to paste (the password then comes from
    PGPASSWORD or ~/.pgpass)."""
    if mask:
        out = re.sub(r"^(postgres(?:ql)?://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
        return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", out)
    out = re.sub(r"^(postgres(?:ql)?://[^:/@?]*):[^@/?]*@", r"\1@", url)
    return re.sub(r"(?i)([?&])password=[^&]*&?", r"\1", out).rstrip("?&")


def request_key() -> str:
    """This command's request key: ``$GEOHAZARD_REQUEST_ID`` (a caller that retries a command sends
    the same one), else a fresh uuid (a command typed again is a new request)."""
    return os.environ.get(ENV_REQUEST, "").strip() or str(uuid.uuid4())


class PgJournal(Rows):
    """An open journal on PostgreSQL; the same interface as ``journal.Journal`` (``storage.Storage``)."""

    state_columns = "id, state, call_list"
    _event_columns = _EVENT_COLUMNS
    _kinds = True

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def __init__(self, url: str, how: str, readonly: bool, timeout: float,
                 waiting: Callable[[str], None] | None) -> None:
        self.url = url
        self.how = how
        self.readonly = readonly
        self.timeout = timeout
        self.waiting = waiting
        self.version = len(PG_MIGRATIONS)
        self.set_aside: list[Damage] = []
        self.request = request_key()
        self.station: str | None = None
        self.officer: str | None = None
        self._uids = 0  # uids handed out so far in this request
        self._written: list[str] = []  # uids written by the open write transaction
        self._in_write = False
        self._listening = False
        self.conn: psycopg.Connection[Any] = self._connect()

    @property
    def where(self) -> str:
        return redact(self.url)

    @property
    def _label(self) -> str:
        return self.how if self.how != "default" else "journal"

    # -- connection and schema --
    @classmethod
    def open(cls, url: str, how: str = "--db", create: bool = True, readonly: bool = False,
             waiting: Callable[[str], None] | None = None,
             migrations: Sequence[Sequence[str]] = PG_MIGRATIONS) -> PgJournal | None:
        """Connect; create or migrate the schema (never when ``readonly``); ``None`` when the database
        holds no journal yet and not ``create``."""
        j = cls(url, how, readonly, busy_timeout(), waiting)
        try:
            version = j._version()
            if version is None and (readonly or not create):
                j.close()
                return None
            if version is not None and version > len(migrations):
                raise ConfigError(f"{j._label}: {j.where} has schema version {version}, newer than this "
                                  f"geohazard knows ({len(migrations)}); upgrade geohazard-cli")
            if readonly:
                j.version = version or 0
            elif version != len(migrations):
                j._migrate(migrations)
        except BaseException:
            j.close()
            raise
        return j

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            import psycopg
        except ImportError:
            raise InputError(f"{self._label}: {self.where}: PostgreSQL needs psycopg "
                             "(pip install 'geohazard-cli[postgres]')") from None
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(min(self.timeout, 10))),
                                   application_name="geohazard")
            conn.execute(f"SET lock_timeout = {int(self.timeout * 1000)}")  # a server shutting down fails here
        except psycopg.Error as exc:
            raise InputError(f"{self._label}: {self.where}: {connect_problem(exc)}") from None
        except Exception as exc:  # a malformed URL (psycopg's conninfo parser)
            raise InputError(f"{self._label}: {self.where}: not a usable PostgreSQL URL ({exc})") from None
        return conn

    def close(self) -> None:
        self.conn.close()

    def wait_change(self, seconds: float) -> bool:
        """Block up to ``seconds`` for another station's commit (LISTEN/NOTIFY: every write notifies
        ``CHANNEL`` as it commits); True when one came. The first call starts listening."""
        with self._errors():
            if not self._listening:
                self.conn.execute(f"LISTEN {CHANNEL}")
                self._listening = True
            came = any(True for _ in self.conn.notifies(timeout=seconds, stop_after=1))
            if came:  # several commits at once: one refresh (the generator holds the connection's lock)
                for _ in self.conn.notifies(timeout=0):
                    pass
        return came

    def _version(self) -> int | None:
        with self._errors():
            row = self.conn.execute("SELECT to_regclass('geohazard_schema') IS NOT NULL").fetchone()
            if not row or not row[0]:
                return None
            got = self.conn.execute("SELECT max(version) FROM geohazard_schema").fetchone()
            return int(got[0]) if got and got[0] is not None else 0

    def _migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        with self.transaction(write=True, change=False):
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            self.conn.execute("CREATE TABLE IF NOT EXISTS geohazard_schema (version INTEGER NOT NULL)")
            got = self.conn.execute("SELECT max(version) FROM geohazard_schema").fetchone()
            version = int(got[0]) if got and got[0] is not None else 0  # another station may have won
            for step in migrations[version:]:
                for statement in step:
                    self.conn.execute(statement)
            self.conn.execute("DELETE FROM geohazard_schema")
            self.conn.execute("INSERT INTO geohazard_schema (version) VALUES (%s)", (len(migrations),))
        self.version = len(migrations)

    @contextmanager
    def _errors(self, write: bool = False) -> Iterator[None]:
        """The server's errors as one line each; a lost connection says what it cost: a write, that
        nothing was recorded; a read (a board, ``list``), that it only read."""
        import psycopg

        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise StateError(f"{self.where}: the incident stayed locked for {self.timeout:g} s (another station "
                             "is writing to it); try again ($GEOHAZARD_DB_TIMEOUT sets how long to wait)") from None
        except psycopg.OperationalError as exc:
            cost = ("nothing was recorded" if write else
                    "it was only reading: nothing was changed; run it again once the server is back")
            raise InputError(f"{self._label}: {self.where}: lost the connection to the server ({_first(exc)}); "
                             f"{cost}") from None
        except psycopg.Error as exc:
            raise InputError(f"{self._label}: {self.where}: {_first(exc)}") from None

    @contextmanager
    def transaction(self, write: bool, change: bool = True) -> Iterator[psycopg.Connection[Any]]:
        """One command = one transaction. A write takes the row lock of the response it reads
        (``writable``/``state``), so what it decides on is what it commits over. A COMMIT whose
        connection is lost is looked up by the uids it wrote: recorded, or nothing was."""
        import psycopg

        from geohazard_cli import journal

        with self._errors(write):
            if write and self.readonly:
                raise InputError(f"{self._label}: {self.where}: opened for reading only")
            self.conn.execute("BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._in_write, self._written = write, []
            try:
                yield self.conn
            except BaseException:
                self._in_write = False
                if not self.conn.closed:
                    with contextlib.suppress(psycopg.Error):
                        self.conn.execute("ROLLBACK")
                raise
            self._in_write = False
            try:
                self.conn.execute("COMMIT")
            except psycopg.OperationalError:
                if not self._written or not self._landed(self._written):
                    raise
            if write and change:
                journal._committed += 1

    def _landed(self, uids: list[str]) -> bool:
        """After a lost COMMIT: did it land? Reconnect and look for what it wrote (all or none:
        one transaction). Unknown (no server to ask) is said as such."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.conn = self._connect()
                break
            except InputError:
                if time.monotonic() > deadline:
                    raise InputError(f"{self._label}: {self.where}: lost the connection while committing and "
                                     "cannot reach the server again; the change may or may not be recorded: look "
                                     "with 'geohazard incident show' before entering it again") from None
                time.sleep(0.5)
        row = self.conn.execute("SELECT count(*) FROM events WHERE uid = ANY(%s)", (uids,)).fetchone()
        return bool(row and row[0])

    # -- client-chosen ids --
    def _uid(self) -> str:
        self._uids += 1
        return str(uuid.uuid5(UID_NAMESPACE, f"{self.request}/{self._uids}"))

    # -- reads (inside a transaction) --
    def state(self, response_id: int) -> State:
        sql = f"SELECT {self.state_columns} FROM incidents WHERE id = %s"
        if not self.version:
            row = None
        elif self._in_write:
            row = self._locked(sql + " FOR UPDATE", response_id)
        else:
            row = self.conn.execute(sql, (response_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no incident {response_id} in {self.where} "
                                "(see 'geohazard incident list --all')")
        return self._state_of(row)

    def _locked(self, sql: str, response_id: int) -> Any:
        """The response's row, locked. Behind another station's lock for NOTICE_AFTER_S, say so
        (``waiting``) and wait for the rest of the timeout (a savepoint keeps the transaction usable
        after the first, short wait ends)."""
        import psycopg

        first = min(NOTICE_AFTER_S, self.timeout) if self.waiting is not None else self.timeout
        if first >= self.timeout:
            return self.conn.execute(sql, (response_id,)).fetchone()
        self.conn.execute("SAVEPOINT geohazard_lock")
        self.conn.execute(f"SET LOCAL lock_timeout = {max(1, int(first * 1000))}")
        try:
            row = self.conn.execute(sql, (response_id,)).fetchone()
        except psycopg.errors.LockNotAvailable:
            self.conn.execute("ROLLBACK TO SAVEPOINT geohazard_lock")  # also undoes the short timeout
            assert self.waiting is not None
            self.waiting(f"waiting for the journal {self.where}: another station is writing to incident "
                         f"{response_id} (waits up to {self.timeout:g} s; ${ENV_TIMEOUT} sets how long)")
            self.conn.execute(f"SET LOCAL lock_timeout = {max(1, int((self.timeout - first) * 1000))}")
            row = self.conn.execute(sql, (response_id,)).fetchone()
        self.conn.execute("RELEASE SAVEPOINT geohazard_lock")
        self.conn.execute(f"SET LOCAL lock_timeout = {int(self.timeout * 1000)}")
        return row

    # -- writes (inside a write transaction) --
    def create(self, drafts: Sequence[Draft]) -> tuple[State, list[Event]]:
        head = drafts[0]
        d = head.details
        uid = self._uid()
        found = self.conn.execute("SELECT id FROM incidents WHERE uid = %s", (uid,)).fetchone()
        if found is not None:  # this request was recorded before: it is not written twice
            self._uids += len(drafts)
            return self._recorded(int(found[0]), len(drafts))
        row = self.conn.execute(
            "INSERT INTO incidents (uid, status, exercise, plan, opened_at, updated_at, grade, grade_name, "
            "response_level, response_level_name, incident, call_list, created_at, response) "
            "VALUES (%s, 'open', %s, %s, %s, %s, '', '', '', '', '{}', NULL, %s, %s) RETURNING id",
            (uid, int(bool(d.get("exercise"))), d.get("plan", ""), head.at.isoformat(), head.at.isoformat(),
             utcnow().isoformat(), d.get("response", "incident"))).fetchone()
        assert row is not None
        self._written.append(uid)
        return self.append(lifecycle.State(id=int(row[0])), drafts)

    def append(self, state: State, drafts: Sequence[Draft]) -> tuple[State, list[Event]]:
        uids = [self._uid() for _ in drafts]
        if uids and self.conn.execute("SELECT 1 FROM events WHERE uid = %s", (uids[0],)).fetchone():
            return self._recorded(state.id, len(drafts), uids)
        stored = []
        for uid, draft in zip(uids, drafts, strict=True):
            recorded = utcnow()
            row = self.conn.execute(
                "INSERT INTO events (uid, incident_id, kind, at, recorded_at, grade, response_level, details, "
                "answerer, responded_at, station, officer) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "RETURNING seq",
                (uid, state.id, draft.kind, draft.at.isoformat(), recorded.isoformat(), draft.grade,
                 draft.response_level, _dumps(draft.details), draft.answerer,
                 draft.responded_at.isoformat() if draft.responded_at is not None else None,
                 self.station, self.officer)).fetchone()
            assert row is not None
            self._written.append(uid)
            ev = Event(int(row[0]), draft.kind, draft.at, recorded, draft.details, draft.grade,
                       draft.response_level, draft.answerer, draft.responded_at, self.station, self.officer)
            lifecycle.apply(state, ev)
            stored.append(ev)
        self._store(state)
        self.conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(state.id)))  # sent when it commits
        return state, stored

    def _recorded(self, response_id: int, count: int, uids: list[str] | None = None) -> tuple[State, list[Event]]:
        """What an earlier try of this same request recorded: its state now and its events."""
        state = self.state(response_id)
        if uids is None:
            return state, self.events(response_id)[:count]
        rows = self.conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE uid = ANY(%s) ORDER BY seq",
                                 (uids,)).fetchall()
        return state, [stored_event(r) for r in rows]


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect_problem(exc: BaseException) -> str:
    """Why a connection failed, in one line a duty officer can act on."""
    sqlstate = getattr(exc, "sqlstate", None)
    text = str(exc)
    if sqlstate == "28P01" or "password authentication failed" in text:
        return "the server refused the user name or password"
    if sqlstate == "28000" or "no pg_hba.conf entry" in text or ("role" in text and "does not exist" in text):
        return f"the server refused this user ({_reason(text)})"
    if sqlstate == "3D000" or re.search(r'database ".*" does not exist', text):
        m = re.search(r'database "([^"]*)" does not exist', text)
        return f"the server has no database {m.group(1) if m else ''} (create it with createdb)".replace("  ", " ")
    if "Connection refused" in text or "No such file or directory" in text or "timeout expired" in text \
            or "could not translate host name" in text or "Is the server running" in text:
        return "cannot reach the server (is it running, and is the host and port right?)"
    return f"cannot connect ({_reason(text)})"


def _reason(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    last = lines[-1] if lines else text
    return re.sub(r"^.*?FATAL:\s*", "", last)
