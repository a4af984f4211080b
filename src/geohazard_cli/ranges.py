"""A figure as reported at 3 a.m.: a range (``80-150``, ``80~150``, ``80至150``, ``400万-600万``) or an
estimate (``约300人``, ``300人左右``, ``300余人``, ``300多人``), read exactly.

``parse_figure`` gives a plain value (what ``money.parse_count`` / ``parse_amount`` give) or a
``Reported`` (low, high, estimate, the text as typed). Each end is read by those same parsers, so
an end is exact (Decimal, ``Inexact`` trapped), ASCII or full-width digits only, bounded, and under
the profile's ceiling. Rules, on purpose:

- separators: ``-``, ``~`` (full-width ``～``, ``－``), ``–``, ``—``, ``至``, ``到``;
- a multiplier after the upper end only applies to both ends, as an officer means it
  (``400-600万`` is 400万 to 600万); one after the lower end only (``400万-600``) is refused, as it
  would read 4000000 to 600;
- ``约``/``大约`` before, ``左右`` after, ``余``/``多`` after the digits (or after 万/亿: ``1万余人``)
  make the figure an estimate: graded on the number written, or for 余/多 the least the words
  allow ("300余人": more than 300, so at least 301; "99多人" is at least 100), and said so in the
  output;
- the lower end above the upper is refused; equal ends are the exact figure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from geohazard_cli.errors import InputError, field_error
from geohazard_cli.money import parse_amount, parse_count

# Anything that makes a text more than one plain figure (checked before the full reading, so a
# plain figure costs one search). A "-" counts only after a digit or unit: "-5" is a negative figure.
_MARKERS = r"[~～至到–—约余多]|左右|(?<=[0-9０-９万亿千百元人户\s])[-－]"
_SEPARATOR = r"\s*(?:[-~～－–—]|至|到)\s*"
_MULTIPLIER = r"(万亿|[百千]?[万亿]|[百千])[元人户]?$"
_ESTIMATE_BEFORE = ("大约", "约")
_ESTIMATE_AFTER = ("左右",)
MAX_TEXT = 64


class Reported(NamedTuple):
    """A figure reported as a range or an estimate: both ends exact, ``low <= high``."""

    low: int | Decimal
    high: int | Decimal
    estimate: bool  # 约/左右/余/多
    text: str  # as typed (stripped)

    def plain(self) -> dict[str, Any]:
        """As the incident keeps it (``models.Incident.ranges``): JSON-ready but for Decimal."""
        return {"low": self.low, "high": self.high, "estimate": self.estimate, "text": self.text}


def parse_figure(value: object, field: str, kind: str, ceiling: Any = None) -> int | Decimal | Reported:
    """A count (``kind="count"``) or an amount, possibly a range or an estimate (see the module)."""
    one = parse_count if kind == "count" else parse_amount
    if not isinstance(value, str) or not re.search(_MARKERS, value):
        return one(value, field, ceiling)
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise field_error(field, value, "is too long to be a figure or a range of figures")
    body, estimate = text, False
    for word in _ESTIMATE_BEFORE:
        if body.startswith(word):
            body, estimate = body.removeprefix(word).lstrip(), True
            break
    for word in _ESTIMATE_AFTER:
        if body.endswith(word):
            body, estimate = body.removesuffix(word).rstrip(), True
    m = re.match(r"^([-－]?[^-~～－–—至到]+?)" + _SEPARATOR + r"(.+)$", body)
    parts = [m[1], m[2]] if m else [body]
    ends: list[str] = []
    more: list[bool] = []  # 余/多 on this end: more than the number written
    for part in parts:
        stripped = re.sub(r"(?<=[0-9０-９万亿千百])[余多](?=[万亿千百元人户]*$)", "", part)
        more.append(stripped != part)
        estimate = estimate or stripped != part
        ends.append(stripped)
    if any(not e for e in ends):
        raise field_error(field, value, f"is not a figure or a range ({_examples(kind)})")
    if len(ends) == 2:
        low_unit, high_unit = (re.search(_MULTIPLIER, e) for e in ends)
        if low_unit and not high_unit:
            raise field_error(field, value, "has a unit after the lower end only; write it after both ends or "
                                            f"after the upper one ({_examples(kind)})")
        if high_unit and not low_unit:
            ends[0] += high_unit[1]  # 400-600万: the unit of the upper end is the lower end's too
    try:
        read = [one(e, field, ceiling) for e in ends]
    except InputError as exc:
        if len(ends) == 1 and not estimate:
            raise
        raise InputError(f'{exc} (in "{text}"; {_examples(kind)})') from None
    # "99多人", "300余人": more than the number written, so the least the words allow is one more
    # person (one more fen of money): 99多人 is at least 100, which 附件2 counts as 中型 (100人以上).
    step: int | Decimal = 1 if kind == "count" else Decimal("0.01")
    read = [r + step if m else r for r, m in zip(read, more, strict=True)]
    low, high = read[0], read[-1]
    if low > high:
        raise field_error(field, value, f"has its lower end above its upper end ({_examples(kind)})")
    if low == high and not estimate:
        return low
    return Reported(low, high, estimate, text)


def check_stored(value: Any, check: Callable[[dict[str, Any]], None]) -> None:
    """A journal's ``ranges`` as written ({field: {low, high, estimate, text}}); ``check`` checks each
    end as a figure of its field. Raises ValueError naming what is wrong (a tampered row)."""
    from geohazard_cli.fields import AMOUNT_FIELDS, COUNT_FIELDS

    if not isinstance(value, dict):
        raise ValueError(f"figure ranges: {value!r} is not a table of ranges")
    for field, r in value.items():
        if field not in COUNT_FIELDS and field not in AMOUNT_FIELDS:
            raise ValueError(f"figure ranges: {field!r} is not a count or an amount")
        if (not isinstance(r, dict) or set(r) != {"low", "high", "estimate", "text"}
                or not isinstance(r["text"], str) or not isinstance(r["estimate"], bool)):
            raise ValueError(f"figure ranges.{field}: {r!r} is not low, high, estimate and text")
        check({field: r["low"]})
        check({field: r["high"]})
        if Decimal(r["low"]) > Decimal(r["high"]):
            raise ValueError(f"figure ranges.{field}: its low end is above its high end")


def _examples(kind: str) -> str:
    if kind == "count":
        return "a range 80-150, 80~150, 80至150; an estimate 约300人, 300人左右, 300余人"
    return "a range 400万-600万, 400-600万, 400万至600万; an estimate 约500万"


__all__ = ["Reported", "parse_figure"]
