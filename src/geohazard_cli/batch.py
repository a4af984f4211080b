"""`classify --batch`: grade every record of a JSONL or CSV file, streaming, one JSON line out each.

Output line per record (in input order): ``{"id", "grade", "grade_name", "response_level",
"deciding", "not_reported", "lower_bound", "skip_level_report"}`` (``id`` only when the record
has one; ``skip_level_report`` is true, false, or null when it cannot be decided yet because
figures that could make it apply are not reported, as ``classify`` says 尚不能确定); a bad
record yields ``{"line": N, "error": "..."}`` in its place and the rest go on.
Memory stays flat: input is read in blocks of a few thousand records and each block's output is
written before the next is read.

Two paths give the same bytes (tests/test_batch.py checks this on generated records):

- the reference path, ``summary()``: ``intake.parse_values`` then ``grading.assess`` (what
  ``parse_incident`` and ``grade()`` wrap), per record;
- the fast path, ``FastGrader.render``: a block at a time, column by column. A record's output
  depends only on which band each indicator falls in and whether each casualty figure is above
  zero, so each value is checked and placed (counts by table lookup, money by ``bisect`` on the
  profile's bounds), and the rest of the line is looked up in a table filled *by the reference
  path* (on a representative record of that cell) the first time a combination occurs. Plain
  values are checked by C-level passes over a whole column; values off the plain forms (money as
  500万, full-width digits, exact decimals) are read one by one by the reference's own parsers
  (money.parse_amount / parse_count); a record with any value those refuse, a text field, a time,
  a bad id or another layout goes through the reference path, so messages are the reference's own.

JSONL blocks are parsed by one orjson call when the lines provably map onto the array's elements
(``_parse_block``); a large regular file is cut into parts graded by forked processes
(``batch_parts``). The README's "Speed" section has the measurements behind each step.

Money stays exact: integers and decimal strings are compared exactly; a JSON float ``f`` takes the
fast path only when it provably has at most two decimals (``round(f*100)/100 == f``) and the bounds
and ceiling are whole numbers below 2**53, where comparing ``f`` with a bound is the same as
comparing ``Decimal(repr(f))`` (what the reference path does) with it; a line holding a number a
double may not carry (16 digits in a row, an exponent) is parsed with exact decimals instead.
"""

from __future__ import annotations

import math
import os
import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_, itemgetter, truediv
from pathlib import Path
from typing import IO, Any

from geohazard_cli.errors import GeohazardError, InputError
from geohazard_cli.money import parse_amount, parse_count
from geohazard_cli.rules import Profile

BLOCK_BYTES = 1 << 17  # JSONL read size: ~1,400 records of ~90 bytes (256 KiB cost each process ~2 MiB more)
CSV_ROWS = 2048  # CSV rows per block
MAX_TEXT = 2000  # intake.MAX_TEXT (kept in step by a test)
LUT_MIN, LUT_MAX = 256, 4096  # counts placed by table lookup (a bisect costs ~3x more): see FastGrader._lut
# A JSONL line longer than this is no record (a JSON array, say): refused unread. At least twice
# BLOCK_BYTES: a line that fits in one block and the carry before it is not measured.
MAX_LINE_BYTES = 1 << 20
MAX_TABLE_ENTRIES = 20_000  # output tails kept (~300 bytes each): past it the tables start again
MAX_DIGITS = 30  # longer digit strings are left to the reference path (past any ceiling anyway)


def summary(record: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """Grade one raw record into its batch output line (the slow, reference path): intake's
    parsing and grading's assessment, on plain data (what parse_incident and grade() wrap)."""
    from geohazard_cli.grading import assess
    from geohazard_cli.intake import parse_values

    values = parse_values(record, profile)
    a = assess(values, profile)
    skip = a["skip_level_report"]
    out: dict[str, Any] = {}
    if values.get("id") is not None:
        out["id"] = values["id"]
    out.update(
        grade=a["grade"], grade_name=a["grade_name"], response_level=a["response_level"], deciding=a["deciding"],
        not_reported=a["not_reported"], lower_bound=a["lower_bound"],
        skip_level_report=_tri_state(skip["applies"], skip["undetermined"]),
    )
    return out


def _tri_state(applies: bool, undetermined: list[str]) -> bool | None:
    return True if applies else (None if undetermined else False)


def reference_line(lineno: int, record: Any, profile: Profile) -> tuple[bytes, bool]:
    """One record through the reference path: its output line and whether it was bad."""
    from geohazard_cli.fastjson import orjson

    try:
        if isinstance(record, GeohazardError):
            raise record
        if not isinstance(record, dict):
            raise InputError("a record must be an object of fields" + (
                " (this line is a JSON array: JSONL wants one object a line)" if isinstance(record, list) else ""))
        return orjson.dumps(summary(record, profile)) + b"\n", False
    except GeohazardError as exc:
        return orjson.dumps({"line": lineno, "error": str(exc)}) + b"\n", True


# --- the fast path ---------------------------------------------------------------------------------

class _Bad:
    """Marks a value the fast path does not take (the record goes the reference way)."""

    __slots__ = ()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "BAD"


BAD: Any = _Bad()
Fill = Callable[[list[int]], list[bytes]]  # output lines for the records at these positions (reference path)
Parts = tuple[list[bytes] | None, list[bytes] | None, list[bytes], list[int]]


class _Lines(dict[tuple[Any, ...], Any]):
    """Output tails by cell key, for one field layout; missing ones are made by the reference path."""

    def __init__(self, grader: FastGrader, layout: tuple[str, ...]) -> None:
        super().__init__()
        self.grader = grader
        self.layout = layout

    def __missing__(self, key: tuple[Any, ...]) -> Any:
        if BAD in key:
            return None  # the record goes the reference way; nothing to store
        value = self.grader.tail(self.layout, key)
        self[key] = value
        self.grader.entries += 1
        if self.grader.entries > MAX_TABLE_ENTRIES:  # bounded memory whatever the mix of fields
            self.grader.forget()
        return value


class FastGrader:
    """The fast path for one profile (see the module docstring)."""

    def __init__(self, profile: Profile) -> None:
        from geohazard_cli.models import AMOUNT_FIELDS, COUNT_FIELDS

        self.profile = profile
        self.indicators = [ind.key for ind in profile.indicators]
        casualty = list(profile.reporting.skip_level.casualty_indicators)
        # Split points per field that shapes the output: the band bounds of an indicator, and 1
        # for a casualty figure (0 or "above zero"). A cell between two split points lies in one
        # band and on one side of zero, so one representative value stands for all of it.
        splits: dict[str, list[Any]] = {}
        for ind in profile.indicators:
            splits[ind.key] = [b.lower for b in ind.bands]
        if casualty:
            # a missing person may yet be found dead or injured: skip-level reporting is then
            # undetermined, so "any missing" shapes the output too (grading._skip_level)
            splits["missing"] = [Decimal(0), Decimal(1)]
        for field in casualty:
            splits[field] = [*splits.get(field, [Decimal(0)]), Decimal(1)]
        self.splits = {k: [_plain(p) for p in sorted(set(v))] for k, v in splits.items()}
        self.count_ceiling = int(profile.limits.count)
        amount_ceiling = profile.limits.amount
        whole = amount_ceiling == amount_ceiling.to_integral_value()
        # parse_amount refuses amounts of 10**21 and more whatever the ceiling
        self.amount_ceiling: Any = min(int(amount_ceiling), 10**21 - 1) if whole else amount_ceiling
        amount_splits = [p for f in AMOUNT_FIELDS for p in self.splits.get(f, [])]
        self.floats_ok = whole and self.amount_ceiling < 2**53 and all(
            isinstance(p, int) and p < 2**53 for p in amount_splits)
        # Text like "4999999.99" (at most two decimals) as float(text): below 2**47 a float's ulp is
        # under 0.02, so float(text) lands on the same side of every whole bound (and the ceiling)
        # as the exact value, which is at least 0.01 away from it or on it.
        self.fen_floats_ok = self.floats_ok and self.amount_ceiling < 2**47
        self.kinds = {**dict.fromkeys(COUNT_FIELDS, "count"), **dict.fromkeys(AMOUNT_FIELDS, "amount")}
        self._allowed: dict[str, tuple[type, ...]] = {"count": (int,),
                                                      "amount": (int, float) if self.floats_ok else (int,)}
        # bisect ranges per field: [0, split points..., just past the ceiling]
        self._ranges: dict[str, list[Any]] = {}
        for field, kind in self.kinds.items():
            cap = self.count_ceiling if kind == "count" else self.amount_ceiling
            # the least value past the ceiling: for ints cap + 1; with floats allowed (cap then is
            # a whole number below 2**53) the next float above cap, which no int falls between
            if kind == "amount" and self.floats_ok:
                past: Any = math.nextafter(float(cap), math.inf)
            elif isinstance(cap, int):
                past = cap + 1
            else:  # a fractional ceiling: ints only (floats_ok is False)
                past = math.floor(cap) + 1
            points = self.splits.get(field, [0])
            if points[-1] > cap:  # a bound past the ceiling: no value reaches it
                points = [p for p in points if p <= cap]
            self._ranges[field] = [*points, past]
        self._tables: dict[tuple[str, ...], _Lines] = {}
        self.entries = 0  # lines held by all tables (see MAX_TABLE_ENTRIES)
        # counts are small: their cells by table lookup (made on first use, see _lut)
        self._luts: dict[tuple[str, type], dict[Any, int]] = {}

    # -- one value ---------------------------------------------------------------------------------
    def count(self, v: Any) -> Any:
        """A count as the fast path takes it: int, None (not reported) or BAD."""
        t = type(v)
        if t is int:
            return v if 0 <= v <= self.count_ceiling else BAD
        if t is str:
            if len(v) <= MAX_DIGITS and v.isascii() and v.isdigit():
                n = int(v)
                return n if n <= self.count_ceiling else BAD
            if not v.strip():
                return None
        elif v is None:
            return None
        return self._parsed(parse_count, v, self.count_ceiling)

    def amount(self, v: Any) -> Any:
        """An amount in yuan as the fast path takes it: int, float, Decimal, None or BAD."""
        t = type(v)
        if t is int:
            return v if 0 <= v <= self.amount_ceiling else BAD
        if t is float and self.floats_ok and 0 <= v <= self.amount_ceiling and round(v * 100) / 100 == v:
            return v
        if t is str:
            if len(v) <= MAX_DIGITS and v.isascii():
                if v.isdigit():
                    n = int(v)
                    return n if n <= self.amount_ceiling else BAD
                whole, dot, frac = v.partition(".")
                if dot and whole.isdigit() and frac.isdigit() and len(frac) <= 2:
                    d = Decimal(v)
                    return d if d <= self.amount_ceiling else BAD
            if not v.strip():
                return None
        elif v is None:
            return None
        elif t is float:
            return BAD  # more than two decimals, or out of range: the reference words the error
        return self._parsed(parse_amount, v, self.profile.limits.amount)

    @staticmethod
    def _parsed(parse: Callable[[Any, str, Any], Any], v: Any, ceiling: Any) -> Any:
        """A value off the plain forms (500万, １２, 12人, exact decimals): the reference path's own
        parser (money.parse_count / parse_amount) reads it, so it lands where the reference puts it;
        BAD when that parser refuses it (the reference path then words the error)."""
        try:
            return parse(v, "", ceiling)
        except GeohazardError:
            return BAD

    @staticmethod
    def ident(v: Any) -> Any:
        """An id: the text echoed (stripped), None when blank, or BAD."""
        t = type(v)
        if t is str:
            if v.isprintable() and len(v) <= MAX_TEXT:
                return v.strip() or None
            return BAD
        if t is int:
            return str(v)
        return BAD

    # -- the output table ----------------------------------------------------------------------------
    def forget(self) -> None:
        """Drop every output table (they fill again as records come): keeps memory bounded."""
        self._tables.clear()
        self.entries = 0

    def table(self, layout: tuple[str, ...]) -> _Lines | None:
        """The output table for records with these fields, or None when the fast path cannot take them."""
        found = self._tables.get(layout)
        if found is None:
            if (len(set(layout)) != len(layout) or any(f not in self.kinds for f in layout)
                    or not any(f in self.indicators for f in layout)):
                return None
            found = self._tables[layout] = _Lines(self, layout)
        return found

    def tail(self, layout: tuple[str, ...], key: tuple[Any, ...]) -> Any:
        """Output for one cell key: (line without id, line after the id), both made by ``summary``."""
        from geohazard_cli.fastjson import orjson

        record: dict[str, Any] = {}
        for field, cell in zip(layout, key, strict=True):
            if cell is not None and field in self.splits:
                record[field] = self.splits[field][cell - 1]
        if not any(f in record for f in self.indicators):
            return None  # nothing to grade on: the reference path words the error
        body = orjson.dumps(summary(record, self.profile))[1:] + b"\n"
        return b"{" + body, b'",' + body

    # -- a block of records ----------------------------------------------------------------------------
    def column(self, field: str, values: list[Any]) -> list[Any]:
        """Cell numbers (or None, BAD) for one column of counts or money (ids: ``_ids``).

        The common case is checked and placed by C-level calls over the whole column; values off
        it ("odd": other types, out of range, more than two decimals) are found by C-level
        searches, given a placeholder, and then checked one by one.
        """
        kind = self.kinds[field]
        check = self.count if kind == "count" else self.amount
        types = set(map(type, values))
        if kind == "count" and int in types:  # the common case: one lookup a value
            work, odd = values, []
            if len(types) > 1:  # a few of other types (text, floats, None...): placeholders, checked below
                kinds = list(map(type, values))
                for t in types - {int}:
                    odd += _positions(kinds, t)
                work = values.copy()
                for i in odd:
                    work[i] = 0
            lut = self._luts.get((field, int)) or self._lut(field, True)
            lo, hi = min(work), max(work)
            if len(lut) <= hi <= min(LUT_MAX, self.count_ceiling):
                self._grow(field, lut, hi)
            if lo >= 0 and hi < len(lut):  # keys are 0..len-1: every value is one
                cells: list[Any] = list(map(lut.__getitem__, work))
            else:
                cells = list(map(lut.get, work))
                odd += _positions(cells, None)  # negative, large or past the ceiling
        elif kind == "count" and types == {str}:  # CSV cells
            lut = self._luts.get((field, str)) or self._lut(field, False)
            cells = list(map(lut.get, values))
            odd = _positions(cells, None) if None in cells else []  # large, past the ceiling, not plain digits
        elif kind == "amount" and types == {str} and self.fen_floats_ok:
            cells, odd = self._yuan_text(field, values)
        else:
            cells, odd = self._cells(field, kind, values, types)
        splits = self.splits.get(field)
        for i in odd:
            c = check(values[i])
            cells[i] = c if c is None or c is BAD else (bisect_right(splits, c) if splits else 1)
        return cells

    def _lut(self, field: str, ints: bool) -> dict[Any, int]:
        """Cells of a count field by value (ints, or their text for CSV) from 0 to twice its top
        split point (at least LUT_MIN, at most LUT_MAX or the ceiling; the int table grows to
        LUT_MAX as larger counts come); counts past it are placed one by one. Small on purpose:
        each entry costs memory in every process of a batch."""
        points = self.splits.get(field)
        top = min(self.count_ceiling, LUT_MAX, max(LUT_MIN, 2 * int(points[-1]) if points else 0))
        cells: dict[Any, int] = {}
        self._grow(field, cells, top)
        lut = cells if ints else {str(v): c for v, c in cells.items()}
        self._luts[field, int if ints else str] = lut
        return lut

    def _grow(self, field: str, lut: dict[Any, int], top: int) -> None:
        """Extend an int table of cells (keys 0..len-1) to ``top``."""
        points = self.splits.get(field)
        for v in range(len(lut), top + 1):
            lut[v] = bisect_right(points, v) if points else 1

    def _yuan_text(self, field: str, values: list[str]) -> tuple[list[Any], list[int]]:
        """Cells of a column of money as text (CSV): plain ones ("4999999", "4999999.99") read as
        float(text), exact enough below 2**47 (see fen_floats_ok); others are odd. A cell's shape
        (digits as 9) says whether it is plain, so each distinct shape is judged once."""
        shapes = "\n".join(values).encode().translate(_SHAPE).split(b"\n")
        if len(shapes) != len(values):  # a cell holds a line break: one by one
            return [BAD] * len(values), list(range(len(values)))
        bad = [shape for shape in set(shapes) if not _plain_yuan_shape(shape)]
        odd: list[int] = []
        work = values
        if bad:
            work = values.copy()
            for shape in bad:
                odd += _positions(shapes, shape)
            for i in odd:
                work[i] = "0"
        ranges = self._ranges[field]
        cells = list(map(bisect_right, repeat(ranges), map(float, work)))
        odd += _positions(cells, len(ranges))  # past the ceiling (none is below zero: no sign)
        if field not in self.splits:
            cells = [1] * len(cells)
        return cells, odd

    def _cells(self, field: str, kind: str, values: list[Any], types: set[type]) -> tuple[list[Any], list[int]]:
        """Cells of a column by C-level passes, and the positions ("odd") to check one by one:
        other types, out of range, more than two decimals (their cells are placeholders)."""
        ranges = self._ranges[field]
        allowed = self._allowed[kind]
        work = values
        if types == {str}:  # CSV cells or numbers quoted in JSON (money text when not fen_floats_ok)
            joined = "".join(values)
            if all(values) and max(map(len, values)) <= MAX_DIGITS and joined.isascii() and joined.isdigit():
                work = list(map(int, values))  # plain digits
                types = {int}
        kinds: list[type] | None = None
        odd: list[int] = []
        if not types.issubset(allowed):  # text among numbers, None, bools...: one by one
            kinds = list(map(type, work))
            for t in types.difference(allowed):
                odd += _positions(kinds, t)
            work = work.copy() if work is values else work
            for i in odd:
                work[i] = 0
        if float in types:  # at most two decimals, exactly (see the module docstring)
            if types == {float}:
                where: Any = range(len(work))
                floats = work
            else:
                kinds = kinds if kinds is not None else list(map(type, work))
                where = None
                floats = list(compress(work, map(is_, kinds, repeat(float))))
            try:
                back = list(map(truediv, map(round, map((100.0).__mul__, floats)), repeat(100)))
            except (ValueError, OverflowError):  # nan, inf: not from orjson, but be safe
                back = [None] * len(floats)
            if back != floats:
                if where is None:
                    assert kinds is not None
                    where = _positions(kinds, float)
                inexact = [i for i, a, b in zip(where, back, floats, strict=True) if a != b]
                work = work.copy() if work is values else work
                for i in inexact:
                    work[i] = 0
                odd += inexact
        # ranges: [0, split points..., ceiling + 1]; cell 0 is below zero, cell len(ranges) past the ceiling
        cells: list[Any] = list(map(bisect_right, repeat(ranges), work))
        last = len(ranges)
        odd += _positions(cells, 0) + _positions(cells, last)
        if field not in self.splits:
            cells = [1] * len(cells)
        return cells, odd

    def render(self, records: list[Any], fill: Fill, layout: tuple[str, ...] | None = None,
               objects: bool = False) -> bytes:
        """The output of a block: every record's line, in input order, as one bytes.

        ``records`` are parsed JSON values (``objects``: known to be all dicts), or CSV rows with
        ``layout`` their header. Records the
        fast path leaves (bad or odd values, other layouts, not objects, blank rows) get their lines
        from ``fill(positions)``: the reference path, called once per block with the positions.
        """
        n = len(records)
        if not n:
            return b""
        cols: list[list[Any]] | None = None
        if layout is None:  # JSON values: one layout (the common case), or grouped by layout
            first = records[0]
            if ((objects or (type(first) is dict and set(map(type, records)) == {dict}))
                    and set(map(len, records)) == {len(first)}):
                layout = tuple(first)
                try:  # same size and every key of the first: the same keys
                    cols = [list(map(itemgetter(f), records)) for f in layout]
                except KeyError:
                    cols = None
        elif set(map(len, records)) == {len(layout)}:
            cols = [list(c) for c in zip(*records, strict=True)]
        if cols is None or layout is None:
            return self._mixed(records, fill, layout)
        parts = self._parts(layout, cols, n)
        if parts is None:
            return b"".join(fill(list(range(n))))
        heads, inner, after, holes = parts
        if holes:
            for i, line in zip(holes, fill(holes), strict=True):
                after[i] = line
        if heads is None:
            return b"".join(after)
        return b"".join(chain.from_iterable(zip(heads, inner, after, strict=True)))  # type: ignore[arg-type]

    def _mixed(self, records: list[Any], fill: Fill, layout: tuple[str, ...] | None) -> bytes:
        """Records of several layouts, or some not objects (or CSV rows of another width): each
        layout's records as one group, the rest to ``fill``."""
        out: list[bytes | None] = [None] * len(records)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, r in enumerate(records):
            if layout is None:
                if type(r) is dict:
                    groups.setdefault(tuple(r), []).append(i)
            elif len(r) == len(layout):
                groups.setdefault(layout, []).append(i)
        for lay, idx in groups.items():
            sub = [records[i] for i in idx]
            cols = ([list(map(itemgetter(f), sub)) for f in lay] if layout is None
                    else [list(c) for c in zip(*sub, strict=True)])
            parts = self._parts(lay, cols, len(idx))
            if parts is None:
                continue
            heads, inner, after, holes = parts
            lines = after if heads is None else list(map(b"".join, zip(heads, inner, after, strict=True)))  # type: ignore[arg-type]
            for j, i in enumerate(idx):
                out[i] = lines[j]
            for j in holes:
                out[idx[j]] = None
        rest = _positions(out, None)
        if rest:
            for i, line in zip(rest, fill(rest), strict=True):
                out[i] = line
        return b"".join(out)  # type: ignore[arg-type]

    def _parts(self, layout: tuple[str, ...], cols: list[list[Any]], n: int) -> Parts | None:
        """Pieces of each record's output line: (heads, ids, tails, holes); a line is head + id +
        tail. Without an id column heads and ids are None and a line is its tail. ``holes`` are
        the positions the fast path leaves (their tails are b"" placeholders). None when the fast
        path cannot take this layout at all."""
        # One table per set of fields, whatever their order in the records (a line's tail does not
        # depend on it): cells are keyed in sorted field order.
        graded = sorted((f, i) for i, f in enumerate(layout) if f != "id")
        table = self.table(tuple(f for f, _ in graded))
        if table is None:
            return None
        ids = cols[layout.index("id")] if "id" in layout else None
        key_cols = [self.column(field, cols[i]) for field, i in graded]
        tails: list[Any] = list(map(table.__getitem__, zip(*key_cols, strict=True)))
        holes = _positions(list(map(is_, tails, repeat(None))), True) if None in tails else []
        if ids is None:
            after = list(map(itemgetter(0), _filled(tails, holes)))
            return None, None, after, holes
        inner, blank, bad = self._ids(ids)
        if bad:
            holes = sorted(set(holes).union(bad))
        after = list(map(itemgetter(1), _filled(tails, holes)))
        heads = [b'{"id":"'] * n
        for i in blank:
            if tails[i] is not None:
                heads[i] = inner[i] = b""
                after[i] = tails[i][0]
        for i in holes:
            heads[i] = inner[i] = after[i] = b""
        return heads, inner, after, holes

    def _ids(self, ids: list[Any]) -> tuple[list[bytes], list[int], list[int]]:
        """Ids as they go between the quotes of ``"id":"…"`` (JSON-escaped), and the positions of
        blank ids (the line goes without one) and of ids the fast path does not take."""
        try:
            joined = "".join(ids)  # TypeError unless all are str
        except TypeError:
            joined = ""
        # printable (no control characters, so no escapes but these two), unpadded, not too long
        if (joined and joined.isprintable() and '"' not in joined and "\\" not in joined and " " not in joined
                and all(ids) and max(map(len, ids)) <= MAX_TEXT):
            return "\n".join(ids).encode().split(b"\n"), [], []
        from geohazard_cli.fastjson import orjson

        inner: list[bytes] = []
        blank: list[int] = []
        bad: list[int] = []
        for i, v in enumerate(map(self.ident, ids)):
            if v is BAD:
                bad.append(i)
                inner.append(b"")
            elif v is None:
                blank.append(i)
                inner.append(b"")
            else:
                inner.append(orjson.dumps(v)[1:-1])
        return inner, blank, bad


def _filled(tails: list[Any], holes: list[int]) -> list[Any]:
    if not holes:
        return tails
    tails = tails.copy()
    for i in holes:
        tails[i] = (b"", b"")
    return tails


_SHAPE = bytes.maketrans(b"0123456789", b"9999999999")
_PLAIN_YUAN = re.compile(rb"9{1,%d}(?:\.99?)?" % MAX_DIGITS)


def _plain_yuan_shape(shape: bytes) -> bool:
    """A money cell's shape (ASCII digits as 9) is whole yuan, or yuan with one or two decimals."""
    return len(shape) <= MAX_DIGITS and _PLAIN_YUAN.fullmatch(shape) is not None


def _positions(items: list[Any], value: Any) -> list[int]:
    """Indexes of ``value`` in ``items``, searched at C speed (use for ints, bools, types)."""
    found: list[int] = []
    i = -1
    try:
        while True:
            i = items.index(value, i + 1)
            found.append(i)
    except ValueError:
        return found


def _plain(d: Decimal) -> Any:
    """A bound as an int when whole (fast, exact comparisons), else the Decimal."""
    return int(d) if d == d.to_integral_value() else d


# --- readers ------------------------------------------------------------------------------------------

# A JSON number a double may not carry exactly: 16 or more digits (with its point) in a row, or an
# exponent. orjson would round it (999999.9999999999999 -> 1000000.0, crossing a bound), so a line
# holding one is parsed with exact decimals instead. Text that merely looks so (a long id) only
# costs the slower parse.
_LOSSY = re.compile(rb"[0-9.]{16}|[0-9][eE][-+0-9]")
# The same test for a whole block at C speed (the regex above costs ~3 µs a line here): digits and
# points become "d", e/E "e", all else a space; a block holding neither 16 "d" in a row nor a "d"
# before an "e" holds no line _LOSSY matches (a superset test: a hit only sends lines to _LOSSY).
_LOSSY_MAP = bytes(ord("d") if c in b"0123456789." else ord("e") if c in b"eE" else ord(" ") for c in range(256))
_LOSSY_RUN = b"d" * 16


def _maybe_lossy(data: bytes) -> bool:
    t = data.translate(_LOSSY_MAP)
    return _LOSSY_RUN in t or b"de" in t


def _no_constant(token: str) -> Any:
    raise ValueError(token)


def _load(line: bytes) -> Any:
    """Parse one JSONL line: orjson, or exact decimals when a number could lose digits as a float."""
    from geohazard_cli.fastjson import orjson

    if _LOSSY.search(line):
        import json

        try:
            return json.loads(line, parse_float=Decimal, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            pass  # not valid JSON: let orjson say so, in its words
    return orjson.loads(line)


class _Blank:
    """A blank line (JSONL) or row (CSV): no output, not counted."""

    __slots__ = ()


BLANK: Any = _Blank()


def _blocks_jsonl(fh: IO[bytes], lineno: int = 1) -> Iterator[tuple[int, list[Any], int, bool]]:
    """(first line number, one parsed value per line, how many of them are BLANK, whether all are
    JSON objects) per block.

    A line that is not valid JSON parses to the InputError the reference path gives it; a line
    longer than MAX_LINE_BYTES is not kept at all (memory stays bounded) and is a bad record.
    """
    carry = b""
    pending: list[bytes] = []  # pieces of a line longer than a block (joined once: no quadratic copying)
    held = 0  # bytes of the current line in carry and pending
    dropped = False  # the current line passed MAX_LINE_BYTES: its bytes are not kept
    first_read = lineno == 1
    while True:
        chunk = fh.read(BLOCK_BYTES)
        if first_read:  # "UTF-8 with BOM" (Notepad) is still UTF-8: the mark is no part of line 1
            first_read = False
            chunk = chunk.removeprefix(_BOM)
        if not chunk:
            break
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            held += len(chunk)
            if not dropped:
                pending.append(chunk)
                if held > MAX_LINE_BYTES:
                    dropped, pending, carry = True, [], b""
            continue
        start = 0
        if pending or dropped:  # a long line ends at this chunk's first line feed
            first = chunk.find(b"\n")
            if dropped or held + first > MAX_LINE_BYTES:
                yield lineno, [_too_long()], 0, False
                lineno += 1
                start, carry = first + 1, b""
            else:
                carry = b"".join([carry, *pending])
            pending, held, dropped = [], 0, False
        body = carry + memoryview(chunk)[start:cut]  # one copy
        carry = chunk[cut:]
        held = len(carry)
        if body:
            records, blanks, objects = _parse_block(body)
            yield lineno, records, blanks, objects
            lineno += len(records)
    if dropped or len(carry) + sum(map(len, pending)) > MAX_LINE_BYTES:
        yield lineno, [_too_long()], 0, False
        return
    carry = b"".join([carry, *pending])
    if carry:
        if carry.strip():
            yield lineno, [_parse_line(carry, True)], 0, False
        else:
            yield lineno, [BLANK], 1, False


_BOM = b"\xef\xbb\xbf"


def _too_long() -> InputError:
    return InputError(f"longer than {MAX_LINE_BYTES >> 20} MiB: JSONL holds one record a line (is this file a "
                      "JSON array, or pretty-printed?)")


def _parse_block(body: bytes) -> tuple[list[Any], int, bool]:
    """Whole lines (each ending with a newline) parsed, one value a line; the number of blanks; and
    whether every value is a JSON object.

    The common case is one orjson call over the block as an array: ``[line1\n,line2\n,...]``.
    Its elements are the lines' values one to one when every line starts with "{", the block holds
    no "[", and there are as many elements as lines. Why: a raw newline cannot be inside a JSON
    string, so the commas put after the newlines are outside strings; with no arrays, one of them
    inside an object would be followed by a key, not by the "{" that starts the next line, and the
    parse would fail. So each comma separates top-level elements, every line holds at least one
    (an object: it starts with "{"), and as many elements as lines means exactly one each.
    Otherwise line by line, as before.
    """
    from geohazard_cli.fastjson import orjson

    n = body.count(b"\n")
    records: list[Any] | None = None
    if body.startswith(b"{") and b"[" not in body and body.count(b"\n{") == n - 1:
        try:
            records = orjson.loads(b"[" + body.replace(b"\n", b"\n,")[:-1] + b"]")
        except orjson.JSONDecodeError:  # some line is bad: line by line finds it
            records = None
        if records is not None and len(records) != n:
            records = None
    objects = records is not None
    if records is None:
        lines = body.split(b"\n")
        lines.pop()
        loads = orjson.loads
        records = []
        blanks = 0
        for line in lines:
            try:
                records.append(loads(line))
            except orjson.JSONDecodeError:
                if line.strip():
                    records.append(_parse_line(line, False))
                else:
                    records.append(BLANK)
                    blanks += 1
    else:
        blanks = 0
    if _maybe_lossy(body):  # numbers a double may not carry: exact decimals for those lines
        for i, line in enumerate(body.split(b"\n")):
            if _LOSSY.search(line) and records[i] is not BLANK:
                records[i] = _parse_line(line, False)
                objects = objects and type(records[i]) is dict
    return records, blanks, objects


def _invalid_json(exc: Exception) -> InputError:
    return InputError(f"invalid JSON ({str(exc).split(':')[0]})")


def _parse_line(line: bytes, last: bool) -> Any:
    """As the reference reader parses one line (with its newline, as iterating a file gives it)."""
    from geohazard_cli.fastjson import orjson

    try:
        return _load(line if last else line + b"\n")
    except orjson.JSONDecodeError as exc:
        return _invalid_json(exc)


def _csv_header(reader: Any, name: str) -> list[str] | None:
    from geohazard_cli.models import ALL_FIELDS

    try:
        header = next(reader)
    except StopIteration:
        return None
    except _csv_error() as exc:
        raise _csv_failed(name, reader.line_num, exc) from None
    header = [h.strip() for h in header]
    for i, col in enumerate(header):
        if col not in ALL_FIELDS:
            known = ", ".join(ALL_FIELDS)
            raise InputError(f"{name}:1: column {col!r} is not a known field (known: {known})")
        if col in header[:i]:  # which of the two would be meant? (a YAML --file refuses the same)
            raise InputError(f"{name}:1: column {col!r} appears twice; keep one")
    return header


def _csv_record(header: list[str], row: list[str]) -> Any:
    if len(row) != len(header):
        return InputError(f"has {len(row)} cells, the header has {len(header)}")
    return {k: (v if v.strip() else None) for k, v in zip(header, row, strict=True)}


def _check_utf8(fh: IO[bytes], name: str) -> None:
    """Refuse a CSV file that is not UTF-8 before anything is written (a spreadsheet saved as GBK
    is the usual case), naming the line of the first bad byte; then rewind."""
    import codecs

    if not fh.seekable():  # a pipe: checked as it is read (what came before is then already out)
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    while True:
        chunk = fh.read(1 << 20)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:  # exc.object: this chunk after a few pending bytes (no line feed)
            data = bytes(exc.object)
            at = lines + data.count(b"\n", 0, exc.start)
            raise InputError(f"{name}:{at}: is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8 "
                             "(in Excel: CSV UTF-8)") from None
        if not chunk:
            break
        lines += chunk.count(b"\n")
    fh.seek(0)


def _csv_open(fh: IO[bytes], encoding: str = "utf-8-sig") -> Any:
    """A csv reader over the bytes, as the csv module wants its text: newline="" (so line breaks
    inside quoted cells survive and only \\n, \\r, \\r\\n end a line), UTF-8 with or without BOM
    (at the start of the file: a part read from the middle is plain "utf-8")."""
    import csv
    import io

    text = io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")
    return csv.reader(text)


def _breaks(row: list[str]) -> int:
    """Line breaks inside a row's (quoted) cells: the physical lines it takes beyond one."""
    return sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in row)


# --- the two drivers ---------------------------------------------------------------------------------

def _open(path: Path) -> IO[bytes]:
    try:
        return sys.stdin.buffer if str(path) == "-" else open(path, "rb")
    except OSError as exc:
        raise InputError(f"--batch: {path}: cannot be read ({exc.strerror})") from None


BATCH_SUFFIXES = (".jsonl", ".ndjson", ".csv")


def check_suffix(path: Path) -> None:
    """The format goes by suffix: refuse a file whose suffix names neither format."""
    if str(path) != "-" and path.suffix.lower() not in BATCH_SUFFIXES:
        raise InputError(f"--batch: {path}: the format goes by suffix; name it .jsonl (one JSON object a line) "
                         "or .csv (header row), or pass - for JSONL on stdin")


def run_batch(path: Path, profile: Profile, out: IO[bytes] | None = None, jobs: int | None = None) -> int:
    """Grade every record (fast path); return 0, or raise (exit 2) at the end when any was bad.

    ``jobs``: processes for a large regular file (default: batch_parts.default_jobs()).
    """
    check_suffix(path)
    sink = out if out is not None else sys.stdout.buffer
    name = str(path)
    is_csv = path.suffix.lower() == ".csv"
    fh = _open(path)
    counts = [0, 0]  # bad, total
    try:
        if is_csv:
            _check_utf8(fh, name)
        try:
            cut_points: list[int] = []
            if jobs != 1 and fh is not sys.stdin.buffer:
                from geohazard_cli import batch_parts

                jobs = jobs or batch_parts.default_jobs()
                if jobs > 1 and batch_parts.can_split(fh):
                    cut_points = batch_parts.cuts(fh.fileno(), os.fstat(fh.fileno()).st_size, jobs, is_csv)
            if cut_points:
                batch_parts.run_parts(fh, name, is_csv, profile, sink, counts, cut_points)
            elif is_csv:
                _run_csv(fh, name, profile, sink, counts)
            else:
                _run_jsonl(fh, profile, sink, counts)
        except UnicodeDecodeError:
            raise InputError(f"{name}: is not UTF-8 text; save it as UTF-8") from None
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
        sink.flush()
    bad, total = counts
    if bad:
        raise InputError(f"--batch: {bad} of {total} records were bad (each is reported in place by line)")
    return 0


def run_batch_reference(path: Path, profile: Profile, out: IO[bytes] | None = None) -> int:
    """The reference driver: one record at a time through ``summary``. Same contract as ``run_batch``."""

    check_suffix(path)
    sink = out if out is not None else sys.stdout.buffer
    name = str(path)
    fh = _open(path)
    bad = total = 0
    try:
        if path.suffix.lower() == ".csv":
            _check_utf8(fh, name)
        reader = _records_csv(fh, name) if path.suffix.lower() == ".csv" else _records_jsonl(fh)
        try:
            for lineno, record in reader:
                total += 1
                line, was_bad = reference_line(lineno, record, profile)
                bad += was_bad
                sink.write(line)
        except UnicodeDecodeError:
            raise InputError(f"{name}: is not UTF-8 text; save it as UTF-8") from None
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
        sink.flush()
    if bad:
        raise InputError(f"--batch: {bad} of {total} records were bad (each is reported in place by line)")
    return 0


def _records_jsonl(fh: IO[bytes]) -> Iterator[tuple[int, Any]]:
    from geohazard_cli.fastjson import orjson

    for lineno, line in enumerate(fh, 1):
        if lineno == 1:
            line = line.removeprefix(_BOM)
        if len(line) - line.endswith(b"\n") > MAX_LINE_BYTES:
            yield lineno, _too_long()
            continue
        if not line.strip():
            continue
        try:
            yield lineno, _load(line)
        except orjson.JSONDecodeError as exc:
            yield lineno, _invalid_json(exc)


def _records_csv(fh: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    reader = _csv_open(fh)
    header = _csv_header(reader, name)
    if header is None:
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except _csv_error() as exc:
            raise _csv_failed(name, reader.line_num, exc) from None
        if not any(cell.strip() for cell in row):
            continue
        yield reader.line_num, _csv_record(header, row)


def _csv_error() -> type[Exception]:
    """csv.Error (the csv module is imported only when a CSV file is read)."""
    import csv

    return csv.Error


def _csv_failed(name: str, line: int, exc: Exception) -> InputError:
    """A row the csv module cannot read (a cell past its size limit, a stray quote at the end)."""
    return InputError(f"{name}:{line}: cannot be read as CSV ({exc})")


def _take(reader: Any, n: int) -> tuple[list[list[str]], Exception | None]:
    """Up to ``n`` rows, and the csv error that stopped it early (the rows before it still count)."""
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) == n:
                break
    except _csv_error() as exc:
        return rows, exc
    return rows, None


def _run_jsonl(fh: IO[bytes], profile: Profile, sink: IO[bytes], counts: list[int], first_line: int = 1) -> None:
    grader = FastGrader(profile)
    for first, records, blanks, objects in _blocks_jsonl(fh, first_line):

        def fill(positions: list[int], first: int = first, records: list[Any] = records) -> list[bytes]:
            out = []
            for i in positions:
                record = records[i]
                if record is BLANK:
                    out.append(b"")
                    continue
                line, was_bad = reference_line(first + i, record, profile)
                counts[0] += was_bad
                out.append(line)
            return out

        counts[1] += len(records) - blanks
        sink.write(grader.render(records, fill, objects=objects))


def _run_csv(fh: IO[bytes], name: str, profile: Profile, sink: IO[bytes], counts: list[int]) -> None:
    reader = _csv_open(fh)
    header = _csv_header(reader, name)
    if header is not None:
        _run_csv_rows(reader, header, name, profile, sink, counts)


def _run_csv_rows(reader: Any, header: list[str], name: str, profile: Profile, sink: IO[bytes], counts: list[int],
                  line_offset: int = 0) -> None:
    """Grade the data rows of a csv reader; ``line_offset`` lines come before the reader's first."""
    layout = tuple(header)
    grader = FastGrader(profile)
    failed: Exception | None = None
    while failed is None:
        before = line_offset + reader.line_num
        rows, failed = _take(reader, CSV_ROWS)
        if failed is not None:
            failed = _csv_failed(name, line_offset + reader.line_num, failed)
        if not rows:
            break
        if line_offset + reader.line_num - before == len(rows):  # one line a row: numbers follow on
            linenos: Any = range(before + 1, before + 1 + len(rows))
        else:  # some quoted cell spans lines
            linenos = []
            at = before
            for row in rows:
                at += 1 + _breaks(row)
                linenos.append(at)

        def fill(positions: list[int], rows: list[list[str]] = rows, linenos: Any = linenos) -> list[bytes]:
            out = []
            for i in positions:
                row = rows[i]
                if not any(cell.strip() for cell in row):
                    out.append(b"")
                    counts[1] -= 1
                    continue
                line, was_bad = reference_line(linenos[i], _csv_record(header, row), profile)
                counts[0] += was_bad
                out.append(line)
            return out

        counts[1] += len(rows)
        sink.write(grader.render(rows, fill, layout))
    if failed is not None:
        raise failed
