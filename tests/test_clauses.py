"""The plan's clauses shown where they act (issue 13): §5 先期处置 on every call sheet and in an
incident's opening, §3.2.2's duty to report in the report chain, §10.1's 直接经济损失 beside the
figure, §6.4's criteria at close and in the export, §8 后期处置 with owners in the export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from geohazard_cli import clauses
from geohazard_cli.rules import Profile

PLAN = Path(__file__).resolve().parents[1] / "docs" / "plan" / "geohazard-emergency-plan-2023.md"


def _flat(text: str) -> str:
    return re.sub(r"[\s,、;。:]", "", text)


def test_district_clauses_are_the_plans_words(shizhong: Profile) -> None:
    """Every phrase of the new data is in the plan's text (punctuation aside) or names a unit of 附件1."""
    plan = _flat(PLAN.read_text(encoding="utf-8"))
    fm = shizhong.first_measures
    assert fm is not None and shizhong.aftermath is not None
    texts = [fm.text, *(m.text for m in fm.items), *(c.text for c in shizhong.decisions.termination.criteria),
             shizhong.definitions[0].text]
    assert shizhong.reporting.public is not None
    texts.append(shizhong.reporting.public.text)
    for text in texts:
        for part in re.split(r"[,、;。]", text):
            part = part.removeprefix("在").removeprefix("灾害发生后")
            assert _flat(part) in plan, part
    assert [m.source for m in shizhong.aftermath.items] == ["8(1)", "8(2)", "8(3)", "8(4)", "8(5)", "8(6)", "8(6)"]
    assert all(m.owner for m in shizhong.aftermath.items)
    assert "市自然资源和规划局" in shizhong.aftermath.items[3].text
    assert [c.source for c in shizhong.decisions.termination.criteria] == ["6.4(1)"] * 5


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
@pytest.mark.parametrize("figures", [["--evacuees", "50"], ["--evacuees", "140"], ["--deaths", "12"]])
def test_every_call_sheet_has_first_measures_and_the_publics_duty(cli, fmt: str, figures: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = cli("callsheet", *figures, "--format", fmt)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    if fmt == "json":
        data = json.loads(out)
        assert data["first_measures"]["source"] == "5" and len(data["first_measures"]["items"]) == 3
        assert data["reporting"]["public"]["recipients"] == ["属地街道办事处", "区应急局", "区自然资源局"]
        loss = next(f for f in data["facts"] if f["key"] == "direct_loss")
        assert loss["definition"]["source"] == "10.1"
        return
    flat = re.sub(r"<[^>]+>|\s", "", out)
    assert "先期处置" in flat and "圈定危险区" in flat and "确保安全的前提下" in flat
    assert "发现地质灾害险情或灾情的单位、个人,应立即向属地街道办事处或区应急局、区自然资源局报告(3.2.2)" in flat
    assert "不包括非实物财产,如货币、有价证券等损失(10.1)" in flat


def test_definition_is_beside_the_figure(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("callsheet", "--direct-loss", "300万").stdout.splitlines()
    at = next(i for i, line in enumerate(out) if line.strip().startswith("直接经济损失: "))
    assert out[at + 1].strip().startswith("定义: 指地质灾害及次生灾害造成的物质破坏")


def test_national_profile_shows_no_district_clause(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("callsheet", "--deaths", "12", "--plan", "national-2006").stdout
    assert "先期处置" not in out and "区自然资源局报告(3.2.2)" not in out


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "j.sqlite3"


def test_incident_open_and_show_give_first_measures(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    opened = json.loads(cli("incident", "open", "--evacuees", "600", "--db", str(db), "--format", "json").stdout)
    assert opened["first_measures"]["items"][1]["text"].startswith("灾害发生后,如遇人员受伤、被埋或失踪")
    shown = json.loads(cli("incident", "show", str(opened["id"]), "--db", str(db), "--format", "json").stdout)
    assert shown["first_measures"] == opened["first_measures"]
    text = cli("incident", "open", "--evacuees", "6", "--db", str(db)).stdout
    assert "先期处置(5)" in text and "[ ] 设立警示标志、圈定危险区" in text


CRITERIA = ("地质灾害现场应急处置工作基本完成", "地质灾害发展形势趋于稳定", "地质灾害灾情险情基本控制",
            "受灾群众得到安置", "灾区生活基本恢复正常")


def test_close_lists_each_criterion_and_who_decides_before_closing(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    cli("incident", "open", "--evacuees", "60", "--db", str(db))
    r = cli("incident", "close", "1", "--db", str(db))
    assert r.exit_code == 2 and r.stdout == ""  # a refusal: the checklist on stderr, then the error line
    for n, c in enumerate(CRITERIA, start=1):
        assert f"{n}. [ ] {c}(6.4(1))" in r.stderr, c
    assert "根据省应急厅、市应急局、区指挥部或区应急局意见,区政府宣布终止应急响应(6.4)" in r.stderr
    assert r.stderr.endswith("geohazard: error: --confirm: not confirmed (6.4(1)): "
                             + "; ".join(f"{n} {c}" for n, c in enumerate(CRITERIA, start=1))
                             + " (--confirm N for each, or --confirm-all, once 区政府 has declared the end, 6.4)\n")
    shown = json.loads(cli("incident", "show", "1", "--db", str(db), "--format", "json").stdout)
    assert shown["status"] == "open"  # nothing written


def test_close_refuses_until_each_criterion_is_confirmed(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    cli("incident", "open", "--evacuees", "60", "--db", str(db))
    r = cli("incident", "close", "1", "--confirm", "1,2", "--confirm", "3", "--confirm", "5", "--db", str(db))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith("geohazard: error: --confirm: not confirmed (6.4(1)): 4 受灾群众得到安置 (")
    r = cli("incident", "close", "1", "--confirm", "6", "--confirm", "1-5", "--db", str(db))
    assert r.exit_code == 2 and r.stderr.startswith('geohazard: error: --confirm: "1-5" is not a criterion number')
    r = cli("incident", "close", "1", "--confirm", "0", "--db", str(db))
    assert r.exit_code == 2 and r.stderr.startswith("geohazard: error: --confirm: 0 is not a criterion number (1-5: ")
    r = cli("incident", "close", "1", "--confirm", "1、2、3、4、5", "--by", "区政府", "--db", str(db),
            "--format", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "closed" and out["confirmed"] == [f"{c}(6.4(1))" for c in CRITERIA]
    assert out["close_reason"] == "、".join(CRITERIA)  # no --reason: the confirmed criteria


def test_close_ticks_the_confirmed_criteria(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    cli("incident", "open", "--evacuees", "60", "--db", str(db))
    out = cli("incident", "close", "1", "--confirm-all", "--reason", "处置基本完成", "--db", str(db)).stdout
    for n, c in enumerate(CRITERIA, start=1):
        assert f"{n}. [x] {c}(6.4(1))" in out, c
    assert "区政府宣布终止应急响应(6.4)" in out


def test_close_of_a_warning_period_confirms_its_end(cli, db: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("warning", "orange", "--area", "七里山", "--record", "--db", str(db)).exit_code == 0
    r = cli("incident", "close", "1", "--db", str(db))
    assert r.exit_code == 2 and "1. [ ] 地质灾害预警发布时段结束,区政府宣布终止应急响应(6.4(2))" in r.stderr
    assert cli("incident", "close", "1", "--confirm", "1", "--db", str(db)).exit_code == 0


def test_termination_criteria_of_a_warning_period(shizhong: Profile) -> None:
    assert clauses.termination_criteria(shizhong, "warning") == [
        {"text": "地质灾害预警发布时段结束,区政府宣布终止应急响应", "source": "6.4(2)"}]


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_export_has_the_aftermath_checklist_with_owners(cli, db: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    cli("incident", "open", "--evacuees", "60", "--db", str(db))
    cli("incident", "close", "1", "--confirm-all", "--reason", "处置基本完成", "--db", str(db))
    out = cli("incident", "export", "1", "--format", fmt, "--db", str(db)).stdout
    if fmt == "json":
        data = json.loads(out)
        items = data["aftermath"]["items"]
        assert [i["source"] for i in items] == ["8(1)", "8(2)", "8(3)", "8(4)", "8(5)", "8(6)", "8(6)"]
        assert items[3]["owner"] == "区自然资源局"
        assert len(data["termination"]["criteria"]) == 5
        return
    flat = re.sub(r"<[^>]+>|\s", "", out)
    assert "后期处置(8)" in flat and "报送区政府、市自然资源和规划局" in flat and "区自然资源局" in flat
    assert "应及时归还;无法归还或者造成损失的,应当给予相应的补助、补偿" in flat
    assert "受灾群众得到安置(6.4(1))" in flat


def test_help_closes_with_the_definition(cli) -> None:  # type: ignore[no-untyped-def]
    out = re.sub(r"\s", "", cli("classify", "--help").stdout)
    assert "直接经济损失(市中区预案(2023)10.1):指地质灾害及次生灾害造成的物质破坏" in out
    assert "不包括非实物财产,如货币、有价证券等损失。" in out
