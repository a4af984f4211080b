"""Call sheets and report forms: golden files (approved by eye), escaping, 80 columns, A4 print.

Regenerate the golden files with ``GEOHAZARD_UPDATE_GOLDEN=1 pytest tests/test_callsheet.py``, then
read every changed file before committing it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geohazard_cli.textlayout import width

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GEOHAZARD_UPDATE_GOLDEN") == "1"

# One incident per response level of the district plan.
INCIDENTS = {
    "III": ["--evacuees", "50", "--hazard-type", "滑坡", "--location", "七里山街道办事处辖区后山",
            "--reported-at", "2026-07-21 09:40", "--id", "G-III"],
    "II": ["--evacuees", "140", "--deaths", "1", "--hazard-type", "崩塌", "--location", "舜耕街道某小区",
           "--reported-at", "2026-07-21 09:40", "--id", "G-II"],
    "I": ["--evacuees", "600", "--direct-loss", "800万", "--deaths", "4", "--injured", "7",
          "--hazard-type", "泥石流", "--location", "十六里河街道某村", "--reported-at", "2026-07-21 09:40",
          "--cause", "连续强降雨", "--id", "G-I"],
}
SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


def compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run with GEOHAZARD_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the approved golden file"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@pytest.mark.parametrize("level", list(INCIDENTS))
def test_golden_callsheet(cli, level: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("callsheet", *INCIDENTS[level], "--format", fmt)
    assert (r.exit_code, r.stderr) == (0, "")
    compare(f"callsheet-{level}.{SUFFIX[fmt]}", r.stdout)


@pytest.mark.parametrize(("name", "args"), [
    ("report-form-shizhong-II.txt", INCIDENTS["II"]),
    ("report-form-national-I.txt", ["--plan", "national-2006", *INCIDENTS["I"]]),
    ("report-form-shizhong-I.md", INCIDENTS["I"]),
    ("report-form-national-II.html", ["--plan", "national-2006", *INCIDENTS["II"]]),
])
def test_golden_report_form(cli, name: str, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    fmt = {"txt": "text", "md": "markdown", "html": "html"}[name.rsplit(".", 1)[1]]
    r = cli("report-form", *args, "--format", fmt)
    assert (r.exit_code, r.stderr) == (0, "")
    compare(name, r.stdout)


@pytest.mark.parametrize("level", list(INCIDENTS))
def test_text_fits_80_columns(cli, level: str) -> None:  # type: ignore[no-untyped-def]
    for cmd in ("callsheet", "report-form"):
        r = cli(cmd, *INCIDENTS[level])
        widths = [width(line) for line in r.stdout.splitlines()]
        assert max(widths) <= 80, [line for line in r.stdout.splitlines() if width(line) > 80]


def test_every_unit_and_number_on_the_sheet(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("callsheet", *INCIDENTS["II"], "--format", "json")
    data = json.loads(r.stdout)
    entries = data["call_list"]["entries"]
    for fmt in ("text", "markdown", "html"):
        out = cli("callsheet", *INCIDENTS["II"], "--format", fmt).stdout
        for e in entries:
            assert e["unit"] in out
            assert (e["dial"] or "无号码") in out
        assert "内部资料" in out


def test_missing_numbers_are_shown(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("callsheet", *INCIDENTS["III"]).stdout
    assert "!无号码: 区指挥部指挥长、七里山街道办事处、各类专业救援队伍" in out
    assert re.search(r"\n 7\. 受灾街道办事处: 七里山街道办事处 \[注1\] +无号码\n", out)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_affected_street_office_cannot_be_misread(cli, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """The reported case: 七里山街道办事处 is the 受灾街道办事处, listed 7th (after the office and the
    command's posts), with its provenance in a footnote, and 各街道办事处 not listed beside it."""
    r = cli("callsheet", "--evacuees", "140", "--deaths", "1", "--location", "七里山街道", "--format", fmt)
    assert (r.exit_code, r.stderr) == (0, "")
    assert "非预案)" not in r.stdout
    assert "各街道办事处</b>" not in r.stdout and "| 各街道办事处 |" not in r.stdout
    assert not re.search(r"\d\. 各街道办事处 ", r.stdout)
    assert "受灾街道办事处: " in r.stdout
    assert "七里山街道办事处: 名称据地点“七里山街道”确定;非预案内容:市中区行政区划(街道名录),待核实" \
        in re.sub(r"\n +", "", r.stdout)
    data = json.loads(cli("callsheet", "--evacuees", "140", "--deaths", "1", "--location", "七里山街道",
                          "--format", "json").stdout)
    street = data["call_list"]["entries"][6]
    assert (street["order"], street["unit"], street["label"], street["note_no"]) == (
        7, "七里山街道办事处", "受灾街道办事处", 1)
    assert data["footnotes"] == [{"no": 1, "unit": "七里山街道办事处", "text": street["footnote"]}]
    assert "各街道办事处" not in [e["unit"] for e in data["call_list"]["entries"]]


def test_html_escapes_officer_text(cli) -> None:  # type: ignore[no-untyped-def]
    evil = '<script>alert("x")</script> & <b>粗</b>'
    for cmd in ("callsheet", "report-form"):
        r = cli(cmd, "--evacuees", "50", "--location", evil, "--id", "<i>id</i>", "--format", "html")
        assert r.exit_code == 0
        assert "<script>" not in r.stdout and "<b>粗</b>" not in r.stdout and "<i>id</i>" not in r.stdout
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;粗&lt;/b&gt;" in r.stdout
        assert r.stdout.startswith("<!DOCTYPE html>") and r.stdout.rstrip().endswith("</html>")


def test_markdown_escapes_table_pipes(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("callsheet", "--evacuees", "50", "--location", "甲|乙", "--format", "markdown")
    assert "| 地点 | 甲\\|乙 |" in r.stdout


def test_report_form_blanks_and_deadline(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("report-form", "--evacuees", "600", "--plan", "national-2006", "--reported-at",
              "2026-07-21 22:30").stdout
    assert "报送时限: 2026-07-22 02:30前(报告时间起4小时内)(3.3.1)" in out
    assert "    规模: ＿＿＿＿＿＿＿＿＿＿＿＿" in out
    assert "    需搬迁转移人数: 600人" in out
    no_time = cli("report-form", "--evacuees", "50", "--plan", "national-2006").stdout
    assert "报送时限: 接报后12小时内(报告时间未填,截止时刻无法计算)(3.3.1)" in no_time
    district = cli("report-form", "--evacuees", "50").stdout
    assert "报送时限: 立即(3.1.2; 3.2.2)" in district
    assert "报送对象: 区政府、市应急局(3.1.2)" in district
    flat = re.sub(r"\n +", "", district)
    assert ("越级上报: 尚不能确定 — 潜在经济损失、死亡人数、直接经济损失、受伤人数未报告或待核实,"
            "达到条件即可越级上报省政府、省级主管部门;目前原则上逐级上报(3.2.2)") in flat


def test_output_file_and_json(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "sheet.html"
    r = cli("callsheet", *INCIDENTS["I"], "--format", "html", "--output", str(target))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    assert target.read_text(encoding="utf-8") == cli("callsheet", *INCIDENTS["I"], "--format", "html").stdout
    data = json.loads(cli("callsheet", *INCIDENTS["I"], "--format", "json").stdout)
    assert data["assessment"]["level"] == "I"
    assert data["call_list"]["entries"][0]["unit"] == "区指挥部办公室"


def test_bad_input_is_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("callsheet", "--evacuees", "abc")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("geohazard: error: --evacuees: ") and r.stderr.count("\n") == 1
    r = cli("callsheet")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ("geohazard: error: no incident given: pass figures such as --evacuees 140 "
                        "--deaths 1, or --file PATH\n")
    r = cli("callsheet", "--evacuees", "1", "--format", "pdf")
    assert r.exit_code == 2 and "--format" in r.stderr


def test_roster_command(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("roster", "医疗卫生组", "--format", "json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert [row["name"] for row in rows] == ["区卫生健康局", "区民政局", "区农业农村局", "各街道办事处"]
    health = next(row for row in rows if row["name"] == "区卫生健康局")
    assert health["dial"] == "0531-67809933"
    assert {"name": "医疗卫生组", "lead": True} in health["groups"]
    r = cli("roster", "卫生")
    assert r.exit_code == 0 and "0531-67809933" in r.stdout and "区卫生健康局" in r.stdout
    everyone = json.loads(cli("roster", "--format", "json").stdout)
    assert len(everyone) == 45
    r = cli("roster", "区应急")
    assert r.exit_code == 0 and "区应急局" in r.stdout  # a substring query matches
    r = cli("roster", "不存在的单位")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ('geohazard: error: roster: nothing matches "不存在的单位"; try a unit, work group, '
                        "post or number, or 'geohazard roster' for all\n")


def test_roster_ranks_name_matches_first(cli) -> None:  # type: ignore[no-untyped-def]
    """卫生: the unit named so first, then the group it leads... (name, lead, member, duty text)."""
    rows = json.loads(cli("roster", "卫生", "--format", "json").stdout)
    assert [row["name"] for row in rows] == ["区卫生健康局", "区民政局", "区农业农村局", "各街道办事处"]
    rows = json.loads(cli("roster", "应急救援组", "--format", "json").stdout)
    assert rows[0]["name"] == "区应急局"  # the lead before the members
    assert [g["lead"] for g in rows[0]["groups"] if g["name"] == "应急救援组"] == [True]
    # a duty-text match comes after every name match: 消防 names 市中消防救援大队, and 区应急局's
    # duties mention 消防救援队伍
    rows = json.loads(cli("roster", "消防", "--format", "json").stdout)
    assert [row["name"] for row in rows] == ["市中消防救援大队", "区应急局"]


@pytest.mark.parametrize("query", ["82722671", "0531-82722671", "053182722671", "(0531) 8272 2671"])
def test_roster_caller_id(cli, query: str) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("roster", query, "--format", "json").stdout)
    assert [row["name"] for row in rows] == ["区指挥部办公室", "区应急局"]
    one = json.loads(cli("roster", "67809933", "--format", "json").stdout)
    assert [row["name"] for row in one] == ["区卫生健康局"]
    r = cli("roster", "82722670")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith('geohazard: error: roster: nothing matches "82722670"')


def test_roster_nothing_matches_suggests_names(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("roster", "卫生局局")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ('geohazard: error: roster: nothing matches "卫生局局" (closest: 区卫生健康局); '
                        "try a unit, work group, post or number, or 'geohazard roster' for all\n")


def test_roster_text_footnotes_units_not_in_the_plan(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("roster", "七里山").stdout
    assert "七里山街道办事处 [注1]" in out and "(非预案)" not in out
    assert "[注1] 非预案内容:市中区行政区划(街道名录),待核实" in out


def test_help_texts(cli) -> None:  # type: ignore[no-untyped-def]
    for cmd in ("callsheet", "report-form", "roster", "check"):
        r = cli(cmd, "--help")
        assert r.exit_code == 0 and "Example: geohazard" in r.stdout


# --- real print: headless Chromium -> PDF -> pdftotext ------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium is not installed (apt-get install chromium fonts-noto-cjk poppler-utils); "
                "this print test must run")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer"]


@pytest.mark.slow
def test_html_prints_to_pdf_with_chinese_and_every_number(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    browser = _chromium()
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is not installed; this print test must run")
    html = tmp_path / "sheet.html"
    assert cli("callsheet", *INCIDENTS["I"], "--format", "html", "--output", str(html)).exit_code == 0
    entries = json.loads(cli("callsheet", *INCIDENTS["I"], "--format", "json").stdout)["call_list"]["entries"]
    pdf = tmp_path / "sheet.pdf"
    subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    f"--print-to-pdf={pdf}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          timeout=60).stdout.decode("utf-8")
    flat = re.sub(r"\s+", "", text)
    for phrase in ("内部资料", "地质灾害应急响应叫应单", "I级响应", "呼叫时间", "接听人", "回应时间"):
        assert phrase in flat, phrase
    for e in entries:
        assert re.sub(r"\s+", "", e["unit"]) in flat, e["unit"]
        if e["dial"]:
            assert e["dial"] in text, e["dial"]
    assert len([e for e in entries if e["dial"]]) == 24
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True).stdout.decode()
    assert "(A4)" in info
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert pages > 1
    assert text.count("内部资料") >= pages  # the marking is on every page (@page margin box)


def test_report_form_from_file_with_reporter_and_notes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "incident.yaml"
    f.write_text("evacuees: 30\nreporter: 王五 <值班>\nnotes: 现场有裂缝\nscale: 约2000立方米\n", encoding="utf-8")
    out = cli("report-form", "--file", str(f)).stdout
    assert "报告人: 王五 <值班>" in out and "  备注: 现场有裂缝" in out and "    规模: 约2000立方米" in out
    html = cli("report-form", "--file", str(f), "--format", "html").stdout
    assert "<td>王五 &lt;值班&gt;</td>" in html
    # flags override the file
    assert "需搬迁转移人数: 120人" in cli("report-form", "--file", str(f), "--evacuees", "120").stdout


@pytest.mark.parametrize("cmd", ["callsheet", "report-form"])
@pytest.mark.parametrize("plan", ["shizhong-2023", "national-2006"])
def test_times_human_in_documents_iso_in_json(cli, cmd: str, plan: str) -> None:  # type: ignore[no-untyped-def]
    args = [cmd, "--plan", plan, "--evacuees", "600", "--occurred-at", "2026-07-21T09:10:00+08:00",
            "--reported-at", "2026-07-21 09:40"]
    for fmt in ("text", "markdown", "html"):
        out = cli(*args, "--format", fmt).stdout
        assert "2026-07-21 09:40" in out
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", out), fmt
        assert "+08:00" not in out
    data = json.loads(cli(*args, "--format", "json").stdout)
    assert data["incident"]["reported_at"] == "2026-07-21 09:40"
    assert data["incident"]["reported_at_iso"] == "2026-07-21T09:40:00+08:00"
    times = {f["key"]: f for f in (data["facts"] if cmd == "callsheet" else data["fields"].values())
             if f["key"] == "occurred_at"}
    assert times["occurred_at"]["value"] == "2026-07-21 09:10"
    assert times["occurred_at"]["iso"] == "2026-07-21T09:10:00+08:00"
    if plan == "national-2006":
        assert data["reporting"]["deadline"]["due_iso"] == "2026-07-21T13:40:00+08:00"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_report_form_cites_the_profile_in_use(cli, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """report-form --plan national-2006 cites the national plan (§3.3.2), never the district's 3.2.1."""
    national = cli("report-form", "--plan", "national-2006", "--evacuees", "600", "--format", fmt).stdout
    assert "市中区预案" not in national and "3.2.1" not in national
    assert "国家预案(2006)3.3.2" in national
    district = cli("report-form", "--evacuees", "600", "--format", fmt).stdout
    assert "市中区预案(2023)3.2.1" in district and "国家预案" not in district


@pytest.mark.parametrize("cmd", ["callsheet", "report-form"])
@pytest.mark.parametrize(("figures", "word"), [
    (["--evacuees", "50", "--deaths", "0", "--injured", "0", "--direct-loss", "0", "--potential-loss", "0"],
     "不适用"),
    (["--evacuees", "50", "--deaths", "1"], "适用"),
    (["--evacuees", "50"], "尚不能确定"),
])
def test_skip_level_three_words(cli, cmd: str, figures: list[str], word: str) -> None:  # type: ignore[no-untyped-def]
    """越级上报 is always one of 适用 / 不适用 / 尚不能确定, followed by " — "."""
    for fmt in ("text", "markdown", "html"):
        out = re.sub(r"<[^>]+>", "", cli(cmd, *figures, "--format", fmt).stdout)
        found = re.findall(r"越级上报:\**\s*(\S+?) — ", out)
        assert found == [word], (fmt, found)


def _wrap_reference(text: str, cols: int = 78, indent: str = "", first: str | None = None) -> str:
    """textlayout.wrap as first written (widths measured from scratch each step): the oracle."""
    from geohazard_cli.textlayout import NO_LINE_END, NO_LINE_START, TOKENS

    lines: list[str] = []
    line = indent if first is None else first
    for tok in TOKENS.findall(text.replace("\n", " ")):
        if tok.isspace():
            tok = " "
        fits = width(line) + width(tok) <= cols
        if not fits and line.strip() and tok[0] not in NO_LINE_START and width(indent + tok) <= cols:
            carry = ""
            while line.strip() and line[-1] in NO_LINE_END:
                carry, line = line[-1] + carry, line[:-1]
            lines.append(line.rstrip())
            line = indent + carry
            if tok == " ":
                continue
        elif not fits and width(tok) > cols - width(indent):
            for ch in tok:
                if width(line) + width(ch) > cols and line.strip():
                    lines.append(line.rstrip())
                    line = indent
                line += ch
            continue
        line += tok
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


@given(text=st.lists(st.sampled_from([*"ab 12(3)，。（【“区应急局滑坡０\n", "(6.1.3(5))", "13800000000"]),
                    max_size=60).map("".join),
       cols=st.integers(1, 40), indent=st.sampled_from(["", "  ", "（", "区 "]),
       first=st.sampled_from([None, "", "甲：", "1. "]))
@settings(max_examples=400, deadline=None)
def test_wrap_keeps_its_widths_as_it_goes(text: str, cols: int, indent: str, first: str | None) -> None:
    """wrap tracks the line's width as it grows; it wraps exactly as measuring afresh did."""
    from geohazard_cli.textlayout import wrap

    assert wrap(text, cols, indent, first) == _wrap_reference(text, cols, indent, first)


def test_a_compiled_template_is_kept_and_an_edit_is_seen(copy: Path) -> None:
    """render.py keeps what Jinja2 compiles a template to in the cache (GEOHAZARD_CACHE_DIR, set for
    the test run): a second render reads it, and an edited template (same size, same second) is
    compiled again, never served from the old entry."""
    from geohazard_cli.cache import cache_dir
    from geohazard_cli.render import render

    tdir = copy / "templates"
    (tdir / "probe.txt.j2").write_text("A{{ x }}\n", encoding="utf-8")
    assert render(tdir, "probe", "text", x=1) == "A1\n"
    directory = cache_dir()
    assert directory is not None and any(p.name.startswith("probe.txt-") for p in directory.iterdir())
    assert render(tdir, "probe", "text", x=2) == "A2\n"
    stat = (tdir / "probe.txt.j2").stat()
    (tdir / "probe.txt.j2").write_text("B{{ x }}\n", encoding="utf-8")
    os.utime(tdir / "probe.txt.j2", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert render(tdir, "probe", "text", x=3) == "B3\n"
