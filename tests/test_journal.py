"""The incident journal: every `geohazard incident` command, level changes both ways, storage
(schema version, migrations, money as exact text, WAL) and the pure re-grading core."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import geohazard_cli
from geohazard_cli import journal, lifecycle, responses
from geohazard_cli.intake import TIME_EXAMPLES
from geohazard_cli.models import Incident
from geohazard_cli.rules import Profile

T0 = "2026-07-21 09:40"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


# The command tests that look only through the CLI run on both backends (an SQLite file, a PostgreSQL
# database on the session's private server); those that open the SQLite file themselves run on it only.
SQLITE_ONLY = {"db", "two", "cli", "elsewhere", "monkeypatch"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    import inspect

    direct = set(inspect.signature(metafunc.function).parameters)
    used = {f for m in metafunc.definition.iter_markers("usefixtures") for f in m.args}
    if "inc" in direct | used and not (direct & SQLITE_ONLY):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def spec(backend: str, db: Path, request: pytest.FixtureRequest) -> str:
    """What --db names: the SQLite file, or a new PostgreSQL journal."""
    return str(db) if backend == "sqlite" else str(request.getfixturevalue("pg_url"))


@pytest.fixture
def inc(cli, spec: str):  # type: ignore[no-untyped-def]
    """Run `geohazard incident ...` against the test journal; JSON commands return the parsed output."""

    def invoke(*args: str, ok: bool = True, stdin: str | None = None) -> Any:
        r = cli("incident", *args, "--db", spec, stdin=stdin)
        if ok:
            assert r.exit_code == 0, r.stderr
            assert r.stderr == ""
        return r

    return invoke


def j(inc, *args: str, stdin: str | None = None) -> Any:  # type: ignore[no-untyped-def]
    return json.loads(inc(*args, "--format", "json", stdin=stdin).stdout)


def history(inc, ref: str = "1") -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return list(j(inc, "show", ref)["history"])


def rows(db: Path, sql: str, *params: Any) -> list[Any]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def assert_refused(r: Any, message: str) -> None:
    """Exit 2, nothing on stdout, the whole one-line message on stderr."""
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr == f"geohazard: error: {message}\n"


# --- open -----------------------------------------------------------------------------------------

def test_open_json_has_id_assessment_and_history(inc) -> None:  # type: ignore[no-untyped-def]
    out = j(inc, "open", "--evacuees", "40", "--location", "七里山街道", "--hazard-type", "崩塌", "--at", T0)
    assert out["id"] == 1
    assert out["status"] == "open" and out["exercise"] is False
    assert out["plan"] == "shizhong-2023"
    assert out["opened_at"] == "2026-07-21T09:40:00+08:00"
    assert (out["grade"], out["response_level"]) == ("small", "III")
    assert out["assessment"]["grade_name"] == "小型"
    assert out["assessment"]["incident"]["evacuees"] == 40
    assert out["history"][0]["kind"] == "open"
    assert out["history"][0]["text"].startswith("接报立案:小型 → 按预案III级响应(待决定)")  # a proposal (§6.2.2)
    second = j(inc, "open", "--deaths", "3", "--at", T0)
    assert second["id"] == 2 and second["response_level"] == "II"


def test_open_text_prints_id_and_assessment(inc, spec: str) -> None:  # type: ignore[no-untyped-def]
    from geohazard_cli.cli.incident_common import db_flag

    out = inc("open", "--evacuees", "140", "--at", T0).stdout
    assert out.startswith("事件 #1 已立案(2026-07-21 09:40;")
    assert "中型" in out and "II级响应" in out
    assert f"geohazard incident ack 1{db_flag(spec)} --unit" in out  # the journal named, to paste as printed


def test_open_exercise_is_marked_everywhere(inc) -> None:  # type: ignore[no-untyped-def]
    assert j(inc, "open", "--evacuees", "40", "--exercise", "--at", T0)["exercise"] is True
    assert inc("show", "1").stdout.startswith("【演练】事件 #1")
    listed = j(inc, "list")
    assert listed[0]["exercise"] is True
    assert "演练" in inc("list").stdout
    assert "【演练】" in inc("export", "1").stdout


def test_open_bad_figure_writes_nothing(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    r = inc("open", "--evacuees", "abc", ok=False)
    assert_refused(r, '--evacuees: "abc" is not a whole number of people, 0 or more '
                      "(examples: 140, 1,000, １４０)")
    assert not db.exists()
    r = inc("open", "--evacuees", "40", "--at", "yesterday", ok=False)
    assert_refused(r, f'--at: "yesterday" is not a time ({TIME_EXAMPLES})')
    assert not db.exists()


def test_open_without_figures_is_refused(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    r = inc("open", ok=False)
    assert_refused(r, "no incident given: pass figures such as --evacuees 140 --deaths 1, or --file PATH")
    assert not db.exists()


def test_open_from_file(inc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "report.yaml"
    f.write_text("evacuees: 600\nlocation: 党家街道\ndirect_loss: 300万\n", encoding="utf-8")
    out = j(inc, "open", "--file", str(f), "--at", T0)
    assert out["response_level"] == "I"
    assert out["assessment"]["incident"]["direct_loss"] == "3000000"


def test_open_defaults_to_now_in_plan_time(inc) -> None:  # type: ignore[no-untyped-def]
    out = j(inc, "open", "--evacuees", "4")
    assert out["opened_at"].endswith("+08:00")


# --- update and level changes ------------------------------------------------------------------------

def test_update_proposes_and_decide_moves_the_level_up_then_down(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    up = j(inc, "update", "1", "--evacuees", "140", "--at", "2026-07-21 10:00")
    # The assessment is a proposal: the level in force stays until 区政府 decides (§6.1.2).
    assert (up["previous_level"], up["response_level"], up["proposed_level"], up["level_changed"]) == (
        "III", "III", "II", True)
    assert up["assessed_level"] == "II" and up["direction"] == "up" and up["decided_by"] is None
    assert (up["previous_grade"], up["grade"]) == ("small", "medium")
    assert up["changes"] == [{"field": "evacuees", "label": "需搬迁转移人数", "old": 40, "new": 140,
                              "old_text": "40人", "new_text": "140人"}]
    decided = j(inc, "decide", "1", "--level", "II", "--by", "区政府", "--at", "2026-07-21 10:05")
    assert (decided["response_level"], decided["proposed_level"], decided["decided_by"]) == ("II", None, "区政府")
    down = j(inc, "update", "1", "--evacuees", "90", "--at", "2026-07-21 11:00")
    assert (down["previous_level"], down["proposed_level"], down["level_changed"]) == ("II", "III", True)
    assert down["direction"] == "down"
    j(inc, "decide", "1", "--level", "III级响应", "--by", "区政府", "--at", "2026-07-21 11:05")
    same = j(inc, "update", "1", "--evacuees", "95", "--at", "2026-07-21 11:30")
    assert (same["previous_level"], same["response_level"], same["level_changed"]) == ("III", "III", False)
    kinds = [e["kind"] for e in history(inc)]
    assert kinds == ["open", "call", "update", "proposal", "decision", "update", "proposal", "decision", "update"]
    assert [c["text"] for c in history(inc) if c["kind"] in ("proposal", "decision")] == [
        "级别建议(升级):III级响应 → II级响应(等级 中型);待决定",
        "级别决定:区政府决定 II级响应(升级,原III级响应)",
        "级别建议(降级):II级响应 → III级响应(等级 小型);待决定",
        "级别决定:区政府决定 III级响应(降级,原II级响应)"]


def test_a_proposal_withdrawn_by_later_figures_and_decide_refusals(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    assert j(inc, "update", "1", "--evacuees", "140", "--at", "2026-07-21 10:00")["proposed_level"] == "II"
    assert j(inc, "update", "1", "--evacuees", "60", "--at", "2026-07-21 10:10")["proposed_level"] is None
    assert_refused(inc("decide", "1", "--level", "IV", "--by", "区政府", ok=False),
                   '--level: "IV" is not a response level of 市中区预案(2023) (accepted: I (I级响应), II (II级响应), '
                   "III (III级响应))")
    assert_refused(inc("decide", "1", "--level", "II", "--by", " ", ok=False),
                   '--by: "" is empty; name who decided (the plan\'s decider: 区政府, §6.1.2; 6.2.2)')


def test_update_text_makes_a_level_change_stand_out(inc, spec: str) -> None:  # type: ignore[no-untyped-def]
    from geohazard_cli.cli.incident_common import db_flag

    inc("open", "--evacuees", "40", "--at", T0)
    up = inc("update", "1", "--evacuees", "600").stdout
    assert up.startswith("事件 #1 续报已记录:需搬迁转移人数 40人 → 600人\n")
    assert "⚠ 建议调整响应级别 · 事件 #1" in up
    assert "建议 III级响应 → I级响应(升级)" in up
    assert "等级: 小型 → 大型" in up
    assert "现行级别仍为 III级响应,由区指挥部向区政府提出建议,区政府决定(6.1.2; 6.2.2)" in up
    assert f"决定后记录: geohazard incident decide 1{db_flag(spec)} --level I --by 区政府\n" in up
    decided = inc("decide", "1", "--level", "I", "--by", "区政府").stdout
    assert decided.startswith("事件 #1 级别决定:区政府决定 I级响应(升级,原III级响应)")
    down = inc("update", "1", "--evacuees", "150").stdout
    assert "建议 I级响应 → II级响应(降级)" in down
    quiet = inc("update", "1", "--evacuees", "700").stdout
    assert "建议调整响应级别" not in quiet
    assert "等级: 中型 → 大型;I级响应(未变)" in quiet  # the figures call for the level in force again


def test_update_carries_figures_over(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--location", "七里山街道", "--hazard-type", "滑坡", "--at", T0)
    out = j(inc, "update", "1", "--deaths", "3")
    figs = out["assessment"]["incident"]
    assert (figs["evacuees"], figs["deaths"], figs["location"], figs["hazard_type_name"]) == \
        (40, 3, "七里山街道", "滑坡")
    assert [c["field"] for c in out["changes"]] == ["deaths"]
    assert out["proposed_level"] == "II"  # deaths 3 is 中型 (§4(3))


def test_update_from_stdin_file(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    out = j(inc, "update", "1", "--file", "-", stdin='{"direct_loss": "600万", "trend": "稳定"}')
    assert out["proposed_level"] == "I"
    assert out["assessment"]["incident"]["direct_loss"] == "6000000"
    assert out["assessment"]["incident"]["evacuees"] == 40


def test_update_regrades_under_the_incidents_own_plan(inc) -> None:  # type: ignore[no-untyped-def]
    opened = j(inc, "open", "--plan", "national-2006", "--evacuees", "40", "--at", T0)
    assert (opened["plan"], opened["response_level"]) == ("national-2006", "IV")
    out = j(inc, "update", "1", "--evacuees", "140")  # 中型: II under shizhong-2023, III under national-2006
    assert (out["plan"], out["previous_level"], out["proposed_level"]) == ("national-2006", "IV", "III")
    assert j(inc, "show", "1")["assessment"]["plan"] == "national-2006"


def test_update_refuses_rules_of_another_plan(inc, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    other = cfg / "rules" / "national-2006.yaml"
    r = inc("update", "1", "--evacuees", "50", "--rules", str(other), ok=False)
    assert_refused(r, f'--rules: {other} is plan "national-2006"; incident 1 is graded under "shizhong-2023"')


def test_update_errors_write_nothing(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    before = rows(db, "SELECT * FROM events"), rows(db, "SELECT * FROM incidents")
    assert_refused(inc("update", "1", "--direct-loss", "5万万", ok=False),
                   '--direct-loss: "5万万" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)')
    assert_refused(inc("update", "7", "--evacuees", "50", ok=False),
                   f"no incident 7 in {db} (see 'geohazard incident list --all')")
    assert_refused(inc("update", "abc", "--evacuees", "50", ok=False),
                   "ID: \"abc\" is not an incident id (a number such as 3; see 'geohazard incident list')")
    assert_refused(inc("update", "1", ok=False),
                   "nothing to update: give the new figures (such as --evacuees 600) or --file PATH")
    assert_refused(inc("update", "1", "--evacuees", "50", "--at", "2026-07-21 09:00", ok=False),
                   '--at: "2026-07-21 09:00" is before incident 1 was opened (2026-07-21 09:40)')
    assert (rows(db, "SELECT * FROM events"), rows(db, "SELECT * FROM incidents")) == before


def test_update_accepts_hash_id(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    assert j(inc, "update", "#1", "--evacuees", "41")["id"] == 1


# --- call lists and 叫应 ---------------------------------------------------------------------------

def keys(entries: list[dict[str, Any]]) -> list[str]:
    return [e["unit_key"] for e in entries]


def test_open_records_the_call_list(inc) -> None:  # type: ignore[no-untyped-def]
    out = j(inc, "open", "--evacuees", "40", "--location", "七里山街道", "--at", T0)
    cl = out["call_list"]
    assert (cl["plan"], cl["level"]) == ("shizhong-2023", "III")
    assert cl["entries"][0]["unit"] == "区指挥部办公室"
    assert "七里山街道办事处" in [e["unit"] for e in cl["entries"]]
    call = out["history"][1]
    assert call["kind"] == "call" and keys(call["details"]["newly"]) == keys(cl["entries"])
    assert call["details"]["dropped"] == []
    text = inc("open", "--evacuees", "40", "--at", T0).stdout
    # Without a location no particular street office is named: 各街道办事处 stands in its place.
    assert f"叫应名单(III级响应,{len(cl['entries'])}个单位)" in text


def test_level_change_lists_units_newly_to_call_and_no_longer_needed(inc) -> None:  # type: ignore[no-untyped-def]
    small = j(inc, "open", "--evacuees", "40", "--at", T0)["call_list"]
    up = j(inc, "update", "1", "--evacuees", "600")
    assert up["proposed_call_list"]["level"] == "I" and up["call_list"] == small  # to prepare, not yet in force
    before, after = keys(small["entries"]), keys(up["proposed_call_list"]["entries"])
    assert up["newly_called"] and keys(up["newly_called"]) == [k for k in after if k not in before]
    assert keys(up["no_longer_needed"]) == [k for k in before if k not in after]
    decided = j(inc, "decide", "1", "--level", "I", "--by", "区政府")
    assert decided["call_list"] == up["proposed_call_list"]
    assert keys(decided["newly_called"]) == keys(up["newly_called"])
    assert keys(decided["pending"]) == after  # a new level: a new round for every unit on the list
    down = j(inc, "update", "1", "--evacuees", "40")
    assert down["newly_called"] == []
    assert keys(down["no_longer_needed"]) == keys(up["newly_called"])
    j(inc, "decide", "1", "--level", "III", "--by", "区政府")
    text_up = inc("update", "1", "--evacuees", "600").stdout
    assert f"拟新增叫应单位({len(up['newly_called'])},待决定)" in text_up
    assert up["newly_called"][0]["unit"] in text_up
    text_decided = inc("decide", "1", "--level", "I", "--by", "区政府").stdout
    assert f"新增叫应单位({len(up['newly_called'])})" in text_decided and "新一轮叫应" in text_decided
    text_down = inc("update", "1", "--evacuees", "40").stdout
    assert "拟不再需要: " + "、".join(e["unit"] for e in down["no_longer_needed"]) in text_down


def test_new_location_changes_the_street_without_a_level_change(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--location", "七里山街道", "--at", T0)
    out = j(inc, "update", "1", "--location", "党家街道")
    assert out["level_changed"] is False
    assert [e["unit"] for e in out["newly_called"]] == ["党家街道办事处"]
    assert [e["unit"] for e in out["no_longer_needed"]] == ["七里山街道办事处"]
    assert history(inc)[-1]["text"] == "叫应名单:需叫应 党家街道办事处;不再需要 七里山街道办事处"


def test_ack_and_pending(inc) -> None:  # type: ignore[no-untyped-def]
    opened = j(inc, "open", "--evacuees", "40", "--location", "七里山街道", "--at", T0)
    everyone = keys(opened["call_list"]["entries"])
    assert keys(j(inc, "show", "1")["pending"]) == everyone
    out = j(inc, "ack", "1", "--unit", "区应急局", "--outcome", "answered", "--by", "张三",
            "--at", "2026-07-21 09:45")
    assert out["ack"]["details"] == {"unit": "区应急局", "unit_key": "emergency", "outcome": "answered",
                                     "by": "张三", "on_call_list": True}
    assert out["ack"]["answerer"] is None
    assert out["ack"]["text"] == "叫应 区应急局:接通(经办人:张三)"
    assert keys(out["pending"]) == [k for k in everyone if k != "emergency"]
    busy = j(inc, "ack", "1", "--unit", "七里山街道", "--outcome", "busy", "--at", "2026-07-21 09:50")
    street = next(p for p in busy["pending"] if p["unit_key"] == "street_qilishan")
    assert (street["last_outcome"], street["last_at"]) == ("busy", "2026-07-21T09:50:00+08:00")
    text = inc("show", "1").stdout
    assert "未应答(2026-07-21 09:50 占线)" in text and "已应答" in text
    # A level change has to be told to every unit again: the earlier answer no longer counts.
    inc("update", "1", "--evacuees", "140", "--at", "2026-07-21 10:00")
    assert "emergency" not in keys(j(inc, "show", "1")["pending"])  # proposed only: the round goes on
    inc("decide", "1", "--level", "II", "--by", "区政府", "--at", "2026-07-21 10:01")
    assert "emergency" in keys(j(inc, "show", "1")["pending"])
    text = inc("ack", "1", "--unit", "区应急局", "--outcome", "answered", "--at", "2026-07-21 10:02").stdout
    assert text.startswith("事件 #1 叫应 区应急局:接通(2026-07-21 10:02)\n")
    assert "尚未应答(" in text


def test_ack_everyone_closes_the_loop(inc) -> None:  # type: ignore[no-untyped-def]
    opened = j(inc, "open", "--evacuees", "40", "--at", T0)
    for e in opened["call_list"]["entries"]:
        r = inc("ack", "1", "--unit", e["unit"], "--outcome", "answered")
    assert "叫应名单上各单位均已应答" in r.stdout
    assert j(inc, "show", "1")["pending"] == []


def test_ack_unit_not_on_the_list_is_recorded_with_a_note(inc) -> None:  # type: ignore[no-untyped-def]
    opened = j(inc, "open", "--evacuees", "40", "--at", T0)
    assert "armed_forces" not in keys(opened["call_list"]["entries"])  # 区人武部: only for I/II
    r = inc("ack", "1", "--unit", "区人武部", "--outcome", "other")
    assert "注意: 区人武部 不在当前叫应名单上" in r.stdout
    assert history(inc)[-1]["details"]["on_call_list"] is False


def test_ack_refusals_write_nothing(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    before = rows(db, "SELECT * FROM events")
    assert_refused(inc("ack", "1", "--unit", "区应急", "--outcome", "answered", ok=False),
                   'unknown unit "区应急" (did you mean "区应急局"?) (see \'geohazard roster\')')
    assert_refused(inc("ack", "1", "--unit", "区应急局", "--outcome", "maybe", ok=False),
                   '--outcome: "maybe" is not a call outcome '
                   "(accepted: answered|no-answer|busy|other, 接通|未接|占线|其他 "
                   "(or 已接通, 已回应, 未接通, 无人接听, 关机, 忙线) or 1|2|3|4)")
    assert_refused(inc("ack", "1", "--unit", "区应急局", "--outcome", "5", ok=False),
                   '--outcome: "5" is not a call outcome '
                   "(accepted: answered|no-answer|busy|other, 接通|未接|占线|其他 "
                   "(or 已接通, 已回应, 未接通, 无人接听, 关机, 忙线) or 1|2|3|4)")
    assert_refused(inc("ack", "5", "--unit", "区应急局", "--outcome", "busy", ok=False),
                   f"no incident 5 in {db} (see 'geohazard incident list --all')")
    assert_refused(inc("ack", "1", "--unit", "区应急局", "--outcome", "busy", "--at", "2026-07-20 09:00", ok=False),
                   '--at: "2026-07-20 09:00" is before incident 1 was opened (2026-07-21 09:40)')
    inc("close", "1", "--confirm-all", "--reason", "处置完成", "--at", "2026-07-21 12:00")
    before = rows(db, "SELECT * FROM events")
    assert_refused(inc("ack", "1", "--unit", "区应急局", "--outcome", "answered", ok=False),
                   "incident 1 was closed at 2026-07-21 12:00 (处置完成); a closed incident cannot be changed")
    assert rows(db, "SELECT * FROM events") == before


def test_national_profile_call_lists(inc) -> None:  # type: ignore[no-untyped-def]
    out = j(inc, "open", "--plan", "national-2006", "--evacuees", "40", "--at", T0)
    assert (out["call_list"]["plan"], out["call_list"]["level"]) == ("national-2006", "IV")
    up = j(inc, "update", "1", "--evacuees", "140")
    assert up["proposed_call_list"]["level"] == "III" and up["newly_called"]


# --- close ----------------------------------------------------------------------------------------

def test_close_then_changes_are_refused(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    out = j(inc, "close", "1", "--confirm-all", "--reason", "现场处置基本完成,灾情基本控制", "--at", "2026-07-21 15:00")
    assert (out["status"], out["closed_at"]) == ("closed", "2026-07-21T15:00:00+08:00")
    assert out["close_reason"] == "现场处置基本完成,灾情基本控制"
    before = rows(db, "SELECT * FROM events")
    closed = "incident 1 was closed at 2026-07-21 15:00 (现场处置基本完成,灾情基本控制); " \
             "a closed incident cannot be changed"
    assert_refused(inc("update", "1", "--evacuees", "600", ok=False), closed)
    assert_refused(inc("close", "1", "--confirm-all", "--reason", "again", ok=False), closed)
    assert rows(db, "SELECT * FROM events") == before
    assert history(inc)[-1]["text"] == "响应终止:现场处置基本完成,灾情基本控制"


def test_close_text_and_reason_required(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    assert_refused(inc("close", "1", "--confirm-all", "--reason", " ", ok=False),
                   '--reason: "" is empty; say why the response ends (§6.4)')
    out = inc("close", "1", "--confirm-all", "--reason", "预警发布时段结束", "--by", "区政府(区应急局意见)",
              "--at", "2026-07-21 12:00").stdout
    assert out.startswith("事件 #1 响应终止:预警发布时段结束(宣布/意见:区政府(区应急局意见))(2026-07-21 12:00)\n")
    md = inc("export", "1").stdout
    assert "| 响应终止(6.4) | 2026-07-21 12:00:预警发布时段结束(宣布/意见:区政府(区应急局意见)) |" in md


# --- list and show ----------------------------------------------------------------------------------

def test_list_filters(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    inc("open", "--deaths", "12", "--exercise", "--at", "2026-07-21 10:00")
    inc("close", "1", "--confirm-all", "--reason", "处置完成")
    open_ = j(inc, "list")
    assert [r["id"] for r in open_] == [2]
    assert open_[0] == {
        "id": 2, "kind": "incident", "status": "open", "exercise": True, "plan": "shizhong-2023", "grade": "large",
        "grade_name": "大型", "response_level": "I", "response_level_name": "I级响应",
        "opened_at": "2026-07-21T10:00:00+08:00", "updated_at": "2026-07-21T10:00:00+08:00",
        "closed_at": None, "close_reason": None, "location": None, "hazard_type_name": None,
        "proposed_level": None, "proposed_level_name": None, "decided_by": None, "linked_warning": None,
        "external_ref": None, "reported": None,  # every figure exact
    }
    assert [r["id"] for r in j(inc, "list", "--open")] == [2]
    assert [r["id"] for r in j(inc, "list", "--closed")] == [1]
    assert [r["id"] for r in j(inc, "list", "--all")] == [1, 2]
    assert_refused(inc("list", "--open", "--all", ok=False), "--open, --closed, --all: give at most one")
    text = inc("list", "--all").stdout
    assert "#1" in text and "已终止" in text and "#2" in text and "处置中" in text


def test_list_without_journal_creates_nothing(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    assert j(inc, "list") == []
    # A wrong --db must not read as "nothing open": the text says the journal does not exist.
    assert inc("list").stdout == (f"日志 {db} 尚不存在:还没有立案或记录预警(若应有记录,检查 --db 或 $GEOHAZARD_DB)\n")
    assert not db.exists()


def test_show_unknown_id_and_missing_journal(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    assert_refused(inc("show", "1", ok=False),
                   f"no incident 1: the journal {db} does not exist yet (start one with 'geohazard incident open')")
    assert not db.exists()
    inc("open", "--evacuees", "40", "--at", T0)
    assert_refused(inc("show", "2", ok=False), f"no incident 2 in {db} (see 'geohazard incident list --all')")


def test_show_has_incident_assessment_and_timeline(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--location", "七里山街道", "--at", T0)
    inc("update", "1", "--evacuees", "140", "--at", "2026-07-21 10:00")
    out = j(inc, "show", "1")
    assert out["incident"]["location"] == "七里山街道"
    assert out["assessment"]["response_level"] == "II"
    assert (out["response_level"], out["proposed_level"]) == ("III", "II")
    text = inc("show", "1").stdout
    assert "建议 II级响应(待区政府决定;现行 III级响应)" in text
    # the level in force is said before the panel that grades the latest figures (a proposal)
    assert text.splitlines()[1] == "现行 III级响应 · 以下分级为据最新数字的建议,尚未决定"
    assert text.index("现行 III级响应 · ") < text.index("II级响应   牵头")
    inc("decide", "1", "--level", "II", "--by", "区政府", "--at", "2026-07-21 10:05")
    out = j(inc, "show", "1")
    assert [(e["kind"], e["at"]) for e in out["history"]] == [
        ("open", "2026-07-21T09:40:00+08:00"), ("call", "2026-07-21T09:40:00+08:00"),
        ("update", "2026-07-21T10:00:00+08:00"), ("proposal", "2026-07-21T10:00:00+08:00"),
        ("decision", "2026-07-21T10:05:00+08:00")]
    assert out["history"][2]["text"] == "续报:需搬迁转移人数 40人 → 140人;等级 中型,II级响应"
    text = inc("show", "1").stdout
    assert text.startswith("事件 #1 · 处置中 · 立案 2026-07-21 09:40 · 更新 2026-07-21 10:05\n")
    assert "时间线" in text and "级别决定:区政府决定 II级响应(升级,原III级响应)" in text


# --- export -----------------------------------------------------------------------------------------

@pytest.fixture
def finished(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--location", "七里山街道<b>东坡</b> | 路口", "--hazard-type", "崩塌", "--at", T0)
    inc("ack", "1", "--unit", "区应急局", "--outcome", "busy", "--at", "2026-07-21 09:42")
    inc("ack", "1", "--unit", "区应急局", "--outcome", "answered", "--by", "李四", "--at", "2026-07-21 09:44")
    inc("update", "1", "--evacuees", "140", "--direct-loss", "120万", "--at", "2026-07-21 10:00")
    inc("decide", "1", "--level", "II", "--by", "区政府", "--at", "2026-07-21 10:00")
    inc("update", "1", "--evacuees", "60", "--direct-loss", "90万", "--at", "2026-07-21 13:00")
    inc("decide", "1", "--level", "III", "--by", "区政府", "--at", "2026-07-21 13:00")
    inc("close", "1", "--confirm-all", "--reason", "现场处置基本完成", "--at", "2026-07-21 15:30")


@pytest.mark.usefixtures("finished")
def test_export_json_is_the_report_data(inc) -> None:  # type: ignore[no-untyped-def]
    out = json.loads(inc("export", "1", "--format", "json").stdout)
    assert out["initial"]["response_level"] == "III"
    assert out["final"]["response_level"] == "III" and out["current"] == out["final"]
    assert out["peak_level"] == "II" and out["peak_level_name"] == "II级响应"
    assert out["duration"] == {"minutes": 350, "text": "5小时50分"}
    assert [(c["from"], c["to"], c["direction"]) for c in out["level_changes"]] == [
        ("III级响应", "II级响应", "up"), ("II级响应", "III级响应", "down")]
    assert out["counts"]["update"] == 2 and out["counts"]["close"] == 1 and out["counts"]["ack"] == 2
    emergency = next(u for u in out["units"] if u["unit_key"] == "emergency")
    assert emergency["listed_text"] == "2026-07-21 09:40"
    assert (emergency["first_call_text"], emergency["first_answer_text"]) == ("2026-07-21 09:42", "2026-07-21 09:44")
    assert [(c["at_text"], c["outcome_name"], c["by"]) for c in emergency["calls"]] == [
        ("2026-07-21 09:42", "占线", None), ("2026-07-21 09:44", "接通", "李四")]
    # answered before the level changes (III -> II -> III): on the list, but not answered since
    assert emergency["status"] == "pending"
    dropped = next(u for u in out["units"] if u["unit_key"] == "armed_forces")  # only for II
    assert dropped["status"] == "not_needed"
    assert {"label": "直接经济损失", "field": "direct_loss", "value": "900000", "text": "90万元"} in out["figures"]


@pytest.mark.usefixtures("finished")
def test_export_markdown(inc) -> None:  # type: ignore[no-untyped-def]
    md = inc("export", "1").stdout
    assert md.startswith("> **内部资料** · 含联系电话,注意保密,用后收回\n\n# 地质灾害应急处置工作总结 · 事件 #1\n")
    assert "| 响应终止(6.4) | 2026-07-21 15:30:现场处置基本完成(宣布者未记录) |" in md  # no --by at the close
    assert "| 2026-07-21 10:00 | III级响应 → II级响应(升级) | 小型 → 中型 | 区政府 |" in md
    assert "| 2026-07-21 13:00 | II级响应 → III级响应(降级) | 中型 → 小型 | 区政府 |" in md
    assert "| 地点 | 七里山街道<b>东坡</b> \\| 路口 |" in md  # pipes in cells escaped
    assert "| 区应急局 | 0531-82722671 | 2026-07-21 09:40 | 2026-07-21 09:42 | 2026-07-21 09:44 | " \
           "2026-07-21 09:42 占线;2026-07-21 09:44 接通(经办人:李四) | 本轮未应答(前轮已接通) |" in md
    assert "| 终判 | 小型(至少) → III级响应 |" in md  # deaths, potential loss never reported
    # §6.4: the criteria confirmed at the close are ticked, and said to have been
    assert "区政府宣布终止应急响应。终止时已逐项确认:\n\n- [x] 地质灾害现场应急处置工作基本完成(6.4(1))\n" in md
    assert "- [ ]" not in md.split("## 响应终止", 1)[1].split("##", 1)[0]


@pytest.mark.usefixtures("finished")
def test_export_html_escapes_and_has_print_css(inc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "report.html"
    r = inc("export", "1", "--format", "html", "--output", str(target))
    assert r.stdout == ""
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "@page { size: A4;" in html
    assert "七里山街道&lt;b&gt;东坡&lt;/b&gt; | 路口" in html and "<b>东坡" not in html
    assert "<td>5小时50分</td>" in html


def test_export_and_show_of_an_open_incident(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    md = inc("export", "1").stdout
    assert "| 状态 | 处置中 |" in md and "| 响应终止(6.4) | 尚未终止 |" in md and "| 历时 | — |" in md
    assert json.loads(inc("export", "1", "--format", "json").stdout)["duration"] is None
    inc("close", "1", "--confirm-all", "--reason", "处置完成", "--at", "2026-07-21 10:00")
    assert inc("show", "1").stdout.startswith("事件 #1 · 已终止(2026-07-21 10:00:处置完成) · 立案 2026-07-21 09:40")


def test_export_unknown_id(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    assert_refused(inc("export", "3", "--format", "html", ok=False),
                   f"no incident 3 in {db} (see 'geohazard incident list --all')")


# --- storage ---------------------------------------------------------------------------------------

def test_schema_version_wal_and_application_id(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    assert rows(db, "PRAGMA user_version") == [(journal.SCHEMA_VERSION,)]
    assert rows(db, "PRAGMA application_id") == [(journal.APPLICATION_ID,)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_money_is_exact_decimal_text_never_real(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--direct-loss", "1234567.89", "--potential-loss", "0.1亿", "--at", T0)
    (stored,) = rows(db, "SELECT incident FROM incidents WHERE id = 1")[0]
    raw = json.loads(stored)
    assert raw["direct_loss"] == "1234567.89" and raw["potential_loss"] == "10000000"
    assert Incident.model_validate(json.loads(stored)).direct_loss == Decimal("1234567.89")
    for table in ("incidents", "events"):
        cols = [c[1] for c in rows(db, f"PRAGMA table_info({table})")]
        for col in cols:
            assert rows(db, f"SELECT count(*) FROM {table} WHERE typeof({col}) = 'real'") == [(0,)]
    out = j(inc, "update", "1", "--direct-loss", "1234567.8")
    assert out["changes"][0]["old"] == "1234567.89" and out["changes"][0]["new"] == "1234567.8"


def test_db_from_environment_and_default_dir(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import platformdirs

    env_db = tmp_path / "env.sqlite3"
    monkeypatch.setenv("GEOHAZARD_DB", str(env_db))
    assert cli("incident", "open", "--evacuees", "4", "--at", T0).exit_code == 0
    assert env_db.exists()
    monkeypatch.delenv("GEOHAZARD_DB")
    asked = []

    def user_data_dir(appname: str, appauthor: Any = None) -> str:
        asked.append(appname)
        return str(tmp_path / "data" / appname)

    monkeypatch.setattr(platformdirs, "user_data_dir", user_data_dir)
    r = cli("incident", "open", "--evacuees", "4", "--at", T0)  # creates the directory too
    assert r.exit_code == 0, r.stderr
    assert asked == ["geohazard-cli"]
    assert (tmp_path / "data" / "geohazard-cli" / "journal.sqlite3").exists()
    assert [x["id"] for x in json.loads(cli("incident", "list", "--format", "json").stdout)] == [1]


def test_db_in_missing_directory(inc, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "nope" / "j.sqlite3"
    r = cli("incident", "open", "--evacuees", "4", "--db", str(bad))
    assert_refused(r, f"--db: {bad}: the directory {bad.parent} does not exist")


def test_not_a_journal(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    r = cli("incident", "list", "--db", str(other))
    assert_refused(r, f"--db: {other} is an SQLite file but not a geohazard journal")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database at all" * 100)
    r = cli("incident", "list", "--db", str(junk))
    assert_refused(r, f"--db: {junk}: not a readable journal (file is not a database)")


def test_newer_schema_is_refused(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {journal.SCHEMA_VERSION + 1}")
    conn.close()
    r = inc("show", "1", ok=False)
    assert_refused(r, f"--db: {db} has schema version {journal.SCHEMA_VERSION + 1}, newer than this geohazard "
                      f"knows ({journal.SCHEMA_VERSION}); upgrade geohazard-cli")


def test_forward_migration_keeps_data(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    later = (*journal.MIGRATIONS, ("ALTER TABLE incidents ADD COLUMN note TEXT",
                                   "UPDATE incidents SET note = 'migrated'"))
    jr = journal.Journal.open(db, "--db", migrations=later)
    assert jr is not None
    jr.close()
    assert rows(db, "PRAGMA user_version") == [(journal.SCHEMA_VERSION + 1,)]
    assert rows(db, "SELECT id, grade, note FROM incidents") == [(1, "small", "migrated")]
    # Opening again at that version runs nothing twice.
    jr = journal.Journal.open(db, "--db", migrations=later)
    assert jr is not None
    jr.close()


def test_fresh_journal_is_migrated_from_zero(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    jr = journal.Journal.open(path, "--db")
    assert jr is not None
    jr.close()
    tables = {r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"incidents", "events"} <= tables


def test_a_failed_transaction_leaves_nothing(tmp_path: Path, shizhong: Profile) -> None:
    jr = journal.Journal.open(tmp_path / "t.sqlite3", "--db")
    assert jr is not None
    incident = Incident(evacuees=40)
    opened, _, _, _ = responses.open_incident(jr, incident, shizhong, None, journal.utcnow(), False)

    def boom(_: Any) -> Any:
        raise RuntimeError("resolver failed")

    with pytest.raises(RuntimeError):
        responses.update_incident(jr, opened.id, {"evacuees": 600}, shizhong, boom, journal.utcnow())
    record, events = responses.read(jr, opened.id)
    assert record.incident["evacuees"] == 40 and [e.kind for e in events] == ["open"]
    jr.close()


def test_commands_import_sqlite_only_when_run() -> None:
    src = str(Path(geohazard_cli.__file__).resolve().parents[1])
    code = ("import sys; from geohazard_cli.cli import run; run(['classify', '--deaths', '1', '--format', 'json']);"
            "print([m for m in ('sqlite3', 'platformdirs', 'geohazard_cli.journal') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin",
                               "GEOHAZARD_CACHE_DIR": os.environ["GEOHAZARD_CACHE_DIR"]}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


# --- pure core ---------------------------------------------------------------------------------------

def _opened(profile: Profile, incident: Incident) -> tuple[journal.Journal, int]:
    jr = journal.Journal.memory()
    state, _, _, _ = responses.open_incident(jr, incident, profile, None, journal.utcnow(), False)
    return jr, state.id


def test_update_reports_both_directions(profile: Profile) -> None:
    jr, rid = _opened(profile, Incident(evacuees=40, location="x"))
    state, _, up = responses.update_incident(jr, rid, {"evacuees": 600}, profile, None, journal.utcnow())
    assert up.level_changed and up.direction == "up" and up.grade_changed
    assert state.incident["location"] == "x" and state.incident["evacuees"] == 600
    assert state.response_level == profile.levels[-1].key  # proposed, not in force
    state, _ = responses.decide(jr, rid, up.assessment.response_level, "区政府", profile, None, journal.utcnow())
    assert state.response_level == up.assessment.response_level
    _, _, down = responses.update_incident(jr, rid, {"evacuees": 40}, profile, None, journal.utcnow())
    assert down.level_changed and down.direction == "down"
    responses.decide(jr, rid, down.assessment.response_level, "区政府", profile, None, journal.utcnow())
    _, _, same = responses.update_incident(jr, rid, {"evacuees": 41}, profile, None, journal.utcnow())
    assert not same.level_changed and same.direction == "same"


def test_update_refuses_another_profile(shizhong: Profile, national: Profile) -> None:
    jr, rid = _opened(shizhong, Incident(evacuees=40))
    with pytest.raises(Exception, match='graded under plan "shizhong-2023", not "national-2006"'):
        responses.update_incident(jr, rid, {"evacuees": 50}, national, None, journal.utcnow())


def test_stated_keeps_typed_and_changed_fields() -> None:
    prev = Incident(evacuees=40, deaths=1, location="a")
    parsed = Incident(evacuees=40, deaths=2, location="a")
    assert responses.stated(prev, parsed, ["evacuees"]) == {"evacuees": 40, "deaths": 2}
    assert responses.stated(prev, prev, []) == {}


def test_level_direction_follows_the_profile_order(shizhong: Profile, national: Profile) -> None:
    assert lifecycle.direction(responses.levels(shizhong), "III", "I") == "up"
    assert lifecycle.direction(responses.levels(shizhong), "I", "II") == "down"
    assert lifecycle.direction(responses.levels(national), "IV", "III") == "up"
    assert lifecycle.direction(responses.levels(national), "II", "II") == "same"


# --- the user's findings (call sheet, 叫应 record, ids, times) ---------------------------------------

def test_export_claims_no_call_that_was_not_recorded(inc) -> None:  # type: ignore[no-untyped-def]
    """Every unit on the list at opening was *listed* then; only a recorded ack is a call."""
    inc("open", "--evacuees", "40", "--location", "七里山街道", "--at", "2026-11-29 05:09")
    inc("ack", "1", "--unit", "区应急局", "--outcome", "未接", "--by", "张三", "--at", "2026-11-29 05:12")
    inc("ack", "1", "--unit", "区应急局", "--outcome", "1", "--answerer", "李四", "--by", "张三",
        "--at", "2026-11-29 05:20")
    md = inc("export", "1").stdout
    assert "首次通知" not in md
    assert "| 单位 | 电话 | 列入名单 | 首次呼叫 | 首次接通 | " \
           "叫应记录(呼叫时间 结果 接听人 经办人 回应时间) | 状态 |" in md
    # never called: 未呼叫, not 未应答
    assert "| 区政府办公室 | 0531-82078300 | 2026-11-29 05:09 | 未记录 | 未记录 | 未记录 | 未呼叫 |" in md
    assert "| 区应急局 | 0531-82722671 | 2026-11-29 05:09 | 2026-11-29 05:12 | 2026-11-29 05:20 | " \
           "2026-11-29 05:12 未接(经办人:张三);2026-11-29 05:20 接通(接听人:李四;经办人:张三) | 已应答 |" in md
    data = json.loads(inc("export", "1", "--format", "json").stdout)
    never = next(u for u in data["units"] if u["unit"] == "区政府办公室")
    assert (never["listed_at"], never["first_call_at"], never["first_answer_at"], never["calls"]) == (
        "2026-11-29T05:09:00+08:00", None, None, [])
    html = inc("export", "1", "--format", "html").stdout
    assert "首次通知" not in html
    assert ("<tr><td>区政府办公室</td><td>0531-82078300</td><td>2026-11-29 05:09</td>"
            '<td class="missing">未记录</td><td class="missing">未记录</td><td>未记录</td>') in html


def test_export_of_an_open_incident_says_current_not_final(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    md = inc("export", "1").stdout
    assert "| 当前(尚未终止) | 小型(至少) → III级响应 |" in md and "终判" not in md
    html = inc("export", "1", "--format", "html").stdout
    assert '<tr><th>当前(尚未终止)</th><td class="grade">小型(至少) → III级响应</td></tr>' in html
    assert "终判" not in html
    data = json.loads(inc("export", "1", "--format", "json").stdout)
    assert data["final"] is None and data["current"]["response_level"] == "III"
    inc("close", "1", "--confirm-all", "--reason", "处置完成", "--at", "2026-07-21 10:00")
    md = inc("export", "1").stdout
    assert "| 终判 | 小型(至少) → III级响应 |" in md and "当前" not in md
    assert '<tr><th>终判</th><td class="grade">小型(至少) → III级响应</td></tr>' in inc(
        "export", "1", "--format", "html").stdout


@pytest.mark.parametrize(("typed", "key", "label"), [
    ("answered", "answered", "接通"), ("接通", "answered", "接通"), ("1", "answered", "接通"),
    ("no-answer", "no-answer", "未接"), ("未接", "no-answer", "未接"), ("2", "no-answer", "未接"),
    ("busy", "busy", "占线"), ("占线", "busy", "占线"), ("3", "busy", "占线"), ("３", "busy", "占线"),
    ("other", "other", "其他"), ("其他", "other", "其他"), ("4", "other", "其他"),
])
def test_outcome_as_on_the_call_sheet(inc, typed: str, key: str, label: str) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    out = j(inc, "ack", "1", "--unit", "区应急局", "--outcome", typed, "--at", "2026-07-21 09:45")
    assert out["ack"]["details"]["outcome"] == key
    text = inc("ack", "1", "--unit", "区应急局", "--outcome", typed, "--at", "2026-07-21 09:46").stdout
    assert text.startswith(f"事件 #1 叫应 区应急局:{label}(2026-07-21 09:46)\n")


def test_answerer_is_kept_apart_from_the_caller(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    out = j(inc, "ack", "1", "--unit", "区应急局", "--outcome", "接通", "--answerer", "李四", "--by", "张三",
            "--at", "2026-07-21 09:45")
    assert out["ack"]["answerer"] == "李四" and out["ack"]["details"]["by"] == "张三"
    assert out["ack"]["text"] == "叫应 区应急局:接通(接听人:李四;经办人:张三)"
    assert rows(db, "SELECT answerer, json_extract(details, '$.by') FROM events WHERE kind = 'ack'") == [
        ("李四", "张三")]
    text = inc("ack", "1", "--unit", "区应急局", "--outcome", "3", "--answerer", "王五",
               "--at", "2026-07-21 09:50").stdout
    assert text.startswith("事件 #1 叫应 区应急局:占线(接听人:王五)(2026-07-21 09:50)\n")
    shown = j(inc, "show", "1")["history"]
    assert [(e["answerer"], e["details"].get("by")) for e in shown if e["kind"] == "ack"] == [
        ("李四", "张三"), ("王五", None)]
    assert "2026-07-21 09:45:00  叫应 区应急局:接通(接听人:李四;经办人:张三)" in inc("show", "1").stdout
    calls = next(u for u in json.loads(inc("export", "1", "--format", "json").stdout)["units"]
                 if u["unit_key"] == "emergency")["calls"]
    assert [(c["answerer"], c["by"]) for c in calls] == [("李四", "张三"), ("王五", None)]
    assert_refused(inc("ack", "1", "--unit", "区应急局", "--outcome", "1", "--answerer", "a\x07b", ok=False),
                   "--answerer: contains control characters; expected plain text")


OLD_ASSESSMENT = {"grade": "small", "grade_name": "小型", "response_level": "III",
                  "response_level_name": "III级响应", "lower_bound": True, "deciding_text": []}


def old_journal(db: Path, version: int, events: list[tuple[str, str, dict[str, Any]]]) -> None:
    """A journal written at schema ``version`` holding incident 1 (40 to evacuate, 小型) and ``events``
    (kind, at, details), as that version wrote them: no stored state."""
    old = journal.Journal.open(db, "--db", migrations=journal.MIGRATIONS[:version])
    assert old is not None
    with old.transaction(write=True) as conn:
        conn.execute(
            "INSERT INTO incidents (status, exercise, plan, opened_at, updated_at, grade, grade_name, "
            "response_level, response_level_name, incident, call_list, created_at) VALUES ('open', 0, "
            "'shizhong-2023', ?, ?, 'small', '小型', 'III', 'III级响应', '{\"evacuees\": 40}', NULL, ?)",
            (events[0][1], events[-1][1], "2026-07-21T01:40:00+00:00"))
        for kind, at, details in events:
            conn.execute("INSERT INTO events (incident_id, kind, at, recorded_at, grade, response_level, details) "
                         "VALUES (1, ?, ?, ?, 'small', 'III', ?)", (kind, at, at, json.dumps(details)))
    old.close()


def test_a_version_1_journal_is_migrated_for_the_answerer(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A journal written before 接听人 existed (schema 1) is read as it is (show opens it read-only and
    replays its events), and gains the column on the first write, keeping its calls."""
    db = tmp_path / "old.sqlite3"
    old_journal(db, 1, [
        ("open", "2026-07-21T09:40:00+08:00", {"exercise": False, "figures": [], "assessment": OLD_ASSESSMENT}),
        ("ack", "2026-07-21T09:45:00+08:00", {"unit": "区应急局", "unit_key": "emergency",
                                              "outcome": "answered", "by": "张三", "on_call_list": False})])
    assert rows(db, "PRAGMA user_version") == [(1,)]
    shown = json.loads(cli("incident", "show", "1", "--db", str(db), "--format", "json").stdout)
    assert rows(db, "PRAGMA user_version") == [(1,)]  # a reading command never migrates
    assert [(e["kind"], e["answerer"], e["text"]) for e in shown["history"]][1] == (
        "ack", None, "叫应 区应急局:接通(经办人:张三)")
    r = cli("incident", "ack", "1", "--db", str(db), "--unit", "区应急局", "--outcome", "接通",
            "--answerer", "李四", "--at", "2026-07-21 09:50", "--responded-at", "2026-07-21 09:52")
    assert r.exit_code == 0, r.stderr
    assert rows(db, "PRAGMA user_version") == [(journal.SCHEMA_VERSION,)] and journal.SCHEMA_VERSION == 4
    assert {"answerer", "responded_at"} <= {r[1] for r in rows(db, "PRAGMA table_info(events)")}
    assert rows(db, "SELECT answerer, responded_at FROM events WHERE kind = 'ack' ORDER BY seq") == [
        (None, None), ("李四", "2026-07-21T09:52:00+08:00")]


def test_officer_id_is_an_external_reference_not_a_second_id(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    text = inc("open", "--evacuees", "40", "--id", "X9", "--at", T0).stdout
    first = text.splitlines()[0]
    assert first == "事件 #2 已立案(2026-07-21 09:40;市中区预案(2023)) · 来文编号 X9"
    assert "X9" not in "\n".join(text.splitlines()[1:])  # not in the panel title beside #2
    shown = inc("show", "2").stdout
    assert shown.startswith("事件 #2 · 处置中 · 立案 2026-07-21 09:40 · 更新 2026-07-21 09:40 · 来文编号 X9\n")
    assert shown.count("X9") == 1
    out = j(inc, "show", "2")
    assert (out["id"], out["external_ref"]) == (2, "X9")
    listed = inc("list").stdout.splitlines()
    assert listed[0].split() == ["编号", "来文编号", "状态", "演练", "等级", "响应级别", "立案时间", "更新时间",
                                 "类型", "·", "地点"]
    assert listed[2].split()[:2] == ["#2", "X9"]
    assert [r["external_ref"] for r in j(inc, "list")] == [None, "X9"]
    md = inc("export", "2").stdout
    assert "| 来文编号 | X9 |" in md and md.count("X9") == 1
    assert "来文编号" not in inc("export", "1").stdout
    assert json.loads(inc("export", "2", "--format", "json").stdout)["external_ref"] == "X9"


def test_times_for_people_have_no_t_and_no_offset(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--occurred-at", "2026-07-21T01:30:00+00:00", "--at", T0)
    out = j(inc, "show", "1")
    assert out["incident"]["occurred_at"] == "2026-07-21T01:30:00Z"  # JSON keeps ISO 8601 as given
    assert "发生时间 2026-07-21 09:30" in out["history"][0]["text"]  # shown in the plan's +08:00
    for fmt in ("markdown", "html"):
        body = inc("export", "1", "--format", fmt).stdout
        assert {"markdown": "| 发生时间 | 2026-07-21 09:30 |",
                "html": "<td>发生时间</td><td>2026-07-21 09:30</td>"}[fmt] in body
        assert "T09" not in body and "T01" not in body and "+08:00" not in body
    assert "T01" not in inc("show", "1").stdout and "+08:00" not in inc("show", "1").stdout


def test_output_to_a_directory_is_one_line_exit_2(inc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    r = inc("export", "1", "--output", str(tmp_path), ok=False)
    assert_refused(r, f"--output: {tmp_path} is a directory; give a file name (e.g. {tmp_path}/sheet.html)")


def test_responded_at_is_the_call_sheets_response_time(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    out = j(inc, "ack", "1", "--unit", "区应急局", "--outcome", "接通", "--answerer", "李四",
            "--at", "2026-07-21 09:45", "--responded-at", "2026-07-21 09:47")
    assert (out["ack"]["at"], out["ack"]["responded_at"]) == ("2026-07-21T09:45:00+08:00", "2026-07-21T09:47:00+08:00")
    assert out["ack"]["text"] == "叫应 区应急局:接通(接听人:李四;回应时间:2026-07-21 09:47)"
    calls = next(u for u in json.loads(inc("export", "1", "--format", "json").stdout)["units"]
                 if u["unit_key"] == "emergency")["calls"]
    assert [(c["at_text"], c["responded_at"], c["responded_text"]) for c in calls] == [
        ("2026-07-21 09:45", "2026-07-21T09:47:00+08:00", "2026-07-21 09:47")]
    assert "2026-07-21 09:45 接通(接听人:李四;回应时间:2026-07-21 09:47) | 已应答 |" in inc("export", "1").stdout
    html = inc("export", "1", "--format", "html").stdout
    assert "2026-07-21 09:45 接通(接听人:李四;回应时间:2026-07-21 09:47)</td>" in html
    before = rows(db, "SELECT * FROM events")
    assert_refused(inc("ack", "1", "--unit", "区应急局", "--outcome", "1", "--at", "2026-07-21 09:50",
                       "--responded-at", "2026-07-21 09:49", ok=False),
                   '--responded-at: "2026-07-21 09:49" is before the call (2026-07-21 09:50)')
    assert rows(db, "SELECT * FROM events") == before


def test_html_report_escapes_the_people(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    inc("ack", "1", "--unit", "区应急局", "--outcome", "1", "--answerer", "<b>李四</b>", "--by", "张&三")
    html = inc("export", "1", "--format", "html").stdout
    assert "接通(接听人:&lt;b&gt;李四&lt;/b&gt;;经办人:张&amp;三)" in html and "<b>李四" not in html
    inc("ack", "1", "--unit", "区应急局", "--outcome", "1", "--answerer", "a|b")
    assert "接通(接听人:a\\|b)" in inc("export", "1").stdout  # a pipe cannot break the table row


# --- the new user's findings (marking, lower bound, seconds, order, missing profile) --------------------

def test_export_is_marked_internal_like_the_call_sheet(inc) -> None:  # type: ignore[no-untyped-def]
    """The report holds numbers and call records: 内部资料, as the call sheet is marked."""
    inc("open", "--evacuees", "40", "--at", T0)
    md = inc("export", "1").stdout
    assert md.splitlines()[0] == "> **内部资料** · 含联系电话,注意保密,用后收回"
    html = inc("export", "1", "--format", "html").stdout
    assert '@page { @top-right { content: "内部资料"; color: #b00; font-weight: bold; font-size: 9pt; } }' in html
    assert '<body>\n<div class="internal">内部资料</div>\n<h1>' in html
    assert "含联系电话,注意保密,用后收回</p>" in html
    inc("open", "--evacuees", "40", "--at", T0, "--exercise")
    html = inc("export", "2", "--format", "html").stdout
    assert '<div class="internal">内部资料</div>\n<div class="internal">演练</div>' in html


def test_initial_grade_says_at_least_when_it_was_a_lower_bound(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)  # the other indicators not reported: at least 小型
    inc("update", "1", "--deaths", "0", "--potential-loss", "10万", "--direct-loss", "10万",
        "--at", "2026-07-21 10:00")
    md = inc("export", "1").stdout
    assert "| 初判 | 小型(至少) → III级响应 |" in md
    assert "| 当前(尚未终止) | 小型 → III级响应 |" in md  # every indicator reported since
    html = inc("export", "1", "--format", "html").stdout
    assert "<tr><th>初判</th><td>小型(至少) → III级响应</td></tr>" in html
    data = json.loads(inc("export", "1", "--format", "json").stdout)
    assert (data["initial"]["lower_bound"], data["current"]["lower_bound"]) == (True, False)
    inc("open", "--evacuees", "40", "--deaths", "0", "--potential-loss", "10万", "--direct-loss", "10万",
        "--at", T0)
    assert "| 初判 | 小型 → III级响应 |" in inc("export", "2").stdout


def test_timeline_shows_seconds(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", "2026-07-21 09:40:12")
    inc("ack", "1", "--unit", "区应急局", "--outcome", "占线", "--at", "2026-07-21 09:40:47")
    text = inc("show", "1").stdout
    assert "\n2026-07-21 09:40:12  接报立案:" in text and "\n2026-07-21 09:40:47  叫应 区应急局:占线\n" in text
    md = inc("export", "1").stdout
    assert "| 2026-07-21 09:40:12 | 接报立案:" in md and "| 2026-07-21 09:40:47 | 叫应 区应急局:占线 |" in md
    assert "| 立案时间 | 2026-07-21 09:40 |" in md  # other times stay to the minute
    html = inc("export", "1", "--format", "html").stdout
    assert "<tr><td>2026-07-21 09:40:47</td><td>叫应 区应急局:占线</td></tr>" in html
    history = json.loads(inc("export", "1", "--format", "json").stdout)["history"]
    assert [(h["at"], h["at_text"]) for h in history][-1] == ("2026-07-21T09:40:47+08:00", "2026-07-21 09:40:47")


def test_unanswered_and_the_call_table_follow_the_call_list(inc) -> None:  # type: ignore[no-untyped-def]
    """After a level change the new units are listed in the call list's order, not at the end."""
    inc("open", "--evacuees", "40", "--location", "七里山街道", "--at", T0)
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 09:45")
    inc("update", "1", "--evacuees", "600", "--at", "2026-07-21 10:00")  # III -> I: units added mid-list
    inc("decide", "1", "--level", "I", "--by", "区政府", "--at", "2026-07-21 10:00")
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 10:05")
    inc("update", "1", "--location", "六里山街道", "--at", "2026-07-21 10:10")  # 七里山 off, 六里山 on
    data = json.loads(inc("export", "1", "--format", "json").stdout)
    listed = [e["unit_key"] for e in j(inc, "show", "1")["call_list"]["entries"]]
    on_list = [u["unit_key"] for u in data["units"] if u["status"] != "not_needed"]
    assert on_list == listed
    assert [u["status"] for u in data["units"]][len(listed):] == ["not_needed"]  # 七里山 after the list
    assert [p["unit_key"] for p in data["pending"]] == [k for k in listed if k != "emergency"]
    md = inc("export", "1").stdout
    table = [line.split(" | ")[0].removeprefix("| ") for line in md.splitlines()
             if line.endswith(("| 未应答 |", "| 未呼叫 |", "| 本轮未应答(前轮已接通) |"))]
    pending_line = next(line for line in md.splitlines() if line.startswith("尚未应答:"))
    assert pending_line == "尚未应答:" + "、".join(table) + "。"
    assert table.index("区人武部") < table.index("区发展改革局")  # added at I, listed in its place


@pytest.fixture
def elsewhere(tmp_path: Path, cfg: Path) -> Path:
    """A rules file of a plan profile that is not in the config dir (another id, same rules)."""
    text = (cfg / "rules" / "shizhong-2023.yaml").read_text(encoding="utf-8")
    assert "\nid: shizhong-2023\n" in text
    path = tmp_path / "trial.yaml"
    path.write_text(text.replace("\nid: shizhong-2023\n", "\nid: trial-2026\n"), encoding="utf-8")
    return path


def test_show_and_export_work_without_the_profile_update_refuses(inc, cfg: Path, elsewhere: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--rules", str(elsewhere), "--evacuees", "40", "--location", "七里山街道", "--at", T0)
    inc("update", "1", "--rules", str(elsewhere), "--evacuees", "140", "--at", "2026-07-21 10:00")
    inc("decide", "1", "--rules", str(elsewhere), "--level", "II", "--by", "区政府", "--at", "2026-07-21 10:00")
    inc("update", "1", "--rules", str(elsewhere), "--evacuees", "60", "--direct-loss", "90万",
        "--at", "2026-07-21 11:00")
    inc("decide", "1", "--rules", str(elsewhere), "--level", "III", "--by", "区政府", "--at", "2026-07-21 11:00")
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 11:05")
    notice = (f'预案方案 "trial-2026" 不在 {cfg / "rules"} 中,无法按现行规则复核等级和叫应名单;'
              "以下为日志记录的数字、等级、叫应名单和时间线(用 --rules FILE 或 --config-dir DIR 指向该方案)")
    text = inc("show", "1").stdout
    lines = text.splitlines()
    assert lines[1] == f"注意: {notice}"
    assert "需搬迁转移人数: 60人" in lines and "直接经济损失: 90万元" in lines
    assert "等级(记录): 小型(至少) → III级响应" in lines
    assert "叫应名单(记录)(III级响应" in text and "2026-07-21 10:00:00  级别决定:区政府决定 II级响应(升级" in text
    shown = j(inc, "show", "1")
    assert (shown["plan_available"], shown["notice"], shown["assessment"]) == (False, notice, None)
    assert shown["recorded_assessment"]["response_level"] == "III"
    assert shown["call_list"]["level"] == "III" and "emergency" not in [p["unit_key"] for p in shown["pending"]]
    data = json.loads(inc("export", "1", "--format", "json").stdout)
    assert (data["plan_available"], data["notice"], data["plan_title"]) == (False, notice, None)
    assert (data["peak_level"], data["peak_level_name"]) == ("II", "II级响应")  # from the recorded changes
    assert {"field": "direct_loss", "label": "直接经济损失", "value": "900000", "text": "90万元"} in data["figures"]
    assert [f["text"] for f in data["figures"]] == ["七里山街道", "60人", "90万元"]
    md = inc("export", "1").stdout
    assert f"**注意:** {notice}" in md and "| 最高响应级别 | II级响应 |" in md
    assert "| 初判 | 小型(至少) → III级响应 |" in md and "| 需搬迁转移人数 | 60人 |" in md
    html = inc("export", "1", "--format", "html").stdout
    assert '<p class="missing">注意:' + notice.replace('"', "&#34;") + "</p>" in html  # autoescaped
    # With the profile at hand again everything is as usual, and the figures read the same.
    full = json.loads(inc("export", "1", "--format", "json", "--rules", str(elsewhere)).stdout)
    assert full["plan_available"] is True and full["notice"] is None and full["figures"] == data["figures"]
    assert full["peak_level"] == data["peak_level"]
    assert j(inc, "show", "1", "--rules", str(elsewhere))["assessment"]["response_level"] == "III"
    assert_refused(inc("update", "1", "--evacuees", "50", ok=False),
                   f'incident 1 is graded under plan "trial-2026", which is not in {cfg / "rules"}; '
                   "point at its rules with --rules FILE or --config-dir DIR")
    # Closing confirms the criteria of the incident's own plan: it needs the profile as update does.
    assert_refused(inc("close", "1", "--confirm-all", "--at", "2026-07-21 12:00", ok=False),
                   f'incident 1 is graded under plan "trial-2026", which is not in {cfg / "rules"}; '
                   "point at its rules with --rules FILE or --config-dir DIR")
    inc("close", "1", "--confirm-all", "--reason", "处置完成", "--at", "2026-07-21 12:00", "--rules", str(elsewhere))
    assert "| 终判 | 小型(至少) → III级响应 |" in inc("export", "1").stdout


# --- the journal's bad days: rows that do not read back, check, backup, output after a commit --------

def tamper(db: Path, sql: str, *params: Any) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def two(inc, db: Path) -> Path:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--location", "七里山街道", "--at", T0)
    inc("open", "--evacuees", "4", "--location", "舜耕街道", "--at", T0)
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 09:45")
    return db


def test_a_row_of_bad_json_is_set_aside_and_the_rest_shown(inc, two: Path) -> None:  # type: ignore[no-untyped-def]
    (seq,) = rows(two, "SELECT seq FROM events WHERE incident_id = 1 AND kind = 'ack'")[0]
    tamper(two, "UPDATE events SET details = '{not json' WHERE seq = ?", seq)
    warning = (f"geohazard: warning: incident 1: event #{seq} set aside: its details are not valid JSON "
               "(see 'geohazard incident check')\n")
    r = inc("show", "1", "--format", "json", ok=False)
    assert (r.exit_code, r.stderr) == (0, warning)
    assert [e["kind"] for e in json.loads(r.stdout)["history"]] == ["open", "call"]
    r = inc("list", ok=False)
    assert (r.exit_code, r.stderr) == (0, "") and "#1" in r.stdout and "#2" in r.stdout
    # A report must be whole: it is refused, after the warning.
    r = inc("export", "1", ok=False)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == warning + ("geohazard: error: incident 1: 1 event(s) of its timeline cannot be read, so no "
                                  "report is made from it (see 'geohazard incident check'; 'geohazard incident "
                                  "show 1' shows the rest)\n")


def test_a_snapshot_of_bad_json_is_read_from_its_events(inc, two: Path) -> None:  # type: ignore[no-untyped-def]
    tamper(two, "UPDATE incidents SET state = '[' WHERE id = 2")
    warning = ("geohazard: warning: incident 2: its stored state set aside: it is not valid JSON "
               "(see 'geohazard incident check')\n")
    r = inc("list", "--format", "json", ok=False)
    assert (r.exit_code, r.stderr) == (0, warning)
    assert [(x["id"], x["location"]) for x in json.loads(r.stdout)] == [(1, "七里山街道"), (2, "舜耕街道")]
    r = inc("show", "2", ok=False)
    assert (r.exit_code, r.stderr) == (0, warning) and "事件 #2" in r.stdout
    # Nothing is written over damage.
    assert_refused(inc("ack", "2", "--unit", "区应急局", "--outcome", "接通", ok=False),
                   f"incident 2 in {two} is damaged, so nothing is written to it: its stored state set aside: "
                   "it is not valid JSON (see 'geohazard incident check')")


def test_tampered_figures_are_not_shown_as_figures(inc, two: Path) -> None:  # type: ignore[no-untyped-def]
    tamper(two, "UPDATE incidents SET state = json_set(state, '$.incident.evacuees', -5) WHERE id = 2")
    r = inc("show", "2", "--format", "json", ok=False)
    assert r.stderr == ("geohazard: warning: incident 2: its stored state set aside: figure evacuees: -5 is not "
                        "a count (a whole number, 0 or more) (see 'geohazard incident check')\n")
    assert json.loads(r.stdout)["incident"]["evacuees"] == 4  # from the events, which hold what was typed
    (seq,) = rows(two, "SELECT seq FROM events WHERE incident_id = 2 AND kind = 'open'")[0]
    tamper(two, "UPDATE events SET details = json_set(details, '$.incident.direct_loss', '-1') WHERE seq = ?", seq)
    r = inc("show", "2", ok=False)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.splitlines()[-1] == (
        f"geohazard: error: incident 2 in {two} cannot be read: event #{seq} set aside: figure direct_loss: "
        "'-1' is not an amount of yuan (decimal text, 0 or more) (see 'geohazard incident check')")
    listed = inc("list", "--format", "json", ok=False)
    assert listed.exit_code == 0 and [x["id"] for x in json.loads(listed.stdout)] == [1]


@pytest.mark.parametrize(("sql", "problem"), [
    ("UPDATE events SET kind = 'mystery' WHERE seq = 1", "event #1 set aside: its kind 'mystery' is not known"),
    ("UPDATE events SET at = 'yesterday' WHERE seq = 1", "event #1 set aside: its at 'yesterday' is not a time"),
    ("UPDATE events SET details = '[1]' WHERE seq = 1", "event #1 set aside: its details are not an object"),
    ("UPDATE incidents SET state = json_set(state, '$.status', 'lost') WHERE id = 1",
     "its stored state set aside: response 'incident', status 'lost' are not known"),
    ("UPDATE incidents SET state = json_set(state, '$.incident.colour', 'red') WHERE id = 1",
     "its stored state set aside: figure 'colour' is not an incident field"),
    ("UPDATE incidents SET state = json_set(state, '$.incident.deaths', 1.5) WHERE id = 1",
     "its stored state set aside: figure deaths: 1.5 is not a count (a whole number, 0 or more)"),
])
def test_check_finds_each_kind_of_damage(inc, two: Path, sql: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    assert inc("check").stdout.splitlines()[-1] == "结论: 完好"
    tamper(two, sql)
    r = inc("check", "--format", "json", ok=False)
    assert r.exit_code == 2
    assert r.stderr == (f"geohazard: error: the journal {two} is damaged: 1 row(s) set aside, "
                        "0 stored state(s) disagree with their events\n")
    out = json.loads(r.stdout)
    assert out["damaged"] and out["set_aside_count"] == 1
    assert [d["text"] for d in out["set_aside"]] == [f"incident 1: {problem}"]
    assert (out["integrity_check"], out["foreign_key_check"], out["responses"]) == (["ok"], [], 2)


def test_check_finds_a_snapshot_that_disagrees_with_its_events(inc, two: Path) -> None:  # type: ignore[no-untyped-def]
    tamper(two, "UPDATE incidents SET state = json_set(state, '$.answered', json('{}')) WHERE id = 1")
    tamper(two, "UPDATE incidents SET status = 'closed' WHERE id = 2")
    r = inc("check", ok=False)
    assert r.exit_code == 2
    assert r.stdout.splitlines()[3:] == [
        "已检查: 2 个响应, 5 条事件;搁置 0 条;状态与事件不符 2 个",
        "  incident 1: its stored state disagrees with its events replayed (answered)",
        "  incident 2: its stored state disagrees with its row (row: closed incident; state: open incident)",
        "结论: 有损坏"]


def test_check_runs_sqlites_own_checks(inc, two: Path) -> None:  # type: ignore[no-untyped-def]
    out = j(inc, "check")
    assert out == {"path": str(two), "backend": "sqlite", "schema_version": journal.SCHEMA_VERSION,
                   "integrity_check": ["ok"],
                   "foreign_key_check": [], "responses": 2, "events": 5, "set_aside_count": 0, "set_aside": [],
                   "disagreements": [], "damaged": False}
    conn = sqlite3.connect(two)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("INSERT INTO events (incident_id, kind, at, recorded_at, details) VALUES (9, 'ack', ?, ?, '{}')",
                 ("2026-07-21T09:40:00+08:00", "2026-07-21T09:40:00+08:00"))
    conn.commit()
    conn.close()
    out = json.loads(inc("check", "--format", "json", ok=False).stdout)
    assert out["damaged"] and out["foreign_key_check"] == ["events row 6 points at a missing incidents row"]


def test_check_and_backup_of_a_missing_journal(inc, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert_refused(inc("check", ok=False), f"the journal {db} does not exist yet (nothing to check)")
    assert_refused(inc("backup", str(tmp_path / "b.sqlite3"), ok=False),
                   f"the journal {db} does not exist yet (nothing to back up)")
    assert not db.exists()


def test_backup_is_a_whole_journal(inc, two: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "copy.sqlite3"
    out = j(inc, "backup", str(copy))
    assert out == {"source": str(two), "backup": str(copy.resolve()), "bytes": copy.stat().st_size}
    assert not Path(f"{copy}-wal").exists() and not list(tmp_path.glob(".copy.sqlite3.*"))
    shown = cli("incident", "show", "1", "--db", str(copy), "--format", "json")
    assert json.loads(shown.stdout)["history"] == history(inc)
    assert inc("backup", str(copy)).stdout == f"已备份: {two} → {copy.resolve()}({copy.stat().st_size} 字节;可用 " \
                                              f"--db {copy.resolve()} 查看)\n"  # replaced whole
    assert_refused(inc("backup", str(tmp_path), ok=False),
                   f"FILE: {tmp_path} is a directory; give a file name (e.g. {tmp_path}/journal-backup.sqlite3)")
    assert_refused(inc("backup", str(two), ok=False), f"FILE: {two} is the journal itself; give another file")
    assert_refused(inc("backup", str(tmp_path / "no" / "b.sqlite3"), ok=False),
                   f"FILE: {tmp_path / 'no'} does not exist")


def test_reading_commands_never_create_or_migrate(inc, cli, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for args in (("list",), ("show", "1"), ("export", "1"), ("check",)):
        inc(*args, ok=False)
        assert not db.exists(), args
    empty = tmp_path / "empty.sqlite3"
    empty.touch()  # a journal created by a writer that died before its first transaction
    for args in (("list", "--all"), ("check", "--format", "json")):
        r = cli("incident", *args, "--db", str(empty))
        assert (r.exit_code, r.stderr) == (0, ""), args
    assert r.stdout.startswith('{\n  "path"') and empty.stat().st_size == 0
    assert_refused(cli("incident", "show", "1", "--db", str(empty)),
                   f"no incident 1 in {empty} (see 'geohazard incident list --all')")


def test_a_version_2_journal_is_read_by_replaying_its_events(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "v2.sqlite3"
    old_journal(db, 2, [("open", "2026-07-21T09:40:00+08:00",
                         {"exercise": False, "plan": "shizhong-2023", "figures": [], "incident": {"evacuees": 40},
                          "assessment": OLD_ASSESSMENT})])
    listed = json.loads(cli("incident", "list", "--db", str(db), "--format", "json").stdout)
    assert [(x["id"], x["grade"], x["kind"]) for x in listed] == [(1, "small", "incident")]
    out = json.loads(cli("incident", "check", "--db", str(db), "--format", "json").stdout)
    assert (out["schema_version"], out["responses"], out["damaged"]) == (2, 1, False)
    assert rows(db, "PRAGMA user_version") == [(2,)]


def test_nothing_after_the_commit_fails_a_writing_command(inc, cli, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from geohazard_cli.cli import _common, incident_write

    def broken(*_: Any, **__: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_common, "emit_json", broken)
    r = inc("open", "--evacuees", "40", "--at", T0, "--format", "json", ok=False)
    assert (r.exit_code, r.stdout) == (0, "")
    assert r.stderr == ("geohazard: warning: recorded in the journal, but the result could not be shown "
                        "(OSError: No space left on device); do not enter it again: 'geohazard incident list' "
                        "shows it\n")
    monkeypatch.setattr(incident_write, "print_pending", lambda *_: 1 / 0)
    r = inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", ok=False)
    assert r.exit_code == 0 and r.stderr == (
        "geohazard: warning: recorded in the journal, but the result could not be shown (ZeroDivisionError: "
        "division by zero); do not enter it again: 'geohazard incident show 1' shows it\n")
    assert [e[0] for e in rows(db, "SELECT kind FROM events ORDER BY seq")] == ["open", "call", "ack"]
    # Before the commit an error is still an error, and nothing is written; a migration is no change.
    r = inc("close", "1", "--confirm-all", "--reason", "", ok=False)
    assert r.exit_code == 2 and "warning" not in r.stderr
    old = journal.Journal.open(db.parent / "v2.sqlite3", "--db", migrations=journal.MIGRATIONS[:2])
    assert old is not None
    old.close()
    r = cli("incident", "ack", "1", "--unit", "区应急局", "--outcome", "1", "--db", str(db.parent / "v2.sqlite3"))
    assert (r.exit_code, r.stderr) == (2, f"geohazard: error: no incident 1 in {db.parent / 'v2.sqlite3'} "
                                          "(see 'geohazard incident list --all')\n")


def test_an_open_incident_exports_its_criteria_unticked(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "140", "--at", T0)
    md = inc("export", "1").stdout
    part = md.split("## 响应终止", 1)[1].split("##", 1)[0]
    assert "终止前逐项确认:" in part and "- [x]" not in part and part.count("- [ ]") == 5


def test_a_close_without_its_decider_says_so(inc) -> None:  # type: ignore[no-untyped-def]
    """§6.4: 区政府宣布终止. A close that does not name who declared it says so, and the export too."""
    inc("open", "--evacuees", "140", "--at", T0)
    out = inc("close", "1", "--confirm-all", "--at", "2026-07-21 15:30").stdout
    assert "注意: 未记录宣布终止者(区政府宣布,6.4);以 --by 记录\n" in out
    assert "(宣布者未记录) |" in inc("export", "1").stdout
    inc("open", "--evacuees", "140", "--at", T0)
    out = inc("close", "2", "--confirm-all", "--by", "区政府", "--at", "2026-07-21 15:30").stdout
    assert "未记录宣布终止者" not in out
    md = inc("export", "2").stdout
    assert "(宣布/意见:区政府) |" in md and "宣布者未记录" not in md
