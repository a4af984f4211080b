"""The live board (`incident watch`): the frame as data (board.frame, tested directly), its text at 80
columns and with NO_COLOR, the bell on the transition only, Ctrl-C, and a person's view of it: the
board running under tmux while another process records an answer."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from geohazard_cli import board, deadlines
from geohazard_cli.config import config_dir
from geohazard_cli.journal import Journal

T0 = "2026-07-21 09:00"
GEOHAZARD = str(Path(sys.executable).with_name("geohazard"))


@pytest.fixture
def inc(cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    db = str(tmp_path / "j.sqlite3")

    def invoke(*args: str) -> Any:
        r = cli("incident", *args, "--db", db)
        assert r.exit_code == 0, r.stderr
        return r

    invoke.db = db  # type: ignore[attr-defined]
    return invoke


def frame_at(db: str, at: str) -> dict[str, Any]:
    """The board's frame straight from the core: the journal's open states, due, frame."""
    from geohazard_cli.cli.incident_clock import profiles_in

    j = Journal.open(Path(db), readonly=True)
    assert j is not None
    with j.transaction(write=False):
        states = j.states("open")
    j.close()
    cfg = config_dir(None)
    clock = datetime.fromisoformat(at)
    profile_of = profiles_in(cfg)
    due = deadlines.due(states, clock, deadlines.load(cfg), profile_of)
    return board.frame(states, due, clock, lambda plan: "区政府" if profile_of(plan) else None)


def test_frame_places_each_unit_of_the_round_worst_first(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "140", "--at", T0)  # II: answers due in 10 minutes
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 09:03")
    inc("ack", "1", "--unit", "区自然资源局", "--outcome", "无人接听", "--at", "2026-07-21 09:05")
    f = frame_at(inc.db, "2026-07-21T09:12:00+08:00")
    (r,) = f["responses"]
    assert (r["id"], r["kind"], r["kind_name"], r["level"], r["decided_by"], r["proposed"]) == (
        1, "incident", "事件", "II", None, None)
    assert (r["answer_minutes"], r["answered"], r["round_started_at"]) == (10, 1, "2026-07-21T09:00:00+08:00")
    by = {u["unit_key"]: u for u in r["units"]}
    assert {k: by["emergency"][k] for k in ("standing", "answered_at", "attempts", "last_outcome")} == {
        "standing": "answered", "answered_at": "2026-07-21T09:03:00+08:00", "attempts": 1,
        "last_outcome": "answered"}
    natural = by["natural_resources"]  # called 09:05, no answer: that earns no time, late since 09:10
    assert {k: natural[k] for k in ("standing", "attempts", "last_outcome", "minutes_since_call", "minutes_late")} == {
        "standing": "overdue", "attempts": 1, "last_outcome": "no-answer", "minutes_since_call": 7, "minutes_late": 2}
    never = by["hq_office"]  # never called: late from the start of the round
    assert (never["standing"], never["minutes_late"], never["attempts"], never["called_at"]) == ("overdue", 2, 0, None)
    assert [u["standing"] for u in r["units"]] == sorted((u["standing"] for u in r["units"]),
                                                         key=board.STANDING.index)
    assert [d["report"] for d in r["reports"]] == ["first"] and f["overdue"] == len(r["units"]) - 1
    assert {(1, "unit", "hq_office"), (1, "unit", "natural_resources")} <= board.overdue_keys(f)
    earlier = frame_at(inc.db, "2026-07-21T09:08:00+08:00")  # before the round's deadline: waiting
    (e,) = earlier["responses"]
    waiting = {u["unit_key"]: u for u in e["units"]}["natural_resources"]
    assert (waiting["standing"], waiting["minutes_left"], waiting["minutes_since_call"]) == ("waiting", 2, 3)
    assert board.overdue_keys(earlier) == set()


def test_frame_shows_the_proposed_level_beside_the_one_in_force_until_decided(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    inc("update", "1", "--evacuees", "600", "--at", "2026-07-21 09:10")
    (r,) = frame_at(inc.db, "2026-07-21T09:11:00+08:00")["responses"]
    assert (r["level"], r["proposed"]["level"], r["proposed"]["decider"]) == ("III", "I", "区政府")
    inc("decide", "1", "--level", "I", "--by", "区政府", "--at", "2026-07-21 09:12")
    (r,) = frame_at(inc.db, "2026-07-21T09:13:00+08:00")["responses"]
    assert (r["level"], r["proposed"], r["decided_by"], r["round_started_at"]) == (
        "I", None, "区政府", "2026-07-21T09:12:00+08:00")


def test_once_text_marks_overdue_in_words_and_fits_80_columns(inc, cli) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console

    from geohazard_cli.cli.incident_watch import frame_lines, renderable

    r = cli("warning", "红色", "--area", "七里山街道", "--record", "--db", inc.db, "--sent", T0)
    assert r.exit_code == 0, r.stderr
    inc("open", "--evacuees", "40", "--at", T0)
    inc("update", "2", "--evacuees", "600", "--at", "2026-07-21 09:10")
    inc("ack", "2", "--unit", "区应急局", "--outcome", "占线", "--at", "2026-07-21 09:14")
    out = inc("watch", "--once", "--at", "2026-07-21 09:20").stdout
    assert out.splitlines()[0] == "叫应看板 2026-07-21 09:20:00 · 开放响应 2 · 逾期 8"
    assert "预警响应 #1 七里山街道 · 红色预警" in out
    assert "事件 #2 · 现行 III级响应(接报级别,待区政府决定)" in out
    assert "  建议 I级响应(待区政府决定;备好该级别的呼叫名单)" in out
    assert "  【逾期 10分】 未呼叫(8): 区指挥部办公室、七里山街道办事处" in out  # red: 10 minutes
    # III: 30 minutes from 09:00 (a busy line earns no time)
    assert "  剩 10分  区应急局  已拨1次,末次占线 09:14(6分钟前)  再拨 0531-82722671" in out
    assert "  剩 10分  速报 应于 09:30 前(本局规定)\n" in out  # the bureau's 30 minutes: the plan says 立即
    assert "\x1b[" not in out  # piped: plain
    console = Console(width=80, record=True, no_color=True, force_terminal=True, markup=False, highlight=False)
    console.print(renderable(frame_lines(frame_at(inc.db, "2026-07-21T09:20:00+08:00"), 5)))
    from rich.cells import cell_len

    text = console.export_text()
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert "逾期" in text and "\x1b[" not in text


def test_once_json_is_the_frame_and_a_missing_journal_is_said(inc, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("incident", "watch", "--once", "--db", str(tmp_path / "none.sqlite3"), "--at", T0)
    assert r.exit_code == 0 and "日志尚不存在" in r.stdout
    assert not (tmp_path / "none.sqlite3").exists()
    inc("open", "--evacuees", "140", "--at", T0)
    data = json.loads(inc("watch", "--format", "json", "--at", "2026-07-21 09:05").stdout)
    assert data["responses"][0]["id"] == 1 and data["overdue"] == 0 and data["configured"] is True



def test_a_range_is_shown_as_typed_with_the_grades_it_spans_on_the_board_and_in_list(inc) -> None:  # type: ignore[no-untyped-def]
    """80-150 to evacuate spans 小型 (under 100) and 中型: the board and `incident list` show the
    figure as typed and 小型至中型, prepared for 中型; an estimate shows its one grade; an exact
    figure shows nothing more."""
    inc("open", "--evacuees", "80-150", "--at", T0, "--location", "七里山")
    inc("open", "--evacuees", "约300人", "--at", T0)
    inc("open", "--evacuees", "40", "--at", T0)
    f = frame_at(inc.db, "2026-07-21T09:05:00+08:00")
    by = {r["id"]: r["reported"] for r in f["responses"]}
    assert by[1] == {"figures": [{"field": "evacuees", "label": "需搬迁转移人数", "text": "80-150", "estimate": False}],
                     "grade_range": {"low": "small", "high": "medium", "low_name": "small", "high_name": "中型"},
                     "prepare_for": "medium", "prepare_for_name": "中型"}  # no profile names given: the key
    assert by[2]["figures"][0]["estimate"] is True and by[2]["grade_range"]["low"] == by[2]["grade_range"]["high"]
    assert by[3] is None
    out = inc("watch", "--once", "--at", "2026-07-21 09:05").stdout
    assert "  报告数为范围或估计: 需搬迁转移人数 80-150 · 等级 小型至中型(按中型准备)" in out
    assert "  报告数为范围或估计: 需搬迁转移人数 约300人 · 等级 中型" in out
    assert out.count("报告数为范围或估计") == 2
    data = json.loads(inc("watch", "--format", "json", "--at", "2026-07-21 09:05").stdout)
    assert data["responses"][0]["reported"]["grade_range"]["low_name"] == "小型"
    listed = inc("list").stdout.splitlines()
    assert "小型至中型(按中型准备)" in listed[1] and listed[1].endswith("七里山 · 需搬迁转移人数 80-150")
    assert listed[2].endswith("需搬迁转移人数 约300人") and "中型" in listed[2]
    assert "范围" not in listed[3] and "需搬迁" not in listed[3]
    rows = json.loads(inc("list", "--format", "json").stdout)
    assert rows[0]["reported"]["prepare_for_name"] == "中型" and rows[2]["reported"] is None

def _until(probe: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.1)
    pytest.fail(f"not seen within {seconds} s: {what}")


def _env() -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1")
    env.pop("GEOHAZARD_CONFIG_DIR", None)
    return env


def test_piped_watch_rings_once_when_something_becomes_overdue_and_ctrl_c_exits_0(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "140", "--at", "2026-07-21 09:15")  # nothing late at 09:20
    proc = subprocess.Popen([GEOHAZARD, "incident", "watch", "--db", inc.db, "--at", "2026-07-21 09:20",
                             "--interval", "0.3", "--bell"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())
    got = b""
    try:
        os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]

        def read(text: str) -> Callable[[], bool]:
            def probe() -> bool:
                nonlocal got
                got += proc.stdout.read() or b""  # type: ignore[union-attr]
                return text.encode() in got
            return probe

        _until(read("开放响应 1 · 逾期 0"), 20, "the first frame")
        assert b"\a" not in got
        inc("open", "--evacuees", "140", "--at", "2026-07-21 09:05")  # late at 09:20: rings once
        _until(read("\a"), 20, "the bell")
        _until(read("开放响应 2"), 20, "the new response")
        time.sleep(1.0)  # three more refreshes: nothing new is late, no second bell
        read("")()
        assert got.count(b"\a") == 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert proc.stderr.read() == b""  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_board_under_tmux_shows_another_officers_ack(inc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps")
    inc("open", "--evacuees", "140", "--at", T0)
    sock = str(tmp_path / "tmux.sock")
    env = _env()
    board_cmd = (f"env NO_COLOR=1 GEOHAZARD_CACHE_DIR={env.get('GEOHAZARD_CACHE_DIR', '')} {GEOHAZARD} "
                 f"incident watch --db {inc.db} --at '2026-07-21 09:20' --interval 0.5; echo EXIT=$?; sleep 30")

    def pane() -> str:
        done = subprocess.run([tmux, "-S", sock, "capture-pane", "-p", "-t", "board"], capture_output=True,
                              text=True, timeout=10, env=env)
        return done.stdout

    subprocess.run([tmux, "-S", sock, "-f", "/dev/null", "new-session", "-d", "-s", "board", "-x", "80", "-y", "40",
                    board_cmd], check=True, timeout=10, env=env)
    try:
        _until(lambda: "叫应看板 2026-07-21 09:20:00" in pane(), 20, "the board in the pane")
        assert "已应答(1)" not in pane() and "已应答 0/27" in pane()
        assert "每0.5秒刷新,Ctrl-C 退出" in pane() and "【逾期 10分】 未呼叫" in pane()
        done = subprocess.run([GEOHAZARD, "incident", "ack", "1", "--unit", "区应急局", "--outcome", "接通",
                               "--at", "2026-07-21 09:18", "--db", inc.db], capture_output=True, env=env, timeout=30)
        assert done.returncode == 0, done.stderr
        _until(lambda: "已应答(1): 区应急局 09:18" in pane(), 5, "the other officer's ack on the board")
        subprocess.run([tmux, "-S", sock, "send-keys", "-t", "board", "C-c"], check=True, timeout=10, env=env)
        _until(lambda: "EXIT=0" in pane(), 10, "Ctrl-C ending the board with exit 0")
        assert "Traceback" not in pane() and "KeyboardInterrupt" not in pane()
    finally:
        subprocess.run([tmux, "-S", sock, "kill-server"], capture_output=True, timeout=10, env=env)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_station_as_board_shows_station_bs_answer_without_waiting_for_the_interval(
        cli, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    """Two stations on one journal: station A's board refreshes once an hour, yet station B's ack shows
    (PostgreSQL: LISTEN/NOTIFY; SQLite: its data_version), under tmux as a person sees it."""
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux is not installed: run scripts/install-test-deps")
    spec = str(tmp_path / "j.sqlite3") if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    assert cli("incident", "open", "--evacuees", "140", "--at", T0, "--db", spec).exit_code == 0
    sock = str(tmp_path / "tmux.sock")
    env = _env()
    board_cmd = (f"env NO_COLOR=1 GEOHAZARD_CACHE_DIR={env.get('GEOHAZARD_CACHE_DIR', '')} {GEOHAZARD} "
                 f"incident watch --db '{spec}' --at '2026-07-21 09:20' --interval 3600; echo EXIT=$?; sleep 30")

    def pane() -> str:
        return subprocess.run([tmux, "-S", sock, "capture-pane", "-p", "-t", "board"], capture_output=True,
                              text=True, timeout=10, env=env).stdout

    subprocess.run([tmux, "-S", sock, "-f", "/dev/null", "new-session", "-d", "-s", "board", "-x", "80", "-y", "40",
                    board_cmd], check=True, timeout=10, env=env)
    try:
        _until(lambda: "已应答 0/27" in pane(), 20, "station A's board in the pane")
        assert "每3600秒刷新" in pane()
        done = subprocess.run([GEOHAZARD, "incident", "--station", "现场指挥部", "ack", "1", "--unit", "区应急局",
                               "--outcome", "接通", "--at", "2026-07-21 09:18", "--db", spec], capture_output=True,
                              env=env, timeout=30)
        assert done.returncode == 0, done.stderr
        _until(lambda: "已应答(1): 区应急局 09:18" in pane(), 60, "station B's ack on station A's board")
        assert "已应答 1/27" in pane()
        if os.environ.get("GEOHAZARD_SHOW_PANE"):
            print(pane())
        subprocess.run([tmux, "-S", sock, "send-keys", "-t", "board", "C-c"], check=True, timeout=10, env=env)
        _until(lambda: "EXIT=0" in pane(), 10, "Ctrl-C ending the board with exit 0")
        assert "Traceback" not in pane()
    finally:
        subprocess.run([tmux, "-S", sock, "kill-server"], capture_output=True, timeout=10, env=env)
