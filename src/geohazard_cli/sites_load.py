"""Reading the hazard-site register: ``register_chunks`` (every format), ``read_register`` (every
site and problem), ``load_sites`` (a register, or the first fatal problem). A register holds up
to 300,000 sites (the national 群测群防 scale): a CSV register is read in chunks of rows and
validated a column at a time.

``csv_chunks(path, ...)`` yields each chunk's sites and problems, so memory stays bounded by a chunk
(plus the ids seen, for duplicates). A chunk is checked column by column with plain built-ins
(``zip(*rows)``, ``map``, sets of distinct values, one regular expression over a whole column);
the fast path never words a problem: any chunk it is not sure of (a bad value, a placeholder, a
blank row, a short row, a cell it does not recognise) goes to ``sites.parse_rows``, the careful
path, row by row, which gives the messages. So both paths give the same sites and problems
(``tests/test_sites_load.py`` checks it with hypothesis).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import compress, islice, repeat
from operator import not_
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from geohazard_cli.contacts import _PLACEHOLDER
from geohazard_cli.errors import ConfigError, InputError
from geohazard_cli.money import WAN
from geohazard_cli.sites import (
    FIELD,
    KEYS,
    Block,
    Bounds,
    Register,
    Site,
    _amount,
    _count,
    _Streets,
    _text,
    csv_rows,
    degree_texts,
    geojson_rows,
    header_keys,
    parse_rows,
    yaml_rows,
)

if TYPE_CHECKING:
    from geohazard_cli.contacts import Problem, Roster
    from geohazard_cli.rules import Profile

CHUNK = 256
# A valid number as phone_problem accepts it (ASCII only; anything else goes the careful way):
# a mobile, or a fixed line with an optional area code.
_PHONE = re.compile(r"(1[3-9][0-9]{9})|(?:(0[0-9]{2,3})-?)?([2-9][0-9]{6,7})")
_BAD = object()
_WHOLE_WAN = re.compile(r"[0-9]{1,16}万")


class _Fast:
    """What the column checks of one register share: lookups and memos of distinct values."""

    def __init__(self, profile: Profile, roster: Roster, bounds: Bounds) -> None:
        self.streets = _Streets(roster)
        self.hazards = profile.hazard_lookup
        self.bounds = bounds
        self.area, self.length = roster.area_code, roster.local_number_length
        # numbers already in their dialled form (a mobile, or 0xxx-local): a whole column in one match
        area = re.escape(self.area or "-")
        same = "1[3-9][0-9]{9}|(?!" + area + "-)0[0-9]{2,3}-[2-9][0-9]{6,7}"
        if self.area is not None and self.length is not None:
            same += f"|{area}-[2-9][0-9]{{{self.length - 1}}}"
        self.dialled = re.compile(f"(?:{same})(?:\n(?:{same}))*")
        self.memo: dict[str, dict[str, Any]] = {k: {} for k in ("hazard", "street", "households", "threatened",
                                                                "potential_loss", "loss_text")}

    def _memo(self, kind: str, col: Sequence[str], fn: Callable[[str], Any]
              ) -> tuple[dict[str, Any], set[str]] | None:
        """The memo of ``kind`` (``fn`` of each distinct value, computed once) and the column's
        distinct cells; None when any cell is _BAD."""
        memo = self.memo[kind]
        if len(memo) > 100_000:
            memo.clear()
        distinct = set(col)
        for v in distinct.difference(memo):
            try:
                memo[v] = fn(v)
            except (ValueError, ArithmeticError, InputError):
                memo[v] = _BAD
        # (`in` compares by identity first: _BAD is only itself)
        return None if _BAD in map(memo.__getitem__, distinct) else (memo, distinct)

    def _lookup(self, kind: str, col: Sequence[str], fn: Callable[[str], Any]) -> list[Any] | None:
        """``fn`` of each cell; None when any is _BAD."""
        got = self._memo(kind, col, fn)
        return None if got is None else list(map(got[0].__getitem__, col))

    def _pair(self, kind: str, col: Sequence[str], fn: Callable[[str], Any]) -> tuple[list[Any], list[Any]] | None:
        """A lookup whose ``fn`` gives a pair (key, name), as two columns."""
        got = self._memo(kind, col, fn)
        if got is None:
            return None
        memo, distinct = got
        first, second = {v: memo[v][0] for v in distinct}, {v: memo[v][1] for v in distinct}
        return list(map(first.__getitem__, col)), list(map(second.__getitem__, col))

    def hazard(self, v: str) -> Any:
        h = self.hazards.get(unicodedata.normalize("NFKC", v).strip().casefold())
        return _BAD if h is None else (h.key, h.name)

    def street(self, v: str) -> Any:
        t = _text(v)
        u = self.streets.find(t) if t else None
        return _BAD if u is None else (u.name, u.key)

    @staticmethod
    def count(v: str) -> int | None:
        return None if v == "" else _count(v)

    @staticmethod
    def amount(v: str) -> Decimal | None:
        return None if v == "" else _amount(v)

    def phones(self, col: Sequence[str] | None, n: int) -> Sequence[str | None] | None:
        if col is None:
            return [None] * n
        raw = "\n".join(col)
        if self.dialled.fullmatch(raw) and raw.count("\n") == n - 1:
            return col  # every cell a number as dialled, nothing to strip
        cells = _texts(col, n)
        given = cast("list[str]", cells) if None not in cells else [t for t in cells if t is not None]
        text = "\n".join(given)
        if not text.isascii() or _PLACEHOLDER.search(text):
            return None
        if self.dialled.fullmatch(text) and text.count("\n") == len(given) - 1:
            return cells
        matches = list(map(_PHONE.fullmatch, given))
        if None in matches:
            return None
        area_code, length = self.area, self.length
        dial: dict[str, str] = {}
        for p, m in zip(given, matches, strict=True):
            assert m is not None
            if m[1] is not None:
                dial[p] = p
                continue
            area, local = m[2] or area_code, m[3]
            if area_code is not None and length is not None and area == area_code and len(local) != length:
                return None
            dial[p] = f"{area}-{local}"
        return [None if t is None else dial[t] for t in cells]


def _texts(col: Sequence[str] | None, n: int, texts: dict[int, Sequence[str]] | None = None, field: int = -1
           ) -> list[str | None]:
    """Cells stripped, an empty one None (a column with no empty cell: no per-cell Python step; it
    is then its own text, kept in ``texts`` under ``field``)."""
    if col is None:
        return [None] * n
    cells: list[Any] = list(map(str.strip, col))
    if all(cells):
        if texts is not None:
            texts[field] = cells
        return cells
    return [t or None for t in cells]


def takes_fast(keys: list[str]) -> bool:
    """Whether the fast path can read rows under this header: known columns, each once."""
    return len(set(keys)) == len(keys) and set(keys) <= set(KEYS)


def fast_chunk(keys: list[str], rows: list[list[str]], f: _Fast, seen: dict[str, int], start: int
               ) -> list[Site] | None:
    """A chunk's sites when every row is clean (what parse_rows would accept without a word), else
    None (the careful path then gives the problems). ``seen`` gains the chunk's ids."""
    block = fast_block(keys, rows, f, seen, start)
    return None if block is None else block.sites()


def fast_block(keys: list[str], rows: list[list[str]], f: _Fast, seen: dict[str, int], start: int
               ) -> Block | None:
    """``fast_chunk``'s sites as a Block of columns (one per Site field), or None."""
    n, width = len(rows), len(keys)
    if not n or set(map(len, rows)) != {width} or not all(map(any, rows)):
        return None
    return columns_block(dict(zip(keys, zip(*rows, strict=True), strict=True)), n, f, seen, start)


def split_block(keys: list[str], lines: list[str], f: _Fast, seen: dict[str, int], start: int) -> Block | None:
    """``fast_block`` of lines with no quote and no carriage return (each line's cells are then
    its text split at commas, as the csv module reads it): the lines joined and split once, each
    column a slice, no list per row."""
    n, width = len(lines), len(keys)
    if not n or list(map(str.count, lines, repeat(","))).count(width - 1) != n or "," * (width - 1) in lines:
        return None  # (a short or long row, or a blank one: the careful path words it)
    flat = ",".join(lines).split(",")
    return columns_block(dict(zip(keys, (flat[i::width] for i in range(width)), strict=True)), n, f, seen, start)


def columns_block(raw: dict[str, Sequence[str]], n: int, f: _Fast, seen: dict[str, int], start: int) -> Block | None:
    """A chunk's cells by key (``n`` rows of the header's width, none blank) as a Block, or None."""
    texts: dict[int, Sequence[str]] = {}
    cols = fast_columns(raw, n, f, seen, start, texts)
    if cols is None:
        return None
    texts.update((FIELD[k], t) for k in ("lon", "lat") if (t := degree_texts(raw[k])) is not None)
    return Block(cols, texts=texts)


# Whole numbers as str() writes an int or a whole Decimal: no sign, no leading zero, ASCII digits,
# at most 18 (a longer one goes the memo's way, where a problem is caught and the careful path
# words it: int() refuses over 4,300 digits).
_CANONICAL = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\n(?:0|[1-9][0-9]{0,17}))*")


def _canonical(col: Sequence[str]) -> bool:
    """Every cell a whole number written as str() writes it (so the cells are their own text)."""
    joined = "\n".join(col)
    return _CANONICAL.fullmatch(joined) is not None and joined.count("\n") == len(col) - 1


def fast_columns(cols: dict[str, Sequence[str]], n: int, f: _Fast, seen: dict[str, int], start: int,
                 texts: dict[int, Sequence[str]] | None = None) -> list[Sequence[Any]] | None:
    """A chunk's columns by key -> a Block's columns (one per Site field), or None. ``texts`` gains
    a field's cells as CSV writes them (``Block.texts``) where they are known on the way: a text
    column with no empty cell, a column of whole numbers written as str() writes them."""
    get = cols.get
    texts = {} if texts is None else texts
    ids = list(map(str.strip, cols["id"]))
    names = list(map(str.strip, cols["name"]))
    if not all(ids) or not all(names):
        return None
    new = dict(zip(ids, range(start, start + n), strict=True))
    if len(new) != n or not seen.keys().isdisjoint(new):
        return None
    hazards = f._pair("hazard", cols["hazard_type"], f.hazard)
    streets = f._pair("street", cols["street"], f.street)
    if hazards is None or streets is None:
        return None
    try:
        lons, lats = list(map(float, cols["lon"])), list(map(float, cols["lat"]))
    except ValueError:
        return None
    b = f.bounds
    for values, lo, hi in ((lons, b.west, b.east), (lats, b.south, b.north)):
        total = sum(values)
        if total != total or not (lo <= min(values) and max(values) <= hi):  # a NaN makes the sum NaN
            return None
    figures: list[list[Any]] = []
    for key, fn in (("households", f.count), ("threatened", f.count), ("potential_loss", f.amount)):
        col = get(key)
        if col is None:
            figures.append([None] * n)
            continue
        if key == "potential_loss":
            memo, written = f.memo[key], f.memo["loss_text"]
            if len(memo) > 100_000:
                memo.clear()
                written.clear()
            try:
                if all(map(str.isdigit, col)):
                    figures.append(list(map(Decimal, col)))
                    if _canonical(col):
                        texts[FIELD[key]] = col
                    continue
                odd = set(compress(col, map(not_, map(str.isdigit, col))))  # 500万, 1.2亿, blank
                for v in odd.difference(memo):
                    # 500万 (whole 万, the register's usual form) as parse_amount reads it: exact, exponent 0
                    d = memo[v] = Decimal(v[:-1]) * WAN if _WHOLE_WAN.fullmatch(v) else fn(v)
                    written[v] = "" if d is None else str(d)
                if "" in odd:  # (a blank cell, None: the one value that is no Decimal)
                    out = [Decimal(v) if v.isdigit() else memo[v] for v in col]
                else:  # the odd ones through their Decimal (as is), the digits parsed
                    out = list(map(Decimal, map(dict(zip(odd, map(memo.__getitem__, odd), strict=True)).get, col, col)))
                    text = list(map(dict(zip(odd, map(written.__getitem__, odd), strict=True)).get, col, col))
                    if _canonical(text):  # (the digits as written, the odd ones as their Decimal writes)
                        texts[FIELD[key]] = text
            except (ValueError, ArithmeticError, InputError):
                return None
        elif _canonical(col):  # (what _count reads as the number the digits write)
            out = list(map(int, col))
            texts[FIELD[key]] = col
        else:
            got = f._lookup(key, col, fn)
            if got is None:
                return None
            out = got
        figures.append(out)
    people: list[list[str | None]] = []
    for key in ("responsible_name", "monitor_name"):
        col = get(key)
        if col is not None and _PLACEHOLDER.search("\n".join(col)):
            return None
        people.append(_texts(col, n, texts, FIELD[key]))
    phones = [f.phones(get(k), n) for k in ("responsible_phone", "monitor_phone")]
    if phones[0] is None or phones[1] is None:
        return None
    for k, dialled in zip(("responsible_phone", "monitor_phone"), phones, strict=True):
        if dialled is not None and dialled is get(k):  # (every cell a number as dialled)
            texts[FIELD[k]] = cast("Sequence[str]", dialled)
    seen.update(new)
    h_key, h_name = hazards
    s_name, s_key = streets
    texts.update(((FIELD["id"], ids), (FIELD["name"], names), (FIELD["hazard_type_name"], h_name),
                  (FIELD["street"], s_name)))
    rest = (_texts(get(k), n, texts, FIELD[k]) for k in ("evacuation_route", "evacuation_place", "source"))
    return [ids, names, h_key, h_name, s_name, s_key, lons, lats, *figures, people[0], phones[0], people[1],
            phones[1], *rest]


def careful_chunk(keys: list[str], rows: list[list[str]], lines: Sequence[int], file: str, profile: Profile,
                  roster: Roster, bounds: Bounds, seen: dict[str, int], start: int, streets: _Streets
                  ) -> tuple[Block, list[Problem], int]:
    """A chunk through the careful path (``sites.parse_rows``), each row with its line: its sites,
    its problems, and how many rows it numbered (blank rows are not numbered)."""
    dicts = [(ln, {k: v for k, v in zip(keys, cells, strict=False) if v != "" or k not in KEYS})
             for ln, cells in zip(lines, rows, strict=True) if any(cells)]
    sites, problems = parse_rows(dicts, file, profile, roster, bounds, seen=seen, start=start, streets=streets)
    return Block(sites=sites), problems, len(dicts)


def _terminators(cells: list[str]) -> int:
    """Line ends inside a row's cells (a quoted cell may hold them): how csv.reader counts lines."""
    return sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in cells)


def csv_chunks(path: Path, profile: Profile, roster: Roster, bounds: Bounds,
               error: type[ConfigError] | type[InputError] = ConfigError, size: int = CHUNK
               ) -> Iterator[tuple[list[Site], list[Problem]]]:
    """A CSV register's sites and problems, a chunk of rows at a time (the same as parse_rows over
    sites.csv_rows would give, in the same order)."""
    for block, problems in csv_blocks(path, profile, roster, bounds, error, size):
        yield block.sites(), problems


def csv_blocks(path: Path, profile: Profile, roster: Roster, bounds: Bounds,
               error: type[ConfigError] | type[InputError] = ConfigError, size: int = CHUNK
               ) -> Iterator[tuple[Block, list[Problem]]]:
    """``csv_chunks`` as Blocks: a chunk the fast path takes stays in columns."""
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    file, f, start = str(path), _Fast(profile, roster, bounds), 0
    seen: dict[str, int] = {}
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
            keys = header_keys(path, header, error)
            fast = takes_fast(keys)  # else every row is careful
            line = reader.line_num
            while rows := list(islice(reader, size)):
                end = reader.line_num
                block = fast_block(keys, rows, f, seen, start) if fast else None
                if block is not None:
                    start += len(rows)
                    line = end
                    yield block, []
                    continue
                if end - line == len(rows):
                    lines: Any = range(line + 1, end + 1)
                else:
                    lines, at = [], line
                    for r in rows:
                        at += 1 + _terminators(r)
                        lines.append(at)
                line = end
                block, problems, taken = careful_chunk(keys, rows, lines, file, profile, roster, bounds, seen, start,
                                                       f.streets)
                start += taken
                yield block, problems
        except StopIteration:
            raise error(f"{path}: empty; expected a header row ({', '.join(KEYS)})") from None
        except UnicodeDecodeError:
            raise error(f"{path}: is not UTF-8 text; save it as UTF-8") from None


def register_chunks(path: Path, profile: Profile, roster: Roster, bounds: Bounds
                    ) -> Iterator[tuple[list[Site], list[Problem]]]:
    """A register file's (.csv, .yaml, .geojson) sites and problems in chunks, in file order."""
    for block, problems in register_blocks(path, profile, roster, bounds):
        yield block.sites(), problems


def register_blocks(path: Path, profile: Profile, roster: Roster, bounds: Bounds
                    ) -> Iterator[tuple[Block, list[Problem]]]:
    """``register_chunks`` as Blocks (columns where the CSV fast path took a chunk)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from csv_blocks(path, profile, roster, bounds)
        return
    file = str(path)
    if suffix in (".geojson", ".json"):
        sites, problems = parse_rows(geojson_rows(path), file, profile, roster, bounds)
    else:
        from geohazard_cli.loader import read_text

        rows, line_of = yaml_rows(read_text(path), file)
        sites, problems = parse_rows(rows, file, profile, roster, bounds, line_of)
    yield Block(sites=sites), problems


def careful_register(path: Path, profile: Profile, roster: Roster, bounds: Bounds
                     ) -> tuple[list[Site], list[Problem]]:
    """A CSV register row by row through the careful path only (what the fast path must agree with)."""
    return parse_rows(csv_rows(path), str(path), profile, roster, bounds)


def read_register(path: Path, profile: Profile, roster: Roster, bounds: Bounds) -> tuple[list[Site], list[Problem]]:
    """Every site and problem of a register file (.yaml, .csv or .geojson)."""
    sites: list[Site] = []
    problems: list[Problem] = []
    for s, p in register_chunks(path, profile, roster, bounds):
        sites += s
        problems += p
    return sites, problems


class Fatal:
    """The fatal problems met while reading: the first, and how many (raised at the end)."""

    def __init__(self) -> None:
        self.first: Problem | None = None
        self.count = 0

    def add(self, problems: list[Problem]) -> list[Problem]:
        """Note the fatal ones; return the others (warnings)."""
        rest = []
        for p in problems:
            if p.fatal:
                self.first = self.first or p
                self.count += 1
            else:
                rest.append(p)
        return rest

    def raise_any(self) -> None:
        if self.first is not None:
            more = f" (and {self.count - 1} more)" if self.count > 1 else ""
            raise ConfigError(f"{self.first}{more}")


def load_sites(path: Path, profile: Profile, roster: Roster, bounds: Bounds) -> Register:
    """A register, or ConfigError naming the first fatal problem (file:line: field: what)."""
    fatal, sites, warnings = Fatal(), [], []
    for s, p in register_chunks(path, profile, roster, bounds):
        sites += s
        warnings += fatal.add(p)
    fatal.raise_any()
    return Register(str(path), sites, warnings)
