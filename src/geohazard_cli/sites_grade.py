"""Grading a register file: ``grade_file`` reads it a chunk at a time, grades each chunk
(``sites.grade_hits``), writes the chunk's text (``render``) to ``out`` and tallies it.

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
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import islice, pairwise
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol

from geohazard_cli.sites import _SPACE, COLUMNS, HEADER_ALIASES, KEYS, Block, Tally, grade_hits
from geohazard_cli.sites_load import CHUNK, Fatal, _Fast, fast_block, register_blocks

if TYPE_CHECKING:
    from geohazard_cli.contacts import Problem, Roster
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Bounds, Hit

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
        hits = grade_hits(block.columns(), profile, memo)
        tally.add_hits(block.columns(), hits)
        out.write(render(block, hits, count == 0))
        count += len(block)
    return Outcome(count, tally, warnings, fatal)


def default_parts(path: Path) -> int:
    """How many processes a CSV register is graded by: one per CPU this process may run on, each
    part at least PART_BYTES, at most MAX_PARTS; 1 where there is no fork."""
    if path.suffix.lower() != ".csv" or not hasattr(os, "fork"):
        return 1
    try:
        size = path.stat().st_size
    except OSError:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_PARTS, size // PART_BYTES))


def split(path: Path, parts: int) -> tuple[list[str], list[tuple[int, int]]] | None:
    """The header's keys and ``parts`` byte ranges of the rows, each ending at a line end; None
    when the header is not one the fast path takes, or the rows are too few to split. (A quote
    anywhere means the ranges may cut a quoted cell: each part looks for one in its own bytes.)"""
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(0)
        head = fh.readline()
        if _unsure(head):
            return None
        try:
            header = next(csv.reader([head.decode("utf-8-sig")]))
        except (UnicodeDecodeError, StopIteration):
            return None
        keys = [HEADER_ALIASES.get(_SPACE.sub("", h), h) for h in header]
        if (len(set(keys)) != len(keys) or not set(keys) <= set(KEYS)
                or any(c.required and c.key not in keys for c in COLUMNS)):
            return None
        cuts = [fh.tell()]
        for k in range(1, parts):
            fh.seek(max(cuts[-1], cuts[0] + (size - cuts[0]) * k // parts))
            fh.readline()  # (to the end of the line the seek fell in)
            if fh.tell() >= size:
                return None
            cuts.append(fh.tell())
    cuts.append(size)
    return keys, list(pairwise(cuts))


def first_lines(path: Path, spans: list[tuple[int, int]]) -> list[int]:
    """The line number of each span's first line (the header is line 1; a line ends at a line feed,
    which is how the csv module counts them where no carriage return stands alone)."""
    numbers, line, pos = [], 1, 0
    with path.open("rb") as fh:
        for start, _ in spans:
            while pos < start:
                chunk = fh.read(min(1 << 20, start - pos))
                if not chunk:
                    break
                line += chunk.count(b"\n")
                pos += len(chunk)
            numbers.append(line)
    return numbers


class _Unsure(Exception):
    """A part's bytes hold what splitting at line ends cannot be sure of."""


def _unsure(data: bytes) -> bool:
    """A quote (a quoted cell may hold a line end), or a carriage return not in a line end."""
    return b'"' in data or data.count(b"\r") != data.count(b"\r\n")


def _range_rows(path: Path, start: int, end: int, size: int) -> Iterator[list[list[str]]]:
    """Rows of the bytes [start, end) (whole lines), ``size`` rows at a time; _Unsure if they hold
    a quote or a lone carriage return, UnicodeDecodeError if they are not UTF-8."""
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
            lines = buf.decode("utf-8").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            reader = csv.reader(lines)
            while rows := list(islice(reader, size)):
                yield rows


class _Part(NamedTuple):
    """What a part found, sent from its process as plain data (``dumps``/``loads``: marshal)."""

    sites: int
    state: tuple[Any, ...]  # Tally.state()
    ids: list[str]
    warnings: list[dict[str, Any]]  # Problem.model_dump() of each, in file order
    blanks: int  # blank rows (the one pass numbers rows without them)


def _dumps(part: _Part) -> bytes:
    """A part as marshal holds it: a Decimal (a nearest value of 潜在经济损失) as its text."""
    import marshal

    by_grade, by_street, bests = part.state
    plain = [None if b is None else (str(b[0]), isinstance(b[0], Decimal), *b[1:]) for b in bests]
    return marshal.dumps((part.sites, by_grade, by_street, plain, part.ids, part.warnings, part.blanks))


def _loads(data: bytes) -> _Part:
    import marshal

    sites, by_grade, by_street, plain, ids, warnings, blanks = marshal.loads(data)
    bests = [None if b is None else ((Decimal if b[1] else int)(b[0]), *b[2:]) for b in plain]
    return _Part(sites, (by_grade, by_street, bests), ids, warnings, blanks)


def _grade_range(path: Path, keys: list[str], span: tuple[int, int], line: int, profile: Profile,
                 roster: Roster, bounds: Bounds, render: Render, emit: Callable[[bytes], Any], first: bool
                 ) -> _Part | None:
    """One range graded, its text passed to ``emit`` as UTF-8; a chunk the fast path does not take
    goes the careful way, as in one pass (its first line number ``line``, its rows numbered as if no
    blank row came before: the caller checks). None at a fatal problem or a doubt about the bytes."""
    from geohazard_cli.sites_load import careful_chunk

    file, f, seen, tally, memo = str(path), _Fast(profile, roster, bounds), {}, Tally(profile), {}  # type: ignore[var-annotated]
    count = blanks = 0
    index = line - 2  # (the header is line 1)
    warnings: list[dict[str, Any]] = []
    try:
        for rows in _range_rows(path, *span, CHUNK):
            block = fast_block(keys, rows, f, seen, index)
            if block is None:
                block, problems, taken = careful_chunk(keys, rows, range(line, line + len(rows)), file, profile,
                                                       roster, bounds, seen, index, f.streets)
                if any(p.fatal for p in problems):
                    return None
                warnings += (p.model_dump() for p in problems)
                blanks += len(rows) - taken
                index += taken
            else:
                index += len(rows)
            line += len(rows)
            if not len(block):
                continue
            hits = grade_hits(block.columns(), profile, memo)
            tally.add_hits(block.columns(), hits)
            emit(render(block, hits, first and count == 0).encode("utf-8"))
            count += len(block)
    except (_Unsure, UnicodeDecodeError):
        return None
    return _Part(count, tally.state(), list(seen), warnings, blanks)


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
    got = _fork_parts(path, keys, spans, first_lines(path, spans), spool, profile, roster, bounds, render, out)
    if got is None:
        out.truncate(at)  # (nothing of the parts is left: the one pass writes it all)
    return got


def _fork_parts(path: Path, keys: list[str], spans: list[tuple[int, int]], lines: list[int], spool: str,
                profile: Profile, roster: Roster, bounds: Bounds, render: Render, out: Sink) -> Outcome | None:
    import gc

    from geohazard_cli.forking import close_part, fork_part, read_all, restore, stop_on_term

    children: list[list[Any]] = []  # [pid (0 once reaped), report pipe, output file]
    gc.freeze()  # the collector would write to every object it scans, copying shared pages into each process
    saved = stop_on_term()
    try:
        for span, line in zip(spans[1:], lines[1:], strict=True):
            started = fork_part(_work(path, keys, span, line, profile, roster, bounds, render), spool,
                                "geohazard-sites-")
            if started is None:  # (no process to be had: the one pass, as without parts)
                return None
            children.append(list(started))
        first = _grade_range(path, keys, spans[0], lines[0], profile, roster, bounds, render, out.write_bytes, True)
        results = [first]
        for entry in children:
            if first is None:  # (the one pass will read it all: the children's work is of no use)
                break
            report = read_all(entry[1])
            os.waitpid(entry[0], 0)
            entry[0] = 0
            results.append(_loads(report[3:]) if report.startswith(b"ok ") else None)
        ids: set[str] = set()
        blanks = 0
        for part in results:  # (a part's rows are numbered as if no blank row came before it)
            if part is None or not ids.isdisjoint(part.ids) or (blanks and part.warnings):
                return None
            ids.update(part.ids)
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


def _work(path: Path, keys: list[str], span: tuple[int, int], line: int, profile: Profile, roster: Roster,
          bounds: Bounds, render: Render) -> Callable[[IO[bytes]], bytes]:
    """What a part process does: its range graded into its file; b"ok " and what it found, or
    b"unsure" (the parent reads the register again in one pass)."""

    def work(out: IO[bytes]) -> bytes:  # pragma: no cover - runs in the child
        with open(out.fileno(), "wb", buffering=1 << 20, closefd=False) as fh:
            part = _grade_range(path, keys, span, line, profile, roster, bounds, render, fh.write, False)
        return b"unsure" if part is None else b"ok " + _dumps(part)

    return work
