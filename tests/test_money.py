"""Amounts and counts as an officer types them: each accepted form, each refused one, on purpose."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geohazard_cli.errors import InputError
from geohazard_cli.money import format_wan, parse_amount, parse_count

CEILING = Decimal(10) ** 14


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("3000000", "3000000"),
        ("3,000,000", "3000000"),
        ("4999999.99", "4999999.99"),
        ("500万", "5000000"),
        ("500万元", "5000000"),
        ("0.5亿", "50000000"),
        ("1.2亿元", "120000000"),
        ("５００万", "5000000"),
        ("５，０００，０００", "5000000"),
        ("１．５万", "15000"),
        (" 500 万 ", "5000000"),
        ("100万亿", "100000000000000"),
        ("0", "0"),
        ("0.01", "0.01"),
        ("499.9999万", "4999999"),
        ("3000000元", "3000000"),
    ],
)
def test_amount_forms(text: str, yuan: str) -> None:
    assert parse_amount(text, "--direct-loss", CEILING) == Decimal(yuan)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc万", '--direct-loss: "abc万" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        ("5万万", '--direct-loss: "5万万" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        ("nan", '--direct-loss: "nan" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        ("inf", '--direct-loss: "inf" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        ("1e400", '--direct-loss: "1e400" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        ("-5", '--direct-loss: "-5" is negative; an amount is 0 or more'),
        ("-5万", '--direct-loss: "-5万" is negative; an amount is 0 or more'),
        ("1,00", '--direct-loss: "1,00" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        ("0.001", '--direct-loss: "0.001" is more precise than a fen (0.01 yuan)'),
        ("101万亿", '--direct-loss: "101万亿" is more than 100万亿元: past any real loss, likely a typo'),
        (float("nan"), '--direct-loss: "nan" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        (float("inf"), '--direct-loss: "inf" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        (Decimal("NaN"), '--direct-loss: "NaN" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        (True, '--direct-loss: "True" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
        ([1], '--direct-loss: "[1]" is not an amount (examples: 3000000, 3,000,000, 500万, 1.2亿)'),
    ],
)
def test_amount_refused(value: object, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_amount(value, "--direct-loss", CEILING)
    assert str(info.value) == message


def test_float_amount_is_exact() -> None:
    # A JSON/YAML float keeps the digits that were written; no binary error reaches a bound.
    assert parse_amount(4999999.99, "x") == Decimal("4999999.99")
    assert parse_amount(0.1, "x") == Decimal("0.1")


@pytest.mark.parametrize(("text", "count"), [("140", 140), ("1,000", 1000), ("１４０", 140), ("0", 0), (7, 7),
                                              ("140人", 140)])
def test_count_forms(text: object, count: int) -> None:
    assert parse_count(text, "--evacuees", 1_500_000_000) == count


COUNT_MSG = "a whole number of people, 0 or more (examples: 140, 1,000, １４０)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", f'--evacuees: "-1" is negative; expected {COUNT_MSG}'),
        (-1, f'--evacuees: "-1" is negative; expected {COUNT_MSG}'),
        ("1.5", f'--evacuees: "1.5" is not {COUNT_MSG}'),
        (1.5, f'--evacuees: "1.5" is not {COUNT_MSG}'),
        (3.0, f'--evacuees: "3.0" is not {COUNT_MSG}'),
        ("nan", f'--evacuees: "nan" is not {COUNT_MSG}'),
        ("1e400", f'--evacuees: "1e400" is not {COUNT_MSG}'),
        (True, f'--evacuees: "True" is not {COUNT_MSG}'),
        ("abc", f'--evacuees: "abc" is not {COUNT_MSG}'),
        ("2000000000", '--evacuees: "2000000000" is more than 1,500,000,000: more than plausible, likely a typo'),
    ],
)
def test_count_refused(value: object, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_count(value, "--evacuees", 1_500_000_000)
    assert str(info.value) == message


@pytest.mark.parametrize(("yuan", "text"), [("5000000", "500万元"), ("4999999.99", "499.999999万元"),
                                            ("100000000", "1亿元"), ("120000000", "1.2亿元"), ("0", "0万元")])
def test_format_wan(yuan: str, text: str) -> None:
    assert format_wan(Decimal(yuan)) == text


@given(st.decimals(min_value=0, max_value=Decimal(10) ** 13, places=2, allow_nan=False, allow_infinity=False))
def test_amount_round_trips(amount: Decimal) -> None:
    assert parse_amount(format_wan(amount), "x", CEILING) == amount
    assert parse_amount(str(amount), "x", CEILING) == amount


def test_huge_digit_strings_are_refused_cleanly() -> None:
    with pytest.raises(InputError):
        parse_count("9" * 5000, "--evacuees", 1_500_000_000)
    with pytest.raises(InputError):
        parse_amount("9" * 5000, "--direct-loss", CEILING)


@pytest.mark.parametrize(("text", "count"), [("1 000", 1000), ("1 000 000", 1_000_000), (" 140 ", 140),
                                             ("1\u3000000", 1000), ("140 人", 140)])
def test_a_space_between_digits_is_a_thousands_separator(text: str, count: int) -> None:
    assert parse_count(text, "--deaths") == count


@pytest.mark.parametrize("text", ["1 2", "12 3", "10 00", "1 0000", "1  2"])
def test_a_space_that_is_no_thousands_separator_is_refused(text: str) -> None:
    # "1 2" is a typo, never 12: dropping the space would raise the grade on a slip of the thumb
    with pytest.raises(InputError, match="is not a whole number of people"):
        parse_count(text, "--deaths")
    with pytest.raises(InputError, match="is not an amount"):
        parse_amount(text + "亿", "--direct-loss")
    assert parse_amount("500 万", "--direct-loss") == Decimal(5_000_000)
