"""`classify --batch`: grade every record of a JSONL or CSV file, streaming, one JSON line out each.

Output line per record (in input order): ``{"id", "grade", "grade_name", "response_level",
"deciding", "not_reported", "lower_bound", "skip_level_report", "grade_range", "prepare_for",
"settles", "estimated", "advisories"}`` (``id`` only when
the record has one; ``skip_level_report`` is true, false, or null when it cannot be decided yet
because figures that could make it apply are not reported, as ``classify`` says 尚不能确定;
``advisories`` as ``classify --format json`` gives them); a bad record yields ``{"line": N,
"id": "...", "error": "..."}`` in its place (``id`` when it has one) and the rest go on.
Memory stays flat: input is read in blocks of a few thousand records and each block's output is
written before the next is read.

Modules, each importing only those before it:

- ``readers``: JSONL blocks and lines, CSV opening and rows, the input file;
- ``reference``: the reference path (``summary``, ``reference_line``) and its driver
  ``run_batch_reference``, which defines the output;
- ``fast``: ``FastGrader``, the fast path, which gives the same bytes (tests/test_batch.py);
- ``stream``: one process grading a stream block by block;
- ``parts``: a large file cut into parts graded by forked processes;
- ``driver``: ``run_batch``, what ``classify --batch`` calls.
"""

from geohazard_cli.batch.driver import run_batch

__all__ = ["run_batch"]
