"""`classify --batch`: the fast path gives byte for byte what the reference path gives, and streams.

The reference (`run_batch_reference`) grades record by record through intake.parse_values and
grading.assess; the fast path (`run_batch`, what the command runs) works a block at a time, and
a large file in parts, one process each (batch/parts.py). Every test here compares the two on the
same input, or checks the command's contract directly.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geohazard_cli.batch import driver, fast, readers, reference, stream
from geohazard_cli.errors import GeohazardError
from geohazard_cli.rules import Profile

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("evacuees", "potential_loss", "deaths", "direct_loss")


@pytest.fixture(autouse=True)
def spool(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Part processes spool here, wherever this machine's temporary directories are (a tmpfs /tmp
    would otherwise mean one process and leave the two-process tests with nothing to test)."""
    where = tmp_path_factory.mktemp("spool")
    monkeypatch.setenv("GEOHAZARD_BATCH_SPOOL", str(where))
    return where


def both(path: Path, profile: Profile) -> tuple[tuple[bytes, str | None], tuple[bytes, str | None]]:
    """(output, error message) from the fast and the reference driver on the same file."""

    def go(run: Any) -> tuple[bytes, str | None]:
        out = io.BytesIO()
        try:
            assert run(path, profile, out) == 0
            return out.getvalue(), None
        except GeohazardError as exc:
            assert exc.exit_code == 2
            return out.getvalue(), str(exc)

    return go(driver.run_batch), go(reference.run_batch_reference)


def assert_same(path: Path, profile: Profile) -> tuple[bytes, str | None]:
    fast, ref = both(path, profile)
    assert fast[1] == ref[1]
    assert fast[0].splitlines() == ref[0].splitlines()
    assert fast[0] == ref[0]
    return fast


def write_jsonl(path: Path, records: list[Any]) -> Path:
    with open(path, "wb") as fh:
        for r in records:
            fh.write(r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode() + b"\n")
    return path


def bounds(profile: Profile) -> dict[str, list[int]]:
    return {ind.key: [int(b.lower) for b in ind.bands] for ind in profile.indicators}


# --- strategies ----------------------------------------------------------------------------------

def number_near(points: list[int]) -> st.SearchStrategy[int]:
    return st.sampled_from(points).flatmap(lambda p: st.integers(max(p - 2, 0), p + 2))


COUNT_ODD = st.sampled_from([-1, -0, 1.5, 3.0, True, "12", " 12 ", "１２", "1,000", "12人", "abc", "", "  ",
                             None, [1], {"a": 1}, 10**10, 1500000000, 1500000001, "-3",
                             "80-150", "499~500", "约300人", "300余人", "1万人", "1.5万人", "150-80", "十二人"])
AMOUNT_ODD = st.sampled_from([-1, -0.0, 0.0, 0.5, 4999999.99, 4999999.999, 5000000.0, 1e14, 1e14 + 0.02,
                              1e15, 1e-05, "500万", "500万元", "0.5亿", "1.2亿", "５００万", "4999999.99",
                              "4999999.999", "3,000,000", "5万万", "abc万", "", "nan", "inf", "1e400",
                              None, True, "0.01", "007.50", "100000000000000", "100000000000001",
                              100000000000000, 100000000000001, 10**21, [5], "100000000000000.00",
                              "100000000000000.01", "99999999999999.99", "4999999.9", "５.5",
                              "400-600万", "400万至600万", "约500万", "5千万", "3千元", "400万-600", "四五百万"])
ID_VALUES = st.one_of(
    st.from_regex(r"[A-Z]{1,2}[0-9]{1,6}", fullmatch=True),
    st.sampled_from(["", "  ", " R1 ", "R\t1", "R\x01", "R\x85", "编号-1", 'q"uote', "back\\slash", 7, 7.5,
                     None, True, "x" * 2001, "\u2028"]),
)


def plain_amount() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(0, 2 * 10**8),
        st.tuples(st.integers(0, 2 * 10**8), st.integers(1, 99)).map(lambda t: float(f"{t[0]}.{t[1]:02d}")),
    )


@st.composite
def records(draw: st.DrawFn, profile: Profile, odd_rate: float) -> dict[str, Any] | Any:
    b = bounds(profile)
    if draw(st.floats(0, 1)) < odd_rate / 10:
        return draw(st.sampled_from([[1, 2], 5, "text", None]))
    rec: dict[str, Any] = {}
    if draw(st.booleans()):
        rec["id"] = draw(ID_VALUES) if draw(st.floats(0, 1)) < odd_rate else f"R{draw(st.integers(0, 10**6))}"
    for key in FIGURES:
        if draw(st.floats(0, 1)) < 0.1:
            continue  # not reported
        odd = draw(st.floats(0, 1)) < odd_rate
        if key in ("evacuees", "deaths"):
            rec[key] = draw(COUNT_ODD) if odd else draw(st.one_of(number_near(b[key]), st.integers(0, 5000)))
        else:
            rec[key] = draw(AMOUNT_ODD) if odd else draw(st.one_of(number_near(b[key]), plain_amount()))
    if draw(st.floats(0, 1)) < odd_rate:
        extra = draw(st.sampled_from(["injured", "missing", "households", "hazard_type", "location", "bogus",
                                      "hazard_type_name", "reported_at"]))
        rec[extra] = draw(st.sampled_from([0, 2, -1, "滑坡", "landslide", "2026-07-21 09:40", "x", None]))
    if draw(st.booleans()):  # key order must not matter
        items = list(rec.items())
        rec = dict(reversed(items))
    return rec


def profiles() -> st.SearchStrategy[str]:
    return st.sampled_from(["shizhong-2023", "national-2006"])


# --- the fast path equals the reference ----------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), odd_rate=st.sampled_from([0.0, 0.02, 0.3]), small_blocks=st.booleans())
def test_jsonl_fast_equals_reference(tmp_path: Path, cfg: Path, data: st.DataObject, odd_rate: float,
                                     small_blocks: bool) -> None:
    from geohazard_cli.rules import load_profile

    profile = load_profile(cfg / "rules" / f"{data.draw(profiles())}.yaml")
    recs = data.draw(st.lists(records(profile, odd_rate), min_size=1, max_size=120))
    path = write_jsonl(tmp_path / "in.jsonl", recs)
    mp = pytest.MonkeyPatch()
    if small_blocks:  # lines straddle the read blocks
        mp.setattr(readers, "BLOCK_BYTES", 97)
    try:
        assert_same(path, profile)
    finally:
        mp.undo()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), odd_rate=st.sampled_from([0.0, 0.05, 0.3]), bom=st.booleans())
def test_csv_fast_equals_reference(tmp_path: Path, cfg: Path, data: st.DataObject, odd_rate: float,
                                   bom: bool) -> None:
    from geohazard_cli.rules import load_profile

    profile = load_profile(cfg / "rules" / f"{data.draw(profiles())}.yaml")
    recs = [r for r in data.draw(st.lists(records(profile, odd_rate), min_size=1, max_size=80))
            if isinstance(r, dict)]
    columns = ["id", *FIGURES]

    def cell(v: Any) -> str:
        if v is None or isinstance(v, list | dict):
            return ""
        return str(v).replace('"', '""') if not isinstance(v, str) else v.replace('"', '""')

    lines = [",".join(columns)]
    for r in recs:
        lines.append(",".join(f'"{cell(r.get(c))}"' for c in columns))
    path = tmp_path / "in.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + ("\r\n".join(lines) + "\r\n").encode())
    mp = pytest.MonkeyPatch()
    mp.setattr(stream, "CSV_ROWS", data.draw(st.sampled_from([3, 2048])))
    try:
        assert_same(path, profile)
    finally:
        mp.undo()


BOUNDARY_CASES = [
    # every bound of every indicator, on it and one below, as int, float and string
    *[{k: v} for k in ("evacuees", "deaths") for p in (3, 10, 30, 100, 500, 1000)
      for v in (p - 1, p, str(p))],
    *[{k: v} for k in ("potential_loss", "direct_loss")
      for p in (1_000_000, 5_000_000, 10_000_000, 50_000_000, 100_000_000)
      for v in (p - 1, p, p - 0.01, float(p), f"{p - 0.01:.2f}", str(p), p + 0.01)],
    {"direct_loss": 4999999.99}, {"direct_loss": "4999999.99"}, {"direct_loss": 4999999.999},
    {"direct_loss": "499.999999万"}, {"direct_loss": "500万"}, {"potential_loss": "0.5亿"},
    {"potential_loss": 1e14}, {"potential_loss": 1e14 + 0.02}, {"potential_loss": 100000000000001},
    {"deaths": 1500000000}, {"deaths": 1500000001}, {"deaths": -0}, {"deaths": 0, "injured": 1},
    {"deaths": 0, "injured": 0}, {"deaths": 2, "missing": 1}, {"evacuees": 1, "potential_loss": -0.0},
    {"id": " R1 ", "deaths": 1}, {"id": "", "deaths": 1}, {"id": 17, "deaths": 1},
    {"id": "R\x7f", "deaths": 1},
    {"id": "R1"}, {}, {"deaths": None}, {"deaths": 1, "bogus": 1},
]


@pytest.mark.parametrize("name", ["shizhong-2023", "national-2006"])
def test_boundaries_fast_equals_reference(tmp_path: Path, cfg: Path, name: str) -> None:
    from geohazard_cli.rules import load_profile

    profile = load_profile(cfg / "rules" / f"{name}.yaml")
    # one record per line, and also each case repeated as a whole block so the column-wide
    # (all-plain) code path sees it
    recs: list[Any] = list(BOUNDARY_CASES)
    for case in BOUNDARY_CASES:
        recs += [dict(case, id=f"B{i}") for i in range(5)]
    _, err = assert_same(write_jsonl(tmp_path / "b.jsonl", recs), profile)
    assert err is not None  # some of the cases are bad


def test_block_of_float_counts_goes_the_reference_way(tmp_path: Path, shizhong: Profile) -> None:
    """A whole column of floats is fine for money, never for people."""
    recs = [{"id": f"F{i}", "deaths": float(i % 5), "direct_loss": float(i)} for i in range(50)]
    out, err = assert_same(write_jsonl(tmp_path / "f.jsonl", recs), shizhong)
    assert err == "--batch: 50 of 50 records were bad (each is reported in place by line)"
    assert b"is not a whole number of people" in out


def test_mixed_layouts_and_bad_lines(tmp_path: Path, shizhong: Profile) -> None:
    recs: list[Any] = [
        {"id": "A", "deaths": 1, "evacuees": 140},
        {"evacuees": 140, "id": "B", "deaths": 1},
        b"\n", b"   \r\n",
        b'{"id": "C", "deaths": 1,}\n',
        b"[1, 2]\n",
        b'{"id": "D", "deaths": 1, "deaths": 12}\n',
        {"id": "E", "hazard_type": "滑坡", "direct_loss": "500万"},
        b"\xff\xfe\n",
        b'{"id": "F", "deaths": 3}',  # no newline at the end
    ]
    out, err = assert_same(write_jsonl(tmp_path / "m.jsonl", recs), shizhong)
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x.get("id") for x in lines] == ["A", "B", None, None, "D", "E", None, "F"]
    assert lines[2] == {"line": 5, "error": lines[2]["error"]}
    assert lines[2]["error"].startswith("invalid JSON (")
    assert lines[3] == {"line": 6, "error": "a record must be an object of fields (this line is a JSON array: "
                                            "JSONL wants one object a line)"}
    assert lines[4]["grade"] == "large"  # the later duplicate key wins, as in any JSON reader
    assert err == "--batch: 3 of 8 records were bad (each is reported in place by line)"


# --- the command -----------------------------------------------------------------------------------

def test_command_jsonl(cli: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"id": "A1", "evacuees": 140, "deaths": 1},
        {"id": "A2", "deaths": -1},
        {"direct_loss": "500万"},
    ])
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 2
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[0] == {"id": "A1", "grade": "medium", "grade_name": "中型", "response_level": "II",
                        "deciding": ["evacuees"], "not_reported": ["potential_loss", "direct_loss"],
                        "lower_bound": True, "skip_level_report": True,
                        "grade_range": {"low": "medium", "high": "medium"}, "prepare_for": "medium", "settles": [],
                        "estimated": [], "advisories": []}
    assert lines[1] == {"line": 2, "id": "A2", "error": 'deaths: "-1" is negative; expected a whole number of '
                                                         "people, 0 or more (examples: 140, 1,000, １４０)"}
    assert lines[2]["grade"] == "large" and "id" not in lines[2]
    assert r.stderr == ("geohazard: error: --batch: 1 of 3 records were bad (each is reported in place by "
                        "line)\n")


def test_command_csv_all_good(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeffid,deaths,direct_loss,evacuees\r\nC1,0,1.2亿,\r\nC2,,,140\r\n,,,\r\nC3,3,4999999.99,0\r\n"
                     .encode())
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["id"], x["grade"]) for x in lines] == [("C1", "extra_large"), ("C2", "medium"),
                                                      ("C3", "medium")]
    assert lines[1]["not_reported"] == ["potential_loss", "deaths", "direct_loss"]
    assert r.stderr == ""


def test_command_csv_unknown_column(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,deaths,colour\nX,1,red\n", encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"geohazard: error: {path}:1: column 'colour' is not a known field (accepted: "
                               "地质灾害类型/灾害类型/hazard_type, ")


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("quoted", ["two{eol}lines", "three{eol}{eol}lines", "a\u2028b"])
def test_command_csv_multiline_cell_line_numbers(tmp_path: Path, shizhong: Profile, eol: str,
                                                 quoted: str) -> None:
    path = tmp_path / "r.csv"
    cell = quoted.format(eol=eol)
    text = eol.join(["id,deaths,location", f'X,1,"{cell}"', "Y,-1,", "Z,abc,", "W,2,", ""])
    path.write_bytes(text.encode())
    out, _ = assert_same(path, shizhong)
    lines = [json.loads(x) for x in out.splitlines()]
    first = 3 + cell.count("\n") + cell.count("\r") - cell.count("\r\n")
    # a CR in a text field is a control character; a record's line is where it ends (csv line_num)
    x_bad = first - 1 if "\r" in cell else None
    assert [x.get("line") for x in lines] == [x_bad, first, first + 1, None]
    mp = pytest.MonkeyPatch()
    mp.setattr(stream, "CSV_ROWS", 2)
    try:
        assert assert_same(path, shizhong)[0] == out
    finally:
        mp.undo()


def test_command_not_utf8(cli: Any, tmp_path: Path) -> None:
    """A CSV file that is not UTF-8 (a spreadsheet saved as GBK) is refused whole, before anything is
    written, naming the line of the first bad byte."""
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,deaths\nX,1\n\xff\xfe,2\n")
    r = cli("classify", "--batch", str(path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f"geohazard: error: {path}:3: is not UTF-8 text (byte 0xff); save it as UTF-8 "
                        "(in Excel: CSV UTF-8)\n")
    path.write_bytes("id,location,deaths\nX,滑坡,1\nY,滑".encode() + "坡".encode()[:2] + b"\n")  # cut mid-character
    r = cli("classify", "--batch", str(path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith(f"geohazard: error: {path}:3: is not UTF-8 text (byte 0xe5)")


def test_max_text_in_step_with_intake() -> None:
    from geohazard_cli import intake

    assert fast.MAX_TEXT == intake.MAX_TEXT
    assert readers.MAX_LINE_BYTES >= 2 * readers.BLOCK_BYTES  # see MAX_LINE_BYTES


def test_fast_grader_money_is_exact(shizhong: Profile) -> None:
    g = fast.FastGrader(shizhong)
    assert g.amount(4999999.99) == 4999999.99 and g.amount(4999999.999) is fast.BAD
    assert g.amount("4999999.99") == Decimal("4999999.99")
    # off the plain forms, the reference's own parsers read the value (the line still comes from the table)
    assert g.amount("500万") == Decimal(5_000_000) and g.amount("４９９万") == Decimal(4_990_000)
    assert g.amount("5万万") is fast.BAD and g.amount(Decimal("4999999.999")) is fast.BAD
    assert g.count("１２") == 12 and g.count("1,000") == 1000
    assert g.count(True) is fast.BAD and g.count(3.0) is fast.BAD and g.count("-3") is fast.BAD
    assert g.splits["direct_loss"] == [0, 1_000_000, 5_000_000, 10_000_000]


# --- memory ------------------------------------------------------------------------------------------

def _generate(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(f'{{"id":"M{i:07d}","evacuees":{i % 1500},'
                     f'"potential_loss":{(i * 7919) % 200_000_000}.{i % 100:02d},'
                     f'"deaths":{i % 40},"direct_loss":{(i * 104729) % 20_000_000}}}\n')
    return path


# Memory of the whole command: the process and any part processes it forks (batch/parts.py). Each
# process's RSS counts the pages it shares with the other; PSS shares them out, so the sum of PSS
# over the processes is what the command costs the machine. Sampled every 5 ms from /proc while it
# runs (a wrapper process starts it, so pytest's own size never enters). ru_maxrss (the largest
# single process) is checked too.
_WRAPPER = """
import os, subprocess, sys, time
def pss(pid):
    total = 0
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            pids = [pid, *map(int, fh.read().split())]
    except OSError:
        return 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                total += sum(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except OSError:
            pass
    return total
with open(os.devnull, "wb") as devnull:
    proc = subprocess.Popen([sys.executable, "-m", "geohazard_cli", "classify", "--batch", sys.argv[1]],
                            stdout=devnull)
    peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, pss(proc.pid))
        time.sleep(0.005)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, peak)
"""


def _peak_mib(path: Path) -> tuple[float, float]:
    """(largest process's peak RSS, peak PSS summed over the command's processes), MiB."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", _WRAPPER, str(path)], env=env, capture_output=True,
                          text=True, check=True)
    code, rss_kib, pss_kib = done.stdout.split()
    assert code == "0", done.stderr
    assert int(pss_kib) > 0  # the sampler saw the command
    return int(rss_kib) / 1024, int(pss_kib) / 1024


@pytest.mark.slow
def test_memory_stays_flat(tmp_path: Path) -> None:
    """Over 300,000 records the whole command (cut into parts on a machine with 2 CPUs: both files
    are over parts.PART_MIN_BYTES) stays under 50 MiB, and hardly grows with the input."""
    _, small = _peak_mib(_generate(tmp_path / "small.jsonl", 100_000))
    large_rss, large = _peak_mib(_generate(tmp_path / "large.jsonl", 300_000))
    assert large < 50 and large_rss < 50, f"peak PSS of all processes {large:.1f} MiB, largest RSS {large_rss:.1f}"
    assert large - small < 8, f"{small:.1f} MiB at 100k records, {large:.1f} MiB at 300k"


@example(n=0)
@settings(max_examples=5, deadline=None)
@given(n=st.integers(0, 3))
def test_empty_and_tiny_inputs(n: int) -> None:
    import tempfile

    from geohazard_cli.config import config_dir
    from geohazard_cli.rules import load_profile

    profile = load_profile(config_dir(None) / "rules" / "shizhong-2023.yaml")
    with tempfile.TemporaryDirectory() as d:
        p = write_jsonl(Path(d) / "t.jsonl", [{"deaths": i} for i in range(n)])
        assert_same(p, profile)
        c = Path(d) / "t.csv"
        c.write_text("deaths\n" + "".join(f"{i}\n" for i in range(n)), encoding="utf-8")
        assert_same(c, profile)


def test_command_reads_jsonl_from_stdin(cli: Any) -> None:
    text = "".join(json.dumps({"id": f"S{i}", "deaths": i}) + "\n" for i in range(40))
    text += '{"id": "S40", "deaths": -2}'
    r = cli("classify", "--batch", "-", stdin=text)
    assert r.exit_code == 2
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x.get("id") for x in lines[:40]] == [f"S{i}" for i in range(40)]
    assert [lines[i]["grade"] for i in (2, 3, 10, 30)] == ["small", "medium", "large", "extra_large"]
    assert lines[40]["line"] == 41
    assert r.stderr.endswith("1 of 41 records were bad (each is reported in place by line)\n")


FLOATS = st.one_of(
    st.floats(min_value=0, max_value=2e14, allow_nan=False, allow_infinity=False),
    st.integers(0, 10**16).map(lambda n: n / 100),
    st.sampled_from([4999999.99, 4999999.995, 5000000.0, 99999999.99, 1e14, 1e14 + 0.015625, 0.01, 0.005,
                     1e-05]),
)


@settings(max_examples=500, deadline=None)
@given(f=FLOATS)
def test_float_fast_check_never_disagrees_with_decimal(shizhong: Profile, f: float) -> None:
    """A JSON float the fast path takes is one the reference takes, and lands in the same band."""
    from bisect import bisect_right

    from geohazard_cli.errors import InputError
    from geohazard_cli.money import parse_amount

    g = fast.FastGrader(shizhong)
    splits = g.splits["direct_loss"]
    try:
        ref: Decimal | None = parse_amount(f, "direct_loss", shizhong.limits.amount)
    except InputError:
        ref = None
    for cell in (g.column("direct_loss", [f])[0], g.column("direct_loss", [f, 1, 2.5])[0]):
        if cell is fast.BAD:
            continue  # left to the reference path: always safe
        assert ref is not None
        assert cell == bisect_right(splits, ref)


@st.composite
def yuan_text(draw: st.DrawFn) -> str:
    whole = draw(st.one_of(st.integers(0, 2 * 10**14),
                           st.sampled_from([5_000_000, 99_999_999, 10**14, 10**14 - 1])))
    decimals = draw(st.sampled_from(["", ".0", ".5", ".01", ".99", ".00", ".10", ".999", ".001", "."]))
    return f"{whole}{decimals}"


@settings(max_examples=500, deadline=None)
@given(text=yuan_text())
def test_yuan_text_fast_check_never_disagrees_with_decimal(shizhong: Profile, text: str) -> None:
    """CSV money cells read as float(text) land in the band Decimal(text) would, or go the reference way."""
    from bisect import bisect_right

    from geohazard_cli.errors import InputError
    from geohazard_cli.money import parse_amount

    g = fast.FastGrader(shizhong)
    splits = g.splits["potential_loss"]
    try:
        ref: Decimal | None = parse_amount(text, "potential_loss", shizhong.limits.amount)
    except InputError:
        ref = None
    cell = g.column("potential_loss", [text, "1.5", "20"])[0]
    if ref is None:
        assert cell is fast.BAD
    else:
        assert cell == bisect_right(splits, ref)


def test_skip_level_is_null_when_undetermined(cli: Any, tmp_path: Path) -> None:
    # As classify says 尚不能确定: unreported figures (or missing persons) could still make §3.2.2 apply.
    path = write_jsonl(tmp_path / "s.jsonl", [
        {"id": "A", "potential_loss": 5000000},
        {"id": "B", "evacuees": 10, "potential_loss": 0, "deaths": 0, "direct_loss": 0, "injured": 0},
        {"id": "C", "evacuees": 10, "potential_loss": 0, "deaths": 0, "direct_loss": 0, "injured": 0, "missing": 1},
        {"id": "D", "evacuees": 10, "injured": 2},
    ])
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 0, r.stderr
    got = {line["id"]: line["skip_level_report"] for line in map(json.loads, r.stdout.splitlines())}
    assert got == {"A": None, "B": False, "C": None, "D": True}


@pytest.mark.parametrize("name", ["records.txt", "records.json", "records"])
def test_batch_suffix_must_name_the_format(cli: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text('{"deaths": 1}\n', encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f"geohazard: error: --batch: {path}: the format goes by suffix; name it .jsonl (one JSON "
                        "object a line) or .csv (header row), or pass - for JSONL on stdin\n")


def test_numbers_a_double_cannot_carry_are_exact(cli: Any, tmp_path: Path) -> None:
    # As doubles these become 1000000.0 (大型 bound crossed) and 1e+23: both paths must see the digits.
    path = tmp_path / "lossy.jsonl"
    path.write_text('{"id":"a","direct_loss": 999999.9999999999999}\n'
                    '{"id":"b","direct_loss": 99999999999999999999999}\n'
                    '{"id":"c","direct_loss": 999999.99}\n', encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 2
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert lines[0] == {"line": 1, "id": "a",
                        "error": 'direct_loss: "999999.9999999999999" is more precise than a fen (0.01 yuan)'}
    assert lines[1] == {"line": 2, "id": "b", "error": 'direct_loss: "99999999999999999999999" is more than '
                        "100万亿元: past any real loss, likely a typo"}
    assert (lines[2]["id"], lines[2]["grade"]) == ("c", "small")


@settings(max_examples=300, deadline=None)
@given(line=st.one_of(st.binary(max_size=60),
                      st.text(alphabet="0123456789.eE+-\"{}:, R", max_size=60).map(str.encode)))
@example(line=b'{"d":999999.9999999999999}')
@example(line=b'{"d":1e5}')
@example(line=b'{"id":"R1E-3"}')
def test_block_lossy_test_is_a_superset_of_the_line_test(line: bytes) -> None:
    # The block-wide test may flag more than the per-line regex, never less: a miss would let a
    # number a double cannot carry through as a rounded float.
    if readers._LOSSY.search(line):
        assert readers._maybe_lossy(line)
        assert readers._maybe_lossy(b'{"id":"R0000001","deaths":1}\n' + line + b"\n{}")


# --- more than one process ----------------------------------------------------------------------------

def _bench_like(n: int, seed: int) -> list[Any]:
    """Records as the benchmark writes them (compact JSON, every band, bounds, odd and bad values)."""
    import random

    r = random.Random(seed)
    recs: list[Any] = []
    for i in range(n):
        rec: dict[str, Any] = {"id": f"R{i:07d}", "evacuees": int(10 ** r.uniform(0, 3.4)),
                               "potential_loss": int(10 ** r.uniform(0, 8.4)),
                               "deaths": int(10 ** r.uniform(0, 1.7)) - 1,
                               "direct_loss": float(f"{int(10 ** r.uniform(0, 7.4))}.{r.randint(1, 99):02d}")}
        roll = r.random()
        if roll < 0.05:
            rec[r.choice(FIGURES)] = r.choice([-1, 1.5, "abc", "5万万", "500万", "４９９万", 4999999.999, None, True])
        elif roll < 0.06:
            rec = {"id": rec["id"], "deaths": rec["deaths"]} if r.random() < 0.5 else dict(reversed(rec.items()))
        elif roll < 0.065:
            recs.append(r.choice([b"\n", b"  \r\n", b'{"deaths": 1,}\n', b"[1]\n", b"\xff\n"]))
            continue
        recs.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return recs


def _spawned_children() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_parts_give_the_same_bytes(tmp_path: Path, cfg: Path, jobs: int, fmt: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut into parts (each graded by its own process), the output is the reference's, byte for byte,
    line numbers included; and the file really was cut."""
    from geohazard_cli.batch import parts
    from geohazard_cli.rules import load_profile

    profile = load_profile(cfg / "rules" / "shizhong-2023.yaml")
    recs = _bench_like(4000, seed=jobs)
    if fmt == "jsonl":
        path = write_jsonl(tmp_path / "p.jsonl", recs)
    else:
        path = tmp_path / "p.csv"
        rows = ["id,evacuees,potential_loss,deaths,direct_loss"]
        for r in recs:
            try:
                rec = json.loads(r)
            except ValueError:
                rows.append("")
                continue
            if isinstance(rec, dict):
                rows.append(",".join("" if rec.get(k) is None else str(rec.get(k)) for k in ["id", *FIGURES]))
        path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    calls: list[list[int]] = []
    real = parts.run_parts

    def spy(*args: Any) -> None:
        calls.append(args[-1])
        real(*args)

    monkeypatch.setattr(parts, "run_parts", spy)
    started: list[bool] = []
    real_fork = parts._fork_part

    def fork_spy(*args: Any) -> Any:
        child = real_fork(*args)
        started.append(child is not None)
        return child

    monkeypatch.setattr(parts, "_fork_part", fork_spy)
    fast = io.BytesIO()
    try:
        driver.run_batch(path, profile, fast, jobs=jobs)
        fast_err = None
    except GeohazardError as exc:
        fast_err = str(exc)
    assert len(calls) == 1 and len(calls[0]) == jobs - 1  # cut into `jobs` parts
    assert started == [True] * (jobs - 1)  # each further part had its own process
    ref = io.BytesIO()
    try:
        reference.run_batch_reference(path, profile, ref)
        ref_err = None
    except GeohazardError as exc:
        ref_err = str(exc)
    assert fast_err == ref_err and fast_err is not None
    assert fast.getvalue().splitlines() == ref.getvalue().splitlines()
    assert fast.getvalue() == ref.getvalue()
    assert not _spawned_children()  # every part process was reaped


def test_csv_with_quotes_is_not_cut(tmp_path: Path, shizhong: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quoted cell may hold a line break, so a CSV file with a quote before the cut stays whole."""
    from geohazard_cli.batch import parts

    path = tmp_path / "q.csv"
    path.write_text('id,deaths,location\nA,1,"two\nlines"\n' + "".join(f"B{i},2,\n" for i in range(3000)),
                    encoding="utf-8")
    with open(path, "rb") as fh:
        assert parts.cuts(fh.fileno(), path.stat().st_size, 2, is_csv=True) == []
        assert parts.cuts(fh.fileno(), path.stat().st_size, 2, is_csv=False) != []
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    assert_same(path, shizhong)


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_a_file_not_utf8_writes_nothing_however_it_is_cut(
        tmp_path: Path, shizhong: Profile, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    from geohazard_cli.batch import parts
    from geohazard_cli.errors import InputError

    path = tmp_path / "u.csv"
    path.write_bytes(b"id,deaths\n" + b"".join(b"A%d,1\n" % i for i in range(2000)) + b"B,\xff\xfe\n"
                     + b"".join(b"C%d,1\n" % i for i in range(100)))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    for run in (reference.run_batch_reference, lambda p, prof, out: driver.run_batch(p, prof, out, jobs=jobs)):
        out = io.BytesIO()
        with pytest.raises(InputError, match=rf"^{path}:2002: is not UTF-8 text \(byte 0xff\)"):
            run(path, shizhong, out)
        assert out.getvalue() == b""
    assert not _spawned_children()


LONG_CELL = b"x" * 140_000  # past the csv module's field limit (128 KiB)


@pytest.mark.parametrize("before", [3000, 20_000])  # the long rows in the first part, or in the second
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("shape", ["plain", "quoted"])
def test_a_row_with_a_cell_past_the_csv_limit_is_refused_alone(
        tmp_path: Path, shizhong: Profile, monkeypatch: pytest.MonkeyPatch, jobs: int, before: int,
        shape: str) -> None:
    """Hardening 10: like a long JSONL line, a row with a cell over the csv module's limit is a bad
    record in its place (each of two in a row), and the batch goes on; the same whatever the path.
    (A quoted cell may span lines, as long as it passes the limit on the row's last line.)"""
    from geohazard_cli.batch import parts

    long_rows = (b"B,1," + LONG_CELL + b"\r\n" + b"B2,1,y" + LONG_CELL + b"\r\n" if shape == "plain"
                 else b'B,1,"a\r\n' + LONG_CELL + b'"\r\n' + b'B2,1,"' + LONG_CELL + b'"\r\n')
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,deaths,location\r\n" + b"".join(b"A%d,1,\r\n" % i for i in range(before))
                     + long_rows + b"".join(b"C%d,1,\r\n" % i for i in range(100)))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    monkeypatch.setattr(stream, "CSV_ROWS", 1000)
    out, err = _run_both_ways(path, shizhong, jobs)
    lines = [json.loads(x) for x in out.splitlines()]
    assert err == f"--batch: 2 of {before + 102} records were bad (each is reported in place by line)"
    first = before + (2 if shape == "plain" else 3)  # a row's number is its last line's
    last = first + 1
    assert lines[before:before + 2] == [{"line": n, "error": "cannot be read as CSV (field larger than field limit "
                                                             "(131072))"} for n in (first, last)]
    assert len(lines) == before + 102 and lines[-1]["grade"] == "small" and lines[-1]["id"] == "C99"


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("rest", [b"\r\n", b'\r\nmore ""\r\n'])
def test_a_quote_left_open_past_the_limit_ends_the_batch_where_it_is(
        tmp_path: Path, shizhong: Profile, monkeypatch: pytest.MonkeyPatch, jobs: int, rest: bytes) -> None:
    """A quote left open makes the rest of the file one cell (a doubled quote "" is a quote inside
    it, not its end): no row after it can be trusted, so the rows before it are graded and
    written, the same whatever the path; then one error."""
    from geohazard_cli.batch import parts

    path = tmp_path / "c.csv"
    path.write_bytes(b"id,deaths,location\r\n" + b"".join(b"A%d,1,\r\n" % i for i in range(3000))
                     + b'B,1,"' + LONG_CELL + rest + b"".join(b"C%d,1,\r\n" % i for i in range(100)))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    monkeypatch.setattr(stream, "CSV_ROWS", 1000)
    fast, ref = io.BytesIO(), io.BytesIO()
    with pytest.raises(GeohazardError) as ref_err:
        reference.run_batch_reference(path, shizhong, ref)
    with pytest.raises(GeohazardError) as err:
        driver.run_batch(path, shizhong, fast, jobs=jobs)
    assert str(err.value) == str(ref_err.value) == (f"{path}:3002: cannot be read as CSV "
                                                    "(field larger than field limit (131072))")
    assert fast.getvalue() == ref.getvalue() and len(ref.getvalue().splitlines()) == 3000


def test_an_early_stop_kills_and_reaps_the_part_processes(tmp_path: Path, shizhong: Profile,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The output closes (| head) while the first part is written: no part process is left running."""
    from geohazard_cli.batch import parts

    path = write_jsonl(tmp_path / "s.jsonl", _bench_like(6000, seed=7))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)

    class Closed(io.BytesIO):
        def write(self, data: Any) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        driver.run_batch(path, shizhong, Closed(), jobs=2)
    assert not _spawned_children()


def test_parts_are_graded_here_when_a_fork_fails(tmp_path: Path, shizhong: Profile,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A process limit (fork fails) slows a batch, never stops it: this process grades every part."""
    from geohazard_cli.batch import parts

    path = write_jsonl(tmp_path / "f.jsonl", _bench_like(3000, seed=11))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    forks: list[int] = []

    def no_fork() -> int:
        forks.append(1)
        raise OSError(11, "Resource temporarily unavailable")

    ref = io.BytesIO()
    with pytest.raises(GeohazardError) as ref_err:
        reference.run_batch_reference(path, shizhong, ref)
    monkeypatch.setattr(os, "fork", no_fork)
    out = io.BytesIO()
    with pytest.raises(GeohazardError) as err:
        driver.run_batch(path, shizhong, out, jobs=3)
    assert len(forks) == 2  # both further parts tried to fork, and were graded here instead
    assert out.getvalue() == ref.getvalue() and str(err.value) == str(ref_err.value)


def test_a_failed_part_process_is_graded_here(tmp_path: Path, shizhong: Profile,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A part process that cannot write its output (say, a full disk) fails; this process discards
    what it wrote and grades that part itself. Output to a real file goes through sendfile."""
    from geohazard_cli import forking
    from geohazard_cli.batch import parts

    path = write_jsonl(tmp_path / "g.jsonl", _bench_like(3000, seed=5))
    ref = io.BytesIO()
    with pytest.raises(GeohazardError) as ref_err:
        reference.run_batch_reference(path, shizhong, ref)
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    for broken in (False, True):
        if broken:  # the part process's output file is read-only: its first write fails
            monkeypatch.setattr(forking.tempfile, "TemporaryFile", lambda **_: open(os.devnull, "rb"))  # noqa: SIM115
        result = tmp_path / f"out-{broken}.jsonl"
        with open(result, "wb") as sink, pytest.raises(GeohazardError) as err:
            driver.run_batch(path, shizhong, sink, jobs=2)
        assert result.read_bytes() == ref.getvalue() and str(err.value) == str(ref_err.value)
        assert not _spawned_children()


def test_command_jobs(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from geohazard_cli.batch import parts

    path = write_jsonl(tmp_path / "j.jsonl", _bench_like(2000, seed=3))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    one, two = (cli("classify", "--batch", str(path), "--jobs", str(n)) for n in (1, 2))
    assert (one.exit_code, one.stdout, one.stderr) == (two.exit_code, two.stdout, two.stderr)
    assert one.exit_code == 2 and len(one.stdout.splitlines()) > 1900  # some records are bad on purpose
    r = cli("classify", "--deaths", "1", "--jobs", "2")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == "geohazard: error: --jobs: only with --batch (the processes a batch may use)\n"
    r = cli("classify", "--batch", str(path), "--jobs", "0")
    assert (r.exit_code, r.stdout) == (2, "")
    assert "--jobs" in r.stderr and r.stderr.count("\n") == 1


FRAGMENTS = ['{', '}', '{"a":1', '"b":2}', '{"c":{"d":3}}', ',', '{}', '{"e":"}\\n{"}', ' ', '\r', '1', '"s"',
             '{"f":1},{"g":2}', '{"h":[1', '2]}', '{"i":{', '}}', ':', 'null', '{"j":1}', '{"k":1e5}']


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=4).map("".join), min_size=1, max_size=8))
@example(lines=['{"a":1', '"b":2},{"c":3}'])
@example(lines=['{"h":[1', '{"x":2}]}', '{},{}'])
@example(lines=['{"i":{', '}}', '{}'])
def test_block_parse_is_line_by_line(lines: list[str]) -> None:
    """A block parsed as one array gives each line exactly what parsing that line alone gives."""
    body = "".join(line + "\n" for line in lines).encode()
    records, blanks, objects = readers.parse_block(body)
    expected: list[Any] = []
    for line in lines:
        raw = line.encode()
        expected.append(readers.BLANK if not raw.strip() else readers.parse_line(raw, False))
    assert len(records) == len(expected)
    for got, want in zip(records, expected, strict=True):
        if isinstance(want, GeohazardError):
            assert type(got) is type(want) and str(got) == str(want)
        else:
            assert got == want and type(got) is type(want)
    assert blanks == expected.count(readers.BLANK)
    assert not objects or all(type(r) is dict for r in records)


def _start_two_process_batch(path: Path, ignore_sigint: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """Start `classify --batch` on a file large enough to be cut; return it and its part process."""
    import signal
    import time

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "geohazard_cli", "classify", "--batch", str(path), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True,
                            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint
                            else None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as fh:
                kids = fh.read().split()
        except OSError:
            kids = []
        if kids:
            return proc, int(kids[0])
        assert proc.poll() is None, "finished before its part process was seen"
        time.sleep(0.002)
    raise AssertionError("no part process")


def _gone(pid: int) -> bool:
    import time

    for _ in range(500):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split(") ")[1].startswith("Z"):
                    return True  # a zombie of a dead parent, waiting for init
        except OSError:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "SIGINT"])
def test_the_part_process_dies_with_the_command(tmp_path: Path, how: str) -> None:
    """kill, timeout, a closed terminal or Ctrl-C on the command: its part process stops too."""
    import signal

    path = _generate(tmp_path / "big.jsonl", 400_000)
    proc, child = _start_two_process_batch(path)
    sig = getattr(signal, how)
    if how == "SIGINT":
        os.killpg(proc.pid, sig)  # Ctrl-C reaches the whole foreground group
    else:
        os.kill(proc.pid, sig)  # only the command's process
    code = proc.wait(timeout=60)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert code == ({"SIGTERM": 128 + 15, "SIGINT": 130}.get(how, -9)), err
    if how == "SIGINT":
        assert err == "geohazard: interrupted\n"
    assert _gone(child)


@pytest.mark.slow
def test_an_ignored_ctrl_c_stays_ignored_in_the_part_process(tmp_path: Path) -> None:
    """A command started with SIGINT ignored (nohup, a background job) finishes whole."""
    import signal

    path = _generate(tmp_path / "big.jsonl", 200_000)
    proc, child = _start_two_process_batch(path, ignore_sigint=True)
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=120) == 0
    assert _gone(child)


@pytest.mark.parametrize("scan", [7, 1 << 20])
def test_csv_line_numbers_across_the_cut_count_lone_cr_and_split_crlf(
        tmp_path: Path, shizhong: Profile, monkeypatch: pytest.MonkeyPatch, scan: int) -> None:
    """Line ends as the csv module counts them (LF, CRLF, a lone CR) before the cut, and CRLF pairs
    falling across the reads that count them, give the part process the right line numbers."""
    from geohazard_cli.batch import parts

    rows = [b"id,deaths,direct_loss"]
    for i in range(3000):
        bad = b"-1" if i % 97 == 0 else b"1"  # bad records carry their line number
        rows.append(b"R%d,%s,%d" % (i, bad, i * 1000))
    ends = [b"\r", b"\r\n", b"\n"]
    body = b"".join(row + (ends[i % 3] if i < 2000 else b"\r\n") for i, row in enumerate(rows))
    path = tmp_path / "cr.csv"
    path.write_bytes(body)
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    monkeypatch.setattr(parts, "_SCAN", scan)
    with open(path, "rb") as fh:
        assert parts.cuts(fh.fileno(), len(body), 2, is_csv=True) != []
    ref = io.BytesIO()
    with pytest.raises(GeohazardError):
        reference.run_batch_reference(path, shizhong, ref)
    out = io.BytesIO()
    with pytest.raises(GeohazardError):
        driver.run_batch(path, shizhong, out, jobs=2)
    assert out.getvalue() == ref.getvalue()
    # row R(i) is on line i + 2 (one header line; each LF, CRLF or lone CR ends one line)
    assert b'{"line":99,' in ref.getvalue() and b'{"line":2912,' in ref.getvalue()  # R97, R2910 (after the cut)


def test_a_money_cell_holding_a_line_break(tmp_path: Path, shizhong: Profile) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b'id,direct_loss\nA,"500\n\xe4\xb8\x87"\nB,4999999.99\nC,"1\r\n2"\n')
    out, _ = assert_same(path, shizhong)
    lines = [json.loads(x) for x in out.splitlines()]
    # spaces and line breaks inside a figure are dropped, as intake does for typed figures
    assert [(x["id"], x["grade"]) for x in lines] == [("A", "large"), ("B", "medium"), ("C", "small")]


def test_part_output_is_never_spooled_in_memory(tmp_path: Path, shizhong: Profile,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A tmpfs temporary directory is memory: the spool goes to /var/tmp on disk, or there is one process."""
    from geohazard_cli import forking
    from geohazard_cli.batch import parts

    table = tmp_path / "mountinfo"
    table.write_text("22 1 0:21 / / rw - ext4 /dev/sda1 rw\n"
                     "23 22 0:22 / /tmp rw,nosuid - tmpfs tmpfs rw\n"
                     "24 22 0:23 / /var/tmp/mem rw - tmpfs tmpfs rw\n", encoding="utf-8")
    assert forking._in_memory("/tmp/x", str(table)) and forking._in_memory("/tmp", str(table))
    assert not forking._in_memory("/tmpfoo", str(table)) and not forking._in_memory("/var/tmp", str(table))
    assert forking._in_memory("/var/tmp/mem/a", str(table))
    assert not forking._in_memory("/tmp", str(tmp_path / "no-such-table"))
    path = write_jsonl(tmp_path / "s.jsonl", _bench_like(2000, seed=9))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    assert forking.spool_dir() == os.environ["GEOHAZARD_BATCH_SPOOL"]  # the user's choice wins
    monkeypatch.setenv("GEOHAZARD_BATCH_SPOOL", str(tmp_path / "no-such-dir"))
    assert forking.spool_dir() is None
    monkeypatch.delenv("GEOHAZARD_BATCH_SPOOL")
    monkeypatch.setattr(forking, "_in_memory", lambda _path: True)
    assert forking.spool_dir() is None
    forks: list[int] = []
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or 0)  # would make this process a "child"
    ref, out = io.BytesIO(), io.BytesIO()
    with pytest.raises(GeohazardError) as ref_err:
        reference.run_batch_reference(path, shizhong, ref)
    with pytest.raises(GeohazardError) as err:
        driver.run_batch(path, shizhong, out, jobs=2)
    assert out.getvalue() == ref.getvalue() and str(err.value) == str(ref_err.value) and forks == []


def test_tables_are_per_set_of_fields_and_bounded(tmp_path: Path, shizhong: Profile,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Field order does not make a new table; and however many cells occur, the tables stay bounded
    (they start again past MAX_TABLE_ENTRIES) and the output stays the reference's."""
    import random

    g = fast.FastGrader(shizhong)
    r = random.Random(4)
    for _ in range(20):
        rec = {"id": "x", "evacuees": r.randint(0, 2000), "deaths": r.randint(0, 40),
               "direct_loss": r.randint(0, 10**8)}
        keys = list(rec)
        r.shuffle(keys)
        g.render([{k: rec[k] for k in keys}], lambda pos: [b"?\n"] * len(pos))
    assert len(g._tables) == 1
    recs = []
    for i in range(3000):
        rec = {"id": f"R{i}", "evacuees": r.randint(0, 2000), "deaths": r.randint(0, 40),
               "direct_loss": r.randint(0, 2 * 10**8), "injured": r.randint(0, 3)}
        keys = r.sample(list(rec), r.randint(2, 5))
        recs.append({k: rec[k] for k in keys})
    path = write_jsonl(tmp_path / "orders.jsonl", recs)
    monkeypatch.setattr(fast, "MAX_TABLE_ENTRIES", 7)
    assert_same(path, shizhong)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(0, 60), min_size=1, max_size=12), block=st.sampled_from([5, 7, 16, 25]),
       newline_at_end=st.booleans())
def test_a_line_too_long_is_refused_unread(tmp_path: Path, shizhong: Profile, sizes: list[int], block: int,
                                          newline_at_end: bool) -> None:
    """Lines around MAX_LINE_BYTES, cut across reads anywhere: refused or graded exactly as the
    reference does, line numbers included (blocks at most half MAX_LINE_BYTES, as in the code)."""
    lines = [b'{"deaths":1,"location":"' + b"x" * n + b'"}' for n in sizes]
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if newline_at_end else b""))
    mp = pytest.MonkeyPatch()
    mp.setattr(readers, "MAX_LINE_BYTES", 50)
    mp.setattr(readers, "BLOCK_BYTES", block)
    try:
        out, _ = assert_same(path, shizhong)
    finally:
        mp.undo()
    too_long = [i + 1 for i, line in enumerate(lines) if len(line) > 50]
    assert [json.loads(x)["line"] for x in out.splitlines() if b"longer than" in x] == too_long


@pytest.mark.parametrize("block", [5, 1 << 17])
def test_jsonl_with_a_byte_order_mark(tmp_path: Path, shizhong: Profile, block: int,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Notepad's "UTF-8 with BOM": the mark at the start of the file is no part of line 1 (one in the
    middle of the file is, and makes its line bad)."""
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id":"A","deaths":1}\n{"id":"B","deaths":12}\n\xef\xbb\xbf{"id":"C","deaths":1}\n')
    monkeypatch.setattr(readers, "BLOCK_BYTES", block)
    out, err = assert_same(path, shizhong)
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x.get("id") for x in lines[:2]] == ["A", "B"] and lines[2]["line"] == 3
    assert err is not None


def test_csv_column_twice_is_refused(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,deaths,deaths\nA,1,50\n", encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"geohazard: error: {path}:1: column 'deaths' appears twice; keep one\n"


def test_batch_modules_import_one_way() -> None:
    """The batch package's modules import only those below them (no circle), and no other's
    private names."""
    import ast

    import geohazard_cli.batch as package

    order = ["readers", "reference", "fast", "stream", "parts", "driver"]
    for i, name in enumerate(order):
        tree = ast.parse((Path(package.__file__).parent / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geohazard_cli.batch"):
                used = node.module.removeprefix("geohazard_cli.batch").lstrip(".")
                targets = [used] if used else [a.name for a in node.names]
                for target in targets:
                    assert target in order[:i], f"{name} imports {target}"
                assert not any(a.name.startswith("_") for a in node.names), f"{name} imports a private name"


# --- one bad record never ends the batch (issue "Hardening" 3) ------------------------------------

ISSUE_3 = b'{"deaths":"\\ud800","potential_loss":1234567890123456}\n{"deaths":1}\n'


def _run_both_ways(path: Path, profile: Profile, jobs: int) -> tuple[bytes, str | None]:
    """Output and error of the fast driver with ``jobs`` processes, checked equal to the reference's."""
    fast, ref = io.BytesIO(), io.BytesIO()
    errors = []
    for run, sink in ((lambda p, prof, out: driver.run_batch(p, prof, out, jobs=jobs), fast),
                      (reference.run_batch_reference, ref)):
        try:
            assert run(path, profile, sink) == 0
            errors.append(None)
        except GeohazardError as exc:
            assert exc.exit_code == 2
            errors.append(str(exc))
    assert errors[0] == errors[1]
    assert fast.getvalue() == ref.getvalue()
    return fast.getvalue(), errors[0]


@pytest.mark.parametrize("jobs", [1, 2])
def test_issue_3_lone_surrogate_beside_a_long_number(tmp_path: Path, shizhong: Profile, jobs: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's input: the bad record gets its error line in place and the good one is graded,
    on the fast path, the reference path and with two processes (the bad line in each part)."""
    from geohazard_cli.batch import parts

    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    path = tmp_path / "h3.jsonl"
    path.write_bytes(ISSUE_3)
    out, err = _run_both_ways(path, shizhong, jobs)
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[0] == {"line": 1, "error": "invalid JSON (no low surrogate in string)"}
    assert lines[1]["grade"] == "small" and len(lines) == 2
    assert err == "--batch: 1 of 2 records were bad (each is reported in place by line)"
    path.write_bytes(ISSUE_3 * 40)  # cut in the middle: a bad line on both sides of the cut
    out, err = _run_both_ways(path, shizhong, jobs)
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x.get("line") for x in lines] == [i if i % 2 else None for i in range(1, 81)]
    assert err == "--batch: 40 of 80 records were bad (each is reported in place by line)"


def test_issue_3_reference_line_never_raises_on_its_own_message(shizhong: Profile) -> None:
    """An error whose text cannot be UTF-8 (a lone surrogate quoted back) still makes its line."""
    from geohazard_cli.errors import InputError

    line, bad = reference.reference_line(7, InputError('deaths: "\ud800" is not a count'), shizhong)
    assert bad and json.loads(line) == {"line": 7, "error": 'deaths: "\\ud800" is not a count'}


WILD = st.sampled_from([
    '"\\ud800"', '"\\udc00"', '"a\\ud800b"', '"\\ud83d\\ude00"', '"\\u0000"', '"\\u2028"', '"x\\"y"',
    "1234567890123456", "12345678901234567890123456789012345678901234567890", "-1234567890123456",
    "1e400", "-1e400", "1E+999999999", "1e-999999999", "0.1e1", "5e6", "123456789012345678.5", "-0.0",
    "4999999.99", "1.00000000000000000001", "18446744073709551616", "[]", "{}", '[{"a":"\\ud800"}]',
    '{"x":1e400}', "true", "null", '"500万"', '"1e400"', '"１２"', '"2026-07-21 09:40"', "12",
])
WILD_FIELDS = ("id", *FIGURES, "injured", "missing", "households", "location", "hazard_type", "reported_at")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_wild_values_are_reported_in_place(tmp_path: Path, shizhong: Profile, data: st.DataObject) -> None:
    """Whatever the value (lone surrogates as JSON escapes, huge or lossy numbers, nesting), each
    record gets exactly one line, in place, and both paths give the same bytes."""
    lines = []
    for _ in range(data.draw(st.integers(1, 12))):
        fields = data.draw(st.lists(st.sampled_from(WILD_FIELDS), min_size=1, max_size=4, unique=True))
        body = ",".join(f'"{f}":{data.draw(WILD)}' for f in fields)
        lines.append("{" + body + "}")
    path = tmp_path / "wild.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    out, _ = _run_both_ways(path, shizhong, 1)
    got = [json.loads(x) for x in out.splitlines()]
    assert len(got) == len(lines)
    assert all(x.get("line") in (None, i) for i, x in enumerate(got, 1))
