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

from geohazard_cli.batch import reference
from geohazard_cli.fields import ALL_FIELDS, FIELDS, HEADERS, header_names
from geohazard_cli.rules import Profile
from tests.test_batch import assert_same, profiles, records, spool  # noqa: F401 - spool: the autouse fixture

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
                   "需搬迁转移人数/evacuees, 死亡人数/deaths, 失踪人数/missing, 受伤人数/injured, 受威胁户数/households, "
                   "受威胁人数/threatened, 潜在经济损失/potential_loss, 直接经济损失/direct_loss, 报告时间/reported_at, "
                   "发生时间/occurred_at, 编号/id, 地点/location, 规模/scale, 引发原因/cause, 发展趋势/trend, "
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
