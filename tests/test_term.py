"""cli/term.py, the terminal's text: paragraphs wrapped to the width and never cut, tables whose cells
stay whole, panels; styles only on a terminal; and no command but `incident watch` importing rich."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geohazard_cli.cli.term import Column, Term, fill, panel, table
from geohazard_cli.textlayout import NO_LINE_START, width

ESC = re.compile(r"\x1b\[[0-9;]*m")
PIECES = [*"ab 12(3)，。（【“区应急局滑坡０", "(6.1.3(5))", "13800000000", '"叫应"', " — "]
texts = st.lists(st.sampled_from(PIECES), max_size=50).map("".join)


def term(monkeypatch: pytest.MonkeyPatch, columns: int, **env: str) -> tuple[Term, io.StringIO]:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", str(columns))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    stream = io.StringIO()
    return Term(stream), stream


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@given(text=texts, cols=st.integers(12, 100))
@example(text="  aa(6.1.3(5))", cols=12)  # (indented: the run no longer fits a line, so it is split)
@settings(max_examples=300, deadline=None)
def test_a_paragraph_is_wrapped_within_the_width_and_loses_nothing(text: str, cols: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        out, stream = term(mp, cols)
        out.print(text)
    lines = stream.getvalue().split("\n")[:-1]
    assert all(width(line) <= cols for line in lines), lines
    assert squeeze("".join(lines)) == squeeze(text)  # only spaces at a break are dropped
    from geohazard_cli.cli.term import _atoms

    atoms = _atoms([(text, "", False)])
    lead = len(text) - len(text.lstrip(" "))  # (an indented paragraph's lines keep its indent)
    if all(sum(width(t) for t, _ in atom) <= cols - lead for atom in atoms):  # none split for being too long
        assert not [line for line in lines[1:] if line[:1] in NO_LINE_START]
        for run in re.findall(r"[!-~]+", text):  # a clause, a number: on one line
            assert sum(line.count(run) for line in lines) >= text.count(run), run


def test_wrap_false_keeps_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    out, stream = term(monkeypatch, 20)
    command = "geohazard incident decide 1 --level I --by 区政府"
    out.print(command, wrap=False)
    assert stream.getvalue() == command + "\n"


def test_styles_only_on_a_terminal_and_no_color_keeps_bold(monkeypatch: pytest.MonkeyPatch) -> None:
    out, stream = term(monkeypatch, 80)  # a StringIO is not a terminal
    out.line([("中型", "bold reverse"), (" 未应答", "yellow")])
    assert stream.getvalue() == "中型 未应答\n"
    out, stream = term(monkeypatch, 80, FORCE_COLOR="1")
    out.line([("中型", "bold reverse"), (" 未应答", "yellow")])
    assert stream.getvalue() == "\x1b[1;7m中型\x1b[0m\x1b[33m 未应答\x1b[0m\n"
    out, stream = term(monkeypatch, 80, FORCE_COLOR="1", NO_COLOR="1")
    out.line([("中型", "bold reverse"), (" 未应答", "yellow")])
    assert stream.getvalue() == "\x1b[1;7m中型\x1b[0m 未应答\n"
    out, stream = term(monkeypatch, 80, FORCE_COLOR="1", TERM="dumb")
    out.line([("中型", "bold")])
    assert stream.getvalue() == "中型\n"
    out, stream = term(monkeypatch, 80, TTY_COMPATIBLE="1")  # as rich reads it: 1 a terminal
    out.line([("红色", "bold white on red"), (" 橙色", "bold dark_orange on dark_orange"), (" x", "bold nope")])
    assert stream.getvalue() == "\x1b[1;37;41m红色\x1b[0m\x1b[1;38;5;208;48;5;208m 橙色\x1b[0m\x1b[1m x\x1b[0m\n"
    out, stream = term(monkeypatch, 80, TTY_COMPATIBLE="0")  # and 0 not one
    out.line([("红色", "bold")])
    assert stream.getvalue() == "红色\n"


def test_an_indented_paragraph_stays_indented_and_tabs_are_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    out, stream = term(monkeypatch, 20)
    out.print("  " + "区应急局" * 6)
    out.print("a\tb")
    lines = stream.getvalue().split("\n")[:-1]
    assert lines[:3] == ["  区应急局区应急局区", "  应急局区应急局区应", "  急局区应急局"]
    assert lines[3] == "a       b"


ROWS = [(["需搬迁转移人数", "140人", "中型◀", "100人以上、500人以下", "4(3); 附件2"], ""),
        (["潜在经济损失", "500.00005万元", "中型◀", "500万元以上、5000万元以下", "4(3); 附件2; 10.1"], ""),
        (["死亡人数", "未报告", "—", "", "4; 附件2"], "dim")]
COLUMNS = [Column("指标"), Column("数值", right=True), Column("本项等级"), Column("区间"), Column("条款", fold=True)]


@pytest.mark.parametrize("cols", [40, 60, 80, 120])
def test_a_table_never_cuts_a_cell(cols: int) -> None:
    lines = ["".join(t for t, _ in line).rstrip() for line in table(COLUMNS, ROWS, cols, "标题")]
    assert lines[0] == "标题" and lines[1].startswith("指标")
    text = "\n".join(lines)
    assert "…" not in text
    for cells, _ in ROWS:
        for cell in cells[:4]:  # the columns that do not fold: each cell whole on its line
            assert cell in text, cell
        assert squeeze(cells[4]) in squeeze(text)
    fits = sum(max(width(c.header), *(width(r[0][i]) for r in ROWS)) for i, c in enumerate(COLUMNS[:4])) + 8 + 8
    if cols >= fits:  # room for the folding column at its narrowest: the table is within the width
        assert all(width(line) <= cols for line in lines), lines
    # the figures column is right-justified: the figures end in one column
    figures = [cells[1] for cells, _ in ROWS]
    ends = {width(line[:line.index(f) + len(f)]) for f in figures for line in lines if f in line}
    assert len(ends) == 1


def test_a_panel_is_a_box_of_one_width(monkeypatch: pytest.MonkeyPatch) -> None:
    body = [[("建议 II级响应 → I级响应(升级)", "bold red")],
            [("现行级别仍为 II级响应," * 6, "")]]
    for expand in (True, False):
        boxed = panel("⚠ 建议调整响应级别 · 事件 #1", body, 60, "red", expand)
        lines = ["".join(t for t, _ in line) for line in boxed]
        assert len({width(line) for line in lines}) == 1 and width(lines[0]) <= 60
        assert lines[0].startswith("╭─ ⚠ 建议调整响应级别 · 事件 #1 ─") and lines[-1].startswith("╰")
        inner = "".join(line.strip("│ ") for line in lines[1:-1])
        assert squeeze(inner) == squeeze("建议 II级响应 → I级响应(升级)" + "现行级别仍为 II级响应," * 6)


def test_fill_keeps_a_whole_part_whole() -> None:
    parts = [("区应急局值班人员要第一时间叫醒区指挥部办公室", "", False), ("(6.3(1); 10.1)", "dim", True)]
    lines = fill(parts, 20, "1.")
    text = ["".join(t for t, _ in line) for line in lines]
    assert any("(6.3(1); 10.1)" in line for line in text)
    assert all(width(line) <= 20 for line in text) and text[0].startswith("1.") and text[1].startswith("  ")


# --- rich only for the live board --------------------------------------------------------------------

SHIFT = [("classify", "--deaths", "12"), ("callsheet", "--evacuees", "140"),
         ("warning", "red", "--area", "七里山街道", "--sent", "2026-07-21 08:30"), ("roster", "区应急局"),
         ("drill", "run", "drills/qilishan-escalation.yaml")]


def test_no_command_but_watch_imports_rich(tmp_path: Path) -> None:
    """Once the caches are warm (a changed rules file is validated first, and its warning colours'
    styles are checked with rich's parser, as before)."""
    from tests.test_startup import ROOT, probe, roots

    db = str(tmp_path / "j.sqlite3")
    journal = [("incident", "open", "--evacuees", "140", "--db", db), ("incident", "update", "1", "--evacuees", "600",
               "--db", db), ("incident", "ack", "1", "--unit", "区应急局", "--outcome", "未接", "--db", db),
               ("incident", "show", "1", "--db", db), ("incident", "list", "--db", db),
               ("incident", "watch", "--once", "--db", db)]
    for args in [*SHIFT, *journal]:
        args = tuple(str(ROOT / a) if a.startswith("drills/") else a for a in args)
        probe(tmp_path, *args)
        code, modules, out = probe(tmp_path, *args)
        assert code == 0 and out.strip(), args
        assert "rich" not in roots(modules), args
