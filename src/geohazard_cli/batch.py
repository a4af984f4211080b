"""`classify --batch`: grade every record of a JSONL or CSV file, streaming, one JSON line out each.

Output line per record (in input order): ``{"id", "grade", "grade_name", "response_level",
"deciding", "not_reported", "lower_bound", "skip_level_report"}`` (``id`` only when the record
has one; ``skip_level_report`` is true, false, or null when it cannot be decided yet because
figures that could make it apply are not reported, as ``classify`` says 尚不能确定); a bad
record yields ``{"line": N, "error": "..."}`` in its place and the rest go on.
Memory stays flat: input is read in blocks of a few thousand records and each block's output is
written before the next is read.

Two paths give the same bytes (tests/test_batch.py checks this on generated records):

- the reference path, ``summary()``: ``intake.parse_incident`` then ``grading.grade``, per record;
- the fast path, ``FastGrader``: a block at a time, column by column. A record's output depends
  only on which band each indicator falls in and whether each casualty figure is above zero, so
  each value is checked and placed by ``bisect`` on the profile's bounds, and the rest of the line
  is looked up in a table filled *by the reference path* (on a representative record of that
  cell) the first time a combination occurs. Only plain values take the fast path: whole numbers,
  JSON numbers with at most two decimals, ASCII digit strings, printable ids. Anything else (money
  as 500万, full-width digits, text fields, times, any bad value) goes through the reference path
  record by record, so messages are the reference's own.

Money stays exact: integers and decimal strings are compared exactly; a JSON float ``f`` takes the
fast path only when it provably has at most two decimals (``round(f*100)/100 == f``) and the bounds
and ceiling are whole numbers below 2**53, where comparing ``f`` with a bound is the same as
comparing ``Decimal(repr(f))`` (what the reference path does) with it.
"""

from __future__ import annotations

import math
import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import compress, repeat
from operator import ge, is_, itemgetter, sub, truediv
from pathlib import Path
from typing import IO, Any

from geohazard_cli.errors import GeohazardError, InputError
from geohazard_cli.rules import Profile

BLOCK_BYTES = 1 << 18  # JSONL read size: ~3,000 records of ~90 bytes
CSV_ROWS = 2048  # CSV rows per block
MAX_TEXT = 2000  # intake.MAX_TEXT (kept in step by a test)
MAX_DIGITS = 30  # longer digit strings are left to the reference path (past any ceiling anyway)


def summary(record: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """Grade one raw record into its batch output line (the slow, reference path)."""
    from geohazard_cli.grading import grade
    from geohazard_cli.intake import parse_incident

    a = grade(parse_incident(record, profile), profile)
    out: dict[str, Any] = {}
    if a.incident.id is not None:
        out["id"] = a.incident.id
    out.update(
        grade=a.grade, grade_name=a.grade_name, response_level=a.response_level, deciding=a.deciding,
        not_reported=a.not_reported, lower_bound=a.lower_bound,
        skip_level_report=_tri_state(a.skip_level_report.applies, a.skip_level_report.undetermined),
    )
    return out


def _tri_state(applies: bool, undetermined: list[str]) -> bool | None:
    return True if applies else (None if undetermined else False)


def reference_line(lineno: int, record: Any, profile: Profile) -> tuple[bytes, bool]:
    """One record through the reference path: its output line and whether it was bad."""
    import orjson

    try:
        if isinstance(record, GeohazardError):
            raise record
        if not isinstance(record, dict):
            raise InputError("a record must be an object of fields")
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
        self.kinds = {"id": "id", **dict.fromkeys(COUNT_FIELDS, "count"),
                      **dict.fromkeys(AMOUNT_FIELDS, "amount")}
        self._allowed: dict[str, tuple[type, ...]] = {"count": (int,),
                                                      "amount": (int, float) if self.floats_ok else (int,)}
        # bisect ranges per field: [0, split points..., just past the ceiling]
        self._ranges: dict[str, list[Any]] = {}
        for field, kind in self.kinds.items():
            if kind == "id":
                continue
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
            return None if not v.strip() else BAD
        return None if v is None else BAD

    def amount(self, v: Any) -> Any:
        """An amount in yuan as the fast path takes it: int, float, Decimal, None or BAD."""
        t = type(v)
        if t is int:
            return v if 0 <= v <= self.amount_ceiling else BAD
        if t is float:
            if self.floats_ok and 0 <= v <= self.amount_ceiling and round(v * 100) / 100 == v:
                return v
            return BAD
        if t is str:
            if len(v) <= MAX_DIGITS and v.isascii():
                if v.isdigit():
                    n = int(v)
                    return n if n <= self.amount_ceiling else BAD
                whole, dot, frac = v.partition(".")
                if dot and whole.isdigit() and frac.isdigit() and len(frac) <= 2:
                    d = Decimal(v)
                    return d if d <= self.amount_ceiling else BAD
            return None if not v.strip() else BAD
        return None if v is None else BAD

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
        import orjson

        record: dict[str, Any] = {}
        for field, cell in zip(layout, key, strict=True):
            if cell is not None and field in self.splits:
                record[field] = self.splits[field][cell - 1]
        if not any(f in record for f in self.indicators):
            return None  # nothing to grade on: the reference path words the error
        body = orjson.dumps(summary(record, self.profile))[1:] + b"\n"
        return b"{" + body, b"," + body

    # -- a block of records ----------------------------------------------------------------------------
    def column(self, field: str, values: list[Any]) -> list[Any]:
        """Cell numbers (or None, BAD) for one column; for ids, the text to echo.

        The common case is checked and placed by C-level calls over the whole column; values off
        it ("odd": other types, out of range, more than two decimals) are found by C-level
        searches, given a placeholder, and then checked one by one.
        """
        kind = self.kinds[field]
        if kind == "id":
            if (set(map(type, values)) == {str} and all(map(str.isprintable, values))
                    and max(map(len, values), default=0) <= MAX_TEXT and all(values)
                    and list(map(str.strip, values)) == values):
                return values
            return list(map(self.ident, values))
        check = self.count if kind == "count" else self.amount
        ranges = self._ranges[field]
        allowed = self._allowed[kind]
        orig = values
        kinds = list(map(type, values))
        types = set(kinds)
        fen_text = False  # floats made from text already checked to have at most two decimals
        if str in types:  # CSV cells, or numbers quoted in JSON: plain digits become ints
            if (types == {str} and all(values) and max(map(len, values)) <= MAX_DIGITS
                    and "".join(values).isascii() and "".join(values).isdigit()):
                values = list(map(int, values))
            elif kind == "amount" and types == {str} and self.fen_floats_ok and _yuan_with_fen(values):
                values = list(map(float, values))  # exact enough: see fen_floats_ok
                fen_text = True
                types = {float}
                kinds = [float] * len(values)
            else:
                values = [int(v) if type(v) is str and len(v) <= MAX_DIGITS and v.isascii() and v.isdigit()
                          else v for v in values]
            kinds = list(map(type, values))
            types = set(kinds)
        odd: list[int] = []
        if not types.issubset(allowed):
            for t in types.difference(allowed):
                odd += _positions(kinds, t)
            values = values.copy() if values is orig else values
            for i in odd:
                values[i] = 0
        if float in types and not fen_text:  # at most two decimals, exactly (see the module docstring)
            floats = list(compress(values, map(is_, kinds, repeat(float))))
            try:
                back = list(map(truediv, map(round, map((100.0).__mul__, floats)), repeat(100)))
            except (ValueError, OverflowError):  # nan, inf: not from orjson, but be safe
                back = [None] * len(floats)
            if back != floats:
                where = [i for i, k in enumerate(kinds) if k is float]
                inexact = [i for i, a, b in zip(where, back, floats, strict=True) if a != b]
                values = values.copy() if values is orig else values
                for i in inexact:
                    values[i] = 0
                odd += inexact
        # ranges: [0, split points..., ceiling + 1]; cell 0 is below zero, cell len(ranges) past the ceiling
        cells: list[Any] = list(map(bisect_right, repeat(ranges), values))
        last = len(ranges)
        odd += _positions(cells, 0) + _positions(cells, last)
        cells = cells if field in self.splits else [1] * len(cells)
        splits = self.splits.get(field)
        for i in odd:
            c = check(orig[i])
            cells[i] = c if c is None or c is BAD else (bisect_right(splits, c) if splits else 1)
        return cells

    def block(self, records: list[Any], layout: tuple[str, ...] | None = None) -> list[bytes | None]:
        """Output lines for records sharing one layout (dicts, or CSV rows with ``layout`` their header).

        None marks a record for the reference path.
        """
        import orjson

        n = len(records)
        if not n:
            return []
        if layout is None:  # dicts; mixed layouts are grouped first
            first = records[0]
            lay = tuple(first) if type(first) is dict else None
            if lay is not None and set(map(type, records)) == {dict} and set(map(len, records)) == {len(lay)}:
                table = self.table(lay)
                if table is None:
                    return [None] * n
                try:  # same size and every key of the first: the same keys
                    cols = [list(map(itemgetter(f), records)) for f in lay]
                except KeyError:
                    return self._grouped(records)
                return self._assemble(table, lay, cols, n, orjson.dumps)
            return self._grouped(records)
        table = self.table(layout)
        if table is None:
            return [None] * n
        cols = [list(c) for c in zip(*records, strict=True)]
        return self._assemble(table, layout, cols, n, orjson.dumps)

    def _grouped(self, records: list[Any]) -> list[bytes | None]:
        """Records of mixed layouts (or not objects): each layout's records as one block."""
        out: list[bytes | None] = [None] * len(records)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, r in enumerate(records):
            if type(r) is dict:
                groups.setdefault(tuple(r), []).append(i)
        for idx in groups.values():
            lines = self.block([records[i] for i in idx])  # one layout: never comes back here
            for i, line in zip(idx, lines, strict=True):
                out[i] = line
        return out

    def _assemble(self, table: _Lines, layout: tuple[str, ...], cols: list[list[Any]], n: int,
                  dumps: Callable[[Any], bytes]) -> list[bytes | None]:
        cells = [self.column(f, c) for f, c in zip(layout, cols, strict=True)]
        ids: list[Any] | None = None
        if "id" in layout:
            pos = layout.index("id")
            ids = cells[pos]
            cells[pos] = [1] * n  # ids do not shape the tail
            bad_ids = _positions(list(map(is_, ids, repeat(BAD))), True)
            if bad_ids:
                for i in bad_ids:
                    cells[pos][i] = BAD
        tails: list[Any] = list(map(table.__getitem__, zip(*cells, strict=True)))
        holes = _positions(list(map(is_, tails, repeat(None))), True)
        if ids is None:
            lines: list[bytes | None] = list(map(itemgetter(0), _filled(tails, holes)))
            for i in holes:
                lines[i] = None
            return lines
        blank = _positions(list(map(is_, ids, repeat(None))), True)
        # records with no id echo the line without one; the others get '{"id":' + id + tail
        holes_and_blank = sorted(set(holes) | set(blank))
        ids_f = ids.copy() if holes_and_blank else ids
        for i in holes_and_blank:
            ids_f[i] = ""
        heads = map(bytes.__add__, repeat(b'{"id":'), map(dumps, ids_f))
        lines = list(map(bytes.__add__, heads, map(itemgetter(1), _filled(tails, holes))))
        for i in blank:
            lines[i] = tails[i][0] if tails[i] is not None else None
        for i in holes:
            lines[i] = None
        return lines


def _filled(tails: list[Any], holes: list[int]) -> list[Any]:
    if not holes:
        return tails
    tails = tails.copy()
    for i in holes:
        tails[i] = (b"", b"")
    return tails


def _yuan_with_fen(values: list[str]) -> bool:
    """Every cell is ASCII digits with at most one dot, followed by one or two digits (C-level passes)."""
    if max(map(len, values), default=0) > MAX_DIGITS:
        return False
    undotted = list(map(str.replace, values, repeat("."), repeat(""), repeat(1)))
    joined = "".join(undotted)
    if not (all(undotted) and joined.isascii() and joined.isdigit()):
        return False
    dots = list(map(str.find, values, repeat(".")))
    if 0 in dots:  # ".5": no yuan digits
        return False
    after = list(map(sub, map(len, values), dots))  # decimals + 1 where dotted
    return max(compress(after, map(ge, dots, repeat(1))), default=2) <= 3 and 1 not in after


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
    import orjson

    if _LOSSY.search(line):
        import json

        try:
            return json.loads(line, parse_float=Decimal, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            pass  # not valid JSON: let orjson say so, in its words
    return orjson.loads(line)


def _blocks_jsonl(fh: IO[bytes]) -> Iterator[tuple[int, list[bytes], list[Any] | None, bool]]:
    """(first line number, raw lines, parsed records or None when some line did not parse,
    whether the last line ended with a newline)."""
    import orjson

    loads = orjson.loads
    lineno = 1
    carry = b""
    while True:
        chunk = fh.read(BLOCK_BYTES)
        if not chunk:
            break
        data = carry + chunk
        lines = data.split(b"\n")
        carry = lines.pop()
        if not lines:
            continue
        try:
            parsed: list[Any] | None = list(map(loads, lines))
        except orjson.JSONDecodeError:  # a blank or bad line: the reference path sorts it out
            parsed = None
        if parsed is not None and _maybe_lossy(data):
            for i, line in enumerate(lines):
                if _LOSSY.search(line):
                    parsed[i] = _load(line)
        yield lineno, lines, parsed, True
        lineno += len(lines)
    if carry:
        yield lineno, [carry], None, False


def _parse_line(line: bytes, last: bool) -> Any:
    """As the reference reader parses one line (with its newline, as iterating a file gives it)."""
    import orjson

    try:
        return _load(line if last else line + b"\n")
    except orjson.JSONDecodeError as exc:
        return InputError(f"invalid JSON ({str(exc).split(':')[0]})")


def _csv_header(reader: Any, name: str) -> list[str] | None:
    from geohazard_cli.models import ALL_FIELDS

    try:
        header = next(reader)
    except StopIteration:
        return None
    header = [h.strip() for h in header]
    for col in header:
        if col not in ALL_FIELDS:
            known = ", ".join(ALL_FIELDS)
            raise InputError(f"{name}:1: column {col!r} is not a known field (known: {known})")
    return header


def _csv_record(header: list[str], row: list[str]) -> Any:
    if len(row) != len(header):
        return InputError(f"has {len(row)} cells, the header has {len(header)}")
    return {k: (v if v.strip() else None) for k, v in zip(header, row, strict=True)}


def _csv_open(fh: IO[bytes]) -> Any:
    """A csv reader over the bytes, as the csv module wants its text: newline="" (so line breaks
    inside quoted cells survive and only \\n, \\r, \\r\\n end a line), UTF-8 with or without BOM."""
    import csv
    import io

    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="strict", newline="")
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


def run_batch(path: Path, profile: Profile, out: IO[bytes] | None = None) -> int:
    """Grade every record (fast path); return 0, or raise (exit 2) at the end when any was bad."""
    check_suffix(path)
    sink = out if out is not None else sys.stdout.buffer
    name = str(path)
    fh = _open(path)
    counts = [0, 0]  # bad, total
    try:
        try:
            if path.suffix.lower() == ".csv":
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
    import orjson

    check_suffix(path)
    sink = out if out is not None else sys.stdout.buffer
    name = str(path)
    fh = _open(path)
    bad = total = 0
    try:
        reader = _records_csv(fh, name) if path.suffix.lower() == ".csv" else _records_jsonl(fh)
        try:
            for lineno, record in reader:
                total += 1
                try:
                    if isinstance(record, GeohazardError):
                        raise record
                    if not isinstance(record, dict):
                        raise InputError("a record must be an object of fields")
                    line = summary(record, profile)
                except GeohazardError as exc:
                    bad += 1
                    line = {"line": lineno, "error": str(exc)}
                sink.write(orjson.dumps(line) + b"\n")
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
    import orjson

    for lineno, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            yield lineno, _load(line)
        except orjson.JSONDecodeError as exc:
            yield lineno, InputError(f"invalid JSON ({str(exc).split(':')[0]})")


def _records_csv(fh: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    reader = _csv_open(fh)
    header = _csv_header(reader, name)
    if header is None:
        return
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        yield reader.line_num, _csv_record(header, row)


def _run_jsonl(fh: IO[bytes], profile: Profile, sink: IO[bytes], counts: list[int]) -> None:
    grader = FastGrader(profile)
    for first, lines, parsed, terminated in _blocks_jsonl(fh):
        lines_out: list[bytes | None] = grader.block(parsed) if parsed is not None else [None] * len(lines)
        if None not in lines_out:
            counts[1] += len(lines_out)
            sink.write(b"".join(lines_out))  # type: ignore[arg-type]
            continue
        for i in _positions(lines_out, None):
            if parsed is not None:
                record = parsed[i]
            else:
                raw = lines[i]
                if not raw.strip():
                    lines_out[i] = b""
                    continue
                record = _parse_line(raw, not terminated and i == len(lines) - 1)
            lines_out[i], was_bad = reference_line(first + i, record, profile)
            counts[0] += was_bad
        counts[1] += len(lines_out) - lines_out.count(b"")
        sink.write(b"".join(lines_out))  # type: ignore[arg-type]


def _run_csv(fh: IO[bytes], name: str, profile: Profile, sink: IO[bytes], counts: list[int]) -> None:
    from itertools import islice

    reader = _csv_open(fh)
    header = _csv_header(reader, name)
    if header is None:
        return
    layout = tuple(header)
    width = len(header)
    grader = FastGrader(profile)
    while True:
        before = reader.line_num
        rows = list(islice(reader, CSV_ROWS))
        if not rows:
            break
        if reader.line_num - before == len(rows):  # one line a row: numbers follow on
            linenos: Any = range(before + 1, before + 1 + len(rows))
        else:  # some quoted cell spans lines
            linenos = []
            at = before
            for row in rows:
                at += 1 + _breaks(row)
                linenos.append(at)
        lines_out: list[bytes | None]
        lines_out = grader.block(rows, layout) if all(map(width.__eq__, map(len, rows))) else [None] * len(rows)
        for i in _positions(lines_out, None):
            row = rows[i]
            if not any(cell.strip() for cell in row):
                lines_out[i] = b""
                continue
            lines_out[i], was_bad = reference_line(linenos[i], _csv_record(header, row), profile)
            counts[0] += was_bad
        counts[1] += len(lines_out) - lines_out.count(b"")
        sink.write(b"".join(lines_out))  # type: ignore[arg-type]
