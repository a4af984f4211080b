"""Scripted drills: the scenario schema, the runner on its drill clock, `geohazard drill run/new`.

The shipped drills in drills/ must run and pass; each malformed scenario in tests/data/drills/ maps
to its one-line message (exit 2, nothing on stdout); a scenario whose expectation does not hold
exits 1 naming the step.
"""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geohazard_cli.drill import Drill, format_offset, parse_offset, parse_scenario, schedule
from geohazard_cli.drill_run import matches, run
from geohazard_cli.errors import InputError
from geohazard_cli.intake import TIME_EXAMPLES
from geohazard_cli.rules import Profile

ROOT = Path(__file__).resolve().parents[1]
DRILLS = sorted((ROOT / "drills").glob("*.yaml"))
BAD = Path(__file__).parent / "data" / "drills"
START = "2026-07-21T08:30:00+08:00"


def bad(name: str) -> str:
    return str(BAD / name)


def drill_of(steps: list[dict[str, object]], start: str = START) -> Drill:
    return schedule(parse_scenario({"name": "t", "start": start, "steps": steps}, "t.yaml"))


# --- the clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delta"),
    [("+0m", timedelta(0)), ("+45m", timedelta(minutes=45)), ("+2h", timedelta(hours=2)),
     ("+1h30m", timedelta(hours=1, minutes=30)), ("+1d2h", timedelta(days=1, hours=2)),
     ("+90m", timedelta(minutes=90)), ("+5min", timedelta(minutes=5))],
)
def test_offsets(text: str, delta: timedelta) -> None:
    assert parse_offset(text) == delta


@pytest.mark.parametrize(
    ("delta", "text"),
    [(timedelta(0), "+0m"), (timedelta(minutes=90), "+1h30m"), (timedelta(hours=2), "+2h"),
     (timedelta(days=1, minutes=5), "+1d5m")],
)
def test_offset_text(delta: timedelta, text: str) -> None:
    assert format_offset(delta) == text
    assert parse_offset(text) == delta


def test_absolute_and_equal_times(shizhong: Profile) -> None:
    d = drill_of([
        {"at": "+0m", "report": {"evacuees": 60}},
        {"at": "2026-07-21 09:00", "update": {"evacuees": 70}},  # naive: +08:00
        {"at": "+30m", "update": {"evacuees": 80}},  # the same minute as the step before: allowed
    ])
    assert [t.isoformat() for t in d.times] == [
        "2026-07-21T08:30:00+08:00", "2026-07-21T09:00:00+08:00", "2026-07-21T09:00:00+08:00"]
    r = run(d, shizhong)
    assert [s.offset for s in r.steps] == ["+0m", "+30m", "+30m"]


@given(st.integers(min_value=0, max_value=60 * 24 * 400))
def test_offset_round_trip(minutes: int) -> None:
    delta = timedelta(minutes=minutes)
    assert parse_offset(format_offset(delta)) == delta


@given(st.lists(st.integers(min_value=0, max_value=3000), min_size=2, max_size=6))
def test_steps_must_not_go_back_in_time(offsets: list[int]) -> None:
    steps: list[dict[str, object]] = [{"at": f"+{m}m", "ack": "区应急局"} for m in offsets]
    in_order = all(a <= b for a, b in pairwise(offsets))
    if in_order:
        d = drill_of(steps)
        assert [int((t - d.start).total_seconds() // 60) for t in d.times] == offsets
    else:
        first_back = next(i for i in range(1, len(offsets)) if offsets[i] < offsets[i - 1])
        with pytest.raises(InputError) as info:
            drill_of(steps)
        assert str(info.value).startswith(f"step {first_back + 1} (ack): at: ")
        assert str(info.value).endswith("steps must be in time order")


def test_offset_too_far() -> None:
    with pytest.raises(InputError) as info:
        drill_of([{"at": "+99999999d", "report": {"evacuees": 1}}])
    assert str(info.value) == 'step 1 (report): at: "+99999999d" is too far from start'


def test_times_are_in_the_plans_zone(shizhong: Profile) -> None:
    d = drill_of([{"at": "+0m", "report": {"evacuees": 60}},
                  {"at": "2026-07-21T01:30:00Z", "update": {"evacuees": 70}}], start="2026-07-21T00:30:00Z")
    assert [t.isoformat() for t in [d.start, *d.times]] == [
        "2026-07-21T08:30:00+08:00", "2026-07-21T08:30:00+08:00", "2026-07-21T09:30:00+08:00"]
    assert run(d, shizhong).steps[0].result["incident"]["reported_at"] == "2026-07-21T08:30:00+08:00"


def test_report_time_is_the_drill_clock(shizhong: Profile) -> None:
    r = run(drill_of([{"at": "+25m", "report": {"evacuees": 60}}]), shizhong)
    assert r.steps[0].result["incident"]["reported_at"] == "2026-07-21T08:55:00+08:00"
    given = run(drill_of([{"at": "+25m", "report": {"evacuees": 60, "reported_at": "2026-07-21 08:50"}}]),
                shizhong)
    assert given.steps[0].result["incident"]["reported_at"] == "2026-07-21T08:50:00+08:00"


def test_same_file_same_result(shizhong: Profile) -> None:
    steps: list[dict[str, object]] = [
        {"at": "+0m", "report": {"evacuees": 60, "potential_loss": "300万"}},
        {"at": "+70m", "update": {"evacuees": 140}, "expect": {"level_changed": True}},
        {"at": "+5h", "terminate": {"confirm": "all", "reason": "现场处置基本完成"}},
    ]
    first = run(drill_of(steps), shizhong).model_dump(mode="json")
    second = run(drill_of(steps), shizhong).model_dump(mode="json")
    assert first == second


# --- expectations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "actual", "ok"),
    [
        ("small", "small", True),
        ("small", "medium", False),
        (True, True, True),
        (1, True, False),  # a boolean only matches a boolean
        (True, 1, False),
        (5000000, "5000000", True),  # amounts are JSON strings
        (5000000, "5000000.00", True),
        (4999999.99, "4999999.99", True),
        (5000000, "5000001", False),
        (140, 140, True),
        ([], [], True),
        ([], ["区应急局"], False),
        (["evacuees"], ["evacuees", "deaths"], False),
        ({"name": "市指挥部"}, {"name": "市指挥部", "key": "city"}, True),  # a mapping: the keys given
        ({"name": "区指挥部"}, {"name": "市指挥部"}, False),
        (None, None, True),
        (None, "x", False),
        ("III", None, False),
    ],
)
def test_matches(wanted: object, actual: object, ok: bool) -> None:
    assert matches(wanted, actual) is ok


def test_update_keys_and_dotted_expectations(shizhong: Profile) -> None:
    r = run(drill_of([
        {"at": "+0m", "report": {"evacuees": 60}},
        {"at": "+1h", "update": {"evacuees": 650},
         "expect": {"previous_level": "III", "previous_grade": "small", "level_changed": True,
                    "lead.name": "市指挥部", "basis.0.value": 650, "response_level": "II"}},
    ]), shizhong)
    step = r.steps[1]
    assert [(c.key, c.ok) for c in step.checks] == [
        ("previous_level", True), ("previous_grade", True), ("level_changed", True), ("lead.name", True),
        ("basis.0.value", True), ("response_level", False)]
    assert step.checks[-1].actual == "I"
    assert (r.passed, r.failed, step.ok) == (False, [2], False)
    assert step.level_change is not None
    assert (step.level_change.direction, step.level_change.previous_level, step.level_change.level) == (
        "up", "III", "I")


def test_no_level_change_when_level_holds(shizhong: Profile) -> None:
    r = run(drill_of([{"at": "+0m", "report": {"evacuees": 150}},
                      {"at": "+1h", "update": {"evacuees": 450}}]), shizhong)
    assert r.steps[1].result["level_changed"] is False
    assert r.steps[1].level_change is None
    assert r.steps[0].level_change is not None and r.steps[0].level_change.direction == "start"


def test_terminate_then_report_again(shizhong: Profile) -> None:
    r = run(drill_of([
        {"at": "+0m", "report": {"evacuees": 60}},
        {"at": "+2h", "terminate": "all"},
        {"at": "+3h", "report": {"deaths": 12}},
    ]), shizhong)
    assert r.steps[1].result == {
        "terminated": True, "reason": None, "by": None, "ended": ["incident"], "grade": "small", "grade_name": "小型",
        "response_level": "III", "response_level_name": "III级响应", "duration_minutes": 120,
        "warning_level": None, "unacknowledged": [],
        "confirmed": [f"{c.text}({c.source})" for c in shizhong.decisions.termination.criteria],
    }
    assert r.steps[2].result["response_level"] == "I"
    assert r.steps[2].level_change is not None and r.steps[2].level_change.direction == "start"


@pytest.mark.parametrize(("terminate", "missing"), [
    ({"reason": "现场处置基本完成"},
     "1 地质灾害现场应急处置工作基本完成; 2 地质灾害发展形势趋于稳定; 3 地质灾害灾情险情基本控制; "
     "4 受灾群众得到安置; 5 灾区生活基本恢复正常"),
    ({"confirm": [1, 2, 3, 5]}, "4 受灾群众得到安置"),
])
def test_terminate_needs_every_criterion_confirmed(shizhong: Profile, terminate: dict[str, object],
                                                  missing: str) -> None:
    with pytest.raises(InputError) as info:
        run(drill_of([{"at": "+0m", "report": {"evacuees": 60}}, {"at": "+2h", "terminate": terminate}]), shizhong)
    assert str(info.value) == (f"step 2 (terminate): confirm: not confirmed (6.4(1)): {missing} (confirm: [1, 2, ...] "
                               "or confirm: all, once 区政府 has declared the end, 6.4)")


def test_terminate_with_each_number_confirmed(shizhong: Profile) -> None:
    r = run(drill_of([{"at": "+0m", "report": {"evacuees": 60}},
                      {"at": "+2h", "terminate": {"confirm": [5, 4, 3, 2, 1], "by": "区政府"}}]), shizhong)
    assert r.steps[1].result["reason"] is None and len(r.steps[1].result["confirmed"]) == 5


def test_runner_errors_name_the_step(shizhong: Profile) -> None:
    with pytest.raises(InputError) as info:
        run(drill_of([{"at": "+0m", "report": {"evacuees": 60}},
                      {"at": "+1h", "update": {"potential_loss": "5万万"}}]), shizhong)
    assert str(info.value) == ('step 2 (update): potential_loss: "5万万" is not an amount '
                               "(examples: 3000000, 3,000,000, 500万, 1.2亿)")


# --- the command -------------------------------------------------------------------------------


def test_at_least_three_shipped_drills() -> None:
    assert len(DRILLS) >= 3, DRILLS


@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.name)
def test_shipped_drills_pass(cli, path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", str(path), "--format", "json")
    assert (r.exit_code, r.stderr) == (0, ""), r.stderr
    data = json.loads(r.stdout)
    assert data["passed"] is True and data["failed"] == []
    assert all(s["ok"] for s in data["steps"])
    assert all(s["checks"] for s in data["steps"] if s["kind"] != "ack")  # every step checks something


def test_shipped_drills_cover_the_levels_and_changes(cli) -> None:  # type: ignore[no-untyped-def]
    levels: set[str] = set()
    moves: set[tuple[str | None, str | None]] = set()
    kinds: list[list[str]] = []
    for path in DRILLS:
        data = json.loads(cli("drill", "run", str(path), "--format", "json").stdout)
        kinds.append([s["kind"] for s in data["steps"]])
        for s in data["steps"]:
            if s["kind"] in ("report", "update"):
                levels.add(s["result"]["response_level"])
            ch = s["level_change"]
            if ch is not None:
                moves.add((ch["previous_level"], ch["level"]))
    assert levels == {"I", "II", "III"}
    assert ("III", "I") in moves  # an escalation III -> I
    assert {("I", "II"), ("II", "III")} & moves  # a de-escalation


def test_text_output(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", str(ROOT / "drills" / "xinglong-landslide-escalation.yaml"))
    assert r.exit_code == 0 and r.stderr == ""
    out = r.stdout
    for expected in (
        "演练: 兴隆片区滑坡响应升降级演练",
        "步骤 2   +1h30m  07-15 07:40  update  ✓ 符合预期",
        "专家会商:滑坡体后缘裂缝贯通",
        "▲ 响应升级: III级响应 → I级响应",
        "▼ 响应降级: I级响应 → II级响应",
        "✓ previous_level = III",
        "✓ lead.name = 市指挥部",
        "结果: 全部符合预期 (8 步)",
    ):
        assert expected in out, expected
    assert "\x1b[" not in out


def test_failing_expectation(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", bad("failing.yaml"))
    assert r.exit_code == 1
    assert r.stderr == (f"geohazard: error: {bad('failing.yaml')}: 1 of 3 steps did not go as expected: "
                        "step 2 (update)\n")
    assert "步骤 2     +40m  07-21 09:10  update  ✗ 不符合预期" in r.stdout
    assert "✗ grade = small  (实际: medium)" in r.stdout
    assert "✗ level_changed = false  (实际: true)" in r.stdout
    assert "结果: 1 步不符合预期: 步骤 2" in r.stdout


def test_failing_expectation_json(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", bad("failing.yaml"), "-f", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert (data["name"], data["passed"], data["failed"]) == ("预期不符", False, [2])
    step = data["steps"][1]
    assert (step["at"], step["ok"], step["result"]["grade"]) == ("2026-07-21T09:10:00+08:00", False, "medium")
    assert step["checks"] == [
        {"key": "grade", "expected": "small", "actual": "medium", "ok": False},
        {"key": "response_level", "expected": "III", "actual": "II", "ok": False},
        {"key": "level_changed", "expected": False, "actual": True, "ok": False},
    ]


def test_plan_flag_overrides_the_file(cli) -> None:  # type: ignore[no-untyped-def]
    """When a profile changes, the drills show which expected outcomes moved."""
    path = str(ROOT / "drills" / "xinglong-landslide-escalation.yaml")
    r = cli("drill", "run", path, "--plan", "national-2006", "-f", "json")
    data = json.loads(r.stdout)
    assert data["plan"] == "national-2006"
    assert r.exit_code == 1 and data["failed"]


MALFORMED = [
    ("unknown-kind.yaml", "unknown-kind.yaml:7: step 2: evacuate: unknown step kind (a step has at, note, "
     "expect and one of warning, report, update, decide, submit, terminate, ack)"),
    ("unknown-key.yaml", "unknown-key.yaml:7: step 1 (report): expected: unknown key (a step has at, note, "
     "expect and one of warning, report, update, decide, submit, terminate, ack)"),
    ("unknown-top-key.yaml", "unknown-top-key.yaml:3: profile: unknown key (a scenario has name, start, plan, "
     "description, steps)"),
    ("unknown-warning-key.yaml", "unknown-warning-key.yaml:5: step 1 (warning): warning.areas: unknown key "
     "(known: level, area)"),
    ("unknown-figure.yaml", "unknown-figure.yaml:7: step 2 (update): evacuee: unknown field (known: hazard_type, "
     "evacuees, deaths, missing, injured, households, threatened, potential_loss, direct_loss, reported_at, "
     "occurred_at, id, location, scale, cause, trend, measures_taken, suggestions, reporter, notes)"),
    ("two-kinds.yaml", "two-kinds.yaml:4: step 1: a step needs exactly one of warning, report, update, "
     "decide, submit, terminate, ack (found report and update)"),
    ("out-of-order.yaml", 'out-of-order.yaml:8: step 3 (update): at: "+45m" is earlier than step 2 (+1h30m); '
     "steps must be in time order"),
    ("before-start.yaml", "before-start.yaml:4: step 1 (report): at: 2026-07-21T08:00:00+08:00 is before the "
     "drill starts (2026-07-21T08:30:00+08:00)"),
    ("bad-offset.yaml", 'bad-offset.yaml:6: step 2 (update): at: "45 minutes" is not an offset from start such '
     'as "+0m", "+45m", "+2h", "+1h30m", or an ISO time'),
    ("bad-figure.yaml", 'bad-figure.yaml:9: step 3 (update): evacuees: "abc" is not a whole number of people, '
     "0 or more (examples: 140, 1,000, １４０)"),
    ("bad-hazard.yaml", 'bad-hazard.yaml:5: step 1 (report): hazard_type: "地震" is not a hazard type of this '
     "plan (§1.3: 崩塌 (collapse), 滑坡 (landslide), 泥石流 (debris_flow), 地面塌陷 (ground_collapse), "
     "地裂缝 (ground_fissure))"),
    ("no-figure.yaml", "no-figure.yaml:5: step 1 (report): no figure to grade on: give at least one of "
     "evacuees (需搬迁转移人数), potential_loss (潜在经济损失), deaths (死亡人数), direct_loss (直接经济损失)"),
    ("missing-name.yaml", "missing-name.yaml: name: required key is missing"),
    ("missing-start.yaml", "missing-start.yaml: start: required key is missing"),
    ("missing-steps.yaml", "missing-steps.yaml: steps: required key is missing"),
    ("empty-steps.yaml", "empty-steps.yaml:3: steps: needs at least one step"),
    ("missing-at.yaml", 'missing-at.yaml:4: step 1 (report): at: required key is missing (when the step '
     'happens: an offset from start such as "+0m", "+45m", "+2h", "+1h30m", or an ISO time)'),
    ("bad-start.yaml", f'bad-start.yaml:2: start: "七月二十一日早上" is not a time ({TIME_EXAMPLES})'),
    ("yaml-error.yaml", "yaml-error.yaml:6: did not find expected ',' or '}'"),
    ("not-a-mapping.yaml", "not-a-mapping.yaml: the top level is a list; expected a mapping of fields"),
    ("update-first.yaml", "update-first.yaml:5: step 1 (update): no incident to update: report one first"),
    ("double-report.yaml", "double-report.yaml:7: step 2 (report): an incident is already reported (step 1); "
     "use update for new figures, or terminate it first"),
    ("bad-colour.yaml", 'bad-colour.yaml:5: step 1 (warning): warning: "purple" is not a warning colour '
     "(accepted: blue, yellow, orange, red, 蓝色, 黄色, 橙色, 红色"),
    ("unknown-unit.yaml", 'unknown-unit.yaml:7: step 2 (ack): unknown unit "区应急" (did you mean "区应急局"?)'),
    ("empty-ack.yaml", "empty-ack.yaml:4: step 1 (ack): ack: name at least one unit that answered"),
    ("duplicate-key.yaml", "duplicate-key.yaml:7: key 'expect' appears twice in one mapping; keep one"),
    ("unknown-plan.yaml", 'unknown-plan.yaml:3: plan: "shizhong-2032" is not a profile in '),
    ("expect-typo.yaml", "expect-typo.yaml:6: step 1 (report): expect: grad: not a key of this step's result "
     "(keys: plan, plan_title, grade, grade_name, response_level, response_level_name, lower_bound, basis, "
     "deciding, deciding_text, not_reported, lead, skip_level_report, advisories, incident"),
]


@pytest.mark.parametrize(("name", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed(cli, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", bad(name))
    assert r.exit_code == 2
    assert r.stdout == ""
    prefix = f"geohazard: error: {bad(name).removesuffix(name)}"
    assert r.stderr.startswith(prefix + message), r.stderr
    assert r.stderr.count("\n") == 1


def test_every_malformed_fixture_is_tested() -> None:
    tested = {m[0] for m in MALFORMED} | {"failing.yaml"}
    assert {p.name for p in BAD.glob("*.yaml")} <= tested


def test_missing_file(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", "no/such/drill.yaml")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == "geohazard: error: no/such/drill.yaml: no such file\n"


def test_comma_in_flow_mapping_hint(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "comma.yaml"
    path.write_text(f"name: x\nstart: {START}\nsteps:\n  - at: '+0m'\n    report: {{evacuees: 60}}\n"
                    "  - at: '+1h'\n    terminate: {confirm: all, reason: 现场处置基本完成,滑坡体趋于稳定}\n",
                    encoding="utf-8")
    r = cli("drill", "run", str(path))
    assert r.exit_code == 2
    assert r.stderr == (f"geohazard: error: {path}:7: step 2 (terminate): terminate.滑坡体趋于稳定: unknown key "
                        "(known: confirm, reason, by); a comma inside {...} starts a new key: put the text in quotes\n")


# --- warnings, call lists and 叫应 (with the warning core, issue 4, and the roster, issue 3) -------


def test_warning_step_is_the_warning_command(cli, shizhong: Profile, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    """A warning step's result is what `geohazard warning` prints for a drill sent at that time."""
    from geohazard_cli.contacts_load import load_roster

    r = run(drill_of([{"at": "+10m", "warning": {"level": "橙色", "area": ["七里山街道"]}}]), shizhong,
            load_roster(cfg))
    cmd = cli("warning", "orange", "--area", "七里山街道", "--format", "json", "--exercise",
              "--sent", "2026-07-21T08:40:00+08:00")
    assert cmd.exit_code == 0, cmd.stderr
    result = dict(r.steps[0].result)
    called = result.pop("newly_called")
    assert result.pop("unacknowledged") == called
    assert result == json.loads(cmd.stdout)
    assert called == [c["unit"] for c in result["contacts"]]
    assert [c.unit for c in r.steps[0].called] == called


def test_ack_loop(shizhong: Profile, cfg: Path) -> None:
    from geohazard_cli.contacts_load import load_roster

    r = run(drill_of([
        {"at": "+0m", "warning": {"level": "yellow", "area": ["七里山街道"]}},
        {"at": "+5m", "ack": [{"unit": "七里山街道", "by": "王某"}, "区应急局"]},
    ]), shizhong, load_roster(cfg))
    called = r.steps[0].result["newly_called"]
    assert "七里山街道办事处" in called and "区应急局" not in called
    ack = r.steps[1].result
    assert ack["units"] == ["七里山街道办事处", "区应急局"]
    assert ack["answered"][0] == {"unit": "七里山街道办事处", "answerer": None, "by": "王某",
                                  "acknowledged_at": "2026-07-21T08:35:00+08:00", "called": True}
    assert ack["not_called"] == ["区应急局"]  # answered without being called: recorded, not counted
    assert ack["acknowledged"] == ["七里山街道办事处"]
    assert ack["unacknowledged"] == [u for u in called if u != "七里山街道办事处"]


def test_ack_step_has_the_call_sheet_people(shizhong: Profile, cfg: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """answerer = 接听人 (at the unit), by = 经办人 (the caller): the same two as `incident ack`."""
    from geohazard_cli.contacts_load import load_roster

    r = run(drill_of([
        {"at": "+0m", "warning": {"level": "yellow", "area": ["七里山街道"]}},
        {"at": "+5m", "ack": [{"unit": "七里山街道", "answerer": "李四", "by": "张三"}]},
    ]), shizhong, load_roster(cfg))
    assert r.steps[1].result["answered"][0] == {"unit": "七里山街道办事处", "answerer": "李四", "by": "张三",
                                                "acknowledged_at": "2026-07-21T08:35:00+08:00", "called": True}
    starter = cli("drill", "new").stdout
    assert "回应人" not in starter
    assert "{unit: 七里山街道, answerer: 接听人, by: 经办人}" in starter


def test_level_change_names_units_newly_to_call(shizhong: Profile, cfg: Path) -> None:
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.dispatch import call_list_diff, resolve_call_list

    roster = load_roster(cfg)
    r = run(drill_of([{"at": "+0m", "report": {"evacuees": 60}},
                      {"at": "+1h", "update": {"evacuees": 650}},
                      {"at": "+1h10m", "decide": "I"},
                      {"at": "+2h", "update": {"evacuees": 60}},
                      {"at": "+2h10m", "decide": {"level": "III", "by": "区政府"}}]), shizhong, roster)
    first, proposed_up, up, proposed_down, down = r.steps
    # An update proposes: the same units to prepare, the level in force unchanged until decided.
    assert proposed_up.level_change is not None and proposed_up.level_change.proposed
    assert [c.unit for c in proposed_up.level_change.newly_called] == up.result["newly_called"]
    assert proposed_down.result["previous_level"] == "I" and up.level_change is not None
    assert up.level_change.by == "区政府" and not up.level_change.proposed
    a3 = first.result
    assert a3["call_list"] == a3["newly_called"] and a3["dropped"] == []
    assert up.level_change is not None and down.level_change is not None
    from geohazard_cli.grading import grade
    from geohazard_cli.intake import parse_incident

    small = resolve_call_list(grade(parse_incident({"evacuees": 60}, shizhong), shizhong), shizhong, roster)
    large = resolve_call_list(grade(parse_incident({"evacuees": 650}, shizhong), shizhong), shizhong, roster)
    newly, dropped = call_list_diff(small, large)
    assert [c.unit for c in up.level_change.newly_called] == [e.unit for e in newly] == up.result["newly_called"]
    assert [c.dial for c in up.level_change.newly_called] == [e.dial for e in newly]
    assert up.level_change.dropped == [e.unit for e in dropped]
    back_newly, back_dropped = call_list_diff(large, small)
    assert down.level_change.direction == "down"
    assert down.result["dropped"] == [e.unit for e in back_dropped] == down.level_change.dropped
    assert down.result["newly_called"] == [e.unit for e in back_newly]


def test_text_shows_units_newly_to_call(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", str(ROOT / "drills" / "qilishan-escalation.yaml"))
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "  叫应:\n    - 区指挥部办公室  0531-82722671\n" in out
    assert "▲ 建议响应升级(待决定): III级响应 → II级响应\n    建议级别新增叫应单位(准备):\n" in out
    assert "▲ 响应升级: III级响应 → II级响应(区政府决定)\n    新增叫应单位:\n" in out
    assert "    - 区人武部  0531-82078710\n" in out
    assert "✓ unacknowledged = []" in out


# --- reports -----------------------------------------------------------------------------------


def test_markdown_format(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "run", str(ROOT / "drills" / "dangjia-ground-collapse.yaml"), "-f", "markdown")
    assert r.exit_code == 0
    out = r.stdout
    assert out.startswith("# 应急演练报告:党家街道地面塌陷灾情演练\n")
    assert "- 结果:**全部符合预期**(3 步)\n\n| 步骤 | 时间 | 类型 | 经过 | 预期 | 结论 |" in out
    assert "| 3 | +6h<br>20:00 | terminate |" in out
    assert "duration_minutes = 360" in out


def test_report_files(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    path = str(ROOT / "drills" / "xinglong-landslide-escalation.yaml")
    assert cli("drill", "run", path, "--report", str(md), "-f", "json").exit_code == 0
    assert cli("drill", "run", path, "--report", str(html)).exit_code == 0
    assert md.read_text(encoding="utf-8").startswith("# 应急演练报告:兴隆片区滑坡响应升降级演练")
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "@page { size: A4;" in page  # the shared print CSS
    assert "▲ III级响应 → I级响应" in page and "▼ I级响应 → II级响应" in page



def test_report_files_show_the_dry_run_messages_of_each_round(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The messages a drill "sent" (dry-run, recorded, not sent): per step, how many, and each text
    with its unit and number, in both report formats (escaped in HTML)."""
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    path = str(ROOT / "drills" / "xinglong-landslide-escalation.yaml")
    run = json.loads(cli("drill", "run", path, "--report", str(md), "-f", "json").stdout)
    assert cli("drill", "run", path, "--report", str(html)).exit_code == 0
    rounds = [s for s in run["steps"] if s["messages"]]
    assert len(rounds) >= 2
    text, page = md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")
    assert "## 演练通知(dry-run,已记录,未实际发送)" in text and "<h2>演练通知(dry-run,已记录,未实际发送)</h2>" in page
    for s in rounds:
        said = f"步骤 {s['number']}({s['offset']}):{len(s['messages'])} 条"
        assert said in text and said in page
        for m in s["messages"]:
            number = "无号码" if m["target"] == m["unit_key"] else m["target"]  # recorded by its key
            assert f"| {m['unit']} | {number} | {m['text']} |" in text
            assert m["text"].startswith("【演练】")
    first = rounds[0]["messages"][0]
    assert any(m["target"] == m["unit_key"] for m in rounds[0]["messages"]) and "| 区指挥部指挥长 | 无号码 |" in text
    escaped = first["text"].replace('"', "&#34;")
    assert f"<td>{first['unit']}</td><td>{first['target']}</td><td>{escaped}</td>" in page
    total = sum(len(s["messages"]) for s in rounds)
    assert f"共 {total} 条" in text and f"共 {total} 条" in page

def test_report_of_a_failed_drill_is_written(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "failed.html"
    r = cli("drill", "run", bad("failing.yaml"), "--report", str(out))
    assert r.exit_code == 1
    assert "✗ 不符合" in out.read_text(encoding="utf-8")


def test_html_escapes_scenario_text(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.yaml"
    path.write_text(f"name: <b>演练</b>\nstart: {START}\nsteps:\n  - at: '+0m'\n"
                    "    note: <script>alert(1)</script>\n    report: {evacuees: 60, location: '<i>七里山</i>'}\n",
                    encoding="utf-8")
    out = tmp_path / "x.html"
    assert cli("drill", "run", str(path), "--report", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>演练" not in page and "<i>七里山" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;演练&lt;/b&gt;" in page


def test_report_suffix_checked_first(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.pdf"
    r = cli("drill", "run", str(ROOT / "drills" / "dangjia-ground-collapse.yaml"), "--report", str(out))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f'geohazard: error: --report: "{out}" must end in .md or .html (the format goes by suffix)\n'
    assert not out.exists()


def test_no_report_for_a_malformed_scenario(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.md"
    assert cli("drill", "run", bad("bad-figure.yaml"), "--report", str(out)).exit_code == 2
    assert not out.exists()


# --- drill new ---------------------------------------------------------------------------------


def test_new_to_stdout_is_a_commented_scenario(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("drill", "new")
    assert r.exit_code == 0 and r.stderr == ""
    assert r.stdout.startswith("# 应急演练脚本")
    from geohazard_cli.loader import load_yaml

    data = load_yaml(r.stdout, "starter")
    scenario = parse_scenario(data, "starter")
    assert {s.kind for s in scenario.steps} == {"warning", "ack", "report", "update", "terminate"}


def test_new_file_runs_and_passes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "my-drill.yaml"
    r = cli("drill", "new", str(path))
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr == f"wrote {path}; run it with: geohazard drill run {path}\n"
    ran = cli("drill", "run", str(path))
    assert ran.exit_code == 0, ran.stderr


def test_new_never_overwrites(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.yaml"
    path.write_text("name: 我的演练\n", encoding="utf-8")
    r = cli("drill", "new", str(path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"geohazard: error: {path}: already exists; choose another name (drill new never overwrites)\n"
    assert path.read_text(encoding="utf-8") == "name: 我的演练\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.yaml"]  # no temporary file left behind


@pytest.mark.parametrize("args", [("drill",), ("drill", "run"), ("drill", "new")])
def test_help_text(cli, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    r = cli(*args, "--help")
    assert r.exit_code == 0
    assert len(r.stdout.split("\n\n")[1].strip()) > 20, r.stdout


def test_expectations_in_the_plans_terms(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """grade: 中型 and response_level: II级 / Ⅱ级响应 hold as medium and II do (issue 13)."""
    src = (Path(__file__).resolve().parents[1] / "drills" / "dangjia-ground-collapse.yaml").read_text(encoding="utf-8")
    plain = src.replace("grade: medium", "grade: 中型").replace("response_level: II,", "response_level: Ⅱ级响应,")
    plain = plain.replace("      response_level: II\n", "      response_level: II级\n")
    assert plain.count("中型") >= 2 and "II级\n" in plain and "Ⅱ级响应" in plain
    f = tmp_path / "terms.yaml"
    f.write_text(plain, encoding="utf-8")
    r = cli("drill", "run", str(f))
    assert r.exit_code == 0, r.stdout + r.stderr
    f.write_text(plain.replace("grade: 中型", "grade: 大型", 1), encoding="utf-8")
    r = cli("drill", "run", str(f))
    assert r.exit_code == 1 and "大型" in r.stdout


def test_each_round_is_messaged_through_dry_run_as_an_exercise(cli) -> None:  # type: ignore[no-untyped-def]
    """drill run records, by the dry-run channel, what each 叫应 round would send: the warning's round
    (its 5 units), the incident's (18 at III级), the decided II级's (a new level: a new round for all
    27); a proposal alone sends nothing; each message once, every text marked 【演练】."""
    path = str(ROOT / "drills" / "qilishan-escalation.yaml")
    data = json.loads(cli("drill", "run", path, "--format", "json").stdout)
    sent = [(s["number"], s["kind"], len(s["messages"]), sorted({m["kind"] for m in s["messages"]}))
            for s in data["steps"]]
    assert sent == [(1, "warning", 5, ["warning"]), (2, "ack", 0, []), (3, "ack", 0, []),
                    (4, "report", 18, ["incident"]), (5, "update", 0, []), (6, "decide", 27, ["level_change"]),
                    (7, "terminate", 0, [])]
    assert [m["unit"] for m in data["steps"][0]["messages"]] == [c["unit"] for c in data["steps"][0]["called"]]
    messages = [m for s in data["steps"] for m in s["messages"]]
    assert all(m["text"].startswith("【演练】") and m["result"] == "sent" for m in messages)
    assert len({m["key"] for m in messages}) == len(messages)  # nothing twice
    text = cli("drill", "run", path).stdout
    assert f"通知(dry-run,未发送,已记录): 5 条,如: {messages[0]['text']}" in text


def test_terminate_numbers_count_in_each_responses_own_list(shizhong: Profile) -> None:
    steps: list[dict[str, object]] = [{"at": "+0m", "warning": {"level": "orange", "area": ["七里山"]}},
                                      {"at": "+20m", "report": {"evacuees": 60}}]
    ok = run(drill_of([*steps, {"at": "+3h", "terminate": {"confirm": [1, 2, 3, 4, 5]}}]), shizhong)
    assert ok.steps[2].result["ended"] == ["incident", "warning"] and len(ok.steps[2].result["confirmed"]) == 6
    with pytest.raises(InputError, match=r"confirm: 6 is not a criterion number \(1-5: "):
        run(drill_of([*steps, {"at": "+3h", "terminate": {"confirm": [1, 2, 3, 4, 5, 6]}}]), shizhong)
    with pytest.raises(InputError, match=r"confirm: not confirmed \(6.4\(1\)\): 4 受灾群众得到安置; 5 "):
        run(drill_of([*steps, {"at": "+3h", "terminate": {"confirm": [1, 2, 3]}}]), shizhong)
