"""Amounts and counts as a duty officer types them, parsed exactly.

Money is ``Decimal`` yuan, never float. Accepted: ``3000000``, ``3,000,000``, ``4999999.99``,
``500万``, ``500万元``, ``0.5亿``, ``1.2亿元``, full-width ``５００万``. Rejected on purpose: exponents
(``1e400``), ``nan``/``inf``, doubled units (``5万万``), negatives, more precision than a fen, and
digits other than ASCII and full-width ones (``10²``, ``①④⓪``, ``٣٠٠万``: NFKC or ``int()`` would read
them as 102, 140, 3000000). ``-0`` is zero, as the same figure in a YAML or JSON file is.
"""

from __future__ import annotations

import contextlib
import re
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext

from geohazard_cli.errors import field_error

AMOUNT_EXAMPLES = "examples: 3000000, 3,000,000, 500万, 1.2亿"
COUNT_EXAMPLES = "a whole number of people, 0 or more (examples: 140, 1,000, １４０)"

_UNITS = {"": Decimal(1), "万": Decimal(10_000), "亿": Decimal(100_000_000), "万亿": Decimal(10**12)}
# The multipliers an officer writes after digits (5千万, 5百万, 3千元, 1万人): 百 and 千 alone or
# before 万/亿, read exactly as a product. 十 is not one (50万, not 5十万).
_MULTIPLIERS = {**_UNITS, "百": Decimal(100), "千": Decimal(1000), "百万": Decimal(10**6), "千万": Decimal(10**7),
                "百亿": Decimal(10**10), "千亿": Decimal(10**11)}
_UNIT_RE = "万亿|[百千]?[万亿]|[百千]"
# Patterns, compiled (and cached by re) on first use: a command that parses no amount compiles none.
# [0-9], never \d: \d (and int(), Decimal()) also read Arabic-Indic, Devanagari... digits.
_AMOUNT_RE = r"^(?P<num>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?P<frac>\.[0-9]+)?(?P<unit>" + _UNIT_RE + r")?元?$"
# A count may carry a multiplier (1万人, 1.5万人, 3千人) when the product is whole; 人 or 户 after it.
_COUNT_RE = r"^(?P<num>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?P<frac>\.[0-9]+)?(?P<unit>" + _UNIT_RE + r")?[人户]?$"
# What an officer's keyboard gives, before NFKC: ASCII, the full-width forms (１４０，５００．５),
# the ideographic space and full stop, and the units. Anything else NFKC might fold into a digit.
_TYPED_RE = r"^[\x20-\x7e\t\n\r\uff01-\uff5e\u3000\u3002万亿元人户百千]*$"
_ODD_CHAR_RE = r"[^\x20-\x7e\t\n\r\uff01-\uff5e\u3000\u3002万亿元人户百千]"
# Chinese numerals are refused on purpose, with an example in digits: 十二, 三百, 四五百万 (which an
# officer means as a range), 两千 would each need a reading of their own, and a misread figure is a
# misgraded incident. 百/千 after digits are multipliers (5千万), not numerals.
_CHINESE_NUMERAL_RE = "[〇零一二三四五六七八九十两壹贰叁肆伍陆柒捌玖拾佰仟]"
CHINESE_NUMERAL_REASON = ("is written in Chinese numerals, which this tool does not read (so none is misread); "
                          "type digits (examples: 12, 300人, 1.5万, 80-150, 约300人)")
# Exact arithmetic or none: a figure of at most _MAX_TEXT digits times 10^12 fits in 100 digits, and
# should it not, Inexact is raised rather than the default 28-digit context rounding it silently.
_EXACT = Context(prec=100, traps=[Inexact, InvalidOperation])
_FEN = Decimal("0.01")
_MAX_TEXT = 64  # longer text is no figure (and int() refuses over 4300 digits with a bare ValueError)
_MAX_DIGITS = 20  # 10^20 yuan: beyond this Decimal arithmetic would need more context precision
WAN = Decimal(10_000)


def refuse_odd_characters(value: str, field: str, example: str) -> None:
    """Refuse a character no keyboard gives for a figure or time (superscripts, circled or
    Arabic-Indic digits), which NFKC or ``int()`` would otherwise read as a digit."""
    if not re.match(_TYPED_RE, value):
        if re.search(_CHINESE_NUMERAL_RE, value):
            raise field_error(field, value, CHINESE_NUMERAL_REASON)
        odd = re.search(_ODD_CHAR_RE, value)
        char = odd[0] if odd else "?"
        raise field_error(field, value, f"has {char!r} (U+{ord(char):04X}), which is not a digit this tool reads; "
                                        f"type ASCII or full-width digits (example: {example})")


def _normalise(text: str) -> str:
    # NFKC folds full-width digits, commas and dots (５００，０００．５) to ASCII; the ideographic
    # full stop is not folded by NFKC, so map it by hand. A space between two digits is a thousands
    # separator ("1 000 000") and is checked as a comma would be, so a typo like "1 2" is refused,
    # never read as 12; other spaces ("500 万", around the figure) are dropped.
    # ASCII text is its own NFKC form: unicodedata (a large table) is loaded only for other text.
    if not text.isascii():
        import unicodedata

        text = unicodedata.normalize("NFKC", text).replace("。", ".")
    if " " in text or not text.isascii() or "\t" in text:
        text = re.sub(r"(?<=\d)\s+(?=\d)", ",", text.strip())
    return "".join(text.split())


def parse_amount(value: object, field: str, ceiling: Decimal | None = None) -> Decimal:
    """Parse an amount of money into exact yuan."""
    if isinstance(value, bool):
        raise field_error(field, value, f"is not an amount ({AMOUNT_EXAMPLES})")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise field_error(field, str(value), f"is not an amount ({AMOUNT_EXAMPLES})")
        amount = value
    elif isinstance(value, float):
        # JSON/YAML numbers reach us as float only when a caller parsed them so; the shortest repr
        # is the text that was written, so no binary error creeps in.
        if value != value or value in (float("inf"), float("-inf")):
            raise field_error(field, repr(value), f"is not an amount ({AMOUNT_EXAMPLES})")
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        refuse_odd_characters(value, field, "500万 or ５００万")
        text = _normalise(value)
        if len(text) > _MAX_TEXT:
            raise field_error(field, value, f"is not an amount ({AMOUNT_EXAMPLES})")
        negative = text.startswith("-")
        m = re.match(_AMOUNT_RE, text.removeprefix("-"))
        if not m:
            raise field_error(field, value, f"is not an amount ({AMOUNT_EXAMPLES})")
        try:
            with localcontext(_EXACT):
                amount = Decimal(m["num"].replace(",", "") + (m["frac"] or "")) * _MULTIPLIERS[m["unit"] or ""]
        except ArithmeticError:  # cannot happen within _MAX_TEXT; refused rather than rounded if it did
            raise field_error(field, value, f"is not an amount ({AMOUNT_EXAMPLES})") from None
        if negative and amount:
            raise field_error(field, value, "is negative; an amount is 0 or more")
    else:
        raise field_error(field, str(value), f"is not an amount ({AMOUNT_EXAMPLES})")
    if amount < 0:
        raise field_error(field, str(value), "is negative; an amount is 0 or more")
    if ceiling is not None and amount > ceiling:
        raise field_error(
            field, str(value), f"is more than {format_wan(ceiling)}: past any real loss, likely a typo"
        )
    if amount.adjusted() > _MAX_DIGITS:
        raise field_error(field, str(value), "is too large to be an amount of money")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(_FEN):  # type: ignore[operator]
        raise field_error(field, str(value), "is more precise than a fen (0.01 yuan)")
    return normalise_yuan(amount)


def normalise_yuan(amount: Decimal) -> Decimal:
    """Canonical form: no exponent, no trailing zeros past the point (5000000, 4999999.99)."""
    q = amount.quantize(_FEN) + 0  # + 0: -0 (from "-0", a YAML -0.0, JSON -0.00) is 0
    if q == q.to_integral_value():
        return q.quantize(Decimal(1))
    return q.normalize()  # not integral, so normalize() gives 4999999.99 or 0.1, never an exponent


def parse_count(value: object, field: str, ceiling: int | None = None) -> int:
    """Parse a whole, non-negative count of people (or households)."""
    if isinstance(value, bool):
        raise field_error(field, value, f"is not {COUNT_EXAMPLES}")
    if isinstance(value, int):
        count = value
    elif isinstance(value, str):
        refuse_odd_characters(value, field, "140 or １４０")
        text = _normalise(value)
        if len(text) > _MAX_TEXT:
            raise field_error(field, value, f"is not {COUNT_EXAMPLES}")
        negative = text.startswith("-")
        m = re.match(_COUNT_RE, text.removeprefix("-"))
        if not m or (m["frac"] and not m["unit"]):
            raise field_error(field, value, f"is not {COUNT_EXAMPLES}")
        if m["unit"]:
            with localcontext(_EXACT):
                exact = Decimal(m["num"].replace(",", "") + (m["frac"] or "")) * _MULTIPLIERS[m["unit"]]
            if exact != exact.to_integral_value():
                raise field_error(field, value, f"is not {COUNT_EXAMPLES}")
            count = int(exact)
        else:
            count = int(m["num"].replace(",", ""))
        if negative and count:
            raise field_error(field, value, f"is negative; expected {COUNT_EXAMPLES}")
    else:
        # floats (even 3.0), Decimals, lists...: a count is never fractional.
        raise field_error(field, str(value), f"is not {COUNT_EXAMPLES}")
    if count < 0:
        raise field_error(field, str(value), f"is negative; expected {COUNT_EXAMPLES}")
    if ceiling is not None and count > ceiling:
        raise field_error(field, str(value), f"is more than {ceiling:,}: more than plausible, likely a typo")
    return count


def format_wan(amount: Decimal) -> str:
    """Yuan -> text in 万元 (亿元 from 1亿, 万亿元 from 1万亿): 5000000 -> "500万元"."""
    if amount >= _UNITS["万亿"]:
        return f"{_plain(amount / _UNITS['万亿'])}万亿元"
    if amount >= _UNITS["亿"]:
        return f"{_plain(amount / _UNITS['亿'])}亿元"
    return f"{_plain(amount / WAN)}万元"


def format_yuan(amount: Decimal) -> str:
    """Plain yuan text without exponent: Decimal('5E+6') -> '5000000'."""
    return _plain(amount)


def _plain(d: Decimal) -> str:
    with contextlib.suppress(InvalidOperation):
        d = d.normalize()
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


__all__ = [
    "AMOUNT_EXAMPLES",
    "COUNT_EXAMPLES",
    "format_wan",
    "format_yuan",
    "normalise_yuan",
    "parse_amount",
    "parse_count",
    "refuse_odd_characters",
]
