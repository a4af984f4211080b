"""`classify --batch` input as an officer's spreadsheet gives it: CSV headers in the plan's Chinese
terms, advisories and ids on every output line, money in 万/亿, cells too long for the csv module.

Fast path and reference path are held to the same bytes here too (``assert_same``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.test_batch import assert_same, profiles, spool  # noqa: F401 - spool: the autouse fixture

from geohazard_cli.batch import reference
from geohazard_cli.errors import GeohazardError
from geohazard_cli.fields import ALL_FIELDS, FIELDS, HEADERS, header_names
from geohazard_cli.rules import Profile

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "docs" / "plan" / "geohazard-emergency-plan-2023.md"


# --- CSV headers in the plan's terms ------------------------------------------------------------

def test_every_plan_term_is_in_the_plan_text() -> None:
    """A label that cites a clause is the plan's own term, verbatim (the plan's text, whitespace as
    the vendored copy has it, without the spaces its PDF extraction put inside words)."""
    text = "".join(PLAN.read_text(encoding="utf-8").split())
    cited = [f for f in FIELDS if f.source]
    assert {f.name for f in cited} >= {"evacuees", "potential_loss", "deaths", "direct_loss", "missing"}
    for f in cited:
        assert f.label in text, (f.name, f.label)


def test_headers_are_one_table_without_clashes() -> None:
    names = [h for f in FIELDS if f.kind != "derived" for h in (f.name, f.label, *f.headers)]
    assert len(names) == len(set(names))  # no header names two fields
    assert set(HEADERS.values()) == set(ALL_FIELDS)
    for term, field in {"编号": "id", "需搬迁转移人数": "evacuees", "潜在经济损失": "potential_loss",
                        "死亡人数": "deaths", "直接经济损失": "direct_loss", "失踪人数": "missing",
                        "受伤人数": "injured", "灾害类型": "hazard_type", "地质灾害类型": "hazard_type",
                        "地点": "location", "报告时间": "reported_at"}.items():
        assert HEADERS[term] == field
    assert header_names("hazard_type") == "地质灾害类型/灾害类型/hazard_type"


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


ROWS = [["A1", 140, "500万", 2, "", 5, 0, "滑坡", "七里山街道", "2026-07-21 09:40"],
        ["A2", 10, "", 0, "1.2亿", "", 1, "崩塌", "", ""],
        ["A3", "x", "", "", "", "", "", "", "", ""]]
ENGLISH = ["id", "evacuees", "potential_loss", "deaths", "direct_loss", "missing", "injured", "hazard_type",
           "location", "reported_at"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=st.lists(st.booleans(), min_size=len(ENGLISH), max_size=len(ENGLISH)))
def test_chinese_headers_in_any_mix_read_as_the_english(tmp_path: Path, shizhong: Profile, mix: list[bool]) -> None:
    chinese = {f: next(h for h, g in HEADERS.items() if g == f and not h.isascii()) for f in ENGLISH}
    header = [chinese[f] if zh else f for f, zh in zip(ENGLISH, mix, strict=True)]
    english = assert_same(_csv(tmp_path / "en.csv", ENGLISH, ROWS), shizhong)
    mixed = assert_same(_csv(tmp_path / "zh.csv", header, ROWS), shizhong)
    assert mixed == english
    assert json.loads(english[0].splitlines()[0])["grade"] == "medium"


@pytest.mark.parametrize(("header", "message"), [
    ("编号,colour", "column 'colour' is not a known field (accepted: 地质灾害类型/灾害类型/hazard_type, "
                   "需搬迁转移人数/evacuees, 死亡人数/deaths, 失踪人数/missing, 受伤人数/injured, "
                   "受威胁户数/households, 受威胁人数/threatened, 潜在经济损失/potential_loss, "
                   "直接经济损失/direct_loss, 报告时间/reported_at, 发生时间/occurred_at, 编号/id, "
                   "地点/location, 规模/scale, 引发原因/cause, 发展趋势/trend, "
                   "已采取措施/measures_taken, 意见建议/suggestions, 报告人/reporter, 备注/notes)"),
    ("id,直接经济损失(万元)", "column '直接经济损失(万元)': a unit in the header is not read; name the column "
                         "直接经济损失/direct_loss and write the unit in each cell (500万, 1.2亿)"),
    ("id,死亡人数（人）", "column '死亡人数（人）': a unit in the header is not read; name the column "
                    "死亡人数/deaths and write the unit in each cell (500万, 1.2亿)"),
    ("死亡人数,deaths", "columns '死亡人数' and 'deaths' both name deaths; keep one"),
    ("灾害类型,地质灾害类型,deaths", "columns '灾害类型' and '地质灾害类型' both name hazard_type; keep one"),
    ("编号,hazard_type_name,deaths", "column 'hazard_type_name' is not a known field (accepted: "),
])
def test_bad_headers_say_what_is_accepted(cli: Any, tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(header + "\nA,1\n", encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith(f"geohazard: error: {path}:1: {message}")
    assert r.stderr.count("\n") == 1


# --- advisories on every line, ids on error lines --------------------------------------------------

def _write_jsonl(path: Path, recs: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_advisories_fast_equals_reference(tmp_path: Path, cfg: Path, data: st.DataObject) -> None:
    """Deaths and missing around every bound (the missing-persons advisory turns on their sum), with
    other figures, blanks and bad values among them: both paths give the same bytes, in JSONL and CSV."""
    from geohazard_cli.rules import load_profile

    profile = load_profile(cfg / "rules" / f"{data.draw(profiles())}.yaml")
    near = st.sampled_from([0, 1, 2, 3, 9, 10, 29, 30]).flatmap(lambda p: st.integers(max(p - 2, 0), p + 2))
    figure = st.one_of(near, near.map(str), st.none(), st.sampled_from([-1, "x", 1.5, 10**12]))
    recs = data.draw(st.lists(st.fixed_dictionaries(
        {"id": st.sampled_from(["A", "B7", "", " C ", "R\x01"]), "deaths": figure, "missing": figure},
        optional={"evacuees": st.one_of(near, st.just(600)), "injured": near}), min_size=1, max_size=60))
    out, _ = assert_same(_write_jsonl(tmp_path / "a.jsonl", recs), profile)
    columns = ["id", "deaths", "missing", "evacuees", "injured"]
    rows = [["" if r.get(c) is None else str(r[c]) for c in columns] for r in recs]
    assert_same(_csv(tmp_path / "a.csv", columns, rows), profile)
    for rec, line in zip(recs, out.splitlines(), strict=True):
        got = json.loads(line)
        if "error" not in got:
            assert got["advisories"] == reference.summary(rec, profile)["advisories"]


def test_an_output_line_carries_what_classify_json_says(cli: Any, tmp_path: Path) -> None:
    """The missing-persons advisory, as `classify --format json` gives it for the same record."""
    path = _write_jsonl(tmp_path / "m.jsonl", [{"id": "M1", "deaths": 2, "missing": 5}, {"id": "M2", "deaths": 2}])
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 0, r.stderr
    first, second = (json.loads(x) for x in r.stdout.splitlines())
    single = json.loads(cli("classify", "--deaths", "2", "--missing", "5", "--format", "json").stdout)
    assert first["advisories"] == single["advisories"] != []
    assert first["advisories"][0]["grade_name"] == "中型"
    assert {k: first[k] for k in ("grade", "deciding", "not_reported", "lower_bound")} == {
        k: single[k] for k in ("grade", "deciding", "not_reported", "lower_bound")}
    assert second["advisories"] == []


def test_error_lines_carry_the_id(cli: Any, tmp_path: Path) -> None:
    jsonl = _write_jsonl(tmp_path / "e.jsonl", [
        {"id": "E1", "deaths": -1}, {"id": " E2 ", "deaths": "x"}, {"id": "E\x013", "deaths": 1}, {"deaths": -1},
        {"id": 7, "deaths": -1}])
    r = cli("classify", "--batch", str(jsonl))
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["line"], x.get("id")) for x in lines] == [(1, "E1"), (2, "E2"), (3, None), (4, None), (5, "7")]
    assert all(list(x) == (["line", "id", "error"] if "id" in x else ["line", "error"]) for x in lines)
    path = tmp_path / "e.csv"
    path.write_text("deaths,编号\n-1,C1\n1,C2,extra\n5\n,\n", encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert r.exit_code == 2
    assert [json.loads(x) for x in r.stdout.splitlines()] == [
        {"line": 2, "id": "C1", "error": 'deaths: "-1" is negative; expected a whole number of people, 0 or more '
                                         "(examples: 140, 1,000, １４０)"},
        {"line": 3, "id": "C2", "error": "has 3 cells, the header has 2"},
        {"line": 4, "error": "has 1 cells, the header has 2"},
    ]


# --- money in 万/亿 on the fast path ------------------------------------------------------------------

@st.composite
def unit_text(draw: st.DrawFn) -> str:
    """Money as typed in 万/亿/万亿 with a fraction of any length, near a bound or the ceiling."""
    unit, scale = draw(st.sampled_from([("万", 10**4), ("亿", 10**8), ("万亿", 10**12), ("", 1)]))
    yuan = draw(st.one_of(st.integers(0, 2 * 10**14),
                          st.sampled_from([10**6, 5 * 10**6, 10**7, 5 * 10**7, 10**8, 10**14]).flatmap(
                              lambda b: st.sampled_from([b - 1, b, b + 1]))))
    fen = draw(st.sampled_from([0, 0, 1, 50, 99]))
    whole, frac = divmod(yuan * 100 + fen, scale * 100)
    digits = len(str(scale * 100)) - 1
    text = f"{whole}." + f"{frac:0{digits}d}" if digits else str(whole)
    cut = draw(st.integers(0, 3))  # drop trailing zeros, or a digit (then it is another amount)
    if "." in text and draw(st.booleans()):
        text = text.rstrip("0").rstrip(".")
    elif "." in text and cut:
        text = text[:-cut] if not text[:-cut].endswith(".") else text[:-cut - 1]
    text += draw(st.sampled_from([""] * 5 + ["0", "00000"])) if "." in text else ""
    return text + unit + draw(st.sampled_from(["", "", "元"]))


@settings(max_examples=800, deadline=None)
@given(text=unit_text(), other=st.sampled_from([[], ["20"], [7, "1.5"], [None, 3.25]]))
def test_unit_text_fast_check_never_disagrees_with_decimal(shizhong: Profile, text: str, other: list[Any]) -> None:
    """A cell in 万/亿 read as float of its yuan lands in the band Decimal would put it in, or goes the
    reference way (BAD when the reference refuses it), alone or among JSON numbers."""
    from bisect import bisect_right
    from decimal import Decimal

    from geohazard_cli.batch import fast
    from geohazard_cli.errors import InputError
    from geohazard_cli.money import parse_amount

    g = fast.FastGrader(shizhong)
    for field in ("potential_loss", "direct_loss"):
        splits = g.splits[field]
        try:
            ref: Decimal | None = parse_amount(text, field, shizhong.limits.amount)
        except InputError:
            ref = None
        cell = g.column(field, [text, *other])[0]
        assert cell is fast.BAD if ref is None else cell == bisect_right(splits, ref), (text, ref, cell)


def test_unit_text_is_read_on_the_fast_path(shizhong: Profile) -> None:
    """Not one by one: a column of 万/亿 text leaves no value to the reference's parser."""
    from geohazard_cli.batch import fast

    g = fast.FastGrader(shizhong)
    values = ["523.45万", "1.2亿元", "35万元", "4999999.99", "499.9999万", "0.05亿", "12", "1万亿"]
    seen: list[Any] = []
    g._parsed = lambda parse, v, ceiling: seen.append(v)  # type: ignore[method-assign]
    assert g.column("potential_loss", values) == [2, 4, 1, 1, 1, 2, 1, 4]
    assert g.column("potential_loss", [*values, 7, None]) == [2, 4, 1, 1, 1, 2, 1, 4, 1, None]
    assert seen == []


# --- a quoted cell past the csv module's limit, spanning lines ---------------------------------------

LONG = b"x" * 140_000  # past the csv module's field limit (128 KiB)


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(("cell", "lines"), [
    (b'"' + LONG + b'\r\nmore"', 2),  # the limit passed before the line break inside the cell
    (b'"a\r\n' + LONG + b'\r\nb""\r\n""c"', 4),  # passed on a middle line; doubled quotes inside
    (b'"' + LONG + b'\nx"",""y\r\n\r\n"', 4),  # a quoted "," inside, a blank line inside
    (b'"' + LONG + b'"tail', 1),  # after the closing quote an unquoted rest, on the same line
    (b'"\r' + LONG + b'"', 2),  # a lone CR ends a line too
])
def test_a_quoted_cell_past_the_limit_spanning_lines_is_refused_alone(
        tmp_path: Path, shizhong: Profile, monkeypatch: pytest.MonkeyPatch, jobs: int, cell: bytes,
        lines: int) -> None:
    """As a long JSONL line is: the row with the cell is a bad record in its place (its number is
    its last line's), every row after it graded, the same on both paths and whatever the parts."""
    from geohazard_cli.batch import driver, parts, stream

    path = tmp_path / "c.csv"
    path.write_bytes(b"id,deaths,location\r\n" + b"".join(b"A%d,1,\r\n" % i for i in range(3000))
                     + b"B,1," + cell + b"\r\n" + b"B2,2,\r\n" + b"B3,1," + cell + b"\r\n"
                     + b"".join(b"C%d,12,\r\n" % i for i in range(100)))
    monkeypatch.setattr(parts, "PART_MIN_BYTES", 1)
    monkeypatch.setattr(stream, "CSV_ROWS", 1000)
    out, err = assert_same(path, shizhong)
    again = io.BytesIO()
    with pytest.raises(GeohazardError) as raised:
        driver.run_batch(path, shizhong, again, jobs=jobs)
    assert again.getvalue() == out and str(raised.value) == err
    assert err == "--batch: 2 of 3103 records were bad (each is reported in place by line)"
    got = [json.loads(x) for x in out.splitlines()]
    assert len(got) == 3103
    first_end = 3001 + lines  # the header is line 1, A0..A2999 lines 2..3001
    message = "cannot be read as CSV (field larger than field limit (131072))"
    assert got[3000:3003] == [{"line": first_end, "error": message},
                              {**got[3001], "id": "B2", "grade": "small"},
                              {"line": first_end + 1 + lines, "error": message}]
    assert [x["id"] for x in got[3003:]] == [f"C{i}" for i in range(100)]
    assert all(x["grade"] == "large" for x in got[3003:])


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet='a,"\r\n ', max_size=40))
def test_row_end_rules_are_the_csv_modules(text: str) -> None:
    """Where rows end, line by line, as readers._row_ends_here says, is where the csv module's
    reader ends them (its line_num after each row)."""
    from geohazard_cli.batch.readers import _row_ends_here

    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines)
    ends = []
    for _ in reader:
        ends.append(reader.line_num)
    mine, quoted = [], False
    for n, line in enumerate(lines, 1):
        if _row_ends_here(line, quoted):
            mine.append(n)
            quoted = False
        else:
            quoted = True
    if quoted:  # the end of the input ends an open quoted cell's row
        mine.append(len(lines))
    assert mine == ends


# --- quote-free CSV split at commas ------------------------------------------------------------------

@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), rows_per_block=st.sampled_from([2, 5, 2048]), bom=st.booleans())
def test_csv_without_quotes_fast_equals_reference(tmp_path: Path, cfg: Path, data: st.DataObject,
                                                  rows_per_block: int, bom: bool) -> None:
    """Rows as a spreadsheet exports them (quotes only where a cell needs them, so mostly none):
    line ends of every kind, blank lines, rows too short or too long, a quoted cell somewhere (the
    csv module reads from there on), a file without a last line end: both paths, the same bytes."""
    from geohazard_cli.batch import stream
    from geohazard_cli.rules import load_profile

    profile = load_profile(cfg / "rules" / f"{data.draw(profiles())}.yaml")
    columns = data.draw(st.permutations(["id", "deaths", "evacuees", "potential_loss", "missing"]))
    width = data.draw(st.integers(1, len(columns)))
    header = columns[:width]
    cell = st.one_of(st.sampled_from(["", "0", "3", "12", "140", "500万", "1.2亿元", "4999999.99", "x", " 7 ", "-1",
                                      "R1", "R2", "编号", "\x00"]), st.integers(0, 2000).map(str))
    line = st.one_of(st.lists(cell, min_size=width, max_size=width).map(",".join),
                     st.lists(cell, min_size=0, max_size=width + 2).map(",".join),
                     st.just(""), st.just('"quoted, cell",1'))
    lines = data.draw(st.lists(line, min_size=0, max_size=40))
    ends = data.draw(st.lists(st.sampled_from(["\r\n", "\n", "\r"]), min_size=len(lines) + 1,
                              max_size=len(lines) + 1))
    text = ",".join(header) + ends[0] + "".join(x + e for x, e in zip(lines, ends[1:], strict=True))
    if data.draw(st.booleans()):
        text = text.rstrip("\r\n")
    path = tmp_path / "p.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    mp = pytest.MonkeyPatch()
    mp.setattr(stream, "CSV_ROWS", rows_per_block)
    try:
        assert_same(path, profile)
    finally:
        mp.undo()


@pytest.mark.parametrize(("name", "text"), [("e.csv", "id,evacuees\n"), ("e.jsonl", ""), ("b.jsonl", "\n\n")])
def test_a_batch_with_no_records_says_so(cli, tmp_path: Path, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    r = cli("classify", "--batch", str(path))
    assert (r.exit_code, r.stdout) == (0, "")
    assert r.stderr == f"warning: --batch: {path} holds no records; nothing was graded\n"
