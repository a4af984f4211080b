"""Plan wording is data: the sentences call sheets, report forms and warnings build come from
contacts.yaml (`wording:`) and the profile (`reporting.deadline`, `warning:`), checked at load.

Each test edits a copy of the shipped config and shows the output follows the data, or that a bad
template is refused naming its file, key and the placeholders it may use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geohazard_cli.phrasing import placeholder_problem

SENT = ("--sent", "2026-07-21 08:30")


def edit(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize(("text", "problem"), [
    ("{group}牵头单位({source})", None),
    ("没有占位符", None),
    ("{group}{name}", "unknown placeholder {name} (known: {group}, {source})"),
    ("{group!r}", "unknown placeholder {group!r} (known: {group}, {source})"),
    ("{group:>5}", "unknown placeholder {group:>5} (known: {group}, {source})"),
    ("{group", "expected '}' before end of string (write a literal brace as {{ or }})"),
])
def test_placeholder_problem(text: str, problem: str | None) -> None:
    assert placeholder_problem(text, ("group", "source")) == problem


# --- contacts.yaml wording: ----------------------------------------------------------------------
def test_group_roles_and_duties_follow_the_roster_wording(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    args = ("callsheet", "--config-dir", str(copy), "--evacuees", "50", "-f", "json")
    before = json.loads(cli(*args).stdout)["call_list"]["entries"]
    assert any("应急救援组牵头单位(附件1(一))" in r for e in before for r in e["reasons"])
    edit(copy / "contacts.yaml", 'group_lead: "{group}牵头单位({source})"', 'group_lead: "{group}组长单位[{source}]"')
    edit(copy / "contacts.yaml", 'lead_duty: "牵头{group}: {duties}({source})"', 'lead_duty: "主持{group}: {duties}"')
    after = json.loads(cli(*args).stdout)["call_list"]["entries"]
    reasons = [r for e in after for r in e["reasons"]]
    assert "应急救援组组长单位[附件1(一)]" in reasons
    assert not any("牵头单位" in r for r in reasons)
    duties = [d for e in after for d in e["duties"]]
    assert any(d.startswith("主持应急救援组: ") for d in duties)
    assert not any(d.startswith("牵头") for d in duties)


def test_unplaced_street_reason_is_roster_wording(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    edit(copy / "contacts.yaml", "请核实属地街道办事处", "请查明所在街道")
    r = cli("callsheet", "--config-dir", str(copy), "--evacuees", "50", "--location", "某山坡", "-f", "json")
    entries = json.loads(r.stdout)["call_list"]["entries"]
    streets = next(e for e in entries if e["unit"] == "各街道办事处")
    assert any("地点未对应到具体街道,请查明所在街道(" in x for x in streets["reasons"])


def test_roster_table_title_and_lead_mark_are_data(cli, copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")
    edit(copy / "contacts.yaml", "title: 区指挥部成员通讯录", "title: 指挥部通讯录")
    edit(copy / "contacts.yaml", 'group_lead_short: "{group}(牵头)"', 'group_lead_short: "{group}★"')
    out = cli("roster", "--config-dir", str(copy), "应急救援组").stdout
    assert out.splitlines()[0].strip() == "指挥部通讯录 · 应急救援组"
    assert "应急救援组★" in out and "(牵头)" not in out


def test_bad_roster_wording_placeholder_is_refused(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    line = edit(copy / "contacts.yaml", 'member_duty: "参加{group}: {duties}({source})"',
                'member_duty: "参加{grup}: {duties}"')
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert (f"error: contacts.yaml:{line}: wording.member_duty: unknown placeholder {{grup}} "
            "(known: {duties}, {group}, {source})") in r.stdout.splitlines()
    r = cli("callsheet", "--config-dir", str(copy), "--evacuees", "50")
    assert r.exit_code == 2 and r.stdout == "" and "wording.member_duty" in r.stderr


def test_roster_wording_is_required(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    text = (copy / "contacts.yaml").read_text(encoding="utf-8")
    start = text.index("  street_unknown:")
    edit(copy / "contacts.yaml", text[start: text.index("\n", start) + 1], "")
    r = cli("roster", "--config-dir", str(copy))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.endswith("contacts.yaml:449: wording.street_unknown: required key is missing\n")


# --- reporting.deadline: due / due_unknown -------------------------------------------------------
def test_deadline_sentences_are_the_profiles(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "national-2006.yaml"
    edit(rules, 'due: "{due}前(报告时间起{hours}小时内)"', 'due: "务必于{due}前报出({hours}小时时限)"')
    edit(rules, 'due_unknown: "接报后{hours}小时内(报告时间未填,截止时刻无法计算)"', 'due_unknown: "{hours}小时内"')
    base = ("report-form", "--config-dir", str(copy), "--plan", "national-2006", "--evacuees", "50", "-f", "json")
    known = json.loads(cli(*base, "--reported-at", "2026-07-21 09:40").stdout)["reporting"]["deadline"]
    assert known["text"] == f"务必于{known['due']}前报出({known['hours']}小时时限)"
    unknown = json.loads(cli(*base).stdout)["reporting"]["deadline"]
    assert unknown["text"] == f"{unknown['hours']}小时内"


def test_deadline_hours_need_the_sentences(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "national-2006.yaml"
    edit(rules, '    due_unknown: "接报后{hours}小时内(报告时间未填,截止时刻无法计算)"\n', "")
    edit(rules, 'due: "{due}前(报告时间起{hours}小时内)"', 'due: "{due}前({hour}小时内)"')
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert "reporting.deadline.due: unknown placeholder {hour} (known: {due}, {hours})" in r.stdout
    assert "reporting.deadline.due_unknown: required when hours are given (a template with {hours})" in r.stdout


# --- warning: activation_sentence, routine_title, no_number, colour style -------------------------
def test_cap_activation_sentence_is_the_profiles(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "shizhong-2023.yaml"
    edit(rules, 'inactive: "未达到{name}启动条件({text},{source});日常预防预警工作照常。"',
         'inactive: "{name}不启动({source})。"')
    r = cli("warning", "blue", "--config-dir", str(copy), "-f", "cap", "--identifier", "t-1", *SENT)
    assert r.exit_code == 0, r.stderr
    assert "预警期应急响应不启动(6.3)。</description>" in r.stdout
    assert "日常预防预警工作照常" not in r.stdout


def test_bad_activation_sentence_is_refused(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "shizhong-2023.yaml"
    edit(rules, 'active: "启动{name}({source})。"', 'active: "启动{level}。"')
    r = cli("warning", "red", "--config-dir", str(copy))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.endswith("warning: activation_sentence.active: unknown placeholder {level} "
                             "(known: {name}, {source}, {text})\n")


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_routine_title_is_the_profiles(cli, copy: Path, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    edit(copy / "rules" / "shizhong-2023.yaml", "routine_title: 日常预防预警工作", "routine_title: 平时工作")
    out = tmp_path / "w.out"
    r = cli("warning", "blue", "--config-dir", str(copy), "-f", fmt, "-o", str(out), *SENT)
    assert r.exit_code == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    assert "平时工作(仍适用)" in text and "日常预防预警工作(仍适用)" not in text
    panel = cli("warning", "blue", "--config-dir", str(copy), *SENT).stdout
    assert "平时工作(仍适用)" in panel


def test_no_number_fallback_is_the_profiles(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    """A unit the roster gives no number and no reason for shows the profile's warning.no_number."""
    qilishan = "name: 七里山街道办事处, aliases: [七里山街道], kind: street, parent: 各街道办事处, phone: null, "
    args = ("warning", "yellow", "--area", "七里山", "-f", "json", *SENT)
    shipped = [c["note"] for c in json.loads(cli(*args).stdout)["contacts"] if c["unit"] == "七里山街道办事处"]
    assert shipped == ["预案未列号码"]  # the roster's own reason wins
    # (edit before the copy is first loaded: profiles are cached by path within a process)
    edit(copy / "contacts.yaml", qilishan + "phone_missing: 预案未列号码, ", qilishan)
    edit(copy / "rules" / "shizhong-2023.yaml", "no_number: 附件3未列号码", "no_number: 号码待补")
    r = cli(*args, "--config-dir", str(copy))
    assert r.exit_code == 0, r.stderr
    notes = [c["note"] for c in json.loads(r.stdout)["contacts"] if c["unit"] == "七里山街道办事处"]
    assert notes == ["号码待补"]


def test_bad_colour_style_is_refused(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "shizhong-2023.yaml"
    line = edit(rules, '      style: "bold red"\n', '      style: "bold bright_nope"\n')
    r = cli("warning", "red", "--config-dir", str(copy))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"geohazard: error: {rules}:{line}: warning.colours.3.style: not a terminal "
                               "style (unable to parse 'bright_nope' as color;")
    assert r.stderr.count("\n") == 1


def test_any_style_rich_reads_still_loads(cli, copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A bureau's style in rich's words ("bold white on red") loads as it did when rich drew the
    panel; on a terminal the renderer writes the words it knows: bold, white on a red background."""
    edit(copy / "rules" / "shizhong-2023.yaml", '      style: "bold red"\n', '      style: "bold white on red"\n')
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    r = cli("warning", "red", "--config-dir", str(copy), "--sent", "2026-07-21 08:30")
    assert r.exit_code == 0, r.stderr
    assert "\x1b[1;37;41m红色地质灾害气象风险预警\x1b[0m" in r.stdout
