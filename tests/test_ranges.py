"""Figures as reported at 3 a.m.: ranges (80-150, 400-600万) and estimates (约300人), graded at both
ends, in both shipped profiles; every bound of 附件2 (national §4) from both sides."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geohazard_cli.errors import InputError
from geohazard_cli.grading import assess
from geohazard_cli.intake import parse_values
from geohazard_cli.money import parse_amount, parse_count
from geohazard_cli.ranges import Reported, parse_figure
from geohazard_cli.rules import Profile

# --- reading what is typed -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "low", "high"), [
    ("80-150", 80, 150), ("80~150", 80, 150), ("80～150", 80, 150), ("80至150", 80, 150), ("80到150", 80, 150),
    ("８０－１５０", 80, 150), ("80 - 150人", 80, 150), ("80人-150人", 80, 150), ("1,000-2,000", 1000, 2000),
    ("1万-1.5万人", 10000, 15000), ("1-1.5万人", 10000, 15000),
])
def test_count_ranges(text: str, low: int, high: int) -> None:
    assert parse_figure(text, "--evacuees", "count", 10**9) == Reported(low, high, False, text)


@pytest.mark.parametrize(("text", "low", "high"), [
    ("400万-600万", "4000000", "6000000"), ("400-600万", "4000000", "6000000"),  # the unit applies to both ends
    ("400-600万元", "4000000", "6000000"), ("400万至600万", "4000000", "6000000"),
    ("800万-1.2亿", "8000000", "120000000"), ("4999999.99-5000000", "4999999.99", "5000000"),
    ("1-2千万", "10000000", "20000000"),
])
def test_amount_ranges(text: str, low: str, high: str) -> None:
    assert parse_figure(text, "--direct-loss", "amount") == Reported(Decimal(low), Decimal(high), False, text)


@pytest.mark.parametrize(("text", "value"), [
    ("约300人", 300), ("大约300", 300), ("300人左右", 300),
    # 余/多: more than the number written, so at least one more
    ("300余人", 301), ("300多人", 301), ("1万余人", 10001),
])
def test_estimates(text: str, value: int) -> None:
    assert parse_figure(text, "--evacuees", "count") == Reported(value, value, True, text)


@pytest.mark.parametrize(("text", "grade"), [
    # 附件2: 中型 from 100人 (以上), 大型 from 500人: "99多人" is more than 99, so at least 100
    ("99人", "small"), ("约99人", "small"), ("99多人", "medium"), ("99余人", "medium"), ("98多人", "small"),
    ("499人", "medium"), ("499余人", "large"), ("498余人", "medium"),
])
def test_more_than_an_estimate_crosses_the_bound(text: str, grade: str, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--evacuees", text, "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["grade"] == grade


def test_money_estimate() -> None:
    assert parse_figure("约500万", "x", "amount") == Reported(Decimal(5_000_000), Decimal(5_000_000), True, "约500万")
    assert parse_figure("400余万元", "x", "amount") == Reported(Decimal("4000000.01"), Decimal("4000000.01"), True,
                                                              "400余万元")


@pytest.mark.parametrize(("text", "yuan"), [("5千万", "50000000"), ("5百万", "5000000"), ("3千元", "3000"),
                                            ("1.5万元", "15000"), ("2千亿", "200000000000"), ("5百", "500")])
def test_multipliers_are_exact(text: str, yuan: str) -> None:
    assert parse_amount(text, "--direct-loss") == Decimal(yuan)


@pytest.mark.parametrize(("text", "count"), [("1万人", 10000), ("1.5万人", 15000), ("3千人", 3000),
                                             ("2百户", 200), ("1.2345万", 12345)])
def test_count_multipliers_are_exact(text: str, count: int) -> None:
    assert parse_count(text, "--evacuees") == count


@pytest.mark.parametrize(("text", "reason"), [
    ("1.23456万人", "is not a whole number of people"),  # 12345.6 people
    ("1.5", "is not a whole number of people"),
    ("十二人", "is written in Chinese numerals, which this tool does not read (so none is misread); type digits "
             "(examples: 12, 300人, 1.5万, 80-150, 约300人)"),
    ("三百余人", "is written in Chinese numerals"),
    ("150-80", "has its lower end above its upper end (a range 80-150"),
    ("80-150-200", '(in "80-150-200"; a range 80-150'),
    ("-5-10", "is negative"),
    ("约", "is not a figure or a range"),
    ("80-", "is not a whole number of people"),
    ("10²-20", "which is not a digit this tool reads"),
    ("1" * 70 + "-2", "is too long"),
])
def test_counts_refused(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=r"^--evacuees: ") as info:
        parse_figure(text, "--evacuees", "count", 10**9)
    assert reason in str(info.value)


@pytest.mark.parametrize(("text", "reason"), [
    ("400万-600", "has a unit after the lower end only; write it after both ends or after the upper one"),
    ("四五百万", "is written in Chinese numerals"),
    ("100-0.001", "is more precise than a fen"),
    ("1-200万亿", "is more than 100万亿元"),
])
def test_amounts_refused(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=r"^--direct-loss: ") as info:
        parse_figure(text, "--direct-loss", "amount", Decimal(10**14))
    assert reason in str(info.value)


def test_equal_ends_are_the_exact_figure() -> None:
    assert parse_figure("100-100", "--evacuees", "count") == 100
    assert parse_figure("140", "--evacuees", "count") == 140


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(["-", "~", "至", "到", "～"]),
       st.sampled_from(["", "万", "千"]))
def test_a_range_reads_exactly(a: int, b: int, sep: str, unit: str) -> None:
    lo, hi = sorted((a, b))
    text = f"{lo}{sep}{hi}{unit}"
    got = parse_figure(text, "x", "amount")
    scale = {"": 1, "万": 10**4, "千": 1000}[unit]
    if lo == hi:
        assert got == Decimal(lo * scale)
    else:
        assert got == Reported(Decimal(lo * scale), Decimal(hi * scale), False, text)


# --- grading both ends, every bound from both sides, both profiles ---------------------------------

def graded(profile: Profile, **raw: Any) -> dict[str, Any]:
    return assess(parse_values(raw, profile), profile)


def bounds(profile: Profile) -> list[tuple[str, str, Decimal, str, str]]:
    """(indicator, kind, bound, grade below it, grade from it) for every bound above 0."""
    out = []
    for ind in profile.indicators:
        for below, band in zip(ind.bands, ind.bands[1:], strict=False):
            out.append((ind.key, ind.kind, band.lower, below.grade, band.grade))
    return out


def step(kind: str) -> Decimal:
    return Decimal(1) if kind == "count" else Decimal("0.01")


def text(kind: str, value: Decimal) -> str:
    return str(int(value)) if kind == "count" else str(value)


@pytest.mark.parametrize("name", ["shizhong-2023", "national-2006"])
def test_every_bound_from_both_sides(name: str, shizhong: Profile, national: Profile) -> None:
    profile = shizhong if name == "shizhong-2023" else national
    cases = 0
    for key, kind, bound, below, above in bounds(profile):
        d = step(kind)
        shown = int(bound) if kind == "count" else bound
        # straddling the bound: the low end below it, the high end on it or past it
        for lo, hi in ((bound - d, bound), (bound - d, bound + d)):
            a = graded(profile, **{key: f"{text(kind, lo)}-{text(kind, hi)}"})
            assert a["grade_range"] == {"low": below, "high": above}, (key, lo, hi)
            assert a["prepare_for"] == above == a["grade"]
            assert [(s["indicator"], s["bound"]) for s in a["settles"]] == [(key, shown)]
            assert a["uncertain"]["text"][0].startswith("等级在")
            assert f"是否达到{a['settles'][0]['bound_text']}即可定级" in a["uncertain"]["text"][0]
        # entirely below it (ending just under it), and entirely from it (starting exactly at it)
        for lo, hi, grade in ((bound - 2 * d, bound - d, below), (bound, bound + d, above)):
            a = graded(profile, **{key: f"{text(kind, lo)}-{text(kind, hi)}"})
            assert a["grade_range"] == {"low": grade, "high": grade}, (key, lo, hi)
            assert a["settles"] == [] and a["grade"] == grade
        # an estimate on either side: graded on the number written, said to be an estimate
        for value, grade in ((bound - d, below), (bound, above)):
            a = graded(profile, **{key: f"约{text(kind, value)}"})
            assert a["grade"] == grade and a["estimated"] == [key]
            assert a["grade_range"] == {"low": grade, "high": grade}
            assert any(line.startswith(f"等级按估计数定为{a['grade_name']}") for line in a["uncertain"]["text"])
        cases += 1
    assert cases == 12


def test_the_brief_sentence(shizhong: Profile) -> None:
    a = graded(shizhong, evacuees="300-600")
    assert a["uncertain"]["text"] == ["等级在中型至大型之间；按大型准备；需搬迁转移人数是否达到500人即可定级"]
    assert a["uncertain"]["source"] == "1.4; 6.1.2; 6.2.2" and a["uncertain"]["prepare"] == "high"


def test_only_bounds_that_matter_settle(shizhong: Profile) -> None:
    # 80-600 straddles 100 and 500; with 5 dead (中型) only 500 can change the grade
    a = graded(shizhong, evacuees="80-600")
    assert [s["bound"] for s in a["settles"]] == [100, 500]
    assert "需搬迁转移人数是否达到100人、500人即可定级" in a["uncertain"]["text"][0]
    a = graded(shizhong, evacuees="80-600", deaths=5)
    assert [s["bound"] for s in a["settles"]] == [500]
    assert a["grade_range"] == {"low": "medium", "high": "large"}


def test_exact_figures_give_equal_ends(profile: Profile) -> None:
    a = graded(profile, evacuees=140)
    assert a["grade_range"] == {"low": a["grade"], "high": a["grade"]} and a["prepare_for"] == a["grade"]
    assert a["settles"] == [] and a["estimated"] == [] and a["uncertain"] is None


def test_a_policy_of_low_prepares_for_the_low_end(shizhong: Profile) -> None:
    data = dict(shizhong.data)
    data["uncertain_figures"] = {**data["uncertain_figures"], "prepare_for": "low"}
    low = Profile(data)
    a = graded(low, evacuees="300-600")
    assert a["grade"] == a["prepare_for"] == "medium" and a["grade_range"] == {"low": "medium", "high": "large"}
    assert a["uncertain"]["text"] == ["等级在中型至大型之间；按中型准备；需搬迁转移人数是否达到500人即可定级"]


def test_a_profile_without_a_policy_refuses_ranges(shizhong: Profile) -> None:
    bare = Profile({**shizhong.data, "uncertain_figures": None})
    with pytest.raises(InputError, match="sets no policy for those"):
        parse_values({"evacuees": "80-150"}, bare)
    assert graded(bare, evacuees="140")["grade"] == "medium"


# --- commands --------------------------------------------------------------------------------------

def test_classify_json(cli: Any) -> None:
    r = cli("classify", "--evacuees", "300-600", "--direct-loss", "约300万", "--format", "json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["grade_range"] == {"low": "medium", "high": "large"} and d["prepare_for"] == "large"
    assert d["settles"] == [{"indicator": "evacuees", "name": "需搬迁转移人数", "bound": 500, "bound_text": "500人",
                             "grade": "large", "grade_name": "大型"}]
    assert d["estimated"] == ["direct_loss"]
    assert d["incident"]["ranges"] == {
        "evacuees": {"low": 300, "high": 600, "estimate": False, "text": "300-600"},
        "direct_loss": {"low": "3000000", "high": "3000000", "estimate": True, "text": "约300万"}}
    basis = {b["indicator"]: b for b in d["basis"]}
    assert basis["evacuees"]["value_text"] == "300人至600人"
    assert basis["direct_loss"]["value_text"] == "约300万(估计数)"


def test_classify_text_says_what_to_prepare_for(cli: Any) -> None:
    r = cli("classify", "--evacuees", "300-600")
    assert r.exit_code == 0
    assert "等级在中型至大型之间；按大型准备；需搬迁转移人数是否达到500人即可定级" in r.stdout
    r = cli("classify", "--evacuees", "300余人")
    assert "等级按估计数定为中型(需搬迁转移人数 300余人),待核实" in r.stdout


def test_classify_refuses_with_one_line(cli: Any) -> None:
    r = cli("classify", "--evacuees", "十二人")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == ('geohazard: error: --evacuees: "十二人" is written in Chinese numerals, which this tool does '
                        "not read (so none is misread); type digits (examples: 12, 300人, 1.5万, 80-150, 约300人)\n")


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_callsheet_and_form_say_so_on_top(cli: Any, fmt: str) -> None:
    for command in ("callsheet", "report-form"):
        r = cli(command, "--evacuees", "300-600", "--format", fmt)
        assert r.exit_code == 0, r.stderr
        top = r.stdout[: r.stdout.index("需搬迁转移人数: ") if fmt == "text" else None]
        assert "本单按大型准备:等级在中型至大型之间" in top.replace("\n  ", "")
        assert "300人至600人" in r.stdout
        assert "I级响应" in r.stdout  # the sheet of the grade prepared for (大型 → I)
        exact = cli(command, "--evacuees", "600", "--format", fmt)
        assert "本单按" not in exact.stdout


def test_batch_carries_both_ends(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,evacuees,direct_loss\nx,80~150,\ny,140,\nz,,400-600万\n", encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["grade_range"], x["prepare_for"], x["settles"]) for x in lines] == [
        ({"low": "small", "high": "medium"}, "medium", [{"indicator": "evacuees", "bound": 100}]),
        ({"low": "medium", "high": "medium"}, "medium", []),
        ({"low": "medium", "high": "large"}, "large", [{"indicator": "direct_loss", "bound": "5000000"}]),
    ]


def test_journal_keeps_the_range_and_shows_narrowing(cli: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "j.db")
    assert cli("incident", "open", "--db", db, "--evacuees", "80-600").exit_code == 0
    r = cli("incident", "update", "1", "--db", db, "--evacuees", "300-450")
    assert r.exit_code == 0 and "80人至600人 → 300人至450人" in r.stdout
    r = cli("incident", "show", "1", "--db", db, "--format", "json")
    d = json.loads(r.stdout)
    assert d["incident"]["ranges"]["evacuees"]["text"] == "300-450"
    assert d["assessment"]["grade_range"] == {"low": "medium", "high": "medium"}
    assert d["recorded_assessment"]["prepare_for"] == "medium"
    r = cli("incident", "show", "1", "--db", db)
    assert "需搬迁转移人数 80人至600人 → 300人至450人(范围收窄)" in r.stdout
    assert "等级在小型至大型之间；按大型准备" in r.stdout  # the opening's assessment, as recorded
    r = cli("incident", "update", "1", "--db", db, "--evacuees", "700")
    assert "(范围收窄)" not in r.stdout.split("300人至450人 → 700人")[1].splitlines()[0]
    r = cli("incident", "check", "--db", db)
    assert r.exit_code == 0, r.stdout + r.stderr
