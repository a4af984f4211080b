"""Large journals for benchmarks/bench.py (``--only journal``), built fast and valid.

How: two template responses are recorded the way the tool records them (``incident open`` as a
process, then acks and a close appended in-process through ``lifecycle`` and ``Journal.append``, so
every event and the snapshot are the tool's own); their rows are then copied with direct SQL
inserts, one transaction, each copy's snapshot given its own id and event numbers (``last_seq``,
``round_seq``). The result reads back as the tool wrote it (``incident check`` passes on it).

- ``big(responses, events_each, open_every)``: e.g. 10,000 responses of 100 events each (1,000,000
  events); every ``open_every``-th response is open (the rest closed), as a year of a district's
  journal would be: a few open, most closed.
- ``long_incident(events)``: one open incident with that many events (the cost of an ``ack`` on a
  long history).

Files go to benchmarks/_data/ (gitignored) and are reused when present.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
OPENED = "2026-07-21 09:00"
OUTCOMES = ("no-answer", "busy", "other")


def _geohazard(*args: str) -> None:
    subprocess.run([sys.executable, "-c", "from geohazard_cli.cli import main; main()", *args], check=True,
                   stdout=subprocess.DEVNULL)


def _calls(j: Any, response_id: int, n: int, close: bool) -> None:
    """``n`` unanswered calls of the 叫应 loop (one minute apart, round the call list) and a close."""
    from geohazard_cli import lifecycle

    with j.transaction(write=True):
        state = j.state(response_id)
        entries = lifecycle.entries(state)
        start = state.opened_at
        drafts = []
        for k in range(n):
            e = entries[k % len(entries)]
            drafts += lifecycle.acking(state, start + timedelta(minutes=1 + k // len(entries), seconds=k % 60),
                                       e["unit_key"], e["unit"], OUTCOMES[k % len(OUTCOMES)], "值班员")
        j.append(state, drafts)
        if close:
            later = start + timedelta(days=3)
            j.append(j.state(response_id), lifecycle.closing(state, later, "险情解除", "区政府"))


def _template(events_each: int) -> Path:
    """A journal holding response 1 (open) and 2 (closed), ``events_each`` events each."""
    from geohazard_cli.journal import Journal

    path = DATA / f"template-{events_each}.sqlite3"
    if path.exists():
        return path
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    for _ in range(2):
        _geohazard("incident", "open", "--evacuees", "140", "--location", "七里山街道", "--at", OPENED,
                   "--db", str(tmp), "--format", "json")
    j = Journal.open(tmp)
    assert j is not None
    with j.transaction(write=False):
        have = len(j.events(1))  # open and its call
    _calls(j, 1, events_each - have, close=False)
    _calls(j, 2, events_each - have - 1, close=True)
    j.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    tmp.replace(path)
    return path


def _rows(conn: sqlite3.Connection, response_id: int) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM incidents WHERE id = ?", (response_id,)).fetchone())
    conn.row_factory = None
    events = conn.execute("SELECT kind, at, recorded_at, grade, response_level, details, answerer, responded_at "
                          "FROM events WHERE incident_id = ? ORDER BY seq", (response_id,)).fetchall()
    return row, events


def _fresh(path: Path) -> None:
    from geohazard_cli.journal import Journal

    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    j = Journal.open(path)  # the schema, as the tool creates it
    assert j is not None
    j.close()


def big(responses: int = 10_000, events_each: int = 100, open_every: int = 200) -> Path:
    """``responses`` responses of ``events_each`` events; every ``open_every``-th one open."""
    path = DATA / f"journal-{responses}x{events_each}-open{open_every}.sqlite3"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    src = sqlite3.connect(_template(events_each))
    templates = {True: _rows(src, 1), False: _rows(src, 2)}
    src.close()
    tmp = path.with_name(path.name + ".tmp")
    _fresh(tmp)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    columns = list(templates[True][0])
    insert = f"INSERT INTO incidents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    seq = 0
    for i in range(1, responses + 1):
        row, events = templates[i % open_every == 0]
        state = json.loads(row["state"])
        first = seq + 1
        state |= {"id": i, "last_seq": seq + len(events), "round_seq": first}
        values = {**row, "id": i, "state": json.dumps(state, ensure_ascii=False, separators=(",", ":"))}
        conn.execute(insert, [values[c] for c in columns])
        conn.executemany("INSERT INTO events (seq, incident_id, kind, at, recorded_at, grade, response_level, "
                         "details, answerer, responded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         ((first + k, i, *e) for k, e in enumerate(events)))
        seq += len(events)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    Path(f"{tmp}-wal").unlink(missing_ok=True)
    Path(f"{tmp}-shm").unlink(missing_ok=True)
    tmp.replace(path)
    return path


def long_incident(events: int) -> Path:
    """One open incident with ``events`` events (a copy per run: an ack appends to it)."""
    from geohazard_cli.journal import Journal

    path = DATA / f"incident-{events}-events.sqlite3"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        _geohazard("incident", "open", "--evacuees", "140", "--at", OPENED, "--db", str(tmp), "--format", "json")
        j = Journal.open(tmp)
        assert j is not None
        with j.transaction(write=False):
            have = len(j.events(1))
        _calls(j, 1, events - have, close=False)
        j.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        j.close()
        tmp.replace(path)
    work = path.with_name(path.stem + "-run.sqlite3")
    shutil.copyfile(path, work)
    return work


def when(minutes: int) -> str:
    """A clock ``minutes`` after the journals' opening time, as --at takes it."""
    return (datetime.fromisoformat(OPENED) + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")
