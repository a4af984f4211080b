"""`classify --batch`: grade every record of a JSONL or CSV file, streaming, one JSON line out each.

Output line per record (in input order): ``{"id", "grade", "grade_name", "response_level",
"deciding", "not_reported", "lower_bound", "skip_level_report"}`` (``id`` only when the record
has one); a bad record yields ``{"line": N, "error": "..."}`` in its place and the rest go on.
Memory stays flat: one record is held at a time and output is written through a bounded buffer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from geohazard_cli.errors import GeohazardError, InputError
from geohazard_cli.rules import Profile


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
        skip_level_report=a.skip_level_report.applies,
    )
    return out


def _records_jsonl(fh: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    import orjson

    for lineno, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            yield lineno, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield lineno, InputError(f"invalid JSON ({str(exc).split(':')[0]})")


def _records_csv(fh: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    import codecs
    import csv

    from geohazard_cli.models import ALL_FIELDS

    text = codecs.getreader("utf-8-sig")(fh)
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    for col in header:
        if col not in ALL_FIELDS:
            raise InputError(f"{name}:1: column {col!r} is not a known field (known: {', '.join(ALL_FIELDS)})")
    for row in reader:
        lineno = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield lineno, InputError(f"has {len(row)} cells, the header has {len(header)}")
            continue
        yield lineno, {k: (v if v.strip() else None) for k, v in zip(header, row, strict=True)}


def run_batch(path: Path, profile: Profile, out: IO[bytes] | None = None) -> int:
    """Grade every record; return 0, or 2 when any record was bad."""
    import orjson

    sink = out if out is not None else sys.stdout.buffer
    name = str(path)
    is_csv = path.suffix.lower() == ".csv"
    try:
        fh: IO[bytes] = sys.stdin.buffer if name == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"--batch: {path}: cannot be read ({exc.strerror})") from None
    bad = total = 0
    try:
        reader = _records_csv(fh, name) if is_csv else _records_jsonl(fh, name)
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
