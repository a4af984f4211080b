"""Grading the hazard-site register: each site as an incident there would be graded (威胁人数 as
需搬迁转移人数, the potential loss) by ``grade_hits`` over a chunk's columns (``grading.assess``
once per combination of bands), ``Tally`` (counts by grade and street, the sites nearest each
bound), a chunk's CSV lines (``graded_csv``); ``grade_file`` reads a register a chunk at a time,
grades each, writes the chunk's text (``render``) to ``out`` and tallies it.

A large CSV register is graded in parts, at most one per CPU (``default_parts``): the file is cut
into byte ranges at line ends; this process grades the first straight into ``out``, a part process
(``forking.fork_part``) each other one into a temporary file, copied after it in file order, and
the tallies are merged. This path only takes a register it is sure of: no quote anywhere (a
quoted cell may hold a line end), no carriage return but in a line end, UTF-8 throughout, every
chunk taken by the fast path (no problem of any kind, warnings included), no id in two parts. On
any doubt it cuts ``out`` back to where it was and the register is read again in one pass, which
words every problem with its file and line; so both ways write the same bytes
(``tests/test_sites_grade.py``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import pairwise, repeat
from operator import is_
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol, cast

from geohazard_cli.errors import ConfigError
from geohazard_cli.sites import FIELD, KEYS, Block, Site, header_keys
from geohazard_cli.sites_load import CHUNK, Fatal, _Fast, register_blocks, split_block, takes_fast

if TYPE_CHECKING:
    from geohazard_cli.contacts import Problem, Roster
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Bounds

# --- grading -------------------------------------------------------------------------------------

class Graded(NamedTuple):
    site: Site
    grade: str | None  # the profile's grade key; None: neither figure known
    grade_name: str | None
    level: str | None


Hit = tuple[str | None, str | None, str | None]  # grade key, grade name, response level
def grade_hits(cols: list[Sequence[Any]], profile: Profile, memo: dict[tuple[int, int], Hit] | None = None
               ) -> list[Hit]:
    """Each site's (grade, grade_name, level), from a Block's columns: the band of each figure by
    ``bisect`` over the whole column, then one ``grading.assess`` per combination of bands (the
    grade depends only on those), so a register of any size costs one assessment per
    combination. ``memo`` carries over between chunks."""
    from bisect import bisect_right
    from itertools import repeat
    from operator import is_

    from geohazard_cli.grading import assess

    tables = {ind.key: lowers for ind, lowers, _ in profile.tables}
    memo = {} if memo is None else memo

    def cells(col: Sequence[Any], lowers: list[Decimal] | None) -> list[int]:
        if lowers is None:
            return [-1] * len(col)
        if not any(map(is_, col, repeat(None))):  # (`None in col` would compare None with each Decimal)
            return list(map(bisect_right, repeat(lowers), col))
        return [-1 if v is None else bisect_right(lowers, v) for v in col]

    threatened, losses = cols[FIELD["threatened"]], cols[FIELD["potential_loss"]]
    keys = list(zip(cells(threatened, tables.get("evacuees")), cells(losses, tables.get("potential_loss")),
                    strict=True))
    for key in set(keys).difference(memo):
        i = keys.index(key)
        values = {k: v for k, v in (("evacuees", threatened[i]), ("potential_loss", losses[i]))
                  if v is not None and k in tables}
        if values:
            a = assess(values, profile)
            memo[key] = (a["grade"], a["grade_name"], a["response_level"])
        else:
            memo[key] = (None, None, None)
    return list(map(memo.__getitem__, keys))


# A graded site as a CSV row: the Site's fields in KEYS order (hazard_type as its name, street_key
# left out), then the grade.
_OUT = tuple(FIELD[k] for k in ("id", "name", "hazard_type_name", "street", "lon", "lat", "households",
                                "threatened", "potential_loss", "responsible_name", "responsible_phone",
                                "monitor_name", "monitor_phone", "evacuation_route", "evacuation_place",
                                "source"))
CSV_HEADER = (*KEYS, "grade", "grade_name", "level")
def graded_csv(block: Block, hits: list[Hit]) -> str | None:
    """A Block's graded sites as CSV lines (``CSV_HEADER``'s columns), or None when some cell needs
    quoting (then ``csv.writer`` writes ``graded_rows``): each column's cells as text, the lines
    joined, which the joined text shows needs no quoting."""
    cols, n = block.columns(), len(hits)
    tails = {h: ",".join(x or "" for x in h) for h in set(hits)}
    given = block.texts
    cells: list[Iterable[str]] = [given[i] if i in given else _cell_texts(cols[i], i) for i in _OUT]
    cells.append(map(tails.__getitem__, hits))
    text = "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"
    if text.count(",") == 18 * n and text.count("\n") == n and '"' not in text and "\r" not in text:
        return text
    return None


def graded_rows(block: Block, hits: list[Hit]) -> Iterator[list[Any]]:
    """A Block's graded sites as rows of cells for ``csv.writer`` (None an empty cell)."""
    for s, h in zip(block.sites(), hits, strict=True):
        yield [*(s[i] for i in _OUT), *h]


_FLOATS = {FIELD["lon"], FIELD["lat"]}
_FIGURES = {FIELD["households"], FIELD["threatened"], FIELD["potential_loss"]}  # int or Decimal


def _cell_texts(col: Sequence[Any], field: int) -> Iterable[str]:
    """A column's cells as CSV text: floats as repr writes them, other values as str, None empty."""
    if field in _FLOATS:
        return map(repr, col)
    if not any(map(is_, col, repeat(None))):  # (`None in col` would compare None with each Decimal)
        return map(str, col) if field in _FIGURES else col
    return ["" if v is None else v if isinstance(v, str) else str(v) for v in col]


def grade_sites(sites: Iterable[Site], profile: Profile, memo: dict[tuple[int, int], Hit] | None = None
                ) -> list[Graded]:
    """Each site graded as an incident there would be (威胁人数 as 需搬迁转移人数, 潜在经济损失): see
    ``grade_hits``."""
    block = Block(sites=list(sites))
    return [Graded(s, *h) for s, h in zip(block.sites(), grade_hits(block.columns(), profile, memo), strict=True)]


class Tally:
    """Counts by grade and by street, and the sites nearest each bound (just below it: the ones a
    little more would lift a grade, so only those whose grade is below the bound's), gathered a
    chunk of graded sites at a time."""

    def __init__(self, profile: Profile) -> None:
        self.rank = {g.key: i for i, g in enumerate(profile.grades)}  # lowest first
        self.by_grade: dict[str, int] = {g.key: 0 for g in profile.grades}
        self.by_grade["ungraded"] = 0
        self.by_street: dict[str, dict[str, int]] = {}
        self.bounds: list[list[Any]] = []  # [indicator, band, field, best (value, id, name) so far]
        for ind, _, _ in profile.tables:
            field = {"evacuees": "threatened", "potential_loss": "potential_loss"}.get(ind.key)
            if field is not None:
                self.bounds += [[ind, band, field, None] for band in ind.bands[1:]]

    def add_hits(self, cols: list[Sequence[Any]], hits: list[Hit]) -> None:
        """A Block's columns and their ``grade_hits``, a column at a time."""
        from bisect import bisect_left
        from collections import Counter
        from itertools import compress, repeat
        from operator import eq

        for (street, hit), n in Counter(zip(cols[FIELD["street"]], hits, strict=True)).items():
            k = hit[0] or "ungraded"
            self.by_grade[k] += n
            by = self.by_street.setdefault(street, {})
            by[k] = by.get(k, 0) + n
        from functools import partial
        from operator import and_, gt, is_not

        ranks: list[int] | None = None  # each site's grade rank (made when first needed)
        lower: dict[int, list[bool]] = {}  # a bound's grade rank -> which sites are of a lower grade
        known: dict[str, list[Any]] = {}  # a field's distinct values (of every site), sorted
        for entry in self.bounds:
            _, band, field, best = entry
            col = cols[FIELD[field]]
            if field not in known:
                known[field] = sorted(set(col).difference((None,)))
            values, g = known[field], self.rank[band.grade]
            i = bisect_left(values, band.lower)
            if i == 0 or (best is not None and values[i - 1] < best[0]):
                continue  # nothing below the bound, or nothing nearer it than an earlier chunk's
            if g not in lower:
                if ranks is None:
                    rank_of = {h: -1 if h[0] is None else self.rank.get(h[0], -1) for h in set(hits)}
                    ranks = list(map(rank_of.__getitem__, hits))
                lower[g] = list(map(gt, repeat(g), ranks))
            # the largest value below the bound of a site whose grade is below the bound's
            near = max(filter(band.lower.__gt__, filter(partial(is_not, None), compress(col, lower[g]))),
                       default=None)
            if near is None or (best is not None and near < best[0]):
                continue
            at = list(map(and_, map(eq, col, repeat(near)), lower[g]))
            # the largest value below the bound, then the largest id: that site's id, name and value
            # (its own: 15000 and 15000.0 are one value, written as the site has it)
            sid, name, value = max(zip(compress(cols[0], at), compress(cols[1], at), compress(col, at), strict=True))
            below = (value, sid, name)
            if best is None or below[:2] > best[:2]:
                entry[3] = below

    def state(self) -> tuple[Any, ...]:
        """What ``merge`` takes: the counts and the nearest so far, as plain data."""
        return self.by_grade, self.by_street, [entry[3] for entry in self.bounds]

    def merge(self, state: tuple[Any, ...]) -> None:
        """Add the ``state`` of a Tally of the sites after these (the same as adding its chunks)."""
        by_grade, by_street, bests = state
        for k, n in by_grade.items():
            self.by_grade[k] += n
        for street, other in by_street.items():
            by = self.by_street.setdefault(street, {})
            for k, n in other.items():
                by[k] = by.get(k, 0) + n
        for entry, below in zip(self.bounds, bests, strict=True):
            if below is not None and (entry[3] is None or below[:2] > entry[3][:2]):
                entry[3] = below

    def result(self) -> dict[str, Any]:
        nearest = [{"indicator": ind.key, "name": ind.name, "bound": str(band.lower), "grade": band.grade,
                    "site": best[1], "site_name": best[2], "value": str(best[0]), "gap": str(band.lower - best[0])}
                   for ind, band, _, best in self.bounds if best is not None]
        return {"by_grade": self.by_grade, "by_street": self.by_street, "nearest": nearest}


# --- a register file ---------------------------------------------------------------------------

# A chunk's graded text: (block, its hits, whether it is the register's first) -> text.
Render = Callable[[Block, "list[Hit]", bool], str]
PART_BYTES = 4 << 20  # a part of at least 4 MiB (~30,000 sites): below that a process costs more than it saves
MAX_PARTS = 4


class Outcome(NamedTuple):
    sites: int  # how many graded
    tally: Tally
    warnings: list[Problem]
    fatal: Fatal  # raise_any() when a site had a fatal problem (then nothing is to be written)


class Sink(Protocol):
    """Where the graded text goes: a binary file underneath, written as UTF-8."""

    def write(self, text: str) -> Any: ...

    def write_bytes(self, data: bytes) -> Any: ...  # text already encoded as UTF-8

    def write_file(self, fh: Any) -> Any: ...  # the whole of a binary file, from its start

    def tell(self) -> int: ...

    def truncate(self, at: int) -> Any: ...  # back to what tell() gave (then written on from there)


def grade_file(path: Path, profile: Profile, roster: Roster, bounds: Bounds, render: Render, out: Sink,
               parts: int | None = None) -> Outcome:
    """The register at ``path`` graded, each chunk's ``render`` text written to ``out`` in file
    order (after a fatal problem nothing more is written: read on, to count what else is wrong)."""
    if parts is None:
        parts = default_parts(path)
    if parts > 1:
        got = _in_parts(path, profile, roster, bounds, render, out, parts)
        if got is not None:
            return got
    fatal, tally, warnings, memo, count = Fatal(), Tally(profile), [], {}, 0  # type: ignore[var-annotated]
    for block, problems in register_blocks(path, profile, roster, bounds):
        warnings += fatal.add(problems)
        if fatal.first is not None or not len(block):
            continue
        out.write(_graded(block, profile, memo, tally, render, count == 0))
        count += len(block)
    return Outcome(count, tally, warnings, fatal)


def _graded(block: Block, profile: Profile, memo: dict[Any, Any], tally: Tally, render: Render, first: bool) -> str:
    """A chunk graded (``memo`` of the combinations of bands so far), tallied, and its text."""
    hits = grade_hits(block.columns(), profile, memo)
    tally.add_hits(block.columns(), hits)
    return render(block, hits, first)


def default_parts(path: Path) -> int:
    """How many processes a CSV register is graded by: one per CPU this process may run on, each
    part at least PART_BYTES, at most MAX_PARTS; 1 where there is no fork."""
    from geohazard_cli.forking import cpus

    if path.suffix.lower() != ".csv" or not hasattr(os, "fork"):
        return 1
    try:
        size = path.stat().st_size
    except OSError:
        return 1
    return max(1, min(cpus(), MAX_PARTS, size // PART_BYTES))


def split(path: Path, parts: int) -> tuple[list[str], list[tuple[int, int]]] | None:
    """The header's keys and ``parts`` byte ranges of the rows, each ending at a line end
    (forking.line_cuts); None when the header is not one the fast path takes, or the rows cannot be
    cut in ``parts``. (A quote anywhere means the ranges may cut a quoted cell: each part looks for
    one in its own bytes.)"""
    from geohazard_cli.forking import line_cuts

    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(0)
        head = fh.readline()
        if _unsure(head):
            return None
        try:
            keys = header_keys(path, next(csv.reader([head.decode("utf-8-sig")])))
        except (UnicodeDecodeError, StopIteration, ConfigError):
            return None
        cuts = line_cuts(fh.fileno(), len(head), size, parts)
    if not takes_fast(keys) or not cuts:
        return None
    return keys, list(pairwise([len(head), *cuts, size]))


def first_line(path: Path, start: int) -> int:
    """The line number of the line starting at byte ``start`` (the header is line 1), as the csv
    module counts lines (forking.lines_before)."""
    from geohazard_cli.forking import lines_before

    with path.open("rb") as fh:
        return 1 + lines_before(fh.fileno(), start, lone_cr=True)


class _Unsure(Exception):
    """A part's bytes hold what splitting at line ends cannot be sure of."""


def _unsure(data: bytes) -> bool:
    """A quote (a quoted cell may hold a line end), or a carriage return not in a line end."""
    return b'"' in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n"))


def _range_lines(path: Path, start: int, end: int, size: int) -> Iterator[list[str]]:
    """Lines of the bytes [start, end) (whole lines, their line ends dropped), ``size`` at a time;
    _Unsure if they hold a quote or a lone carriage return, UnicodeDecodeError if they are not
    UTF-8. (Then a line's cells are its text split at commas, as the csv module reads it:
    ``sites_load.split_block``.)"""
    with path.open("rb") as fh:
        fh.seek(start)
        left, rest = end - start, b""
        while left > 0 or rest:
            got = fh.read(min(1 << 20, left)) if left > 0 else b""
            left = left - len(got) if got else 0  # (a file cut short while read: what there is)
            buf = rest + got
            cut = buf.rfind(b"\n") + 1 if left > 0 else len(buf)
            buf, rest = buf[:cut], buf[cut:]
            if _unsure(buf):
                raise _Unsure
            text = buf.decode("utf-8")
            lines = (text.replace("\r\n", "\n") if "\r" in text else text).split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            for i in range(0, len(lines), size):
                yield lines[i:i + size]


class _Part(NamedTuple):
    """What a part found, sent from its process as plain data (``dumps``/``loads``: marshal)."""

    sites: int
    state: tuple[Any, ...]  # Tally.state()
    ids: Collection[str]  # (a part process's as a list; this process's own, the dict of its ids)
    warnings: list[dict[str, Any]]  # Problem.model_dump() of each, in file order
    blanks: int  # blank rows (the one pass numbers rows without them)


def _dumps(part: _Part) -> bytes:
    """A part as marshal holds it: a Decimal (a nearest value of 潜在经济损失) as its text."""
    import marshal

    by_grade, by_street, bests = part.state
    plain = [None if b is None else (str(b[0]), isinstance(b[0], Decimal), *b[1:]) for b in bests]
    # (the ids as one text, a line feed between them: none holds one, as the lines were split at them)
    return marshal.dumps((part.sites, by_grade, by_street, plain, "\n".join(part.ids), part.warnings, part.blanks))


def _loads(data: bytes) -> _Part:
    import marshal

    sites, by_grade, by_street, plain, ids, warnings, blanks = marshal.loads(data)
    bests = [None if b is None else ((Decimal if b[1] else int)(b[0]), *b[2:]) for b in plain]
    return _Part(sites, (by_grade, by_street, bests), ids.split("\n") if ids else [], warnings, blanks)


def _grade_range(path: Path, keys: list[str], span: tuple[int, int], line: int | None, profile: Profile,
                 roster: Roster, bounds: Bounds, render: Render, emit: Callable[[bytes], Any], first: bool
                 ) -> _Part | None:
    """One range graded, its text passed to ``emit`` as UTF-8; a chunk the fast path does not take
    goes the careful way, as in one pass, its rows numbered as if no blank row came before (the
    caller checks) from the range's first ``line`` (None: counted when first needed, as only
    the careful way words a line). None at a fatal problem or a doubt about the bytes."""
    from geohazard_cli.sites_load import careful_chunk

    file, f, seen, tally, memo = str(path), _Fast(profile, roster, bounds), {}, Tally(profile), {}  # type: ignore[var-annotated]
    count = blanks = 0
    base = None if line is None else line - 2  # the first row's index (the header is line 1)
    index = done = 0  # rows numbered, lines read (in this range)
    warnings: list[dict[str, Any]] = []
    try:
        for lines in _range_lines(path, *span, CHUNK):
            block = split_block(keys, lines, f, seen, index + (base or 0))
            if block is None:
                if base is None:  # (the rows so far were numbered from 0 in this range)
                    base = first_line(path, span[0]) - 2
                    for sid in seen:
                        seen[sid] += base
                rows = [ln.split(",") if ln else [] for ln in lines]  # (as the csv module reads them)
                at = base + 2 + done
                block, problems, taken = careful_chunk(keys, rows, range(at, at + len(rows)), file, profile,
                                                       roster, bounds, seen, base + index, f.streets)
                if any(p.fatal for p in problems):
                    return None
                warnings += (p.model_dump() for p in problems)
                blanks += len(rows) - taken
                index += taken
            else:
                index += len(lines)
            done += len(lines)
            if not len(block):
                continue
            emit(_graded(block, profile, memo, tally, render, first and count == 0).encode("utf-8"))
            count += len(block)
    except (_Unsure, UnicodeDecodeError):
        return None
    return _Part(count, tally.state(), seen, warnings, blanks)


def _in_parts(path: Path, profile: Profile, roster: Roster, bounds: Bounds, render: Render, out: Sink,
              parts: int) -> Outcome | None:
    """The first range graded here straight into ``out``, each other one by a part process
    (forking.fork_part) into its file, copied after it in order; None, ``out`` cut back to where it
    was, when any part was not sure or a part process could not be had."""
    from geohazard_cli.forking import spool_dir

    plan = split(path, parts)
    spool = spool_dir()
    if plan is None or spool is None:
        return None
    at = out.tell()
    keys, spans = plan
    got = _fork_parts(path, keys, spans, spool, profile, roster, bounds, render, out)
    if got is None:
        out.truncate(at)  # (nothing of the parts is left: the one pass writes it all)
    return got


def _fork_parts(path: Path, keys: list[str], spans: list[tuple[int, int]], spool: str,
                profile: Profile, roster: Roster, bounds: Bounds, render: Render, out: Sink) -> Outcome | None:
    import gc

    from geohazard_cli.forking import close_part, fork_part, read_all, restore, stop_on_term

    children: list[list[Any]] = []  # [pid (0 once reaped), report pipe, output file]
    gc.freeze()  # the collector would write to every object it scans, copying shared pages into each process
    saved = stop_on_term()
    try:
        for span in spans[1:]:
            started = fork_part(_work(path, keys, span, profile, roster, bounds, render), spool,
                                "geohazard-sites-")
            if started is None:  # (no process to be had: the one pass, as without parts)
                return None
            children.append(list(started))
        first = _grade_range(path, keys, spans[0], 2, profile, roster, bounds, render, out.write_bytes, True)
        results = [first]
        for entry in children:
            if first is None:  # (the one pass will read it all: the children's work is of no use)
                break
            report = read_all(entry[1])
            os.waitpid(entry[0], 0)
            entry[0] = 0
            results.append(_loads(report[3:]) if report.startswith(b"ok ") else None)
        if first is None or None in results:
            return None
        taken = cast("dict[str, int]", first.ids)  # (the ids so far: this process's own, then the parts')
        blanks = first.blanks
        for k, part in enumerate(results[1:], start=2):  # (rows numbered as if no blank row came before)
            assert part is not None
            if not taken.keys().isdisjoint(part.ids) or (blanks and part.warnings):
                return None
            if k < len(results):
                taken.update(dict.fromkeys(part.ids, 0))
            blanks += part.blanks
        tally = Tally(profile)
        for part in results:
            assert part is not None
            tally.merge(part.state)
        for _, _, fh in children:
            out.write_file(fh)
        from geohazard_cli.contacts import Problem

        warnings = [Problem(**w) for p in results if p is not None for w in p.warnings]
        return Outcome(sum(p.sites for p in results if p is not None), tally, warnings, Fatal())
    finally:
        for entry in children:  # (stopped early or done: kill any still running, reap, close)
            close_part(*entry)
        gc.unfreeze()
        restore(saved)


def _work(path: Path, keys: list[str], span: tuple[int, int], profile: Profile, roster: Roster,
          bounds: Bounds, render: Render) -> Callable[[IO[bytes]], bytes]:
    """What a part process does: its range graded into its file; b"ok " and what it found, or
    b"unsure" (the parent reads the register again in one pass)."""

    def work(out: IO[bytes]) -> bytes:  # pragma: no cover - runs in the child
        with open(out.fileno(), "wb", buffering=1 << 20, closefd=False) as fh:
            part = _grade_range(path, keys, span, None, profile, roster, bounds, render, fh.write, False)
        return b"unsure" if part is None else b"ok " + _dumps(part)

    return work
