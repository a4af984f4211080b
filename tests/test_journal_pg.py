"""The journal on PostgreSQL: what only the shared backend has (append-only enforced by the server,
row locks between stations, client-chosen event ids) and the errors a user meets connecting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import psycopg
import pytest

T0 = "2026-07-21 09:40"


def run(cli: Any, url: str, *args: str) -> Any:
    return cli("incident", *args, "--db", url)


def opened(cli: Any, url: str) -> dict[str, Any]:
    r = run(cli, url, "open", "--evacuees", "40", "--at", T0, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return dict(json.loads(r.stdout))


def test_events_are_append_only_on_the_server(cli: Any, pg_url: str) -> None:
    opened(cli, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for sql in ("UPDATE events SET kind = 'close'", "DELETE FROM events", "TRUNCATE events CASCADE"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(sql)
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (2,)
        assert conn.execute("SELECT version FROM geohazard_schema").fetchall() == [(1,)]


def test_errors_name_the_url_without_its_password(cli: Any, pg_server: Any, pg_url: str) -> None:
    wrong = pg_server.url(user="duty", password="wrong-password")
    r = run(cli, wrong, "list")
    assert r.exit_code == 2 and r.stdout == ""
    shown = wrong.replace("wrong-password", "***")
    assert r.stderr == f"geohazard: error: --db: {shown}: the server refused the user name or password\n"
    nodb = pg_server.url(db="nosuchdb")
    r = run(cli, nodb, "list")
    assert r.stderr == (f"geohazard: error: --db: {nodb}: the server has no database nosuchdb "
                        "(create it with createdb)\n")
    down = f"postgresql://duty:secret@/geohazard?host={pg_server.base}/nowhere"
    r = run(cli, down, "open", "--evacuees", "4")
    assert r.exit_code == 2
    assert r.stderr == ("geohazard: error: --db: postgresql://duty:***@/geohazard?host="
                        f"{pg_server.base}/nowhere: cannot reach the server (is it running, and is the host "
                        "and port right?)\n")
    ok = pg_server.url(user="duty", password="right-password", schema=pg_url.rsplit("%3D", 1)[1])
    pg_server.sql(f"GRANT ALL ON SCHEMA {pg_url.rsplit('%3D', 1)[1]} TO duty")
    assert run(cli, ok, "list").exit_code == 0


def test_newer_schema_is_refused_and_reading_creates_nothing(cli: Any, pg_url: str) -> None:
    r = run(cli, pg_url, "show", "1")
    assert r.exit_code == 2 and "does not exist yet" in r.stderr
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('geohazard_schema')").fetchone() == (None,)
    opened(cli, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE geohazard_schema SET version = 99")
    r = run(cli, pg_url, "list")
    assert r.exit_code == 2
    assert r.stderr == (f"geohazard: error: --db: {pg_url} has schema version 99, newer than this geohazard "
                        "knows (1); upgrade geohazard-cli\n")


def test_the_same_request_sent_again_writes_nothing(cli: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """$GEOHAZARD_REQUEST_ID: a caller retrying a command (its connection lost, its answer unknown)
    sends the same id, and what the first try recorded is answered, not written again."""
    opened(cli, pg_url)
    monkeypatch.setenv("GEOHAZARD_REQUEST_ID", "station-a/ack/17")
    ack = ("ack", "1", "--unit", "区应急局", "--outcome", "answered")
    first = run(cli, pg_url, *ack, "--at", "2026-07-21 09:45", "--format", "json")
    again = run(cli, pg_url, *ack, "--at", "2026-07-21 09:45", "--format", "json")
    assert first.exit_code == again.exit_code == 0
    assert json.loads(first.stdout) == json.loads(again.stdout)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'ack'").fetchone() == (1,)
    monkeypatch.delenv("GEOHAZARD_REQUEST_ID")  # a command typed again is a new request
    assert run(cli, pg_url, *ack, "--at", "2026-07-21 09:46").exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'ack'").fetchone() == (2,)


def test_a_lost_commit_is_looked_up_not_guessed(pg_url: str, shizhong: Any) -> None:
    """The connection dies during COMMIT: the journal reconnects and finds the events there (or not)."""
    from geohazard_cli import responses
    from geohazard_cli.journal_pg import PgJournal
    from geohazard_cli.models import Incident
    from geohazard_cli.timeline import Outcome

    j = PgJournal.open(pg_url)
    assert j is not None
    state, *_ = responses.open_incident(j, Incident(evacuees=40), shizhong, None,
                                        __import__("datetime").datetime.now().astimezone(), False)
    real = j.conn

    class DiesOnCommit:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def execute(self, sql: str, *a: Any) -> Any:
            if sql == "COMMIT":
                real.execute("COMMIT")
                real.close()
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            return real.execute(sql, *a)

    j.conn = DiesOnCommit()  # type: ignore[assignment]
    _, events = responses.acknowledge(j, state.id, [("emergency", "区应急局")], Outcome.answered, None,
                                      __import__("datetime").datetime.now().astimezone())
    assert [e.kind for e in events] == ["ack"]
    with j.transaction(write=False):
        assert [e.kind for e in j.events(state.id)].count("ack") == 1
    j.close()



def test_a_board_that_loses_the_server_says_it_only_read(cli: Any, pg_url: str) -> None:
    """The server drops the connection while a read-only journal waits (the watch board): the
    error says nothing was changed (it only reads), not that nothing was recorded; a write that
    loses it still says nothing was recorded."""
    from geohazard_cli.errors import InputError
    from geohazard_cli.journal_pg import PgJournal

    opened(cli, pg_url)

    def drop(j: PgJournal) -> None:
        pid = j.conn.info.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

    board = PgJournal.open(pg_url, create=False, readonly=True)
    assert board is not None
    board.wait_change(0)
    drop(board)
    with pytest.raises(InputError) as lost:
        board.wait_change(5)
    text = str(lost.value)
    assert "lost the connection to the server" in text and "nothing was recorded" not in text
    assert "it was only reading: nothing was changed" in text
    board.close()
    reader = PgJournal.open(pg_url, create=False, readonly=True)
    assert reader is not None
    drop(reader)
    with pytest.raises(InputError, match="it was only reading: nothing was changed"), \
            reader.transaction(write=False):
        reader.states("open")
    reader.close()
    writer = PgJournal.open(pg_url)
    assert writer is not None
    drop(writer)
    with pytest.raises(InputError, match=r"; nothing was recorded$"), writer.transaction(write=True):
        pass
    writer.close()

WRITER = r"""
import os, sys
from geohazard_cli.journal_pg import PgJournal
from geohazard_cli import responses
from geohazard_cli.timeline import Outcome
from datetime import datetime, timezone
url, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    j = PgJournal.open(url)
    responses.acknowledge(j, 1, [("emergency", "区应急局")], Outcome.answered, f"w{os.getpid()}",
                          datetime.now(timezone.utc))
    j.close()
"""


def test_two_stations_writing_one_incident_serialise(cli: Any, pg_url: str) -> None:
    """Writers to one response take its row lock: every ack lands, the snapshot agrees with the events."""
    opened(cli, pg_url)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, pg_url, "15"], env=os.environ.copy())
             for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    r = run(cli, pg_url, "check", "--format", "json")
    assert r.exit_code == 0, r.stdout
    report = json.loads(r.stdout)
    assert report["events"] == 2 + 45 and not report["disagreements"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_event_carries_station_and_officer(cli: Any, backend: str, tmp_path: Any, copy: Any,
                                                 monkeypatch: pytest.MonkeyPatch, request: Any) -> None:
    """--station/--officer, else $GEOHAZARD_STATION/$GEOHAZARD_OFFICER, else station.local.yaml."""
    import sqlite3

    spec = str(tmp_path / "j.sqlite3") if backend == "sqlite" else request.getfixturevalue("pg_url")
    monkeypatch.setenv("GEOHAZARD_CONFIG_DIR", str(copy))
    (copy / "station.local.yaml").write_text("station: 区应急局值班室\nofficer: 张三\n", encoding="utf-8")
    assert cli("incident", "open", "--evacuees", "40", "--at", T0, "--db", spec).exit_code == 0
    monkeypatch.setenv("GEOHAZARD_STATION", "现场指挥部")
    r = cli("incident", "--officer", "李四", "ack", "1", "--unit", "区应急局", "--outcome", "answered", "--db", spec)
    assert r.exit_code == 0, r.stderr
    sql = "SELECT kind, station, officer FROM events ORDER BY seq"
    if backend == "sqlite":
        got = sqlite3.connect(spec).execute(sql).fetchall()
    else:
        with psycopg.connect(spec) as conn:
            got = conn.execute(sql).fetchall()
    room = ("区应急局值班室", "张三")
    assert got == [("open", *room), ("call", *room), ("ack", "现场指挥部", "李四")]
    shown = json.loads(cli("incident", "show", "1", "--format", "json", "--db", spec).stdout)["history"]
    assert [(e["kind"], e["station"], e["officer"]) for e in shown] == got
    text = cli("incident", "show", "1", "--db", spec).stdout.splitlines()
    timeline = text[text.index("时间线") + 1:]
    assert [line.rsplit("  ", 1)[1] for line in timeline[:3]] == [
        "[区应急局值班室 张三]", "[区应急局值班室 张三]", "[现场指挥部 李四]"]
    (copy / "station.local.yaml").write_text("station: [1]\n", encoding="utf-8")
    monkeypatch.delenv("GEOHAZARD_STATION")
    r = cli("incident", "close", "1", "--confirm-all", "--reason", "x", "--db", spec)
    assert r.exit_code == 2 and "station.local.yaml: expected" in r.stderr


def test_migrate_both_ways_loses_nothing_and_adds_nothing_twice(cli: Any, tmp_path: Any, pg_url: str) -> None:
    here = str(tmp_path / "room.sqlite3")
    assert cli("incident", "open", "--evacuees", "40", "--at", T0, "--db", here).exit_code == 0
    assert cli("incident", "open", "--deaths", "3", "--at", T0, "--db", here).exit_code == 0
    assert cli("incident", "ack", "2", "--unit", "区应急局", "--outcome", "answered", "--db", here).exit_code == 0
    r = cli("incident", "migrate", "--to", pg_url, "--db", here, "--format", "json")
    assert r.exit_code == 0, r.stderr
    first = json.loads(r.stdout)
    assert (first["responses"], first["new_responses"], first["new_events"]) == (2, 2, first["events"])
    again = json.loads(cli("incident", "migrate", "--to", pg_url, "--db", here, "--format", "json").stdout)
    assert (again["new_responses"], again["new_events"], again["checksum"]) == (0, 0, first["checksum"])
    for ref in ("1", "2"):
        a = json.loads(cli("incident", "show", ref, "--db", here, "--format", "json").stdout)
        b = json.loads(cli("incident", "show", ref, "--db", pg_url, "--format", "json").stdout)
        assert [(e["kind"], e["text"], e["at"]) for e in a["history"]] == \
            [(e["kind"], e["text"], e["at"]) for e in b["history"]]
        assert (a["status"], a["response_level"]) == (b["status"], b["response_level"])
    # a station writes on the server; the field post takes the whole journal offline, twice
    assert cli("incident", "close", "1", "--confirm-all", "--reason", "险情解除", "--db", pg_url).exit_code == 0
    post = str(tmp_path / "post.sqlite3")
    back = json.loads(cli("incident", "migrate", "--to", post, "--db", pg_url, "--format", "json").stdout)
    assert (back["responses"], back["new_events"], back["events"]) == (2, first["events"] + 1, first["events"] + 1)
    assert json.loads(cli("incident", "migrate", "--to", post, "--db", pg_url, "--format", "json").stdout)[
        "new_events"] == 0
    assert json.loads(cli("incident", "show", "1", "--db", post, "--format", "json").stdout)["status"] == "closed"
    assert cli("incident", "check", "--db", post).exit_code == 0
    assert cli("incident", "check", "--db", pg_url).exit_code == 0
    r = cli("incident", "migrate", "--to", here, "--db", here)
    assert r.exit_code == 2 and "is the journal itself" in r.stderr


def test_check_on_the_server_looks_at_the_schema_and_the_append_only_triggers(cli: Any, pg_url: str) -> None:
    """What `incident check` asks PostgreSQL: the schema version, the triggers present and enabled;
    then every event re-validated and every snapshot against its events, as on SQLite."""
    opened(cli, pg_url)
    r = run(cli, pg_url, "check")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[1:3] == ["PostgreSQL schema version: ok", "PostgreSQL append-only triggers: ok"]
    assert "SQLite" not in r.stdout
    out = json.loads(run(cli, pg_url, "check", "--format", "json").stdout)
    assert out == {"path": pg_url, "backend": "postgresql", "schema_version": 1,
                   "server_checks": {"schema_version": "ok", "append_only": "ok"}, "responses": 1, "events": 2,
                   "set_aside_count": 0, "set_aside": [], "disagreements": [], "damaged": False}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        conn.execute("UPDATE events SET kind = 'mystery' WHERE kind = 'call'")  # now it can be changed
        conn.execute("DROP TRIGGER events_no_truncate ON events")
    r = run(cli, pg_url, "check", "--format", "json")
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    problem = ("trigger events_append_only is disabled; trigger events_no_truncate is missing "
               "(events can be changed in place)")
    assert out["server_checks"] == {"schema_version": "ok", "append_only": problem}
    assert [d["text"] for d in out["set_aside"]] == ["incident 1: event #2 set aside: its kind 'mystery' is not known"]
    assert r.stderr == (f"geohazard: error: the journal {pg_url} is damaged: 1 row(s) set aside, 0 stored state(s) "
                        f"disagree with their events, PostgreSQL's: {problem}\n")


HOLD_ROW = ("import psycopg, sys, time; c = psycopg.connect(sys.argv[1]); "
            "c.execute('SELECT id FROM incidents WHERE id = 1 FOR UPDATE'); print('held', flush=True); "
            "time.sleep(float(sys.argv[2]))")


def _hold_row(url: str, seconds: float) -> subprocess.Popen[str]:
    """Another station in the middle of writing incident 1: its row lock held."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_ROW, url, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def _writer_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GEOHAZARD_DB", "GEOHAZARD_DB_TIMEOUT")}
    return env | {"NO_COLOR": "1"} | extra


ACK = ("incident", "ack", "1", "--unit", "区应急局", "--outcome", "接通")


def test_a_writer_behind_another_stations_lock_says_it_is_waiting_then_records(cli: Any, pg_url: str) -> None:
    # The row lock is held until the writer has said it is waiting (however slow the machine), then let go.
    opened(cli, pg_url)
    holder = _hold_row(pg_url, 60)
    writer = subprocess.Popen([sys.executable, "-m", "geohazard_cli", *ACK, "--db", pg_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_writer_env())
    try:
        assert writer.stderr is not None
        first = writer.stderr.readline()  # blocks until the message (or the writer ends)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    _, rest = writer.communicate(timeout=60)
    assert writer.returncode == 0, first + rest
    assert first + rest == (f"geohazard: waiting for the journal {pg_url}: another station is writing to incident 1 "
                            "(waits up to 30 s; $GEOHAZARD_DB_TIMEOUT sets how long)\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'ack'").fetchone() == (1,)


def test_the_wait_for_a_row_lock_is_configurable_and_then_refused_in_one_line(cli: Any, pg_url: str) -> None:
    opened(cli, pg_url)
    holder = _hold_row(pg_url, 60)
    try:
        r = subprocess.run([sys.executable, "-m", "geohazard_cli", *ACK, "--db", pg_url], capture_output=True,
                           text=True, env=_writer_env(GEOHAZARD_DB_TIMEOUT="2.5"), timeout=60, check=False)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        f"geohazard: waiting for the journal {pg_url}: another station is writing to incident 1 (waits up to "
        "2.5 s; $GEOHAZARD_DB_TIMEOUT sets how long)",
        f"geohazard: error: {pg_url}: the incident stayed locked for 2.5 s (another station is writing to it); "
        "try again ($GEOHAZARD_DB_TIMEOUT sets how long to wait)"]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'ack'").fetchone() == (0,)
    assert run(cli, pg_url, *ACK[1:]).exit_code == 0  # the lock gone, the same command records
