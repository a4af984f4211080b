"""The batch fast path, ``FastGrader.render``: a block of records at a time, column by column.

A record's output depends only on which band each indicator falls in and whether each casualty
figure is above zero, so each value is checked and placed (counts by table lookup, money by
``bisect`` on the profile's bounds), and the rest of the line is looked up in a table filled *by
the reference path* (``reference.summary``, on a representative record of that cell) the first
time a combination occurs. Plain values are checked by C-level passes over a whole column; values
off the plain forms (money as 500万, full-width digits, exact decimals) are read one by one by the
reference's own parsers (money.parse_amount / parse_count); a record with any value those refuse,
a text field, a time, a bad id or another layout goes through the reference path, so messages are
the reference's own. The README's "Speed" section has the measurements behind each step.

Money stays exact: integers and decimal strings are compared exactly; a JSON float ``f`` takes the
fast path only when it provably has at most two decimals (``round(f*100)/100 == f``) and the bounds
and ceiling are whole numbers below 2**53, where comparing ``f`` with a bound is the same as
comparing ``Decimal(repr(f))`` (what the reference path does) with it; a line holding a number a
double may not carry (16 digits in a row, an exponent) is parsed with exact decimals instead
(``readers``).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_, itemgetter, truediv
from typing import Any

from geohazard_cli.batch.reference import summary
from geohazard_cli.errors import GeohazardError
from geohazard_cli.grading import band_rank
from geohazard_cli.money import parse_amount, parse_count
from geohazard_cli.rules import Profile

MAX_TEXT = 2000  # intake.MAX_TEXT (kept in step by a test)
LUT_MIN, LUT_MAX = 256, 4096  # counts placed by table lookup (a bisect costs ~3x more): see FastGrader._lut
MAX_TABLE_ENTRIES = 20_000  # output tails kept (~300 bytes each): past it the tables start again
MAX_DIGITS = 30  # longer digit strings are left to the reference path (past any ceiling anyway)


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
        # an advisory's added figures: whether any is given (grading._advisories) shapes it too; the
        # band of the sum is a key column of its own (``_advice``)
        for rule in profile.advisories:
            for field in rule.add:
                splits[field] = [*splits.get(field, [Decimal(0)]), Decimal(1)]
        self.advisories = list(profile.advisories)
        self._tables_by_key = {ind.key: (lowers, ranks) for ind, lowers, ranks in profile.tables}
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
        rules = self._advice(layout)
        for field, cell in zip(layout, key[: len(layout)], strict=True):
            if cell is not None and field in self.splits:
                record[field] = self.splits[field][cell - 1]
        if not any(f in record for f in self.indicators):
            return None  # nothing to grade on: the reference path words the error
        for rule, rank in zip(rules, key[len(layout):], strict=True):
            if not self._represent(rule, rank, record):
                return None  # no representative found: the reference path grades these records
        body = orjson.dumps(summary(record, self.profile))[1:] + b"\n"
        return b"{" + body, b'",' + body

    # -- advisories ----------------------------------------------------------------------------------
    def _advice(self, layout: tuple[str, ...]) -> list[Any]:
        """The advisory rules a record of these fields may trigger (one of their added figures given)."""
        return [rule for rule in self.advisories if any(f in layout for f in rule.add)]

    def _rank(self, rule: Any, values: tuple[Any, ...]) -> Any:
        """An advisory's key cell for one record: the grade rank of its indicator plus the added
        figures (grading._advisories), -1 when none of those is given, BAD when a value is."""
        if BAD in values:
            return BAD
        if not any(values[1:]):
            return -1
        total = sum(Decimal(repr(v)) if type(v) is float else v for v in values if v is not None)
        return band_rank(*self._tables_by_key[rule.indicator], total)

    def _represent(self, rule: Any, rank: Any, record: dict[str, Any]) -> bool:
        """Adjust a representative record so the advisory's sum lands in grade rank ``rank``, keeping
        every field in its cell (False when that cannot be done: the reference path then)."""
        added = [f for f in rule.add if f in record]
        if rank == -1:
            return not any(record[f] for f in added)
        total = sum(record.get(f) or 0 for f in (rule.indicator, *rule.add))
        lowers, ranks = self._tables_by_key[rule.indicator]
        have = band_rank(lowers, ranks, total)
        if have == rank:
            return True
        bump = [f for f in added if record[f]]
        if have > rank or not bump:
            return False
        field = bump[-1]
        target = min(lo for lo, r in zip(lowers, ranks, strict=True) if r == rank)
        value = record[field] + _plain(Decimal(target)) - total
        if value > self.count_ceiling or bisect_right(self.splits[field], value) != bisect_right(
                self.splits[field], record[field]):
            return False
        record[field] = value
        return True

    def _advice_cols(self, layout: tuple[str, ...], cols: list[list[Any]], rules: list[Any]) -> list[list[Any]]:
        """One key column per advisory rule: ``_rank`` of each record's figures."""
        out = []
        for rule in rules:
            fields = (rule.indicator, *rule.add)
            values = [list(map(self.count if self.kinds[f] == "count" else self.amount, cols[layout.index(f)]))
                      if f in layout else [None] * len(cols[0]) for f in fields]
            out.append([self._rank(rule, v) for v in zip(*values, strict=True)])
        return out

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
        elif kind == "amount" and str in types and self.fen_floats_ok:
            cells, odd = self._yuan_text(field, values) if len(types) == 1 else self._some_text(field, values)
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
        """Cells of a column of money as text (CSV, or JSON strings): plain ones ("4999999",
        "4999999.99") and ones in 万/亿 ("523.45万", "1.2亿元", at most a fen's precision) read as
        float(text) of their yuan, the unit written as an exponent ("523.45e4"): the float is the
        exact value correctly rounded, exact enough below 2**47 (see fen_floats_ok); others are odd.
        A cell's shape (digits as 9) says which it is, so each distinct shape is judged once."""
        shapes = "\n".join(values).encode().translate(_SHAPE).split(b"\n")
        if len(shapes) != len(values):  # a cell holds a line break: one by one
            return [BAD] * len(values), list(range(len(values)))
        kinds = _SHAPES
        for shape in set(shapes).difference(kinds):
            if len(kinds) > 4096:  # bounded whatever the data
                kinds.clear()
            kinds[shape] = _yuan_shape(shape)
        bad = [shape for shape in set(shapes) if kinds[shape] is None]
        odd: list[int] = []
        work = values
        if bad:
            work = values.copy()
            for shape in bad:
                odd += _positions(shapes, shape)
            for i in odd:
                work[i] = "0"
        if any(map(kinds.__getitem__, set(shapes))):  # some in 万/亿 or with 元: units as exponents
            text = "\n".join(work)
            for unit, exponent in _UNIT_EXPONENTS:
                text = text.replace(unit, exponent)
            work = text.split("\n")
        ranges = self._ranges[field]
        cells = list(map(bisect_right, repeat(ranges), map(float, work)))
        odd += _positions(cells, len(ranges))  # past the ceiling (none is below zero: no sign)
        if field not in self.splits:
            cells = [1] * len(cells)
        return cells, odd

    def _some_text(self, field: str, values: list[Any]) -> tuple[list[Any], list[int]]:
        """Cells of a column of money mixing text and other values (JSON numbers and strings): the
        text by ``_yuan_text``, the rest by ``_cells``."""
        at = _positions(list(map(type, values)), str)
        texts = [values[i] for i in at]
        work = values.copy()
        for i in at:
            work[i] = 0
        cells, odd = self._cells(field, "amount", work, set(map(type, work)))
        text_cells, text_odd = self._yuan_text(field, texts)
        for i, c in zip(at, text_cells, strict=True):
            cells[i] = c
        odd = [i for i in odd if type(values[i]) is not str] + [at[j] for j in text_odd]
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
               objects: bool = False, cols: list[list[Any]] | None = None) -> bytes:
        """The output of a block: every record's line, in input order, as one bytes.

        ``records`` are parsed JSON values (``objects``: known to be all dicts), or CSV rows with
        ``layout`` their header (``cols``: their columns, when already split). Records the
        fast path leaves (bad or odd values, other layouts, not objects, blank rows) get their lines
        from ``fill(positions)``: the reference path, called once per block with the positions.
        """
        n = len(records)
        if not n:
            return b""
        if cols is not None:
            pass
        elif layout is None:  # JSON values: one layout (the common case), or grouped by layout
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
        rules = self._advice(table.layout)
        if rules:
            key_cols += self._advice_cols(layout, cols, rules)
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
# A money cell's shape: digits (at most MAX_DIGITS), a fraction, a unit, 元. The fraction may
# hold at most a fen's digits in that unit (万: 6); past that the reference parser says more.
_YUAN_SHAPE = re.compile("9{1,%d}(?:\\.(9+))?(万亿|万|亿)?(元)?".encode() % MAX_DIGITS)
_UNIT_DIGITS = {None: 0, "万".encode(): 4, "亿".encode(): 8, "万亿".encode(): 12}
# The units as exponents, longest first ("万亿" before "万"); 元 after a figure adds nothing.
_UNIT_EXPONENTS = (("万亿", "e12"), ("亿", "e8"), ("万", "e4"), ("元", ""))
_SHAPES: dict[bytes, bool | None] = {}  # shape -> None (odd), False (plain yuan), True (unit or 元)


def _yuan_shape(shape: bytes) -> bool | None:
    """Whether a money cell of this shape is read as float(text): None (no: odd), False (plain
    yuan, "9999.99"), True (in 万/亿 or with 元: its units become an exponent first)."""
    m = _YUAN_SHAPE.fullmatch(shape)
    if m is None or len(m[1] or b"") > _UNIT_DIGITS[m[2]] + 2:
        return None
    return bool(m[2] or m[3])


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

