"""The journal: one SQLite file holding every response (incidents and warning periods) as its events.

Storage only: it appends the events the lifecycle core (``lifecycle.py``) decides and keeps, beside
them, the state the core folds from them (a snapshot, so a write reads one row, never the whole
history). What a response *is* lives in the core; ``responses.py`` holds the operations.

- one file; the schema carries a version (``PRAGMA user_version``) and is moved forward by
  ``MIGRATIONS`` inside one transaction; ``PRAGMA application_id`` marks the file as ours;
- every command is one transaction (``BEGIN IMMEDIATE`` for writes, so the state a command decides
  on is the state it commits over); WAL mode and a busy timeout let two officers write at once;
  ``synchronous=FULL`` so a reported success survives a crash;
- events are only ever appended; figures are stored as JSON (money as exact decimal text, never REAL);
- reading commands open the file read-only (``mode=ro``) and never create or migrate it; a row that
  does not decode or validate is set aside (``Journal.set_aside``), never an internal error;
- the file is created 0600 (its default directory 0700): it names people and their numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from geohazard_cli import lifecycle
from geohazard_cli.errors import ConfigError, InputError, NotFoundError, StateError
from geohazard_cli.journal_decode import stored_event as stored_event
from geohazard_cli.journal_decode import stored_state as stored_state
from geohazard_cli.journal_schema import MIGRATIONS as MIGRATIONS
from geohazard_cli.journal_schema import SCHEMA_VERSION as SCHEMA_VERSION
from geohazard_cli.lifecycle import Draft, Event, State
from geohazard_cli.timeline import describe, human_time, offset_of

ENV_DB = "GEOHAZARD_DB"
APP_NAME = "geohazard-cli"
DB_FILENAME = "journal.sqlite3"
APPLICATION_ID = 0x47484A4C  # "GHJL": marks a file as a geohazard journal
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another's lock ($GEOHAZARD_DB_TIMEOUT)
ENV_TIMEOUT = "GEOHAZARD_DB_TIMEOUT"
CHECKPOINT_BYTES = 4 << 20  # SQLite's default: checkpoint once the write-ahead log passes ~1000 pages
POLL_S = 0.25  # how often ``wait_change`` looks at PRAGMA data_version (another connection's commit)
NOTICE_AFTER_S = 1.5  # a writer still waiting after this long is told why (Journal.open's ``waiting``)


def db_path(option: Path | None) -> tuple[Path, str]:
    """The journal file in force and how it was chosen: --db, $GEOHAZARD_DB, or the user data dir."""
    if option is not None:
        return option, "--db"
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env), ENV_DB
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME, "default"


def busy_timeout() -> float:
    """Seconds a writer waits behind another's lock: $GEOHAZARD_DB_TIMEOUT, else 30."""
    text = os.environ.get(ENV_TIMEOUT, "").strip()
    if not text:
        return BUSY_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise InputError(f'${ENV_TIMEOUT}: "{text}" is not a number of seconds to wait for the journal '
                         "(such as 30 or 2.5)")
    return value


_committed = 0


def committed() -> int:
    """How many changes (write transactions other than migrations) this process has committed: the
    CLI's after-commit guard."""
    return _committed


class Damage(NamedTuple):
    """A stored row that does not decode or validate, set aside by a read."""

    response_id: int
    seq: int | None  # the event, or None for the response's stored state (its row in incidents)
    problem: str
    set_aside: bool = True  # False: readable, but it disagrees (``incident check``)

    def text(self) -> str:
        return f"incident {self.response_id}: {self.detail()}"

    def detail(self) -> str:
        where = f"event #{self.seq}" if self.seq is not None else "its stored state"
        return f"{where} set aside: {self.problem}" if self.set_aside else f"{where} {self.problem}"


class Damaged(StateError):
    """A response whose rows cannot be read back (see ``incident check``)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def event_json(e: Event) -> dict[str, Any]:
    """An event as ``--format json`` shows it in a history."""
    return {"seq": e.seq, "kind": e.kind, "at": e.at.isoformat(), "recorded_at": e.recorded_at.isoformat(),
            "grade": e.grade, "response_level": e.response_level, "text": event_text(e),
            "details": e.details, "answerer": e.answerer,
            "responded_at": e.responded_at.isoformat() if e.responded_at else None,
            "station": e.station, "officer": e.officer}


def event_text(e: Event) -> str:
    return describe(e.kind, e.details, e.answerer, e.responded_at)


_EVENT_COLUMNS = "seq, kind, at, recorded_at, grade, response_level, details, answerer, responded_at, station, officer"
_EVENT_COLUMNS_V2 = "seq, kind, at, recorded_at, grade, response_level, details, answerer, responded_at, NULL, NULL"
_EVENT_COLUMNS_V1 = "seq, kind, at, recorded_at, grade, response_level, details, NULL, NULL, NULL, NULL"
_STATE_COLUMNS = "id, state"


class Rows:
    """Reading a journal's rows back, the same on every backend (``Journal``, ``journal_pg.PgJournal``):
    each row decoded and checked, one that does not is set aside. A backend gives ``conn``, ``version``,
    ``set_aside``, ``where``, ``state``, ``state_columns`` and the hooks below."""

    conn: Any
    version: int
    set_aside: list[Damage]
    where: Any
    state_columns: Any
    _event_columns: Any  # the columns ``stored_event`` reads, as this schema has them
    _kinds: Any  # whether the schema has a response kind (incident/warning)

    def _q(self, sql: str) -> str:
        """The statement in this backend's parameter style (written with ``?``)."""
        return sql

    def state(self, response_id: int) -> State:
        raise NotImplementedError

    def _store(self, s: State) -> None:
        """Keep the state beside its events (its row: the snapshot and the columns lists filter on)."""
        self.conn.execute(self._q(
            "UPDATE incidents SET status = ?, opened_at = ?, updated_at = ?, closed_at = ?, close_reason = ?, "
            "grade = ?, grade_name = ?, response_level = ?, response_level_name = ?, incident = ?, call_list = ?, "
            "state = ? WHERE id = ?"),
            (s.status, _iso(s.opened_at), _iso(s.updated_at), _iso(s.closed_at), s.close_reason, s.grade, s.grade_name,
             s.response_level, s.response_level_name, _dumps(s.incident),
             _dumps(s.call_list) if s.call_list is not None else None, _dumps(lifecycle.to_plain(s)), s.id))

    def _state_of(self, row: Sequence[Any]) -> State:
        response_id, snapshot, call_list = row
        if snapshot is not None:
            try:
                return stored_state(response_id, snapshot)
            except ValueError as exc:
                self.set_aside.append(Damage(response_id, None, str(exc)))
        events, bad = self.read_events(response_id)
        if bad:
            self.set_aside += bad
            raise Damaged(f"incident {response_id} in {self.where} cannot be read: {bad[0].detail()} "
                          "(see 'geohazard incident check')")
        state = lifecycle.replay(response_id, events)
        if call_list is not None and snapshot is None:  # written before call events carried the whole list
            with contextlib.suppress(ValueError):
                state.call_list = json.loads(call_list)
        return state

    def states(self, status: str | None = None, response: str | None = None) -> list[State]:
        """The responses (by status and kind); one that cannot be read is set aside, not raised."""
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if response and self._kinds:
            where.append("response = ?")
            params.append(response)
        elif response not in (None, "incident") or not self.version:
            return []  # before schema 3 every response was an incident; 0: an empty new file
        sql = f"SELECT {self.state_columns} FROM incidents" + (f" WHERE {' AND '.join(where)}" if where else "")
        out = []
        for row in self.conn.execute(self._q(sql + " ORDER BY id"), params).fetchall():
            with contextlib.suppress(Damaged):
                out.append(self._state_of(row))
        return out

    def events(self, response_id: int) -> list[Event]:
        """The response's events in order; a row that does not decode or validate is set aside."""
        events, bad = self.read_events(response_id)
        self.set_aside += bad
        return events

    def read_events(self, response_id: int) -> tuple[list[Event], list[Damage]]:
        """The events that read back, and the rows that do not."""
        if not self.version:
            return [], []
        rows = self.conn.execute(self._q(f"SELECT {self._event_columns} FROM events WHERE incident_id = ? "
                                         "ORDER BY seq"), (response_id,)).fetchall()
        events, bad = [], []
        for r in rows:
            try:
                events.append(stored_event(r))
            except ValueError as exc:
                bad.append(Damage(response_id, r[0], str(exc)))
        return events, bad

    def writable(self, response_id: int, at: datetime | None = None) -> State:
        """The state, refusing a closed response, a time before it was opened, or a response whose
        stored state was set aside (nothing is written over damage)."""
        before = len(self.set_aside)
        state = self.state(response_id)
        if len(self.set_aside) > before:
            raise Damaged(f"incident {response_id} in {self.where} is damaged, so nothing is written to it: "
                          f"{self.set_aside[before].detail()} (see 'geohazard incident check')")
        check_writable(state, at)
        return state


class Journal(Rows):
    """An open journal. Use ``transaction(write=...)`` around every command's reads and writes."""

    def __init__(self, conn: sqlite3.Connection, path: Path, how: str, readonly: bool = False,
                 timeout: float = BUSY_TIMEOUT_S, waiting: Callable[[str], None] | None = None) -> None:
        self.conn = conn
        self.path = path
        self.how = how
        self.readonly = readonly
        self.timeout = timeout
        self._seen: Any = None  # PRAGMA data_version at the last read transaction
        self.waiting = waiting  # told, once, when a write has waited NOTICE_AFTER_S for the lock
        self.version = len(MIGRATIONS)
        self.set_aside: list[Damage] = []  # what the reads so far could not use
        self.station: str | None = None  # who writes: the duty station and its officer (``station.py``)
        self.officer: str | None = None

    # -- connection and schema --
    @classmethod
    def open(cls, path: Path, how: str = "--db", create: bool = True,
             migrations: Sequence[Sequence[str]] = MIGRATIONS, readonly: bool = False,
             waiting: Callable[[str], None] | None = None) -> Journal | None:
        """Open (and create or migrate) the journal; ``None`` if it does not exist and not ``create``.
        ``readonly``: open it for reading only (never created, never migrated; it may be in a
        directory or on a medium this user cannot write)."""
        label = how if how != "default" else "journal"
        timeout = busy_timeout()
        if not path.exists():
            if not create or readonly:
                return None
            if how == "default":
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise InputError(f"{label}: {path}: the directory {path.parent} does not exist")
            _create_private(path, label)
        elif path.is_dir():
            raise InputError(f"{label}: {path} is a directory; expected a journal file")
        try:
            conn = _connect_ro(path) if readonly else sqlite3.connect(str(path), timeout=timeout,
                                                                       isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(f"{label}: {path}: cannot open ({exc})") from None
        return cls._ready(conn, path, how, migrations, readonly, timeout, waiting)

    @classmethod
    def memory(cls, name: str = "drill") -> Journal:
        """A journal that lives in memory only (a drill rehearses on one)."""
        journal = cls._ready(sqlite3.connect(":memory:", isolation_level=None), Path(f":memory:{name}"),
                             "--db", MIGRATIONS)
        assert journal is not None
        return journal

    @classmethod
    def _ready(cls, conn: sqlite3.Connection, path: Path, how: str, migrations: Sequence[Sequence[str]],
               readonly: bool = False, timeout: float = BUSY_TIMEOUT_S,
               waiting: Callable[[str], None] | None = None) -> Journal:
        journal = cls(conn, path, how, readonly, timeout, waiting)
        try:
            with journal._errors():
                journal._busy(timeout)
                if readonly:
                    journal._check_ours()
                    journal._readable(len(migrations))
                    return journal
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = FULL")
                # Checkpoints run after the commit (``_checkpoint``), never inside it: a checkpoint
                # that fails must not make a recorded change look failed.
                conn.execute("PRAGMA wal_autocheckpoint = 0")
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

    @property
    def where(self) -> str:
        """The journal as messages name it."""
        return str(self.path)

    def _check_ours(self) -> None:
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == APPLICATION_ID:
            return
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != 0 or version != 0 or tables:
            raise InputError(f"{self._label}: {self.path} is an SQLite file but not a geohazard journal")

    def _readable(self, target: int) -> None:
        """A journal opened read-only is read as it is: an older schema is read by replaying its
        events (it has no snapshots), a newer one is refused."""
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        self._newer(version, target)
        self.version = version  # 0: an empty new file, which reads as holding nothing

    def _newer(self, version: int, target: int) -> None:
        if version > target:
            raise ConfigError(f"{self._label}: {self.path} has schema version {version}, newer than this "
                              f"geohazard knows ({target}); upgrade geohazard-cli")

    def _busy(self, seconds: float) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def _migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        target = len(migrations)
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        self.version = target
        if version == target:
            return
        self._newer(version, target)
        with self.transaction(write=True, change=False):
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
            name = getattr(exc, "sqlite_errorname", "")
            if _busy_error(exc):
                raise StateError(f"{self.path}: the journal stayed busy for {self.timeout:g} s "
                                 f"(another command is writing); try again (${ENV_TIMEOUT} sets how long "
                                 "to wait)") from None
            # A COMMIT fails only while appending to the write-ahead log (checkpoints run apart, after
            # it): a write that failed means the commit record never reached the file.
            if name == "SQLITE_FULL" or "disk is full" in msg:
                raise InputError(f"{self._label}: {self.path}: the disk is full; nothing was recorded "
                                 "(free some space and try again)") from None
            if name == "SQLITE_IOERR_WRITE":
                raise InputError(f"{self._label}: {self.path}: the disk refused the write (disk I/O error); "
                                 "nothing was recorded (check the disk and the file-size limit, then "
                                 "'geohazard incident check')") from None
            if name.startswith("SQLITE_IOERR") or "disk I/O error" in msg:
                raise InputError(f"{self._label}: {self.path}: disk I/O error ({name or msg}); the change may "
                                 "or may not be recorded: look with 'geohazard incident show' before entering "
                                 "it again") from None
            raise InputError(f"{self._label}: {self.path}: {msg}") from None
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self._label}: {self.path}: not a readable journal ({exc})") from None

    @contextmanager
    def transaction(self, write: bool, change: bool = True) -> Iterator[sqlite3.Connection]:
        """One command = one transaction. Writes take the write lock first (BEGIN IMMEDIATE), so what
        a command reads is what it commits over; nothing is visible or kept unless COMMIT succeeds.
        A committed write counts in ``committed()`` unless ``change`` is false (a migration)."""
        global _committed
        with self._errors():
            if not write:  # what a read saw: a commit after this moves data_version (``wait_change``)
                self._seen = self.conn.execute("PRAGMA data_version").fetchone()[0]
            self._begin(write)
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (full disk, I/O error) may have rolled back already; a ROLLBACK
                # that fails must not hide why.
                if self.conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.conn.execute("ROLLBACK")
                raise
            if write and change:
                _committed += 1
        if write:
            self._checkpoint()

    def wait_change(self, seconds: float) -> bool:
        """Block up to ``seconds`` until another connection commits (SQLite's data_version moves),
        looking every POLL_S; True when one did since the last read."""
        deadline = time.monotonic() + seconds
        with self._errors():
            while True:
                if self.conn.execute("PRAGMA data_version").fetchone()[0] != self._seen:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(POLL_S, left))

    def _checkpoint(self) -> None:
        """Copy the write-ahead log back into the file once it is large (what SQLite's automatic
        checkpoint does, but after the commit and with its failure ignored: the next write retries)."""
        try:
            if os.path.getsize(f"{self.path}-wal") < CHECKPOINT_BYTES:
                return
        except OSError:
            return
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _begin(self, write: bool) -> None:
        """BEGIN; a write that waits NOTICE_AFTER_S for another's lock says so (``waiting``) and goes
        on waiting for the rest of the timeout."""
        if not write:
            self.conn.execute("BEGIN")
            return
        first = min(NOTICE_AFTER_S, self.timeout) if self.waiting is not None else self.timeout
        if first >= self.timeout:
            self.conn.execute("BEGIN IMMEDIATE")
            return
        self._busy(first)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _busy_error(exc) or self.waiting is None:
                raise
            self.waiting(f"waiting for the journal {self.path}: another command is writing to it "
                         f"(waits up to {self.timeout:g} s; ${ENV_TIMEOUT} sets how long)")
            self._busy(self.timeout - first)
            self.conn.execute("BEGIN IMMEDIATE")
        finally:
            self._busy(self.timeout)

    # -- reads (inside a transaction) --
    def state(self, response_id: int) -> State:
        """The response's state: its snapshot, or (a journal migrated from before snapshots, or a
        snapshot that does not validate: set aside) its events replayed. ``Damaged`` when neither can
        be read."""
        row = self.conn.execute(f"SELECT {self.state_columns} FROM incidents WHERE id = ?",
                                (response_id,)).fetchone() if self.version else None
        if row is None:
            raise NotFoundError(f"no incident {response_id} in {self.path} "
                                "(see 'geohazard incident list --all')")
        return self._state_of(row)

    @property
    def state_columns(self) -> str:
        """The columns ``state`` reads (id, snapshot, call list), as this file's schema has them."""
        return "id, state, call_list" if self.version >= 3 else "id, NULL, call_list"

    @property
    def _event_columns(self) -> str:
        return _EVENT_COLUMNS if self.version >= 4 else _EVENT_COLUMNS_V2 if self.version >= 2 else _EVENT_COLUMNS_V1

    @property
    def _kinds(self) -> bool:
        return self.version >= 3

    # -- writes (inside a write transaction) --
    def create(self, drafts: Sequence[Draft]) -> tuple[State, list[Event]]:
        """A new response from its opening events."""
        head = drafts[0]
        d = head.details
        extra = ", uid" if self.version >= 4 else ""
        cur = self.conn.execute(
            "INSERT INTO incidents (status, exercise, plan, opened_at, updated_at, grade, grade_name, "
            f"response_level, response_level_name, incident, call_list, created_at, response{extra}) "
            f"VALUES ('open', ?, ?, ?, ?, '', '', '', '', '{{}}', NULL, ?, ?{', ?' if extra else ''})",
            (int(bool(d.get("exercise"))), d.get("plan", ""), head.at.isoformat(), head.at.isoformat(),
             utcnow().isoformat(), d.get("response", "incident"), *([uuid.uuid4().hex] if extra else [])))
        response_id = int(cur.lastrowid or 0)
        return self.append(lifecycle.State(id=response_id), drafts)

    def append(self, state: State, drafts: Sequence[Draft]) -> tuple[State, list[Event]]:
        """Store events, fold them into ``state`` and store the new state beside them."""
        stored = []
        for draft in drafts:
            recorded = utcnow()
            row: tuple[Any, ...] = (state.id, draft.kind, draft.at.isoformat(), recorded.isoformat(), draft.grade,
                                    draft.response_level, _dumps(draft.details), draft.answerer,
                                    draft.responded_at.isoformat() if draft.responded_at is not None else None)
            extra = ", uid, station, officer" if self.version >= 4 else ""
            if extra:
                row += (uuid.uuid4().hex, self.station, self.officer)
            cur = self.conn.execute(
                f"INSERT INTO events (incident_id, kind, at, recorded_at, grade, response_level, details, "
                f"answerer, responded_at{extra}) VALUES ({', '.join('?' * len(row))})", row)
            ev = Event(int(cur.lastrowid or 0), draft.kind, draft.at, recorded, draft.details, draft.grade,
                       draft.response_level, draft.answerer, draft.responded_at,
                       *((self.station, self.officer) if extra else (None, None)))
            lifecycle.apply(state, ev)
            stored.append(ev)
        self._store(state)
        return state, stored



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


def _create_private(path: Path, label: str) -> None:
    """Create the (empty) journal file 0600: it names people and their phone numbers. SQLite gives
    its -wal and -shm files the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another command created it just now
    except OSError as exc:
        raise InputError(f"{label}: {path}: cannot create the journal ({exc.strerror})") from None


def _connect_ro(path: Path) -> sqlite3.Connection:
    """A read-only connection (``mode=ro``: never creates, never writes). In a directory this user
    cannot write and with no write-ahead log beside it (the last writer closed cleanly), SQLite
    cannot make the shared-memory file a WAL reader needs: then nobody can be writing either, and the
    file is read as immutable."""
    uri = Path(os.path.abspath(path)).as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        cannot_init = getattr(exc, "sqlite_errorname", "") in ("SQLITE_READONLY_DIRECTORY",
                                                               "SQLITE_READONLY_CANTINIT")
        if not cannot_init or Path(f"{path}-wal").exists():
            raise
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    except sqlite3.DatabaseError:
        pass  # not a database: said as every open says it (Journal._ready)
    return conn


def _busy_error(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc)
    return "locked" in msg or "busy" in msg
