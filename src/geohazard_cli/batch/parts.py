"""`classify --batch` over more than one process: the file cut into parts at line breaks.

A large regular file is cut near its middle (or into ``jobs`` parts), just after a line feed. The
command's own process grades the first part straight to the output while a forked process per
further part grades its part into an unnamed temporary file; those are copied to the output in
order once the first part is done. Every part runs the same code as a single process (the fast
path, and the reference path for the records it leaves) with the right first line number, so the
output is the same bytes, whatever the number of parts (tests/test_batch.py checks this).

When it is not done (one process, as before): input on stdin or any file that is not a regular
file, files under PART_MIN_BYTES (forking and copying would cost more than it saves), one CPU, no
``os.fork`` (not Linux), ``--jobs 1``, and CSV files with a double quote before the last cut (a
quoted cell may hold line breaks, so a cut could fall inside a row).

Failure: when a part process fails (a full disk, killed) or cannot be started (no process, file
or pipe to be had, or no temporary directory on disk: a tmpfs is memory and is not used), the
command's process discards its output and grades that part itself, so the output and the error
are what a single process gives. If the command's process stops early (a closed pipe, Ctrl-C, an
error, SIGTERM or SIGHUP), the part processes are killed and reaped and their unnamed temporary
files vanish with them; a part process also dies with its parent (PR_SET_PDEATHSIG), even when
that is killed outright. Nothing is left behind. tests/test_batch.py checks each of these.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from itertools import pairwise
from typing import IO

from geohazard_cli.batch.readers import READ_BYTES, RowCheck, csv_header, csv_open, read_range
from geohazard_cli.batch.stream import run_csv, run_csv_rows, run_jsonl
from geohazard_cli.forking import (
    Child,
    close_part,
    copy_part,
    cpus,
    fork_part,
    line_cuts,
    lines_before,
    read_all,
    restore,
    spool_dir,
    stop_on_term,
)
from geohazard_cli.rules import Profile

PART_MIN_BYTES = 8 << 20  # ~90,000 records: below this a second process does not pay for itself
MAX_JOBS = 2  # default ceiling: each process holds its own interpreter (~38 MiB peak each)
_SCAN = 1 << 20  # the size of each read looking for a quote


def default_jobs() -> int:
    """Processes for a batch by default: the CPUs this process may run on, at most MAX_JOBS."""
    return max(1, min(cpus(), MAX_JOBS))


def can_split(fh: IO[bytes]) -> bool:
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return False
    try:
        st = os.fstat(fh.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size >= PART_MIN_BYTES


def cuts(fd: int, size: int, jobs: int, is_csv: bool) -> list[int]:
    """Where parts 2..jobs start (forking.line_cuts). Empty when the file goes as one part (no line
    feed near a cut point, or a CSV quote before the last cut)."""
    found = line_cuts(fd, 0, size, jobs)
    if found and is_csv and _has_quote(fd, found[-1]):
        return []
    return found


def _has_quote(fd: int, end: int) -> bool:
    pos = 0
    while pos < end:
        chunk = os.pread(fd, min(_SCAN, end - pos), pos)
        if not chunk:
            return False
        if b'"' in chunk:
            return True
        pos += len(chunk)
    return False


def run_parts(fh: IO[bytes], name: str, is_csv: bool, profile: Profile, sink: IO[bytes], counts: list[int],
              cut_points: list[int]) -> None:
    """Grade the file in parts: this process the first, a forked process each further part (or this
    process, in turn, when a fork fails: a process limit slows the batch, never stops it)."""
    import gc

    fd = fh.fileno()
    bounds = [0, *cut_points, os.fstat(fd).st_size]
    parts: list[tuple[int, int, tuple[int, int, IO[bytes]] | None]] = []  # start, end, process
    spool = spool_dir()
    gc.freeze()  # the collector would write to every object it scans, copying shared pages into each process
    saved = stop_on_term()
    try:
        for start, end in pairwise(bounds[1:]):
            parts.append((start, end, _fork_part(fd, start, end, is_csv, name, profile, spool)))
        _grade_part(fd, 0, bounds[1], is_csv, name, profile, sink, counts)
        while parts:
            start, end, child = parts.pop(0)
            done = None
            if child is not None:
                pid, status_fd, part_out = child
                try:
                    status = read_all(status_fd)
                    os.waitpid(pid, 0)
                    pid = 0
                    done = _counts(status)
                    if done is not None:
                        copy_part(part_out, sink)
                finally:
                    close_part(pid, status_fd, part_out)
            if done is None:  # not started or failed (bad input, full disk, killed): here, as one process
                _grade_part(fd, start, end, is_csv, name, profile, sink, counts)
            else:
                counts[0] += done[0]
                counts[1] += done[1]
    finally:
        for _, _, child in parts:  # stopped early: stop the others too
            if child is not None:
                close_part(*child)
        gc.unfreeze()
        restore(saved)


def _fork_part(fd: int, start: int, end: int, is_csv: bool, name: str, profile: Profile,
               spool: str | None) -> Child | None:
    """Start a process grading bytes ``start`` to ``end`` (forking.fork_part); None when it cannot
    be started: this process grades the part then."""

    def work(out: IO[bytes]) -> bytes:  # pragma: no cover - runs in the child
        counts = [0, 0]
        with open(out.fileno(), "wb", buffering=READ_BYTES, closefd=False) as sink:
            _grade_part(fd, start, end, is_csv, name, profile, sink, counts)
        return f"ok {counts[0]} {counts[1]}".encode()

    return fork_part(work, spool, "geohazard-batch-")


def _grade_part(fd: int, start: int, end: int, is_csv: bool, name: str, profile: Profile, sink: IO[bytes],
                counts: list[int]) -> None:
    """Grade bytes ``start`` to ``end`` (whole lines) as a single process grades them in the file."""
    part = read_range(fd, start, end)
    if start == 0:
        if is_csv:
            run_csv(part, name, profile, sink, counts, RowCheck(fd, 0))
        else:
            run_jsonl(part, profile, sink, counts)
        return
    before = lines_before(fd, start, is_csv)
    if is_csv:
        header = csv_header(csv_open(read_range(fd, 0, start)), name)
        if header is not None:
            run_csv_rows(csv_open(part, "utf-8"), header, name, profile, sink, counts, before,
                         RowCheck(fd, start))
    else:
        run_jsonl(part, profile, sink, counts, before + 1)


def _counts(status: bytes) -> tuple[int, int] | None:
    """(bad, total) from a part process's "ok BAD TOTAL" report; None when it failed."""
    words = status.split()
    if len(words) == 3 and words[0] == b"ok":
        return int(words[1]), int(words[2])
    return None


