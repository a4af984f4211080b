"""叫应 through time: what is late (`incident due`), reports sent, corrections and the clock skew;
deadlines from the plan's clause or the bureau's local file, each bound on both sides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

T0 = "2026-07-21 09:40"


@pytest.fixture
def inc(cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    db = str(tmp_path / "j.sqlite3")

    def invoke(*args: str, ok: bool = True) -> Any:
        r = cli("incident", *args, "--db", db)
        if ok:
            assert r.exit_code == 0, r.stderr
        return r

    invoke.db = db  # type: ignore[attr-defined]
    return invoke


def due(inc, at: str, *extra: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return dict(json.loads(inc("due", *extra, "--at", at, "--format", "json").stdout))


def test_an_answer_is_due_ten_minutes_into_a_level_ii_round_both_sides(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "140", "--at", T0)  # II: 10 minutes (response.local.yaml)
    on_time = due(inc, "2026-07-21 09:50")
    assert on_time["overdue"] == [] and on_time["configured"] is True
    assert {r["minutes_left"] for r in on_time["waiting"]} == {0}
    late = due(inc, "2026-07-21 09:50:01")
    assert late["overdue"] and {r["minutes_late"] for r in late["overdue"]} == {0}
    first = late["overdue"][0]
    assert first["deadline"] == {"minutes": 10, "local": True, "file": "response.local.yaml"}
    assert (first["called_at"], first["attempts"], first["round_started_at"]) == (
        None, 0, "2026-07-21T09:40:00+08:00")
    assert len(late["never_called"]) == len(late["overdue"])


def test_level_iii_has_thirty_minutes_and_a_failed_call_earns_no_time(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)  # III: 30 minutes
    assert due(inc, "2026-07-21 10:10")["overdue"] == []
    # a call that did not get through (未接, 占线) leaves the answer due when the round's is: the
    # unit is late from 10:10 on, whatever was tried since, and the row says to call again
    inc("ack", "1", "--unit", "区应急局", "--outcome", "无人接听", "--at", "2026-07-21 10:05")
    data = due(inc, "2026-07-21 10:10")
    assert "emergency" in [r["unit_key"] for r in data["waiting"]]
    data = due(inc, "2026-07-21 10:15:30")
    emergency = next(r for r in data["overdue"] if r["unit_key"] == "emergency")
    assert (emergency["called_at"], emergency["attempts"], emergency["minutes_late"], emergency["due_at"]) == (
        "2026-07-21T10:05:00+08:00", 1, 5, "2026-07-21T10:10:00+08:00")
    assert emergency["last_outcome"] == "no-answer" and emergency["next_number"] == "0531-82722671"
    inc("ack", "1", "--unit", "区应急局", "--outcome", "占线", "--at", "2026-07-21 10:20")
    emergency = next(r for r in due(inc, "2026-07-21 10:21")["overdue"] if r["unit_key"] == "emergency")
    assert (emergency["attempts"], emergency["minutes_late"]) == (2, 11)
    # one that reached someone with no answer yet (其他: a message left) starts the wait anew
    inc("ack", "1", "--unit", "区应急局", "--outcome", "其他", "--at", "2026-07-21 10:25")
    assert "emergency" in [r["unit_key"] for r in due(inc, "2026-07-21 10:54")["waiting"]]
    assert "emergency" not in [r["unit_key"] for r in data["never_called"]]
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 10:36")
    assert "emergency" not in [r["unit_key"] for r in due(inc, "2026-07-21 11:00")["overdue"]]


def test_a_decided_level_starts_a_new_round_on_its_own_clock(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 09:45")
    inc("update", "1", "--evacuees", "600", "--at", "2026-07-21 10:00")
    assert "emergency" not in [r["unit_key"] for r in due(inc, "2026-07-21 10:20")["overdue"]]
    inc("decide", "1", "--level", "I", "--by", "区政府", "--at", "2026-07-21 10:20")
    data = due(inc, "2026-07-21 10:30:01")  # I: 10 minutes from the decision
    emergency = next(r for r in data["overdue"] if r["unit_key"] == "emergency")
    assert emergency["round_started_at"] == "2026-07-21T10:20:00+08:00"


def test_warning_colours_have_their_own_deadline(inc, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "黄色", "--area", "七里山街道", "--record", "--db", inc.db, "--sent", T0, "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert due(inc, "2026-07-21 10:10")["overdue"] == []  # yellow: 30 minutes
    assert due(inc, "2026-07-21 10:10:01")["overdue"][0]["kind"] == "warning"
    r = cli("warning", "红色", "--area", "七里山街道", "--record", "--db", inc.db, "--sent", "2026-07-21 10:20")
    assert r.exit_code == 0, r.stderr
    red = due(inc, "2026-07-21 10:30:01")["overdue"]  # red: 10 minutes from the new round
    assert red and {r["round_started_at"] for r in red} == {"2026-07-21T10:20:00+08:00"}


def test_first_report_due_locally_and_follow_ups_at_level_i(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "600", "--reported-at", T0, "--at", T0)  # 大型: I
    reports = due(inc, "2026-07-21 10:10")["reports_due"]
    first = next(r for r in reports if r["report"] == "first")
    assert (first["due_at"], first["overdue"], first["minutes_left"]) == ("2026-07-21T10:10:00+08:00", False, 0)
    assert first["deadline"]["local"] is True and first["deadline"]["clause"] == "3.1.2; 3.2.2"
    assert next(r for r in due(inc, "2026-07-21 10:10:01")["reports_due"] if r["report"] == "first")["overdue"]
    out = inc("report", "1", "--kind", "速报", "--to", "区政府", "--to", "市应急局", "--at", "2026-07-21 10:05").stdout
    assert out == "事件 #1 已速报 区政府、市应急局(2026-07-21 10:05)\n"
    reports = due(inc, "2026-07-21 12:05")["reports_due"]
    assert [r["report"] for r in reports] == ["follow_up"]
    assert (reports[0]["due_at"], reports[0]["overdue"]) == ("2026-07-21T12:05:00+08:00", False)
    assert due(inc, "2026-07-21 12:05:01")["reports_due"][0]["overdue"] is True


def test_the_national_plan_sets_its_own_hours_with_its_clause(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--plan", "national-2006", "--deaths", "3", "--reported-at", T0, "--at", T0)  # 中型: 12 h (3.3.1)
    first = due(inc, "2026-07-21 21:40")["reports_due"][0]
    assert first["deadline"] == {"clause": "3.3.1", "local": False, "hours": 12} and first["overdue"] is False
    assert due(inc, "2026-07-21 21:40:01")["reports_due"][0]["overdue"] is True


def test_without_the_local_file_nothing_is_late_and_it_says_so(inc, copy: Path) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "140", "--at", T0)
    data = due(inc, "2026-07-22 09:40", "--config-dir", str(copy))
    assert (data["configured"], data["overdue"], data["reports_due"]) == (False, [], [])
    assert data["never_called"]
    text = inc("due", "--at", "2026-07-22 09:40", "--config-dir", str(copy)).stdout
    assert text.startswith("注意: 配置目录中没有 response.local.yaml")


def test_due_text_groups_by_response(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "140", "--at", T0)
    inc("ack", "1", "--unit", "区水务局", "--outcome", "占线", "--at", "2026-07-21 09:45")
    text = inc("due", "--at", "2026-07-21 10:00").stdout.splitlines()
    assert text[0] == "事件 #1 · 本轮叫应 09:40 起 · 应答时限 10 分钟(本局规定)"
    assert text[1] == "  逾期 10分  区水务局  呼叫 09:45 占线,已拨1次  再拨 0531-81751867"
    assert text[2].startswith("  逾期 10分  未呼叫(")


def test_a_time_in_the_future_is_refused_with_the_clock_and_amend_corrects_the_opening(inc) -> None:  # type: ignore[no-untyped-def]
    r = inc("open", "--evacuees", "40", "--at", "2062-07-21 03:05", ok=False)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith('geohazard: error: --at: "2062-07-21 03:05" is in the future (the clock says ')
    inc("open", "--evacuees", "40", "--at", T0)
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 09:50")
    refused = inc("amend", "1", "--opened-at", "2026-07-21 10:00", "--reason", "时间录错", ok=False)
    assert refused.exit_code == 2 and "is after events already recorded (2026-07-21 09:50)" in refused.stderr
    out = inc("amend", "1", "--opened-at", "2026-07-21 09:38", "--reason", "时间录错").stdout
    assert out == "事件 #1 更正:立案时间 2026-07-21 09:40 → 2026-07-21 09:38(原因:时间录错)\n"
    shown = json.loads(inc("show", "1", "--format", "json").stdout)
    assert shown["opened_at"] == "2026-07-21T09:38:00+08:00"
    assert [e["kind"] for e in shown["history"]] == ["open", "call", "ack", "amend"]  # both kept
    assert inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 09:39").exit_code == 0


def test_amend_a_figure_is_reassessed_and_proposes(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    out = json.loads(inc("amend", "1", "--evacuees", "140", "--reason", "笔误:140人", "--format", "json").stdout)
    assert [e["kind"] for e in out["events"]] == ["amend", "proposal"]
    assert (out["response_level"], out["proposed_level"]) == ("III", "II")
    md = inc("export", "1").stdout
    assert "更正:需搬迁转移人数 40人 → 140人(原因:笔误:140人)" in md
    assert inc("amend", "1", "--reason", "x", ok=False).stderr == (
        "geohazard: error: nothing to correct: give --opened-at TIME or the corrected figures\n")


def test_amending_a_figure_after_the_first_report_owes_a_corrected_one(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--reported-at", T0, "--at", T0)  # 小型: III, no 续报 rule
    inc("amend", "1", "--evacuees", "45", "--reason", "笔误", "--at", "2026-07-21 09:45")  # before the 速报
    assert [r["report"] for r in due(inc, "2026-07-21 09:50")["reports_due"]] == ["first"]
    inc("report", "1", "--kind", "速报", "--to", "区政府", "--at", "2026-07-21 09:55")
    assert due(inc, "2026-07-21 10:00")["reports_due"] == []
    out = inc("amend", "1", "--evacuees", "140", "--reason", "笔误", "--at", "2026-07-21 10:00").stdout
    assert ("速报已报送(2026-07-21 09:55):更正后的数字须再报(续报/更正),"
            f"'geohazard incident due 1 --db {inc.db}' 列出期限;"
            f"报送后: geohazard incident report 1 --db {inc.db} --kind 更正") in out
    [row] = due(inc, "2026-07-21 10:30")["reports_due"]
    assert (row["report"], row["report_name"], row["due_at"], row["overdue"]) == (
        "correction", "更正报告", "2026-07-21T10:30:00+08:00", False)
    assert row["deadline"] == {"local": True, "file": "response.local.yaml", "minutes": 30, "key": "first_report"}
    assert due(inc, "2026-07-21 10:30:01")["reports_due"][0]["overdue"] is True
    assert "更正报告 应于 10:30 前" in inc("due", "--at", "2026-07-21 10:20").stdout
    # An opening-time correction is not a figure: nothing more is owed for it.
    inc("report", "1", "--kind", "更正", "--to", "区政府", "--at", "2026-07-21 10:25")
    assert due(inc, "2026-07-21 10:40")["reports_due"] == []
    inc("amend", "1", "--opened-at", "2026-07-21 09:35", "--reason", "时间录错", "--at", "2026-07-21 10:40")
    assert due(inc, "2026-07-21 10:45")["reports_due"] == []


def test_a_follow_up_report_carries_the_correction(inc) -> None:  # type: ignore[no-untyped-def]
    inc("open", "--evacuees", "40", "--at", T0)
    inc("report", "1", "--kind", "first", "--at", "2026-07-21 09:50")
    inc("amend", "1", "--deaths", "1", "--reason", "漏报", "--at", "2026-07-21 10:00")
    assert [r["report"] for r in due(inc, "2026-07-21 10:05")["reports_due"]] == ["correction"]
    assert "已更正报告" not in inc("report", "1", "--kind", "续报", "--at", "2026-07-21 10:10").stdout
    assert due(inc, "2026-07-21 10:15")["reports_due"] == []


def test_check_validates_the_local_file(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    (copy / "response.local.yaml").write_text("local: true\nanswer: [{minutes: 0}]\nfirst_report: {minutes: 30}\n",
                                              encoding="utf-8")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert "response.local.yaml:2: answer.0.minutes" in r.stdout + r.stderr


def test_an_incident_opened_under_a_warning_for_its_street_is_linked(inc, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("warning", "橙色", "--area", "七里山街道", "--record", "--db", inc.db, "--sent", T0).exit_code == 0
    elsewhere = json.loads(inc("open", "--evacuees", "40", "--location", "党家街道", "--at", T0, "--format",
                               "json").stdout)
    assert elsewhere["linked_warning"] is None
    opened = json.loads(inc("open", "--evacuees", "40", "--location", "七里山街道 七里山路", "--at", T0,
                            "--format", "json").stdout)
    assert opened["linked_warning"] == 1
    assert "关联预警响应 #1" in inc("show", str(opened["id"])).stdout
    listed = {r["id"]: r["kind"] for r in json.loads(inc("list", "--format", "json").stdout)}
    assert listed == {1: "warning", 2: "incident", 3: "incident"}
    assert "预警响应 #1" in inc("export", "1").stdout


def test_new_user_findings_times_and_a_missing_journal(inc, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A warning recorded at "now" is in the plan's zone (+08:00), as every other time, whatever the machine's.
    out = json.loads(cli("warning", "黄色", "--area", "七里山街道", "--record", "--db", inc.db, "--format",
                         "json").stdout)
    shown = json.loads(inc("show", str(out["id"]), "--format", "json").stdout)
    assert shown["opened_at"].endswith("+08:00")
    # A mistyped future 报告时间 would push the 速报 deadline away: refused with the clock shown.
    r = inc("open", "--evacuees", "10", "--reported-at", "2062-07-21 03:05", ok=False)
    assert r.exit_code == 2 and r.stderr.startswith('geohazard: error: --reported-at: "2062-07-21 03:05" is in the '
                                                    "future (the clock says ")
    # A journal that does not exist is said so, never "nothing is late".
    missing = tmp_path / "nowhere" / "j.sqlite3"
    text = cli("incident", "due", "--db", str(missing)).stdout
    assert text == f"日志 {missing} 尚不存在:还没有立案或记录预警(若应有记录,检查 --db 或 $GEOHAZARD_DB)\n"
    data = json.loads(cli("incident", "due", "--db", str(missing), "--format", "json").stdout)
    assert data["journal_missing"] == str(missing) and data["overdue"] == []


def test_after_a_failed_call_the_next_number_is_the_backup(inc, copy: Path, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    (copy / "response.local.yaml").write_bytes((cfg / "response.local.yaml").read_bytes())
    (copy / "contacts.local.yaml").write_text(
        "schema: 1\nlocal: true\ntitle: test\nunits:\n  - unit: 区水务局\n    backups: ['13912345678']\n"
        "    source: test\n", encoding="utf-8")
    cfg = ("--config-dir", str(copy))
    inc("open", "--evacuees", "140", "--at", T0, *cfg)
    inc("ack", "1", "--unit", "区水务局", "--outcome", "无人接听", "--at", "2026-07-21 09:41", *cfg)
    row = next(r for r in due(inc, "2026-07-21 09:52", *cfg)["overdue"] if r["unit_key"] == "water")
    assert (row["attempts"], row["next_number"]) == (1, "13912345678")  # the backup after a failed call
    inc("ack", "1", "--unit", "区水务局", "--outcome", "占线", "--at", "2026-07-21 09:53", *cfg)
    row = next(r for r in due(inc, "2026-07-21 10:04", *cfg)["overdue"] if r["unit_key"] == "water")
    assert (row["attempts"], row["next_number"]) == (2, "0531-81751867")  # then the primary again


def test_local_response_file_is_kept_and_an_edit_is_seen(copy: Path) -> None:
    """response.local.yaml's parsed YAML is kept in the cache (a run needs no YAML parser); an
    edited file is parsed again, and a bad edit is refused with its line, never served from the cache."""
    import os
    import shutil

    from geohazard_cli import deadlines
    from geohazard_cli.errors import ConfigError

    shutil.copy(ROOT / "response.local.yaml", copy / "response.local.yaml")
    path = copy / "response.local.yaml"
    first = deadlines.load(copy)
    assert first is not None and first.clock_skew_minutes == 5
    assert deadlines.load(copy) == first
    text = path.read_text(encoding="utf-8")
    stat = path.stat()
    path.write_text(text.replace("clock_skew_minutes: 5", "clock_skew_minutes: 7"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = deadlines.load(copy)
    assert again is not None and again.clock_skew_minutes == 7
    path.write_text(text.replace("clock_skew_minutes: 5", "clock_skew_minutes: -1"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"response\.local\.yaml:28: clock_skew_minutes"):
        deadlines.load(copy)


@pytest.mark.parametrize(("minutes", "text"), [(0, "不足1分"), (59, "59分"), (60, "1小时"), (61, "1小时1分"),
                                               (609, "10小时9分"), (1439, "23小时59分"), (1440, "1天"),
                                               (1500, "1天1小时"), (3000, "2天2小时")])
def test_lateness_reads_in_hours_and_days(minutes: int, text: str) -> None:
    from geohazard_cli.timeline import minutes_text

    assert minutes_text(minutes) == text


def test_a_queued_message_to_a_unit_with_no_number_says_so() -> None:
    # dry-run keeps such a unit by its key (a key is not a number to show in the history)
    from geohazard_cli.timeline import describe

    details = {"unit": "区指挥部指挥长", "unit_key": "commander", "channel": "dry-run", "target": "commander"}
    assert describe("message", details) == "通知排队:区指挥部指挥长(dry-run → 无号码)"
    assert describe("message", {**details, "target": "0531-82722671"}) == (
        "通知排队:区指挥部指挥长(dry-run → 0531-82722671)")


def test_a_dry_run_attempt_is_not_said_to_be_sent() -> None:
    from geohazard_cli.timeline import describe

    details = {"unit": "各类专业救援队伍", "channel": "dry-run", "result": "sent", "code": "dry-run"}
    assert describe("attempt", details) == "发送 各类专业救援队伍(dry-run):已记录(dry-run,未实际发送),代码 dry-run"
    bot = describe("attempt", {**details, "channel": "duty-bot", "code": "0"})
    assert bot == "发送 各类专业救援队伍(duty-bot):已发送,代码 0"
