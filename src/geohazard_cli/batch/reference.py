"""The reference path: one record at a time through ``intake.parse_values`` and
``grading.assess`` (what ``parse_incident`` and ``grade()`` wrap), and its driver.

It defines the batch's output: the fast path (``fast.py``) fills its tables from ``summary`` and
sends every record it does not take to ``reference_line``, and tests/test_batch.py holds both
drivers to the same bytes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from geohazard_cli.batch.readers import (
    RowCheck,
    check_suffix,
    check_utf8,
    not_utf8,
    open_input,
    records_csv,
    records_jsonl,
)
from geohazard_cli.errors import GeohazardError, InputError
from geohazard_cli.rules import Profile


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
        # both ends of figures reported as a range or an estimate (equal ends when every figure is exact)
        grade_range=a["grade_range"], prepare_for=a["prepare_for"],
        settles=[{"indicator": st["indicator"], "bound": b if isinstance(b := st["bound"], int) else str(b)}
                 for st in a["settles"]],
        estimated=a["estimated"], advisories=a["advisories"],
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
        # a message quoting a value that is no text (a lone surrogate) is shown escaped, never raised
        message = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
        out: dict[str, Any] = {"line": lineno}
        ident = record_id(record)
        if ident is not None:
            out["id"] = ident
        out["error"] = message
        return orjson.dumps(out) + b"\n", True


def record_id(record: Any) -> str | None:
    """The id of a bad record, as a good one would echo it; None when it has none, or none that is
    text (a bad id is then itself the error, named by the message)."""
    from geohazard_cli.intake import parse_text

    raw = record.get("id") if isinstance(record, dict) else getattr(record, "ident", None)
    if raw is None:
        return None
    try:
        return parse_text(raw, "id")
    except GeohazardError:
        return None


def run_batch_reference(path: Path, profile: Profile, out: IO[bytes] | None = None) -> int:
    """The reference driver: one record at a time through ``summary``. Same contract as ``run_batch``."""

    def grade(fh: IO[bytes], name: str, is_csv: bool, sink: IO[bytes], counts: list[int]) -> None:
        for lineno, record in records_csv(fh, name, RowCheck.of(fh)) if is_csv else records_jsonl(fh):
            counts[1] += 1
            line, was_bad = reference_line(lineno, record, profile)
            counts[0] += was_bad
            sink.write(line)

    return drive(path, out, grade)


Grade = Callable[[IO[bytes], str, bool, IO[bytes], list[int]], None]  # (input, name, is CSV, sink, [bad, total])


def drive(path: Path, out: IO[bytes] | None, grade: Grade) -> int:
    """Open the input (refusing an unknown suffix, or CSV that is not UTF-8), grade it into ``out``
    (stdout by default) and close it; return 0, or raise (exit 2) at the end when any record was bad."""
    check_suffix(path)
    sink = out if out is not None else sys.stdout.buffer
    name = str(path)
    is_csv = path.suffix.lower() == ".csv"
    fh = open_input(path)
    counts = [0, 0]  # bad, total
    try:
        if is_csv:
            check_utf8(fh, name)
        try:
            grade(fh, name, is_csv, sink, counts)
        except UnicodeDecodeError:
            raise not_utf8(name) from None
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
        sink.flush()
    if counts[0]:
        raise bad_records(*counts)
    if counts[1] == 0:  # an empty export (or a header alone) is not silently "all graded"
        print(f"warning: --batch: {name} holds no records; nothing was graded", file=sys.stderr)
    return 0


def bad_records(bad: int, total: int) -> InputError:
    """The error a batch ends with (exit 2) when any record was bad."""
    return InputError(f"--batch: {bad} of {total} records were bad (each is reported in place by line)")

