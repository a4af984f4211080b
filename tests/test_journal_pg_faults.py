"""Faults on the shared journal: 8 writer processes x 50 acks on one incident, random SIGKILLs and a
server restart in the middle. Every write that printed success is there, none twice (a writer
killed or cut off retries its write with the same request id), and `incident show` agrees with SQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

WRITES = 50
WRITERS = 8

# One writer: acks numbered from argv[3]; each is request "w<k>-<i>" (its id, so a retry after a kill or
# a lost connection is the same request), and "ok <i>" is printed only once it is recorded.
WRITER = r"""
import os, sys, time
from datetime import datetime, timezone
from geohazard_cli import responses
from geohazard_cli.errors import GeohazardError
from geohazard_cli.journal_pg import PgJournal
from geohazard_cli.timeline import Outcome
url, k, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(start, WRITES):
    key = f"w{k}-{i}"
    os.environ["GEOHAZARD_REQUEST_ID"] = key
    while True:
        try:
            j = PgJournal.open(url)
            try:
                responses.acknowledge(j, 1, [("emergency", "区应急局")], Outcome.answered, key,
                                      datetime.now(timezone.utc))
            finally:
                j.close()
            break
        except GeohazardError as exc:
            time.sleep(0.1)  # the server is restarting: the same request again
    print(f"ok {i}", flush=True)
""".replace("WRITES", str(WRITES))


@pytest.mark.slow
def test_kills_and_a_server_restart_lose_no_acknowledged_write_and_write_none_twice(
        cli: Any, pg_server: Any, pg_url: str, tmp_path: Path) -> None:
    assert cli("incident", "open", "--evacuees", "40", "--db", pg_url).exit_code == 0
    rng = random.Random(19)
    done: dict[int, list[int]] = {k: [] for k in range(WRITERS)}
    logs = {k: tmp_path / f"w{k}.log" for k in range(WRITERS)}
    env = {**os.environ, "GEOHAZARD_DB_TIMEOUT": "60"}

    def spawn(k: int) -> subprocess.Popen[bytes]:
        start = max(done[k], default=-1) + 1
        return subprocess.Popen([sys.executable, "-c", WRITER, pg_url, str(k), str(start)],
                                stdout=logs[k].open("ab"), env=env)

    def harvest(k: int) -> None:
        done[k] = [int(line.split()[1]) for line in logs[k].read_text().splitlines() if line.startswith("ok ")]

    procs = {k: spawn(k) for k in range(WRITERS)}
    kills, restarted, deadline = 0, False, time.monotonic() + 240
    while any(p.poll() is None for p in procs.values()):
        assert time.monotonic() < deadline, "the writers did not finish"
        time.sleep(rng.uniform(0.05, 0.25))
        for k in range(WRITERS):
            harvest(k)
        if not restarted and sum(map(len, done.values())) >= WRITES * WRITERS // 2:
            pg_server.restart()
            restarted = True
            continue
        running = [k for k, p in procs.items() if p.poll() is None]
        if running and kills < 16:
            k = rng.choice(running)
            procs[k].send_signal(signal.SIGKILL)
            procs[k].wait()
            kills += 1
            harvest(k)
            procs[k] = spawn(k)
    assert all(p.returncode == 0 for p in procs.values())
    for k in range(WRITERS):
        harvest(k)
    assert restarted and kills >= 8
    acknowledged = {f"w{k}-{i}" for k, got in done.items() for i in got}
    assert len(acknowledged) == WRITES * WRITERS
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT details::json->>'by', count(*) FROM events WHERE kind = 'ack' "
                            "GROUP BY 1").fetchall()
    counts = dict(rows)
    assert set(counts) == acknowledged  # every write that printed success is there
    assert set(counts.values()) == {1}  # none twice
    shown = json.loads(cli("incident", "show", "1", "--db", pg_url, "--format", "json").stdout)
    assert sum(1 for e in shown["history"] if e["kind"] == "ack") == len(rows) == WRITES * WRITERS
    assert cli("incident", "check", "--db", pg_url).exit_code == 0
