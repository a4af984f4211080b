"""The grading engine against the plan, bound by bound, in every shipped profile.

The expectations below are written out from the plans' own text (district §4 / 附件2, national §4),
not derived from the rules files, so a wrong number in the data fails here.
"""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geohazard_cli.grading import grade
from geohazard_cli.intake import parse_incident
from geohazard_cli.rules import Profile

# (indicator, value, grade) on both sides of every bound. 以上 includes, 以下 excludes (§10.2).
BOUNDARIES = [
    ("evacuees", 0, "small"),
    ("evacuees", 99, "small"),
    ("evacuees", 100, "medium"),
    ("evacuees", 499, "medium"),
    ("evacuees", 500, "large"),
    ("evacuees", 999, "large"),
    ("evacuees", 1000, "extra_large"),
    ("potential_loss", "0", "small"),
    ("potential_loss", "4999999.99", "small"),
    ("potential_loss", "500万", "medium"),
    ("potential_loss", "49999999.99", "medium"),
    ("potential_loss", "5000万", "large"),
    ("potential_loss", "99999999.99", "large"),
    ("potential_loss", "1亿", "extra_large"),
    ("deaths", 0, "small"),
    ("deaths", 2, "small"),
    ("deaths", 3, "medium"),
    ("deaths", 9, "medium"),
    ("deaths", 10, "large"),
    ("deaths", 29, "large"),
    ("deaths", 30, "extra_large"),
    ("direct_loss", "0", "small"),
    ("direct_loss", "999999.99", "small"),
    ("direct_loss", "100万", "medium"),
    ("direct_loss", "4999999.99", "medium"),
    ("direct_loss", "500万", "large"),
    ("direct_loss", "9999999.99", "large"),
    ("direct_loss", "1000万", "extra_large"),
]

LEVELS = {
    "shizhong-2023": {"small": "III", "medium": "II", "large": "I", "extra_large": "I"},  # §6.1.1, §6.2.1
    "national-2006": {"small": "IV", "medium": "III", "large": "II", "extra_large": "I"},  # national §5
}
NAMES = {"small": "小型", "medium": "中型", "large": "大型", "extra_large": "特大型"}


@pytest.mark.parametrize(("indicator", "value", "expected"), BOUNDARIES)
def test_every_bound_both_sides(profile: Profile, indicator: str, value: object, expected: str) -> None:
    a = grade(parse_incident({indicator: value}, profile), profile)
    assert a.grade == expected
    assert a.grade_name == NAMES[expected]
    assert a.response_level == LEVELS[profile.id][expected]
    assert a.deciding == [indicator]


def test_shipped_profiles_are_all_tested(cfg) -> None:  # type: ignore[no-untyped-def]
    shipped = sorted(p.stem for p in (cfg / "rules").glob("*.yaml") if p.name != "profiles.yaml")
    assert shipped == sorted(LEVELS)


def test_bounds_in_data_match_table(profile: Profile) -> None:
    # Every lower bound in the data appears in the table above with the grade it starts, and the
    # value just below it (one person, one fen) belongs to the grade below.
    table = {(i, str(parse_incident({i: v}, profile).model_dump()[i])): g for i, v, g in BOUNDARIES}
    for ind in profile.indicators:
        for band in ind.bands[1:]:
            lower = band.lower
            below = lower - (1 if ind.kind == "count" else Decimal("0.01"))
            assert table[(ind.key, str(int(lower) if ind.kind == "count" else lower))] == band.grade
            assert (ind.key, str(int(below) if ind.kind == "count" else below)) in table


def test_any_one_indicator_reaches_the_grade(shizhong: Profile) -> None:
    # 附件2 说明1: 险情或灾情达到其中之一即达到相应等级.
    a = grade(parse_incident({"evacuees": 20, "deaths": 0, "direct_loss": "10万", "potential_loss": "6000万"},
                             shizhong), shizhong)
    assert (a.grade, a.response_level, a.deciding) == ("large", "I", ["potential_loss"])
    assert a.lower_bound is False and a.not_reported == []


def test_several_deciding_indicators(shizhong: Profile) -> None:
    a = grade(parse_incident({"evacuees": 140, "deaths": 3}, shizhong), shizhong)
    assert a.deciding == ["evacuees", "deaths"]


def test_example_from_the_brief(shizhong: Profile) -> None:
    # "140 people must move, one person is dead": 中型, Level II, led by the city's command,
    # skip-level reporting allowed because someone died (§3.2.2).
    a = grade(parse_incident({"evacuees": 140, "deaths": 1}, shizhong), shizhong)
    assert (a.grade, a.response_level, a.lead.name) == ("medium", "II", "市指挥部")
    assert a.skip_level_report.applies is True
    assert a.skip_level_report.reasons == ["有人员伤亡:死亡人数 1人"]
    assert a.lower_bound is True
    assert a.not_reported == ["potential_loss", "direct_loss"]
    assert a.deciding_text == ["需搬迁转移人数 140人:100人以上、500人以下 → 中型(4(3); 附件2)"]


def test_small_is_led_by_district(shizhong: Profile) -> None:
    a = grade(parse_incident({"evacuees": 20}, shizhong), shizhong)
    assert (a.grade, a.response_level, a.lead.name) == ("small", "III", "区指挥部")


@pytest.mark.parametrize(
    ("figures", "applies", "undetermined"),
    [
        ({"evacuees": 500}, True, []),  # 大型以上
        ({"evacuees": 499, "deaths": 0, "injured": 0, "potential_loss": 0, "direct_loss": 0}, False, []),
        ({"evacuees": 10, "injured": 1}, True, []),  # 有人员伤亡
        # Not yet known: unreported figures could still reach 大型 or show casualties.
        ({"evacuees": 499, "deaths": 0, "injured": 0}, False, ["potential_loss", "direct_loss"]),
        ({"evacuees": 10}, False, ["potential_loss", "deaths", "direct_loss", "injured"]),
        ({"evacuees": 1, "deaths": 0, "injured": 0, "potential_loss": 0, "direct_loss": 0, "missing": 2}, False,
         ["missing"]),
    ],
)
def test_skip_level_report(shizhong: Profile, figures: dict[str, int], applies: bool, undetermined: list[str]) -> None:
    sk = grade(parse_incident(figures, shizhong), shizhong).skip_level_report
    assert (sk.applies, sk.undetermined, sk.source) == (applies, undetermined, "3.2.2")


def test_national_direct_report_recipients_by_grade(national: Profile) -> None:
    # National §3.3.1: every report may go straight to the provincial department; 特大型/大型 also
    # to the State Council's department.
    small = grade(parse_incident({"evacuees": 10, "deaths": 2}, national), national).skip_level_report
    assert (small.applies, small.recipients) == (True, ["省级人民政府国土资源主管部门"])
    large = grade(parse_incident({"evacuees": 500}, national), national).skip_level_report
    assert (large.applies, large.recipients) == (True, ["省级人民政府国土资源主管部门", "国务院国土资源主管部门"])


def test_lower_bound_only_when_it_could_rise(shizhong: Profile) -> None:
    assert grade(parse_incident({"deaths": 3}, shizhong), shizhong).lower_bound is True
    top = grade(parse_incident({"deaths": 30}, shizhong), shizhong)
    assert top.lower_bound is False and top.not_reported == ["evacuees", "potential_loss", "direct_loss"]


def test_missing_advisory_never_changes_grade(shizhong: Profile) -> None:
    a = grade(parse_incident({"deaths": 2, "missing": 1}, shizhong), shizhong)
    assert a.grade == "small"
    assert [(x.key, x.grade) for x in a.advisories] == [("missing_with_deaths", "medium")]
    # Counting the missing would not raise it: no advisory.
    assert grade(parse_incident({"deaths": 0, "missing": 2}, shizhong), shizhong).advisories == []
    assert grade(parse_incident({"evacuees": 140, "missing": 5}, shizhong), shizhong).advisories == []


# --- properties -----------------------------------------------------------------------------
counts = st.one_of(st.none(), st.integers(min_value=0, max_value=5000))
amounts = st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal(3 * 10**8), places=2))
FIELDS = ("evacuees", "potential_loss", "deaths", "direct_loss")


def _incident(profile: Profile, values: tuple[object, ...]):  # type: ignore[no-untyped-def]
    raw = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in zip(FIELDS, values, strict=True)
           if v is not None}
    if not raw:
        raw = {"deaths": 0}
    return parse_incident(raw, profile)


@settings(max_examples=300, deadline=None)
@given(values=st.tuples(counts, amounts, counts, amounts), which=st.sampled_from(FIELDS),
       bump=st.integers(min_value=0, max_value=2000))
def test_raising_a_figure_never_lowers_the_grade(shizhong: Profile, values: tuple[object, ...], which: str,
                                                 bump: int) -> None:
    inc = _incident(shizhong, values)
    before = grade(inc, shizhong)
    current = getattr(inc, which) or 0
    raised = inc.model_copy(update={which: (current + bump) if which in ("evacuees", "deaths")
                                    else Decimal(current) + Decimal(bump) * 10000})
    after = grade(raised, shizhong)
    assert shizhong.rank[after.grade] >= shizhong.rank[before.grade]


@settings(max_examples=300, deadline=None)
@given(values=st.tuples(counts, amounts, counts, amounts))
def test_grade_is_highest_of_indicator_grades(profile: Profile, values: tuple[object, ...]) -> None:
    a = grade(_incident(profile, values), profile)
    ranks = [profile.rank[b.grade] for b in a.basis if b.grade is not None]
    assert profile.rank[a.grade] == max(ranks)
    assert a.deciding == [b.indicator for b in a.basis if b.grade is not None and profile.rank[b.grade] == max(ranks)]


def test_skip_level_wording_is_the_profiles(shizhong: Profile, national: Profile) -> None:
    # §3.2.2 asks the district to complete the level-by-level report afterwards; national §3.3.1 does not.
    a = grade(parse_incident({"deaths": 1}, shizhong), shizhong).skip_level_report
    assert (a.follow_up, a.otherwise) == ("并完成逐级补报工作", "原则上逐级上报")
    b = grade(parse_incident({"deaths": 1}, national), national).skip_level_report
    assert b.follow_up == ""
