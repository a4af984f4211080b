"""`geohazard rules diff OLD NEW`: the rules compared, and the records, incidents and drill steps a
revision moves. The revision under test is a copy of the district's rules with 需搬迁转移人数's
medium bound moved by one (100 -> 101) and 中型 starting Level I instead of II."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from geohazard_cli.rules import Profile, load_profile
from geohazard_cli.rules_diff import profile_changes
from geohazard_cli.rules_regrade import Regrade, direction

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = ROOT / "rules" / "shizhong-2023.yaml"

EDITS = [  # (the line as shipped, as revised)
    ('{grade: small, below: 100, source: "4(4); 附件2"}', '{grade: small, below: 101, source: "4(4); 附件2"}'),
    ('{grade: medium, from: 100, below: 500, source: "4(3); 附件2"}',
     '{grade: medium, from: 101, below: 500, source: "4(3); 附件2"}'),
    ("{key: medium, name: 中型, level: II,", "{key: medium, name: 中型, level: I,"),
]


def revise(tmp_path: Path, edits: list[tuple[str, str]], name: str = "revised.yaml") -> Path:
    text = DISTRICT.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def revised(tmp_path: Path) -> Path:
    return revise(tmp_path, EDITS)


def cut(changes: list[dict[str, Any]]) -> list[tuple[str, str, str, Any, Any, Any]]:
    return [(c["section"], c["path"], c["change"], c["old"], c["new"], c["source"]) for c in changes]


# --- the rules ---------------------------------------------------------------------------------


def test_a_moved_bound_and_a_changed_level_are_the_changes(shizhong: Profile, revised: Path) -> None:
    assert cut(profile_changes(shizhong, load_profile(revised))) == [
        ("bounds", "indicators[evacuees].bands[small]", "changed",
         {"lower": "0", "upper": "100", "text": "100人以下"}, {"lower": "0", "upper": "101", "text": "101人以下"},
         "4(4); 附件2"),
        ("bounds", "indicators[evacuees].bands[medium]", "changed",
         {"lower": "100", "upper": "500", "text": "100人以上、500人以下"},
         {"lower": "101", "upper": "500", "text": "101人以上、500人以下"}, "4(3); 附件2"),
        ("grades", "grades[medium].level", "changed", "II", "I", "4(3); 附件2; 6.1.1"),
    ]


def test_same_rules_written_differently_are_no_change(shizhong: Profile, tmp_path: Path) -> None:
    # comments, the anchor of the shared measures and money written as 5000000 instead of 500万
    text = DISTRICT.read_text(encoding="utf-8").replace("# 100人以下", "# (edited comment)")
    text = text.replace("{grade: small, below: 500万,", "{grade: small, below: 5000000,")
    text = text.replace("{grade: medium, from: 500万, below: 5000万,", "{grade: medium, from: 5000000, below: 5000万,")
    path = tmp_path / "same.yaml"
    path.write_text(text, encoding="utf-8")
    assert text != DISTRICT.read_text(encoding="utf-8")
    assert profile_changes(shizhong, load_profile(path)) == []


def test_measures_leads_decisions_dispatch_and_deadlines(shizhong: Profile, tmp_path: Path) -> None:
    path = revise(tmp_path, [
        ('{text: "落实灾区生活补助资金和救灾物资的发放", source: "6.1.3(6)"}',
         '{text: "落实灾区生活补助资金的发放", source: "6.1.3(6)"}'),
        ('    text: 小型地质灾害由区指挥部负责统一指挥和协调应急处置\n',
         '    text: 小型地质灾害由区指挥部统一指挥\n'),
        ("  decider: 区政府\n  text:", "  decider: 区指挥部\n  text:"),
        ('{engage: group, name: 医疗卫生组, units: lead, reason: "医疗保障", source: "6.2.3(3)"}',
         '{engage: group, name: 医疗卫生组, units: all, reason: "医疗保障", source: "6.2.3(3)"}'),
        ('deadline: {text: "立即", source: "3.1.2; 3.2.2"}', 'deadline: {text: "1小时内", source: "3.1.2"}'),
    ])
    assert cut(profile_changes(shizhong, load_profile(path))) == [
        # the measure is shared by I and II (one anchor in the file): both levels change
        ("levels", "levels[I].measures[6.1.3(6)].text", "changed", "落实灾区生活补助资金和救灾物资的发放",
         "落实灾区生活补助资金的发放", "6.1.3(6)"),
        ("levels", "levels[II].measures[6.1.3(6)].text", "changed", "落实灾区生活补助资金和救灾物资的发放",
         "落实灾区生活补助资金的发放", "6.1.3(6)"),
        ("leads", "leads.district.text", "changed", "小型地质灾害由区指挥部负责统一指挥和协调应急处置",
         "小型地质灾害由区指挥部统一指挥", "2; 6.2.3"),
        ("decisions", "decisions.decider", "changed", "区政府", "区指挥部", "6.1.2; 6.2.2"),
        ("dispatch", "dispatch.levels.III.engage[group 医疗卫生组].units", "changed", "lead", "all", "6.2.3(3)"),
        ("deadlines", "reporting.deadline.text", "changed", "立即", "1小时内", "3.1.2"),
        ("deadlines", "reporting.deadline.source", "changed", "3.1.2; 3.2.2", "3.1.2", "3.1.2"),
    ]


def test_a_measure_added_and_one_removed(shizhong: Profile, tmp_path: Path) -> None:
    path = revise(tmp_path, [(
        '      - {text: "紧急调拨生活救助物资,落实救灾物资发放", source: "6.2.3(6)"}\n',
        '      - {text: "及时发布避险转移信息", source: "6.2.3(9)"}\n',
    )])
    assert cut(profile_changes(shizhong, load_profile(path))) == [
        ("levels", "levels[III].measures[6.2.3(9)]", "added", None,
         {"text": "及时发布避险转移信息", "source": "6.2.3(9)"}, "6.2.3(9)"),
        ("levels", "levels[III].measures[6.2.3(6)]", "removed",
         {"text": "紧急调拨生活救助物资,落实救灾物资发放", "source": "6.2.3(6)"}, None, "6.2.3(6)"),
    ]


def test_national_against_district(shizhong: Profile, national: Profile) -> None:
    changes = profile_changes(shizhong, national)
    got = {(c["path"], c["old"], c["new"]) for c in changes if c["section"] == "grades"}
    assert {("grades[small].level", "III", "IV"), ("grades[medium].level", "II", "III"),
            ("grades[large].level", "I", "II"), ("grades[small].lead", "district", "county"),
            ("grades[large].lead", "city", "province"), ("grades[extra_large].lead", "city", "province_extra")} <= got
    assert not any(c["path"] == "grades[extra_large].level" for c in changes)  # 特大型 is I in both
    # the same bounds in both plans: only the clauses that cite them differ
    bounds = [c for c in changes if c["section"] == "bounds"]
    assert bounds and all(c["path"].endswith(".source") for c in bounds)
    assert ("levels[IV]", "added") in {(c["path"], c["change"]) for c in changes}
    hours = [c for c in changes if c["path"].startswith("reporting.deadline.hours")]
    assert cut(hours) == [("deadlines", f"reporting.deadline.hours.{g}", "added", None, h, "3.3.1")
                          for g, h in (("extra_large", 4), ("large", 4), ("medium", 12), ("small", 12))]
    assert {c["section"] for c in changes} >= {"bounds", "grades", "levels", "leads", "decisions", "dispatch",
                                                "deadlines", "reporting"}


def test_the_command_lists_national_against_district(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("rules", "diff", "shizhong-2023", "national-2006")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "规则对比:市中区预案(2023)(shizhong-2023) → 国家预案(2006)(national-2006)"
    assert "  小型 响应级别:III → IV [4(4); 5.4]" in lines
    assert "  大型 指挥:市指挥部(city) → 省级地质灾害应急防治指挥部(province) [4(2); 5.2]" in lines
    # a change of a clause number alone is counted per section, listed with --clauses
    assert "  需搬迁转移人数 中型 条款:4(3); 附件2 → 4(3)" not in lines
    assert lines[lines.index("分级标准(20处):") + 1] == "  另有20处仅条款编号不同"
    listed = cli("rules", "diff", "shizhong-2023", "national-2006", "--clauses").stdout.splitlines()
    assert "  需搬迁转移人数 中型 条款:4(3); 附件2 → 4(3)" in listed
    assert not any("仅条款编号不同" in line for line in listed)
    data = json.loads(cli("rules", "diff", "shizhong-2023", "national-2006", "--format", "json").stdout)
    assert data["old"]["id"] == "shizhong-2023" and data["new"]["id"] == "national-2006"
    clause_only = sum(1 for c in data["changes"] if c["path"].endswith(".source"))
    assert clause_only > 0
    assert lines[-1] == f"共{len(data['changes'])}处变化(其中{clause_only}处仅条款编号不同,加 --clauses 逐条列出)"
    assert listed[-1] == f"共{data['counts']['changes']}处变化"


def test_the_command_on_the_revision(cli, revised: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("rules", "diff", "shizhong-2023", str(revised))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "规则对比:市中区预案(2023)(shizhong-2023) → 市中区预案(2023)(shizhong-2023)",
        "",
        "分级标准(2处):",
        "  需搬迁转移人数 小型:100人以下 → 101人以下 [4(4); 附件2]",
        "  需搬迁转移人数 中型:100人以上、500人以下 → 101人以上、500人以下 [4(3); 附件2]",
        "",
        "等级(1处):",
        "  中型 响应级别:II → I [4(3); 附件2; 6.1.1]",
        "",
        "共3处变化",
    ]
    same = cli("rules", "diff", str(DISTRICT), "shizhong-2023")
    assert same.exit_code == 0 and "两个预案的规则相同" in same.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["nope", "national-2006"],
     'OLD: "nope" is not a profile in {rules} (known: national-2006, shizhong-2023)'),
    (["shizhong-2023", "missing.yaml"],
     "NEW: missing.yaml: no such file (a rules YAML file, or a profile name: national-2006, shizhong-2023)"),
    (["shizhong-2023", "./"],
     "NEW: ./: is a directory (a rules YAML file, or a profile name: national-2006, shizhong-2023)"),
    (["shizhong-2023", "national-2006", "--batch", "a.jsonl", "--db", "j.sqlite3"],
     "--batch, --db, --drill: give at most one (records from a file, a journal, or a drill)"),
    (["shizhong-2023", "national-2006", "--batch", "records.txt"],
     "--batch: records.txt: the format goes by suffix; name it .jsonl (one JSON object a line) or .csv "
     "(header row), or pass - for JSONL on stdin"),
    (["shizhong-2023", "national-2006", "--batch", "gone.jsonl"],
     "--batch: gone.jsonl: cannot be read (No such file or directory)"),
    (["shizhong-2023", "national-2006", "--db", "gone.sqlite3"],
     "--db: gone.sqlite3: no journal there (a journal file or a postgresql:// URL)"),
])
def test_bad_input_is_one_line(cli, cfg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                               args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    r = cli("rules", "diff", *args)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"geohazard: error: {message.format(rules=cfg / 'rules')}\n"


def test_an_unsound_rules_file_is_one_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = revise(tmp_path, [EDITS[1]], "gap.yaml")  # medium from 101 while small ends below 100: a gap
    r = cli("rules", "diff", "shizhong-2023", str(bad))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith(f"geohazard: error: {bad}") and r.stderr.count("\n") == 1


# --- records ---------------------------------------------------------------------------------


RECORDS = [  # both sides of the moved bound (100 -> 101), and of the bounds that did not move
    {"id": "e99", "evacuees": 99},      # small in both
    {"id": "e100", "evacuees": 100},    # medium -> small: down, II -> III
    {"id": "e101", "evacuees": 101},    # medium in both, but 中型 now starts I: level up
    {"id": "e499", "evacuees": 499},    # the same as 101
    {"id": "e500", "evacuees": 500},    # large in both, I in both
    {"id": "d3", "deaths": 3},          # medium by deaths: level up
    {"id": "d2", "deaths": 2},          # small: unchanged
]


def changed_of(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(c.get("line"), c.get("id"), c["grade"], c["level"], (c["before"]["grade"], c["before"]["response_level"]),
             (c["after"]["grade"], c["after"]["response_level"]), c["before"]["deciding"], c["after"]["deciding"])
            for c in data["changed"]]


EXPECTED = [
    (2, "e100", "down", "down", ("medium", "II"), ("small", "III"), ["evacuees"], ["evacuees"]),
    (3, "e101", "same", "up", ("medium", "II"), ("medium", "I"), ["evacuees"], ["evacuees"]),
    (4, "e499", "same", "up", ("medium", "II"), ("medium", "I"), ["evacuees"], ["evacuees"]),
    (6, "d3", "same", "up", ("medium", "II"), ("medium", "I"), ["deaths"], ["deaths"]),
]
COUNTS = {
    "records": 7, "bad": 0, "changed": 4, "unchanged": 3, "grade": {"up": 0, "down": 1}, "level": {"up": 3, "down": 1},
    "by_change": [
        {"grade": ["medium", "medium"], "grade_name": ["中型", "中型"], "response_level": ["II", "I"], "count": 3},
        {"grade": ["medium", "small"], "grade_name": ["中型", "小型"], "response_level": ["II", "III"], "count": 1},
    ],
}


def test_records_on_both_sides_of_the_moved_bound(cli, revised: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    r = cli("rules", "diff", "shizhong-2023", str(revised), "--batch", str(jsonl), "--format", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert changed_of(data) == EXPECTED
    assert data["counts"] == COUNTS and data["errors"] == []
    assert data["records"] == {"batch": str(jsonl)}
    first = data["changed"][0]
    assert first["before"]["deciding_text"] == ["需搬迁转移人数 100人:100人以上、500人以下 → 中型(4(3); 附件2)"]
    assert first["after"]["deciding_text"] == ["需搬迁转移人数 100人:101人以下 → 小型(4(4); 附件2)"]
    # the other way round every direction turns
    back = json.loads(cli("rules", "diff", str(revised), "shizhong-2023", "--batch", str(jsonl), "-f", "json").stdout)
    flip = {"up": "down", "down": "up", "same": "same"}
    assert changed_of(back) == [(ln, i, flip[g], flip[lv], a, b, da, db) for ln, i, g, lv, b, a, db, da in EXPECTED]


def test_csv_records_give_the_same_changes(cli, revised: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "records.csv"
    csv.write_text("\ufeffid,evacuees,deaths,direct_loss\n" + "".join(
        f"{r['id']},{r.get('evacuees', '')},{r.get('deaths', '')},\n" for r in RECORDS), encoding="utf-8")
    data = json.loads(cli("rules", "diff", "shizhong-2023", str(revised), "--batch", str(csv), "-f", "json").stdout)
    # the header is line 1: each record is one line further down
    assert changed_of(data) == [(ln + 1, *rest) for ln, *rest in EXPECTED]
    assert data["counts"] == COUNTS


def test_the_text_form_of_records(cli, revised: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[:3]), encoding="utf-8")
    r = cli("rules", "diff", "shizhong-2023", str(revised), "--batch", str(jsonl))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"规则对比:市中区预案(2023)(shizhong-2023) → 市中区预案(2023)(shizhong-2023);记录:{jsonl}",
        "  第2行 id e100:中型 II级响应 → 小型 III级响应(等级降,响应降)",
        "      之前:需搬迁转移人数 100人:100人以上、500人以下 → 中型(4(3); 附件2)",
        "      之后:需搬迁转移人数 100人:101人以下 → 小型(4(4); 附件2)",
        "  第3行 id e101:中型 II级响应 → 中型 I级响应(等级不变,响应升)",
        "      之前:需搬迁转移人数 101人:100人以上、500人以下 → 中型(4(3); 附件2)",
        "      之后:需搬迁转移人数 101人:101人以上、500人以下 → 中型(4(3); 附件2)",
        "",
        "共3条记录:等级或响应级别变化2条(等级升0、降1;响应级别升1、降1),未变1条,有误0条",
        "  中型 → 小型,II → III:1条",
        "  中型 → 中型,II → I:1条",
    ]


def test_bad_records_are_reported_in_place_and_exit_2(cli, revised: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text('{"evacuees": 100}\n{"evacuees": -1}\n\n[1]\n{"evacuees": 99}\n', encoding="utf-8")
    r = cli("rules", "diff", "shizhong-2023", str(revised), "--batch", str(jsonl), "-f", "json")
    assert r.exit_code == 2
    assert r.stderr == "geohazard: error: --batch: 2 of 4 records were bad (each is reported in place by line)\n"
    data = json.loads(r.stdout)  # a whole document, however it ended
    assert [c["line"] for c in data["changed"]] == [1]
    assert [e["line"] for e in data["errors"]] == [2, 4]
    assert data["errors"][0]["error"].startswith('evacuees: "-1" is negative')
    assert data["counts"]["bad"] == 2 and data["counts"]["records"] == 4


def test_regrade_core_and_directions(shizhong: Profile, national: Profile) -> None:
    assert direction("small", "medium", [["small", "medium"]]) == "up"
    assert direction("I", "II", [["III", "II", "I"]]) == "down"
    assert direction("x", "y", [["small"]]) == "changed"
    r = Regrade(shizhong, national)
    # the national plan grades alike and starts each grade one level lower (小型 IV, 中型 III, 大型 II)
    change = r.compare({"evacuees": 140}, 1)
    assert change is not None and (change["grade"], change["level"]) == ("same", "down")
    assert (change["before"]["response_level"], change["after"]["response_level"]) == ("II", "III")
    assert r.compare({"deaths": 30}, 2) is None  # 特大型: I in both
    # 地面沉降 is a hazard type of the national plan only: a record using it is bad under the district's
    bad = r.compare({"evacuees": 1, "hazard_type": "地面沉降"}, 3)
    assert bad is not None and set(bad) == {"line", "error"}
    assert bad["error"].endswith(" (refused under OLD shizhong-2023 only)")
    back = Regrade(national, shizhong).compare({"evacuees": 1, "hazard_type": "地面沉降"}, 1)
    assert back is not None and back["error"].endswith(" (refused under NEW shizhong-2023 only)")
    both = r.compare({"evacuees": -1}, 4)
    assert both is not None and "refused under" not in both["error"]
    assert r.counts()["records"] == 4 and r.counts()["bad"] == 2


# --- the journal ---------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "journal.sqlite3") if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


def test_journal_incidents_on_their_current_figures(cli, revised: Path, journal: str) -> None:  # type: ignore[no-untyped-def]
    def inc(*args: str) -> None:
        r = cli("incident", *args, "--db", journal)
        assert r.exit_code == 0, r.stderr

    inc("open", "--evacuees", "100", "--location", "七里山街道")   # 1: medium -> small
    inc("open", "--evacuees", "40")                                 # 2: small, then 101 by an update
    inc("update", "2", "--evacuees", "101")
    inc("open", "--evacuees", "99")                                 # 3: small in both
    assert cli("warning", "红色", "--area", "七里山街道", "--record", "--db", journal).exit_code == 0  # not an incident
    r = cli("rules", "diff", "shizhong-2023", str(revised), "--db", journal, "-f", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert changed_of(data) == [
        (None, 1, "down", "down", ("medium", "II"), ("small", "III"), ["evacuees"], ["evacuees"]),
        (None, 2, "same", "up", ("medium", "II"), ("medium", "I"), ["evacuees"], ["evacuees"]),
    ]
    assert data["counts"]["records"] == 3 and data["counts"]["unchanged"] == 1
    text = cli("rules", "diff", "shizhong-2023", str(revised), "--db", journal).stdout
    assert "  id 1:中型 II级响应 → 小型 III级响应(等级降,响应降)" in text.splitlines()


# --- a drill under both profiles -----------------------------------------------------------------


def test_a_drill_under_both_profiles(cli, revised: Path) -> None:  # type: ignore[no-untyped-def]
    drill = ROOT / "drills" / "qilishan-escalation.yaml"
    r = cli("rules", "diff", "shizhong-2023", str(revised), "--drill", str(drill), "-f", "json")
    assert r.exit_code == 0, r.stderr  # a comparison: the drill failing under NEW is what it shows
    data = json.loads(r.stdout)
    assert data["passed"] == {"before": True, "after": False}
    assert data["counts"] == {"steps": 7, "moved": 2, "failed_before": 0, "failed_after": 1}
    moved = [(s["number"], s["kind"]) for s in data["steps"] if s["moved"]]
    assert moved == [(5, "update"), (6, "decide")]
    step5 = data["steps"][4]
    assert [(c["key"], c["expected"], c["before"], c["after"]) for c in step5["checks"] if c["moved"]] == [
        ("response_level", "II", {"actual": "II", "ok": True}, {"actual": "I", "ok": False})]
    # the decide step still decides II (as the drill says), but now against a proposal of I
    step6 = data["steps"][5]
    assert not any(c["moved"] for c in step6["checks"])
    assert (step6["before"]["proposed_level"], step6["after"]["proposed_level"]) == (None, "I")
    text = cli("rules", "diff", "shizhong-2023", str(revised), "--drill", str(drill)).stdout.splitlines()
    assert "  response_level:期望 II;之前 II ✓;之后 I ✗" in text
    assert text[-1] == "共7步,2步有变化"


def test_a_drill_that_cannot_run_under_one_profile(cli) -> None:  # type: ignore[no-untyped-def]
    drill = ROOT / "drills" / "qilishan-escalation.yaml"
    r = cli("rules", "diff", "shizhong-2023", "national-2006", "--drill", str(drill))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith(f"geohazard: error: NEW national-2006: {drill}:") and r.stderr.count("\n") == 1
