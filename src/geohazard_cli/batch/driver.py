"""`classify --batch` as the command runs it: the fast path, in one process or in parts."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from geohazard_cli.batch.readers import RowCheck
from geohazard_cli.batch.reference import drive
from geohazard_cli.batch.stream import run_csv, run_jsonl
from geohazard_cli.rules import Profile


def run_batch(path: Path, profile: Profile, out: IO[bytes] | None = None, jobs: int | None = None) -> int:
    """Grade every record (fast path); return 0, or raise (exit 2) at the end when any was bad.

    ``jobs``: processes for a large regular file (default: parts.default_jobs()).
    """

    def grade(fh: IO[bytes], name: str, is_csv: bool, sink: IO[bytes], counts: list[int]) -> None:
        cut_points: list[int] = []
        if jobs != 1 and fh is not sys.stdin.buffer:
            from geohazard_cli.batch import parts  # lazily: stdin and --jobs 1 need none of it

            n = jobs or parts.default_jobs()
            if n > 1 and parts.can_split(fh):
                cut_points = parts.cuts(fh.fileno(), os.fstat(fh.fileno()).st_size, n, is_csv)
        if cut_points:
            parts.run_parts(fh, name, is_csv, profile, sink, counts, cut_points)
        elif is_csv:
            run_csv(fh, name, profile, sink, counts, RowCheck.of(fh))
        else:
            run_jsonl(fh, profile, sink, counts)

    return drive(path, out, grade)
