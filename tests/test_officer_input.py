"""Input as an officer types it (issue 13): times written in Chinese."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
