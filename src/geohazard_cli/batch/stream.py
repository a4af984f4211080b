"""One process grading a stream of JSONL or CSV, block by block, on the fast path (the reference
path for the records it leaves): what a single-process batch runs, and what each part of a
multi-process batch runs (``parts.py``) with its own first line number."""

from __future__ import annotations

from itertools import repeat
from typing import IO, Any

from geohazard_cli.batch.fast import FastGrader
from geohazard_cli.batch.readers import (
    BLANK,
    CsvReader,
    RowCheck,
    blocks_jsonl,
    csv_header,
    csv_open,
    csv_record,
    line_breaks,
    refused_row,
    take_rows,
)
from geohazard_cli.batch.reference import reference_line
from geohazard_cli.rules import Profile

CSV_ROWS = 2048  # CSV rows per block


def run_jsonl(fh: IO[bytes], profile: Profile, sink: IO[bytes], counts: list[int], first_line: int = 1) -> None:
    grader = FastGrader(profile)
    for first, records, blanks, objects in blocks_jsonl(fh, first_line):

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


def run_csv(fh: IO[bytes], name: str, profile: Profile, sink: IO[bytes], counts: list[int],
            check: RowCheck | None = None) -> None:
    reader = csv_open(fh)
    header = csv_header(reader, name)
    if header is not None:
        run_csv_rows(reader, header, name, profile, sink, counts, 0, check)


def run_csv_rows(reader: CsvReader, header: list[str], name: str, profile: Profile, sink: IO[bytes], counts: list[int],
                 line_offset: int = 0, check: RowCheck | None = None) -> None:
    """Grade the data rows of a csv reader; ``line_offset`` lines come before the reader's first.
    A row the csv module refuses is a bad record when ``check`` finds it stands alone (else the
    batch ends there: see readers.RowCheck)."""
    layout = tuple(header)
    grader = FastGrader(profile)
    width = len(layout)
    while True:
        before = reader.line_num
        plain = reader.plain_lines(CSV_ROWS)
        if plain is not None:  # no quote: one line a row, cells split at commas
            if not plain:
                break
            n = len(plain)
            first = line_offset + before + 1
            cols = None
            if set(map(str.count, plain, repeat(","))) == {width - 1}:  # every row as wide as the header
                flat = ",".join(plain).split(",")
                cols = [flat[i::width] for i in range(width)]

            def plain_fill(positions: list[int], plain: list[str] = plain, first: int = first) -> list[bytes]:
                return _fill(positions, [plain[i].split(",") for i in positions], first, header, profile, counts)

            counts[1] += n
            sink.write(grader.render(plain if cols else [line.split(",") for line in plain], plain_fill, layout,
                                     cols=cols))
            if n < CSV_ROWS:
                break
            continue
        rows, failed = take_rows(reader, CSV_ROWS)
        if rows:
            if failed is None and reader.line_num - before == len(rows):  # one line a row: numbers follow on
                linenos: Any = range(line_offset + before + 1, line_offset + before + 1 + len(rows))
            else:  # some quoted cell spans lines
                linenos = []
                at = line_offset + before
                for row in rows:
                    at += 1 + line_breaks(row)
                    linenos.append(at)

            def fill(positions: list[int], rows: list[list[str]] = rows, linenos: Any = linenos) -> list[bytes]:
                out = []
                for i in positions:
                    row = rows[i]
                    if not any(cell.strip() for cell in row):
                        out.append(b"")
                        counts[1] -= 1
                        continue
                    line, was_bad = reference_line(linenos[i], csv_record(header, row), profile)
                    counts[0] += was_bad
                    out.append(line)
                return out

            counts[1] += len(rows)
            sink.write(grader.render(rows, fill, layout))
        if failed is not None:  # the refused row's lines follow the rows read
            first = before + len(rows) + sum(map(line_breaks, rows)) + 1
            error = refused_row(reader, check, first, line_offset, name, failed)
            sink.write(reference_line(line_offset + reader.line_num, error, profile)[0])
            counts[0] += 1
            counts[1] += 1
        elif len(rows) < CSV_ROWS:
            break


def _fill(positions: list[int], rows: list[list[str]], first: int, header: list[str], profile: Profile,
          counts: list[int]) -> list[bytes]:
    """The reference path's lines for rows at ``positions`` (``rows``: theirs, in order) of a block
    of one line a row, whose first is line ``first``."""
    out = []
    for i, row in zip(positions, rows, strict=True):
        if not any(cell.strip() for cell in row):
            out.append(b"")
            counts[1] -= 1
            continue
        line, was_bad = reference_line(first + i, csv_record(header, row), profile)
        counts[0] += was_bad
        out.append(line)
    return out
