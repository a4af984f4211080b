"""Input as an officer types it: times written in Chinese, levels, the plan's terms as --file keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from geohazard_cli.errors import InputError
from geohazard_cli.intake import parse_time

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(("text", "expected"), [
    ("2026年7月21日9时40分", datetime(2026, 7, 21, 9, 40, tzinfo=CST)),
    ("2026年7月21日 9:40", datetime(2026, 7, 21, 9, 40, tzinfo=CST)),
    ("2026年07月21日09时40分15秒", datetime(2026, 7, 21, 9, 40, 15, tzinfo=CST)),
    ("2026年7月21日9点", datetime(2026, 7, 21, 9, 0, tzinfo=CST)),
    ("２０２６年７月２１日９时４０分", datetime(2026, 7, 21, 9, 40, tzinfo=CST)),
])
def test_chinese_date_and_time(text: str, expected: datetime) -> None:
    assert parse_time(text, "--reported-at") == expected


@pytest.mark.parametrize("text", ["2026年7月21日25时", "2026年13月1日9时", "2026年7月21日", "2026年7月21日9时40分²"])
def test_chinese_time_refused(text: str) -> None:
    with pytest.raises(InputError, match="--reported-at"):
        parse_time(text, "--reported-at")


def test_flag_takes_the_chinese_form(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("report-form", "--deaths", "1", "--reported-at", "2026年7月21日9时40分")
    assert r.exit_code == 0 and "2026-07-21 09:40" in r.stdout


NOW = datetime(2026, 7, 21, 12, 0, tzinfo=CST)


@pytest.mark.parametrize(("text", "expected"), [
    ("7月21日 9:40", datetime(2026, 7, 21, 9, 40, tzinfo=CST)),
    ("7月20日9时40分", datetime(2026, 7, 20, 9, 40, tzinfo=CST)),
    ("09:40", datetime(2026, 7, 21, 9, 40, tzinfo=CST)),
    ("9:40:15", datetime(2026, 7, 21, 9, 40, 15, tzinfo=CST)),
    ("9时40分", datetime(2026, 7, 21, 9, 40, tzinfo=CST)),
    ("9点", datetime(2026, 7, 21, 9, 0, tzinfo=CST)),
    ("０９:４０", datetime(2026, 7, 21, 9, 40, tzinfo=CST)),
])
def test_time_without_year_or_date_is_read_on_the_clock(text: str, expected: datetime) -> None:
    assert parse_time(text, "--at", now=NOW) == expected


def test_the_clock_is_read_in_the_plan_zone() -> None:
    # 2026-07-20 20:00 UTC is already 07-21 in Beijing: "09:40" is that day's.
    utc_evening = datetime(2026, 7, 20, 20, 0, tzinfo=UTC)
    assert parse_time("09:40", "--at", now=utc_evening) == datetime(2026, 7, 21, 9, 40, tzinfo=CST)


@pytest.mark.parametrize("text", ["9:4", "24:00", "7月32日 9:40", "13月1日 9:40", "7月21日", "09:40²"])
def test_relative_time_refused(text: str) -> None:
    with pytest.raises(InputError, match=r"--at.*7月21日 9:40"):
        parse_time(text, "--at", now=NOW)


def test_today_later_than_now_is_refused_not_taken_as_yesterday(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "j.sqlite3")
    later = (datetime.now(CST) + timedelta(hours=1)).strftime("%H:%M")
    if later < "01:00":  # an hour from now is tomorrow: the case does not arise today
        pytest.skip("an hour from now is tomorrow")
    for flag in ("--at", "--reported-at", "--occurred-at"):
        r = cli("incident", "open", "--db", db, "--deaths", "1", flag, later)
        assert r.exit_code == 2 and r.stdout == ""
        assert r.stderr.startswith(f"geohazard: error: {flag}: ") and "is in the future" in r.stderr
        assert "for another day write the date" in r.stderr
    earlier = (datetime.now(CST) - timedelta(minutes=1)).strftime("%H:%M")
    if earlier > "23:57":
        pytest.skip("a minute ago was yesterday")
    r = cli("incident", "open", "--db", db, "--deaths", "1", "--at", earlier, "--format", "json")
    assert r.exit_code == 0, r.stderr


@pytest.mark.parametrize("command", [["classify"], ["callsheet"], ["report-form"]])
@pytest.mark.parametrize("flag", ["--reported-at", "--occurred-at"])
def test_a_future_time_is_refused_on_the_sheets_too(cli, command: list[str], flag: str) -> None:  # type: ignore[no-untyped-def]
    """As `incident open` refuses it: a 速报单 dated tomorrow is a mistyped time."""
    from datetime import datetime, timedelta, timezone

    beijing = timezone(timedelta(hours=8))
    tomorrow = (datetime.now(beijing) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    r = cli(*command, "--deaths", "1", flag, tomorrow)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f'geohazard: error: {flag}: "{tomorrow}" is in the future (the clock says ')
    earlier = (datetime.now(beijing) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    assert cli(*command, "--deaths", "1", flag, earlier).exit_code == 0


@pytest.mark.parametrize(("typed", "key"), [
    ("II", "II"), ("ii", "II"), ("II级", "II"), ("II级响应", "II"), ("Ⅱ级", "II"), ("Ｉ", "I"),
    ("2", "II"), ("2级", "II"), ("二级", "II"), ("二级响应", "II"), ("３级", "III"), ("一级", "I"), ("二", "II"),
])
def test_a_level_as_an_officer_types_it(typed: str, key: str) -> None:
    from geohazard_cli.config import config_dir, rules_path
    from geohazard_cli.responses import parse_level
    from geohazard_cli.rules import load_profile

    profile = load_profile(rules_path("shizhong-2023", None, config_dir(None)))
    assert parse_level(typed, profile)[0] == key


@pytest.mark.parametrize("typed", ["4", "四级", "IV", "0", "六级", "II级级", "二二", ""])
def test_a_level_the_district_plan_does_not_have_is_refused(typed: str) -> None:
    from geohazard_cli.config import config_dir, rules_path
    from geohazard_cli.errors import InputError
    from geohazard_cli.responses import parse_level
    from geohazard_cli.rules import load_profile

    profile = load_profile(rules_path("shizhong-2023", None, config_dir(None)))
    with pytest.raises(InputError, match="is not a response level of"):
        parse_level(typed, profile)


def test_a_file_takes_the_plan_s_terms_as_keys(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--file keys as CSV headers read them: 死亡人数 for deaths, in any mix; one field given twice is refused."""
    import json

    plain, terms = tmp_path / "a.yaml", tmp_path / "b.yaml"
    plain.write_text("deaths: 1\nevacuees: 140\nlocation: 七里山\n", encoding="utf-8")
    terms.write_text("死亡人数: 1\n需搬迁转移人数: 140\nlocation: 七里山\n", encoding="utf-8")
    a = cli("classify", "--file", str(plain), "--format", "json")
    b = cli("classify", "--file", str(terms), "--format", "json")
    assert a.exit_code == b.exit_code == 0
    assert json.loads(a.stdout) == json.loads(b.stdout)
    twice = tmp_path / "c.yaml"
    twice.write_text("deaths: 1\n死亡人数: 2\n", encoding="utf-8")
    r = cli("classify", "--file", str(twice))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f"geohazard: error: {twice}: 死亡人数: names the same field as another key (deaths); "
                        "give it once\n")
