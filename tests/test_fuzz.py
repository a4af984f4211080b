"""Fuzzers kept as tests, with an exactness oracle: whatever is accepted equals the typed value
exactly (an independent reading with ``Fraction``), and whatever is refused is refused as an
``InputError``/``GeohazardError``, never another exception.

Each property runs twice: with a fixed budget in every run (CI), and with a large one under
``pytest -m fuzz`` (the marker is deselected by default).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geohazard_cli.errors import GeohazardError, InputError
from geohazard_cli.loader import load_json, load_yaml
from geohazard_cli.money import parse_amount, parse_count

CEILING = Decimal(10) ** 14
QUICK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNITS = {"万亿": 10**12, "亿": 10**8, "万": 10**4, "": 1}
# every multiplier money.py reads after digits (5千万, 3千元, 1万人), longest first
MULTIPLIERS = {"万亿": 10**12, "千亿": 10**11, "百亿": 10**10, "亿": 10**8, "千万": 10**7, "百万": 10**6, "万": 10**4,
               "千": 1000, "百": 100, "": 1}
# what an officer's keyboard gives (ASCII, full-width forms, ideographic space and full stop, units)
TYPED = re.compile(r"[\x20-\x7e\t\n\r\uff01-\uff5e\u3000\u3002万亿元人户百千]*")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

ODD_DIGITS = ["²", "①", "⓪", "٣", "߀", "𝟘", "¼", "Ⅻ"]  # NFKC or int() would read these as digits
figure_chars = st.sampled_from([*"0123456789,. -万亿元人户百千\t０１２３４５６７８９，．\u3000。", *ODD_DIGITS])
figure_text = st.one_of(st.text(figure_chars, max_size=24), st.text(max_size=24))


def both(strategy: Any) -> Callable[[Callable[..., None]], tuple[Any, Any]]:
    """The property as a quick test and as an opt-in long one (``pytest -m fuzz``)."""
    def wrap(check: Callable[..., None]) -> tuple[Any, Any]:
        return QUICK(given(strategy)(check)), pytest.mark.fuzz(LONG(given(strategy)(check)))
    return wrap


def denoted(text: str, units: dict[str, int]) -> Fraction:
    """The value the text writes, read independently of money.py (NFKC, separators dropped)."""
    t = unicodedata.normalize("NFKC", text).replace("。", ".")
    t = "".join(t.split()).replace(",", "")
    sign = -1 if t.startswith("-") else 1
    t = t.removeprefix("-").removesuffix("元").removesuffix("人").removesuffix("户")
    unit = next(f for u, f in units.items() if t.endswith(u))
    t = t.removesuffix(next(u for u in units if t.endswith(u)))
    assert re.fullmatch(r"[0-9]+(\.[0-9]*)?", t), text  # "0." only from a YAML file (a float)
    return sign * Fraction(t.removesuffix(".")) * unit


def check_amount(text: str) -> None:
    try:
        value = parse_amount(text, "--direct-loss", CEILING)
    except InputError:
        return
    assert TYPED.fullmatch(text), text
    assert Fraction(value) == denoted(text, MULTIPLIERS)
    assert value >= 0 and value == value.quantize(Decimal("0.01"))
    assert "E" not in str(value) and not str(value).startswith("-")


def check_count(text: str) -> None:
    try:
        value = parse_count(text, "--evacuees", 1_500_000_000)
    except InputError:
        return
    assert TYPED.fullmatch(text), text
    assert Fraction(value) == denoted(text, MULTIPLIERS)
    assert value >= 0


test_amount_exact, test_amount_exact_long = both(figure_text)(check_amount)
test_count_exact, test_count_exact_long = both(figure_text)(check_count)


@st.composite
def typed_amounts(draw: Any) -> tuple[str, Fraction]:
    """An amount as an officer might type it, and the exact value it writes."""
    whole = draw(st.integers(0, 10**14))
    places = draw(st.integers(0, 40))
    frac = draw(st.integers(0, 10**places - 1)) if places else 0
    unit = draw(st.sampled_from(list(UNITS)))
    digits = f"{whole:,}" if draw(st.booleans()) else str(whole)
    text = digits + (f".{frac:0{places}d}" if places else "") + unit + draw(st.sampled_from(["", "元"]))
    if draw(st.booleans()):
        text = unicodedata.normalize("NFKC", text).translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    return text, (whole + Fraction(frac, 10**places)) * UNITS[unit]


def check_typed_amount(case: tuple[str, Fraction]) -> None:
    text, exact = case
    try:
        value = parse_amount(text, "--direct-loss", CEILING)
    except InputError as exc:
        # refused only past the ceiling or finer than a fen: never rounded to fit
        assert exact > CEILING or exact * 100 != int(exact * 100), (text, str(exc))
        return
    assert Fraction(value) == exact, text


test_typed_amount, test_typed_amount_long = both(typed_amounts())(check_typed_amount)

number_text = st.one_of(
    st.from_regex(r"\A[+-]?[0-9]{1,40}(\.[0-9]{0,40})?\Z"),
    st.from_regex(r"\A-?[0-9]{1,5}(,[0-9]{3}){0,3}\Z"),
    st.builds(lambda n, digit: digit * n, st.integers(995, 4310), st.sampled_from("19")),  # int() limits
)


def check_file_figure(text: str) -> None:
    """A figure in a YAML or JSON file reaches parse_amount/parse_count with every digit typed."""
    for load, doc in ((load_yaml, f"direct_loss: {text}\nevacuees: {text}\n"),
                      (load_json, f'{{"direct_loss": {text}, "evacuees": {text}}}')):
        try:
            raw = load(doc, "f", InputError)
        except GeohazardError:
            continue
        exact = denoted(text.removeprefix("+"), {"": 1}) if TYPED.fullmatch(text) else None
        for parse, key in ((parse_amount, "direct_loss"), (parse_count, "evacuees")):
            try:
                value = parse(raw[key], key, CEILING if parse is parse_amount else 10**12)
            except InputError:
                continue
            assert exact is not None and Fraction(value) == exact, (load.__name__, text, value)


test_file_figure, test_file_figure_long = both(number_text)(check_file_figure)


def check_file_text(text: str) -> None:
    """Text in a file is read as written, or refused when it holds a control character."""
    import yaml

    for load, doc in ((load_json, json.dumps({"location": text})),
                      (load_yaml, yaml.safe_dump({"location": text}, allow_unicode=bool(len(text) % 2)))):
        try:
            raw = load(doc, "f", InputError)
        except GeohazardError as exc:
            assert CONTROL.search(text), (load.__name__, text, str(exc))
            continue
        assert raw == {"location": text}
        assert not CONTROL.search(text)


test_file_text, test_file_text_long = both(st.text(max_size=30))(check_file_text)
