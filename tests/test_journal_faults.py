"""The journal's bad days, as SQLite's own tests inject them: a full disk and an I/O error while a
commit is written, a file-size limit, a journal in a read-only directory, another writer's lock. Each
runs a real process; the command says so in one line, the journal stays intact and the write is
whole or absent."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import geohazard_cli
from geohazard_cli import journal, journal_check

SRC = str(Path(geohazard_cli.__file__).resolve().parents[1])
T0 = "2026-07-21 09:40"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GEOHAZARD_DB", "GEOHAZARD_CONFIG_DIR",
                                                             "GEOHAZARD_DB_TIMEOUT")}
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["NO_COLOR"] = "1"
    return env | extra


def geohazard(*args: str, prefix: tuple[str, ...] = (), timeout: float = 60,
              **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "geohazard_cli", *args], capture_output=True, text=True,
                          env=_env(**env), timeout=timeout, check=False)


def history(db: Path) -> list[Any]:
    """Every stored event row, read directly (what any reader would see)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()


def kinds(rows: list[Any]) -> list[str]:
    return [r[2] for r in rows]


def assert_sound(db: Path) -> None:
    """What `incident check` checks, in this process."""
    j = journal.Journal.open(db, readonly=True)
    assert j is not None
    try:
        report = journal_check.check(j)
    finally:
        j.close()
    assert not report.damaged, report.plain()


@pytest.fixture
def db(tmp_path: Path, cli) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "journal.sqlite3"
    r = cli("incident", "open", "--evacuees", "40", "--at", T0, "--db", str(path))
    assert r.exit_code == 0, r.stderr
    return path


# --- faults injected where SQLite writes: its VFS system-call hooks (xSetSystemCall), as its own
# test_syscall.c does. Armed when the command starts appending events, so the write that fails is the
# commit's append to the write-ahead log; `after` writes succeed first (a commit torn part-way).

INJECT = r"""
import ctypes, errno, os, sys
import sqlite3, _sqlite3
kind, after, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def libsqlite():
    for line in open("/proc/self/maps"):
        if "libsqlite3" in line:
            return ctypes.CDLL(line.split()[-1])
    return ctypes.CDLL(_sqlite3.__file__)  # statically linked into the module

SET = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
GET = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)
class VFS(ctypes.Structure):
    _fields_ = [("iVersion", ctypes.c_int), ("szOsFile", ctypes.c_int), ("mxPathname", ctypes.c_int),
                *[(n, ctypes.c_void_p) for n in ("pNext", "zName", "pAppData", "xOpen", "xDelete", "xAccess",
                  "xFullPathname", "xDlOpen", "xDlError", "xDlSym", "xDlClose", "xRandomness", "xSleep",
                  "xCurrentTime", "xGetLastError", "xCurrentTimeInt64")],
                ("xSetSystemCall", SET), ("xGetSystemCall", GET), ("xNextSystemCall", ctypes.c_void_p)]
lib = libsqlite()
lib.sqlite3_vfs_find.restype = ctypes.POINTER(VFS)
vfs = lib.sqlite3_vfs_find(b"unix")
assert vfs and vfs.contents.iVersion >= 3
state = {"armed": False, "left": after, "failed": 0}
ERR = {"full": errno.ENOSPC, "eio": errno.EIO}[kind]

def failing(fd):
    if not state["armed"]:
        return False
    try:
        if not os.readlink(f"/proc/self/fd/{fd}").endswith("-wal"):
            return False
    except OSError:
        return False
    if state["left"] > 0:
        state["left"] -= 1
        return False
    state["failed"] += 1
    return True

keep = []
for name, args_t in ((b"pwrite64", (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int64)),
                     (b"pwrite", (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int64)),
                     (b"write", (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t))):
    proto = ctypes.CFUNCTYPE(ctypes.c_ssize_t, *args_t, use_errno=True)
    address = vfs.contents.xGetSystemCall(vfs, name)
    if not address:
        continue
    real = proto(address)
    def fake(*a, real=real):
        if failing(a[0]):
            ctypes.set_errno(ERR)
            return -1
        return real(*a)
    keep.append(proto(fake))
    assert vfs.contents.xSetSystemCall(vfs, name, ctypes.cast(keep[-1], ctypes.c_void_p)) == 0

from geohazard_cli import journal
append = journal.Journal.append
def armed_append(self, *a, **k):
    state["armed"] = True
    return append(self, *a, **k)
journal.Journal.append = armed_append
from geohazard_cli.cli import run
code = run(args)
print(f"injected {state['failed']}", file=sys.stderr)
sys.exit(code)
"""


def inject(kind: str, after: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", INJECT, kind, str(after), *args], capture_output=True,
                          text=True, env=_env(), timeout=60, check=False)


MESSAGES = {
    "full": "the disk is full; nothing was recorded (free some space and try again)",
    "eio": "the disk refused the write (disk I/O error); nothing was recorded (check the disk and the "
           "file-size limit, then 'geohazard incident check')",
}


@pytest.mark.parametrize("kind", ["full", "eio"])
@pytest.mark.parametrize("after", [0, 2])
def test_a_commit_that_cannot_be_written_is_absent_and_said_in_one_line(db: Path, kind: str,
                                                                         after: int) -> None:
    before = history(db)
    r = inject(kind, after, "incident", "update", "1", "--evacuees", "600", "--db", str(db))
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert lines[0] == f"geohazard: error: --db: {db}: {MESSAGES[kind]}"
    assert len(lines) == 2 and lines[1].startswith("injected ") and lines[1] != "injected 0"
    assert history(db) == before  # absent, not half there
    assert_sound(db)
    r = geohazard("incident", "update", "1", "--evacuees", "600", "--db", str(db))  # the disk is back
    assert r.returncode == 0, r.stderr
    assert kinds(history(db)[len(before):]) == ["update", "proposal"]
    assert_sound(db)


def test_a_failing_open_creates_no_incident(db: Path) -> None:
    r = inject("full", 0, "incident", "open", "--evacuees", "5", "--db", str(db), "--format", "json")
    assert r.returncode == 2 and r.stdout == ""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT id FROM incidents").fetchall() == [(1,)]
    finally:
        conn.close()
    assert_sound(db)


# The issue's own recipe: a file-size limit (RLIMIT_FSIZE) set in the writing process, SIGXFSZ ignored so
# the write fails with EFBIG instead of killing it.
FSIZE = r"""
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
db, args = sys.argv[1], sys.argv[2:]
from geohazard_cli import journal
append = journal.Journal.append
def limited_append(self, *a, **k):
    wal = db + "-wal"
    size = os.path.getsize(wal) if os.path.exists(wal) else 0
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
    return append(self, *a, **k)
journal.Journal.append = limited_append
from geohazard_cli.cli import run
sys.exit(run(args))
"""


def test_a_file_size_limit_during_the_commit(db: Path) -> None:
    before = history(db)
    r = subprocess.run([sys.executable, "-c", FSIZE, str(db), "incident", "ack", "1", "--unit", "区应急局",
                        "--outcome", "接通", "--db", str(db)], capture_output=True, text=True, env=_env(),
                       timeout=60, check=False)
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    assert r.stderr == f"geohazard: error: --db: {db}: {MESSAGES['eio']}\n"
    assert history(db) == before
    assert_sound(db)


# --- a journal in a read-only directory -----------------------------------------------------------

def _readonly_prefix() -> tuple[str, ...]:
    """Root ignores file modes: take away its override, so a 0555 directory is read-only for it too."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "running as root, the read-only tests need setpriv (util-linux)"
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner")


@pytest.fixture
def readonly_dir(db: Path, cli) -> Any:  # type: ignore[no-untyped-def]
    cli("incident", "ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", T0, "--db", str(db))
    db.parent.chmod(0o555)
    yield db
    db.parent.chmod(0o755)


def test_reading_commands_work_in_a_read_only_directory(readonly_dir: Path, tmp_path: Path) -> None:
    db, prefix = readonly_dir, _readonly_prefix()
    assert not Path(f"{db}-wal").exists()  # the last writer closed cleanly
    shown = geohazard("incident", "show", "1", "--db", str(db), "--format", "json", prefix=prefix)
    assert shown.returncode == 0, shown.stderr
    assert [e["kind"] for e in json.loads(shown.stdout)["history"]] == ["open", "call", "ack"]
    listed = geohazard("incident", "list", "--db", str(db), prefix=prefix)
    assert listed.returncode == 0 and "#1" in listed.stdout, listed.stderr
    for args in (("export", "1", "--format", "json"), ("check",)):
        r = geohazard("incident", *args, "--db", str(db), prefix=prefix)
        assert (r.returncode, r.stderr) == (0, ""), args
    out = tmp_path.parent / f"{tmp_path.name}-backup.sqlite3"
    r = geohazard("incident", "backup", str(out), "--db", str(db), prefix=prefix)
    assert r.returncode == 0, r.stderr
    out.unlink()
    # A write is refused in one line and changes nothing.
    r = geohazard("incident", "ack", "1", "--unit", "区应急局", "--outcome", "接通", "--db", str(db), prefix=prefix)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert sorted(p.name for p in db.parent.iterdir()) == [db.name]


def test_reading_commands_read_a_write_ahead_log_left_in_a_read_only_directory(db: Path) -> None:
    """A writer that died left its log: the reading commands see what it committed."""
    kill = ("import os, sys, sqlite3; c = sqlite3.connect(sys.argv[1]); "
            "c.execute(\"UPDATE incidents SET close_reason = 'x' WHERE id = 1\"); c.commit(); os._exit(0)")
    assert subprocess.run([sys.executable, "-c", kill, str(db)], check=False).returncode == 0
    assert Path(f"{db}-wal").exists()
    db.parent.chmod(0o555)
    try:
        r = geohazard("incident", "check", "--db", str(db), "--format", "json", prefix=_readonly_prefix())
    finally:
        db.parent.chmod(0o755)
    assert r.returncode == 0, r.stderr
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT close_reason FROM incidents").fetchall() == [("x",)]
    finally:
        conn.close()


# --- file modes -------------------------------------------------------------------------------------

def test_the_journal_is_created_private(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    r = geohazard("incident", "open", "--evacuees", "4", "--db", str(db))
    assert r.returncode == 0, r.stderr
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    data = tmp_path / "data"
    r = geohazard("incident", "open", "--evacuees", "4", XDG_DATA_HOME=str(data))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((data / "geohazard-cli").stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "geohazard-cli" / "journal.sqlite3").stat().st_mode) == 0o600
    backup = tmp_path / "b.sqlite3"
    assert geohazard("incident", "backup", str(backup), "--db", str(db)).returncode == 0
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


# --- another writer's lock ----------------------------------------------------------------------------

HOLD = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(float(sys.argv[2])); "
        "c.execute('COMMIT')")


def _hold(db: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_a_writer_behind_a_lock_says_it_is_waiting_then_records(db: Path) -> None:
    # The lock is held until the writer has said it is waiting (however slow the machine), then let go.
    holder = _hold(db, 60)
    writer = subprocess.Popen([sys.executable, "-m", "geohazard_cli", "incident", "ack", "1", "--unit", "区应急局",
                               "--outcome", "接通", "--db", str(db)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env())
    try:
        assert writer.stderr is not None
        first = writer.stderr.readline()  # blocks until the message (or the writer ends)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    _, rest = writer.communicate(timeout=60)
    assert writer.returncode == 0, first + rest
    assert first + rest == (f"geohazard: waiting for the journal {db}: another command is writing to it "
                            "(waits up to 30 s; $GEOHAZARD_DB_TIMEOUT sets how long)\n")
    assert kinds(history(db))[-1] == "ack"


def test_the_wait_is_configurable_and_then_refused_in_one_line(db: Path) -> None:
    holder = _hold(db, 6)
    try:
        started = time.monotonic()
        r = geohazard("incident", "ack", "1", "--unit", "区应急局", "--outcome", "接通", "--db", str(db),
                      GEOHAZARD_DB_TIMEOUT="2.5")
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert r.returncode == 2 and 2.5 <= waited < 5.5, (waited, r.stderr)
    assert r.stderr.splitlines() == [
        f"geohazard: waiting for the journal {db}: another command is writing to it (waits up to 2.5 s; "
        "$GEOHAZARD_DB_TIMEOUT sets how long)",
        f"geohazard: error: {db}: the journal stayed busy for 2.5 s (another command is writing); try again "
        "($GEOHAZARD_DB_TIMEOUT sets how long to wait)"]
    r = geohazard("incident", "list", "--db", str(db), GEOHAZARD_DB_TIMEOUT="soon")
    assert r.stderr == ('geohazard: error: $GEOHAZARD_DB_TIMEOUT: "soon" is not a number of seconds to wait '
                        "for the journal (such as 30 or 2.5)\n")


def test_readers_do_not_wait_for_a_writer(db: Path) -> None:
    holder = _hold(db, 5)
    try:
        started = time.monotonic()
        r = geohazard("incident", "show", "1", "--db", str(db))
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert time.monotonic() - started < 4
    finally:
        holder.kill()
        holder.wait(timeout=30)


# --- backup while another officer writes ------------------------------------------------------------

WRITER = """
import sys
from geohazard_cli.cli import run
db, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    if run(["incident", "update", "1", "--threatened", str(i + 1), "--db", db, "--format", "json"]):
        sys.exit(1)
"""


def test_backup_is_consistent_while_another_writes(db: Path, tmp_path: Path) -> None:
    with (tmp_path / "writer.out").open("w") as out:
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), "40"], stdout=out,
                                  stderr=subprocess.PIPE, text=True, env=_env())
        copies = []
        try:
            for i in range(5):
                copy = tmp_path / f"copy{i}.sqlite3"
                r = geohazard("incident", "backup", str(copy), "--db", str(db), "--format", "json")
                assert r.returncode == 0, r.stderr
                assert json.loads(r.stdout)["backup"] == str(copy.resolve())
                copies.append(copy)
        finally:
            assert writer.wait(timeout=120) == 0, writer.stderr.read() if writer.stderr else ""
    final = history(db)
    assert len(final) > 40
    for copy in copies:
        assert not Path(f"{copy}-wal").exists()
        assert_sound(copy)  # every snapshot equals its events replayed: no half-copied write
        got = history(copy)
        assert got == final[:len(got)]
