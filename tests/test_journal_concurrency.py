"""Two officers writing at once, and processes killed mid-write: the journal loses nothing that was
reported as done and stays intact. These start real processes through `python -m geohazard_cli`;
`slow` is only a label (they run in CI too) and every wait is bounded."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import geohazard_cli

SRC = str(Path(geohazard_cli.__file__).resolve().parents[1])
T0 = "2026-07-21 09:40"
UPDATES_EACH = 25


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GEOHAZARD_DB", "GEOHAZARD_CONFIG_DIR")}
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["NO_COLOR"] = "1"
    return env


def geohazard(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "geohazard_cli", *args], capture_output=True, text=True,
                          env=_env(), timeout=timeout, check=False)


def events(db: Path) -> list[dict[str, Any]]:
    proc = geohazard("incident", "show", "1", "--db", str(db), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout)["history"])


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def assert_serial(history: list[dict[str, Any]]) -> None:
    """Each proposal follows from the update just before it, against the level in force: no update was
    applied over a stale state."""
    in_force = history[0]["response_level"]
    for i, ev in enumerate(history):
        if ev["kind"] == "update":
            new = ev["details"]["assessment"]["response_level"]
            nxt = history[i + 1] if i + 1 < len(history) else None
            if new != in_force:
                assert nxt is not None and nxt["kind"] == "proposal", ev
                assert (nxt["details"]["previous_level"], nxt["details"]["response_level"]) == (in_force, new)
            else:
                assert nxt is None or nxt["kind"] != "proposal", ev
        elif ev["kind"] == "proposal":
            assert history[i - 1]["kind"] == "update"
        elif ev["kind"] in ("decision", "level_change"):
            in_force = ev["details"]["response_level"]


# A writer: one process that runs the real entry point (`python -m geohazard_cli`, i.e. the package's
# __main__ via runpy) once per update, after both writers are loaded and told to go together.
WRITER = """
import runpy, sys
db, writer, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
import geohazard_cli.cli
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    evacuees = str(40 + i if writer == 1 else 600 + i)  # writer 1 small, writer 2 large: the level flips
    sys.argv = ["geohazard", "incident", "update", "1", "--threatened", str(writer * 1000 + i),
                "--evacuees", evacuees, "--db", db, "--format", "json"]
    try:
        runpy.run_module("geohazard_cli", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code:
            sys.exit(exc.code)
"""


@pytest.mark.slow
def test_two_writers_25_updates_each_all_in_history(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite3"
    opened = geohazard("incident", "open", "--evacuees", "40", "--at", T0, "--db", str(db))
    assert opened.returncode == 0, opened.stderr
    # Output goes to files, not pipes: a full pipe would stall one writer and serialise the test.
    outs = [tmp_path / f"writer{w}.out" for w in (1, 2)]
    errs = [tmp_path / f"writer{w}.err" for w in (1, 2)]
    writers = []
    for w in (1, 2):
        with outs[w - 1].open("w") as out, errs[w - 1].open("w") as err:
            writers.append(subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(w), str(UPDATES_EACH)],
                                            stdin=subprocess.PIPE, stdout=out, stderr=err, text=True,
                                            env=_env()))
    deadline = time.monotonic() + 60
    while not all(o.read_text().startswith("ready\n") for o in outs) and time.monotonic() < deadline:
        time.sleep(0.01)  # wait until both are loaded, so they start together
    for p in writers:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.close()
    for p in writers:
        p.wait(timeout=120)
    assert [p.returncode for p in writers] == [0, 0], [e.read_text() for e in errs]
    reported = [d["assessment"]["incident"]["threatened"]
                for o in outs for d in _documents(o.read_text().removeprefix("ready\n"))]
    expected = [w * 1000 + i for w in (1, 2) for i in range(UPDATES_EACH)]
    assert sorted(reported) == expected
    history = events(db)
    updates = [e for e in history if e["kind"] == "update"]
    assert sorted(e["details"]["given"]["threatened"] for e in updates) == expected
    assert len({e["seq"] for e in history}) == len(history)
    assert_serial(history)
    assert integrity(db) == "ok"


# The crash child loops updates through the CLI (in-process, so a kill lands inside an update, not in
# interpreter start-up). With a mark index, it writes "B" to stderr once it holds the write lock of that
# update, so the test can kill it inside the transaction; every other kill lands at a random moment.
CHILD = """
import os, sys
from contextlib import contextmanager
import geohazard_cli.journal as journal
from geohazard_cli.cli import run
db, base, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
state = {"i": 0}
plain = journal.Journal.transaction

@contextmanager
def marked(self, write):
    with plain(self, write) as conn:
        if write and state["i"] == mark:
            os.write(2, b"B\\n")
        yield conn

journal.Journal.transaction = marked
for i in range(100000):
    state["i"] = i
    evacuees = str(40 + i % 3 * 300)  # 40, 340, 640: III, II, I -- level changes on most updates
    code = run(["incident", "update", "1", "--threatened", str(base + i), "--evacuees", evacuees,
                "--db", db, "--format", "json"])
    if code != 0:
        sys.exit(code)
"""


def _documents(text: str) -> list[dict[str, Any]]:
    """The complete JSON documents in a stream cut off at any point (a torn last one is dropped)."""
    decoder = json.JSONDecoder()
    docs, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return docs
        docs.append(doc)


@pytest.mark.slow
def test_sigkill_mid_update_loses_nothing_reported(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite3"
    assert geohazard("incident", "open", "--evacuees", "40", "--at", T0, "--db", str(db)).returncode == 0
    rng = random.Random(20260721)
    reported: list[int] = []
    for rnd in range(8):
        base = (rnd + 1) * 100_000
        wanted = rng.randint(1, 4)
        in_transaction = rnd % 2 == 1
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(base),
                                  str(wanted if in_transaction else -1)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
        assert child.stdout is not None and child.stderr is not None
        # Let it report a few updates, then kill it: inside the next write transaction, or at a random
        # moment of its loop.
        seen, chunks = 0, []
        while seen < wanted:
            line = child.stdout.readline()
            if not line:
                break
            chunks.append(line)
            if line == "}\n":
                seen += 1
        if in_transaction:
            child.stderr.readline()  # "B": it holds the write lock of update number `wanted`
        else:
            time.sleep(rng.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        rest, err = child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL, err
        docs = _documents("".join(chunks) + rest)
        assert len(docs) >= seen == wanted, err
        reported += [d["assessment"]["incident"]["threatened"] for d in docs]
        assert integrity(db) == "ok"

    history = events(db)
    given = [e["details"]["given"]["threatened"] for e in history if e["kind"] == "update"]
    assert set(reported) <= set(given)
    assert len(given) == len(set(given))  # nothing applied twice
    assert_serial(history)
    # The incident row and its last update were committed together.
    shown = geohazard("incident", "show", "1", "--db", str(db), "--format", "json")
    assert json.loads(shown.stdout)["incident"]["threatened"] == given[-1]
    # And the journal still takes writes.
    after = geohazard("incident", "update", "1", "--threatened", "7", "--db", str(db), "--format", "json")
    assert after.returncode == 0, after.stderr
    assert integrity(db) == "ok"
