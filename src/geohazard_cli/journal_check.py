"""The journal's health: ``check`` (the backend's own checks: SQLite's integrity_check and
foreign_key_check, or on PostgreSQL the schema version and the append-only triggers; then every row
read back, every stored state against its events replayed) and ``backup`` (SQLite's online backup: a
consistent copy while others write). Storage only, no printing; ``cli/incident.py`` shows the report."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geohazard_cli import lifecycle
from geohazard_cli.errors import InputError
from geohazard_cli.journal import Damage, Journal, stored_state
from geohazard_cli.storage import Storage


@dataclass
class Report:
    """What ``check`` found. ``damaged``: anything at all (the command exits 2)."""

    path: str  # the journal as messages name it
    schema_version: int
    integrity: list[str]  # PRAGMA integrity_check: ["ok"] when sound
    foreign_keys: list[str]  # PRAGMA foreign_key_check: one line per row pointing nowhere
    responses: int = 0
    events: int = 0
    set_aside: list[Damage] = field(default_factory=list)  # rows a read would set aside
    disagreements: list[Damage] = field(default_factory=list)  # stored state != its events replayed
    backend: str = "sqlite"  # sqlite | postgresql
    server: dict[str, str] = field(default_factory=dict)  # PostgreSQL's checks: name -> "ok" or the problem

    @property
    def damaged(self) -> bool:
        return self.integrity != ["ok"] or any(v != "ok" for v in self.server.values()) or bool(
            self.foreign_keys or self.set_aside or self.disagreements)

    def plain(self) -> dict[str, Any]:
        def rows(found: list[Damage]) -> list[dict[str, Any]]:
            return [{"response_id": d.response_id, "seq": d.seq, "problem": d.problem, "text": d.text()}
                    for d in found]

        own: dict[str, Any] = {"integrity_check": self.integrity, "foreign_key_check": self.foreign_keys} \
            if self.backend == "sqlite" else {"server_checks": self.server}
        return {"path": str(self.path), "backend": self.backend, "schema_version": self.schema_version, **own,
                "responses": self.responses, "events": self.events,
                "set_aside_count": len(self.set_aside), "set_aside": rows(self.set_aside),
                "disagreements": rows(self.disagreements), "damaged": self.damaged}


def check(j: Storage) -> Report:
    """Every check, in one read transaction (a consistent view while others write)."""
    sqlite = isinstance(j, Journal)
    with j.transaction(write=False) as conn:
        if sqlite:
            integrity = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
            fks = [f"{table} row {rowid} points at a missing {parent} row"
                   for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")]
            report = Report(j.where, j.version, integrity, fks)
        else:  # PostgreSQL checks its own pages and keys as it goes; what it holds of ours is checked here
            report = Report(j.where, j.version, ["ok"], [], backend="postgresql", server=_pg_checks(j, conn))
        if not j.version:
            return report
        status = "status, response" if not sqlite or j.version >= 3 else "status, 'incident'"
        for response_id, snapshot, _, row_status, row_response in conn.execute(
                f"SELECT {j.state_columns}, {status} FROM incidents ORDER BY id").fetchall():
            report.responses += 1
            events, bad = j.read_events(response_id)
            report.events += len(events) + len(bad)
            report.set_aside += bad
            if snapshot is None:
                continue  # written before snapshots: reads replay the events
            try:
                state = stored_state(response_id, snapshot)
            except ValueError as exc:
                report.set_aside.append(Damage(response_id, None, str(exc)))
                continue
            if (row_status, row_response) != (state.status, state.response):
                report.disagreements.append(Damage(response_id, None, (
                    f"disagrees with its row (row: {row_status} {row_response}; state: {state.status} "
                    f"{state.response})"), set_aside=False))
            if not bad:
                _compare(report, state, lifecycle.replay(response_id, events))
    return report


def _pg_checks(j: Storage, conn: Any) -> dict[str, str]:
    """The schema version against what this geohazard knows, and the triggers that keep events
    append-only: present, enabled, calling the refusing function."""
    from geohazard_cli.journal_pg import APPEND_ONLY_TRIGGERS, PG_MIGRATIONS

    known = len(PG_MIGRATIONS)
    out = {"schema_version": "ok" if j.version == known else
           f"version {j.version}, not the {known} this geohazard writes"}
    if not j.version:
        return out
    rows = conn.execute(
        "SELECT t.tgname, t.tgenabled, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE t.tgrelid = 'events'::regclass AND NOT t.tgisinternal").fetchall()
    found = {str(name): (str(enabled), str(proc)) for name, enabled, proc in rows}
    problems = []
    for name in APPEND_ONLY_TRIGGERS:
        if name not in found:
            problems.append(f"trigger {name} is missing")
        elif found[name][0] == "D":
            problems.append(f"trigger {name} is disabled")
        elif found[name][1] != "geohazard_append_only":
            problems.append(f"trigger {name} calls {found[name][1]}, not geohazard_append_only")
    out["append_only"] = "ok" if not problems else "; ".join(problems) + " (events can be changed in place)"
    return out


def _compare(report: Report, stored: lifecycle.State, replayed: lifecycle.State) -> None:
    a, b = lifecycle.to_plain(stored), lifecycle.to_plain(replayed)
    differ = [k for k in a if a[k] != b.get(k)]
    if differ:
        report.disagreements.append(Damage(stored.id, None, f"disagrees with its events replayed "
                                           f"({', '.join(differ)})", set_aside=False))


def backup(j: Storage, target: Path) -> tuple[Path, int]:
    """Copy the journal to ``target`` with SQLite's online backup (one read transaction: a consistent
    copy while others write), written 0600 beside it and moved into place only when whole and sound.
    Returns the file and its size."""
    if not isinstance(j, Journal):
        raise InputError(f"--db: {j.where}: backup copies an SQLite journal; for PostgreSQL use pg_dump, or "
                         "'geohazard incident migrate --to FILE' for a journal file")
    final = target.resolve()
    if final.is_dir():
        raise InputError(f"FILE: {target} is a directory; give a file name (e.g. {target}/journal-backup.sqlite3)")
    if not final.parent.is_dir():
        raise InputError(f"FILE: {final.parent} does not exist")
    with contextlib.suppress(OSError):
        if final.exists() and final.samefile(j.path):
            raise InputError(f"FILE: {target} is the journal itself; give another file")
    try:
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")  # 0600
    except OSError as exc:
        raise InputError(f"FILE: {target}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    try:
        dest = sqlite3.connect(tmp, isolation_level=None)
        try:
            with j.transaction(write=False):
                pass  # the source is readable (its errors worded as the journal's)
            try:
                j.conn.backup(dest)
                dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
                sound = dest.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.Error as exc:
                raise InputError(f"FILE: {target}: the backup failed ({exc}); nothing was written") from None
        finally:
            dest.close()
        if sound != "ok":
            raise InputError(f"FILE: {target}: the copy does not pass integrity_check ({sound}); nothing was "
                             "written (see 'geohazard incident check')")
        _fsync(tmp)
        os.replace(tmp, final)
        with contextlib.suppress(OSError):
            _fsync(str(final.parent))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return final, final.stat().st_size


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
