"""Grading a register in parts (one process per part) against one pass: the same bytes out, the
same counts, the same problems; and the parts path gives up, writing nothing, whenever it is not
sure (a problem anywhere, an id in two parts, a quote in the file)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geohazard_cli.cli.sites import _csv_chunk, _json_chunk, _text_chunk
from geohazard_cli.errors import ConfigError
from geohazard_cli.sites import KEYS
from geohazard_cli.sites_grade import _in_parts, grade_file, split
from test_sites_load import CTX, GOOD, registers


class _Sink:
    def __init__(self) -> None:
        self.buf = io.BytesIO()

    def write(self, text: str) -> None:
        self.buf.write(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        self.buf.write(data)

    def write_file(self, fh: Any) -> None:
        fh.seek(0)
        self.buf.write(fh.read())

    def tell(self) -> int:
        return self.buf.tell()

    def truncate(self, at: int) -> None:
        self.buf.seek(at)
        self.buf.truncate()


def _write(path: Path, header: list[str], rows: list[list[str]], lineterminator: str = "\r\n") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator=lineterminator)
        w.writerow(header)
        w.writerows(rows)
    return path


def _graded(path: Path, parts: int, render: Any = _csv_chunk) -> tuple[bytes, Any]:
    sink = _Sink()
    out = grade_file(path, *CTX, render, sink, parts=parts)
    fatal = (str(out.fatal.first) if out.fatal.first else None, out.fatal.count)
    return sink.buf.getvalue(), (out.sites, json.dumps(out.tally.result()), out.warnings, fatal)


def _clean(n: int, start: int = 0) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        row = {**GOOD, "id": f"T-{i}", "threatened": str(i % 1300), "potential_loss": f"{i % 700}万",
               "street": ["七里山街道", "舜耕", "十六里河街道办事处"][i % 3]}
        rows.append([row[k] for k in KEYS])
    return rows


@settings(max_examples=150, deadline=None)
@given(registers(), st.integers(2, 4), st.sampled_from(["\r\n", "\n"]))
def test_parts_and_one_pass_agree(register: tuple[list[str], list[list[str]]], parts: int, end: str) -> None:
    header, rows = register
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / "s.csv", header, rows, end)
        for render in (_csv_chunk, _json_chunk, _text_chunk):
            assert _graded(path, parts, render) == _graded(path, 1, render)


def test_a_clean_register_is_graded_in_parts(tmp_path: Path) -> None:
    for end in ("\r\n", "\n"):
        path = _write(tmp_path / "s.csv", list(KEYS), _clean(3000), end)
        plan = split(path, 3)
        assert plan is not None and len(plan[1]) == 3
        assert plan[1][0][1] == plan[1][1][0] and plan[1][-1][1] == path.stat().st_size
        sink = _Sink()
        got = _in_parts(path, *CTX, _csv_chunk, sink, 3)
        assert got is not None and got.sites == 3000  # the parts path took it
        assert (sink.buf.getvalue(), got.sites) == (_graded(path, 1)[0], 3000)
        assert _graded(path, 3) == _graded(path, 1)
        lines = sink.buf.getvalue().decode().splitlines()
        assert [line.split(",")[0] for line in lines] == [f"T-{i}" for i in range(3000)]  # in file order


def test_the_parts_path_gives_up_when_unsure(tmp_path: Path) -> None:
    rows = _clean(3000)
    rows[2500][0] = "T-10"  # an id also in the first part
    path = _write(tmp_path / "dup.csv", list(KEYS), rows)
    sink = _Sink()
    assert _in_parts(path, *CTX, _csv_chunk, sink, 2) is None and sink.buf.getvalue() == b""
    _, (_, _, _, (first, count)) = _graded(path, 2)
    assert count == 1 and first is not None and "id 'T-10' is used twice (also row 11)" in first
    assert f":{2500 + 2}:" in first  # file:line of the second use

    rows = _clean(3000)
    rows[2900][KEYS.index("monitor_name")] = "XXX"  # a placeholder in part 2 ...
    rows[2][KEYS.index("responsible_phone")] = "待填"  # ... and in part 1: warnings, each with its line
    rows[1000][KEYS.index("threatened")] = "x"  # and a fatal problem
    path = _write(tmp_path / "fatal.csv", list(KEYS), rows)
    assert _in_parts(path, *CTX, _csv_chunk, _Sink(), 2) is None  # a fatal problem: the one pass words it
    assert _graded(path, 2) == _graded(path, 1)

    rows = _clean(3000)
    rows[5][KEYS.index("name")] = "坡,甲"  # quoted in the file: a quote anywhere and no split is tried
    path = _write(tmp_path / "quote.csv", list(KEYS), rows)
    assert _in_parts(path, *CTX, _csv_chunk, _Sink(), 2) is None and _graded(path, 2) == _graded(path, 1)

    lf = _write(tmp_path / "lf.csv", list(KEYS), _clean(3000), "\n").read_bytes()
    at = lf.index(b"\n", len(lf) * 3 // 4)
    path = tmp_path / "cr.csv"
    path.write_bytes(lf[:at] + b"\r" + lf[at + 1:])  # a carriage return not before a line feed, in part 2
    assert _in_parts(path, *CTX, _csv_chunk, _Sink(), 2) is None and _graded(path, 2) == _graded(path, 1)

    path = tmp_path / "latin1.csv"
    path.write_bytes(lf[:at] + "é".encode("latin-1") + lf[at:])  # not UTF-8, in part 2
    assert _in_parts(path, *CTX, _csv_chunk, _Sink(), 2) is None
    for parts in (1, 2):
        with pytest.raises(ConfigError, match="is not UTF-8 text"):
            _graded(path, parts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 1200)),
                          st.one_of(st.none(), st.sampled_from(["0", "4999999", "5000000", "15000", "15000.0",
                                                                "1.5E+4", "99999999", "100000000", "300000"])),
                          st.sampled_from(["七里山街道办事处", "舜耕街道办事处"])), max_size=40),
       st.integers(1, 7))
def test_tally_by_columns_is_the_tally_row_by_row(sites: list[tuple[Any, Any, str]], size: int) -> None:
    # Tally.add_hits (a chunk's columns at a time) against the plain reading of its docstring,
    # one site at a time: counts by grade and street, and per bound the largest value below it
    # (the first written, of equal ones), then the largest id, of the sites whose grade is below
    # the bound's (a little more would lift those).
    from decimal import Decimal

    from geohazard_cli.sites import Block, Site
    from geohazard_cli.sites_grade import Tally, grade_hits

    profile = CTX[0]
    rows = [Site(f"S{i:03d}", f"点{i}", "landslide", "滑坡", street, "k", 117.0, 36.6, None, t,
                 None if loss is None else Decimal(loss), None, None, None, None, None, None, None)
            for i, (t, loss, street) in enumerate(sites)]
    tally, memo = Tally(profile), {}  # type: ignore[var-annotated]
    for at in range(0, len(rows), size):
        cols = Block(sites=rows[at:at + size]).columns()
        tally.add_hits(cols, grade_hits(cols, profile, memo))
    hits = grade_hits(Block(sites=rows).columns(), profile) if rows else []
    want = Tally(profile)
    for site, hit in zip(rows, hits, strict=True):
        k = hit[0] or "ungraded"
        want.by_grade[k] += 1
        by = want.by_street.setdefault(site.street, {})
        by[k] = by.get(k, 0) + 1
        for entry in want.bounds:
            value = getattr(site, entry[2])
            lifts = want.rank.get(hit[0] or "", -1) < want.rank[entry[1].grade]  # (its grade below the bound's)
            if value is not None and value < entry[1].lower and lifts:
                best = entry[3]
                if best is None or value > best[0] or (value == best[0] and site.id > best[1]):
                    entry[3] = (value, site.id, site.name)
    assert json.dumps(tally.result()) == json.dumps(want.result())


def test_sites_grade_command_grades_a_large_register_in_parts(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    import geohazard_cli.sites_grade as sg

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: a register is graded in one pass")
    line = len((",".join(_clean(1, 10**5)[0]) + "\r\n").encode())
    n = 2 * sg.PART_BYTES // line + 1000  # (ids of 5 or 6 digits: the file passes two parts' size)
    path = _write(tmp_path / "big.csv", list(KEYS), _clean(n))
    assert sg.default_parts(path) >= 2
    taken = []
    real = sg._in_parts
    monkeypatch.setattr(sg, "_in_parts", lambda *a: taken.append(real(*a)) or taken[-1])
    for fmt, render in (("csv", _csv_chunk), ("json", _json_chunk)):
        out = cli("sites", "grade", "--sites", str(path), "--format", fmt)
        assert out.exit_code == 0 and taken.pop() is not None  # the parts path took it
        body = _graded(path, 1, render)[0].decode()
        assert body in out.stdout and out.stdout.count("\n") >= body.count("\n")
    data = json.loads(out.stdout)
    assert len(data["sites"]) == n and data["sites"][-1]["id"].startswith("T-")


def test_an_error_in_the_first_part_stops_the_others(tmp_path: Path) -> None:
    import os
    import time

    path = _write(tmp_path / "s.csv", list(KEYS), _clean(20000))

    def render(block: Any, hits: Any, first: bool) -> str:
        if first:
            raise RuntimeError("boom")
        time.sleep(0.2)  # (a child that would take ~8 s)
        return _csv_chunk(block, hits, first)

    began = time.monotonic()
    with pytest.raises(RuntimeError, match="boom"):
        _in_parts(path, *CTX, render, _Sink(), 2)
    assert time.monotonic() - began < 3  # the child was stopped, not waited for to its end
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # and reaped: no child left


def test_warnings_are_worded_in_parts_as_in_one_pass(tmp_path: Path) -> None:
    rows = _clean(3000)
    rows[2900][KEYS.index("monitor_name")] = "XXX"  # a placeholder in part 2 ...
    rows[2][KEYS.index("responsible_phone")] = "待填"  # ... and in part 1
    path = _write(tmp_path / "warn.csv", list(KEYS), rows)
    sink = _Sink()
    got = _in_parts(path, *CTX, _csv_chunk, sink, 2)
    assert got is not None and len(got.warnings) == 2  # the parts path took it, warnings and all
    assert [(w.line, w.path) for w in got.warnings] == [(4, "sites.2.responsible_phone"),
                                                          (2902, "sites.2900.monitor_name")]
    for render in (_csv_chunk, _json_chunk, _text_chunk):
        assert _graded(path, 2, render) == _graded(path, 1, render)

    blank = [*rows[:10], [""] * len(KEYS), *rows[10:]]  # a blank row in part 1: part 2's rows renumbered
    path = _write(tmp_path / "blank.csv", list(KEYS), blank)
    assert _in_parts(path, *CTX, _csv_chunk, _Sink(), 2) is None
    assert _graded(path, 2) == _graded(path, 1) and len(_graded(path, 1)[1][2]) == 2
