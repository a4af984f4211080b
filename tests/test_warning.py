"""`geohazard warning`: colours, what each starts (§3.1.4, §6.3, §10.1), the call list, outputs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from geohazard_cli.errors import ConfigError, InputError, NotFoundError
from geohazard_cli.intake import TIME_EXAMPLES
from geohazard_cli.rules import Profile
from geohazard_cli.warning import WarningSection, load_section, parse_areas, parse_colour, respond

SENT = ("--sent", "2026-07-21 08:30")
ACCEPTED = ("accepted: blue, yellow, orange, red, 蓝色, 黄色, 橙色, 红色, 蓝, 蓝色预警, 黄, 黄色预警, "
            "橙, 橙色预警, 红, 红色预警")


@dataclass(frozen=True)
class FakeUnit:
    key: str
    name: str
    phone: str | None
    dial: str | None


# Numbers as 附件3 prints them; streets are not in 附件3 (no number).
FAKE = {
    "区指挥部办公室": FakeUnit("office", "区指挥部办公室", "82722671", "0531-82722671"),
    "区住房城乡建设局": FakeUnit("housing", "区住房城乡建设局", "82597378", "0531-82597378"),
    "区水务局": FakeUnit("water", "区水务局", "81751867", "0531-81751867"),
    "区自然资源局": FakeUnit("natural_resources", "区自然资源局", "82078846", "0531-82078846"),
    "市中消防救援大队": FakeUnit("fire", "市中消防救援大队", "87939119", "0531-87939119"),
    "各类专业救援队伍": FakeUnit("rescue_teams", "各类专业救援队伍", None, None),
    "七里山街道": FakeUnit("qilishan", "七里山街道办事处", None, None),
    "七里山街道办事处": FakeUnit("qilishan", "七里山街道办事处", None, None),
}


def fake_lookup(name: str) -> FakeUnit:
    try:
        return FAKE[name]
    except KeyError:
        raise NotFoundError(f'unknown unit "{name}"') from None


def section_of(profile: Profile, cfg: Path) -> WarningSection:
    return load_section(profile, str(cfg / "rules" / f"{profile.id}.yaml"))


# --- colours ------------------------------------------------------------------------------
COLOUR_SPELLINGS = {
    "blue": ["blue", "BLUE", "Blue", "蓝色", "蓝", "蓝色预警", " blue ", "ｂｌｕｅ"],
    "yellow": ["yellow", "黄色", "黄", "黄色预警"],
    "orange": ["orange", "橙色", "橙", "橙色预警"],
    "red": ["red", "RED", "红色", "红", "红色预警", "ｒｅｄ"],
}


@pytest.mark.parametrize(("key", "spelling"), [(k, s) for k, ss in COLOUR_SPELLINGS.items() for s in ss])
def test_every_spelling_of_every_colour(profile: Profile, cfg: Path, key: str, spelling: str) -> None:
    assert parse_colour(spelling, section_of(profile, cfg)).key == key


def test_colours_are_the_four_of_3_1_4_lowest_first(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    assert [(c.key, c.name) for c in section.colours] == [
        ("blue", "蓝色"), ("yellow", "黄色"), ("orange", "橙色"), ("red", "红色")]


@pytest.mark.parametrize("bad", ["purple", "", "红红", "3", "red2", "green", "橙黄"])
def test_malformed_colour_is_refused(shizhong: Profile, cfg: Path, bad: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_colour(bad, section_of(shizhong, cfg))
    assert str(exc.value) == f'LEVEL: "{bad}" is not a warning colour ({ACCEPTED})'


def test_malformed_colour_cli_exit_2_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "purple")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr == f'geohazard: error: LEVEL: "purple" is not a warning colour ({ACCEPTED})\n'


# --- measures per colour (§3.1.4, §6.3, §10.1) ----------------------------------------------
YELLOW_MEASURES = ["3.1.4", "6.3(1)", "6.3(1); 10.1", "6.3(2)", "6.3(3)", "6.3(6)"]
RED_MEASURES = ["3.1.4", "6.3(1)", "6.3(1); 10.1", "6.3(2)", "6.3(3)", "6.3(4)", "6.3(5)", "6.3(6)"]


@pytest.mark.parametrize(("colour", "active", "sources"), [
    ("blue", False, []),
    ("yellow", True, YELLOW_MEASURES),
    ("orange", True, YELLOW_MEASURES),  # the plan gives orange nothing of its own
    ("red", True, RED_MEASURES),
])
def test_measures_per_colour(shizhong: Profile, cfg: Path, colour: str, active: bool, sources: list[str]) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour(colour, section), [], fake_lookup)
    assert r.active is active
    assert [m.source for m in r.measures] == sources
    if active:
        assert r.activation.text == "济南市发布涉及我区的黄色及以上地质灾害气象风险预警"
        assert r.activation.source == "6.3"
        assert r.routine == [] and r.notes == []
        assert r.end is not None and r.end.source == "6.4(2)"


def test_blue_lists_the_routine_duties_of_3_1(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour("blue", section), [], fake_lookup)
    assert [c.source for c in r.routine] == ["3.1.1", "3.1.2", "3.1.3", "3.1.4"]
    assert "24小时值班制度" in r.routine[1].text
    assert r.contacts == []
    # 三个紧急撤离 (2) is triggered by a *rainstorm* blue warning: blue must say so.
    assert [n.source for n in r.notes] == ["10.1"]
    assert "暴雨蓝色以上预警" in r.notes[0].text


def test_three_emergency_evacuations_are_10_1_verbatim(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour("yellow", section), [], fake_lookup)
    three = next(m for m in r.measures if m.key == "three_evacuations")
    assert three.items == [
        "隐患点发生强降雨时紧急撤离",
        "接到暴雨蓝色以上预警立即组织高风险区域群众紧急撤离",
        "发现险情征兆,情况不明、研判不准时紧急撤离",
    ]


def test_red_measures_carry_6_3_4_and_5(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour("red", section), [], fake_lookup)
    by_source = {m.source: m.text for m in r.measures}
    assert "救援队伍集结待命" in by_source["6.3(4)"]
    assert "区自然资源局会同属地街道办事处做好避险撤离工作" in by_source["6.3(4)"]
    assert "按照预警信号和撤离路线" in by_source["6.3(5)"] and "紧急避灾疏散" in by_source["6.3(5)"]
    assert "隐患点+风险区" in by_source["6.3(3)"]
    assert "叫醒" in by_source["6.3(1)"]


# --- the call list (§6.3) ------------------------------------------------------------------
YELLOW_CALLS = ["区指挥部办公室", "七里山街道办事处", "重要地质灾害危险点的防灾责任人、监测人和危险点群众",
                "区住房城乡建设局", "区水务局"]
RED_CALLS = [*YELLOW_CALLS, "区自然资源局", "市中消防救援大队", "各类专业救援队伍"]


@pytest.mark.parametrize(("colour", "expected"), [
    ("blue", []), ("yellow", YELLOW_CALLS), ("orange", YELLOW_CALLS), ("red", RED_CALLS)])
def test_call_list_per_colour(shizhong: Profile, cfg: Path, colour: str, expected: list[str]) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour(colour, section), ["七里山街道"], fake_lookup)
    assert [c.unit for c in r.contacts] == expected
    assert [c.order for c in r.contacts] == list(range(1, len(expected) + 1))


def test_call_list_numbers_and_reasons(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour("red", section), ["七里山街道"], fake_lookup)
    calls = {c.unit: c for c in r.contacts}
    office = calls["区指挥部办公室"]
    assert (office.phone, office.dial, office.kind) == ("82722671", "0531-82722671", "unit")
    # red adds the muster (6.3(4)) to the office's 叫醒 (6.3(1)): one line, two reasons
    assert [x.source for x in office.reasons] == ["6.3(1)", "6.3(4)"]
    street = calls["七里山街道办事处"]
    assert street.kind == "area" and street.phone is None and street.note == "附件3未列号码"
    assert [x.source for x in street.reasons] == ["6.3(1); 3.1.4", "6.3(5)"]
    assert [d.source for d in street.duties] == ["6.3(1)", "6.3(1)", "6.3(5)", "6.3(4)"]
    assert [x.source for x in calls["区住房城乡建设局"].reasons] == ["6.3(2)"]
    assert [x.source for x in calls["区水务局"].reasons] == ["6.3(2)"]
    assert calls["区自然资源局"].dial == "0531-82078846"
    assert [x.source for x in calls["区自然资源局"].reasons] == ["6.3(4)"]
    assert calls["市中消防救援大队"].dial == "0531-87939119"
    teams = calls["各类专业救援队伍"]
    assert teams.kind == "unit" and teams.phone is None and teams.note == "附件3未列号码"


def test_yellow_does_not_call_red_units(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour("yellow", section), ["七里山街道"], fake_lookup)
    office = r.contacts[0]
    assert [x.source for x in office.reasons] == ["6.3(1)"]
    assert all("6.3(4)" not in d.source and "6.3(5)" not in d.source for c in r.contacts for d in c.duties)


def test_no_area_gives_a_placeholder_street_line(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour("yellow", section), [], fake_lookup)
    line = r.contacts[1]
    assert (line.unit, line.kind, line.phone) == ("受影响的街道办事处", "area", None)
    assert line.note == "未用 --area 指定:请确认并逐一叫应"


def test_each_area_is_called_and_unknown_places_are_flagged(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)
    areas = parse_areas(["七里山街道", "兴隆村 ", "七里山街道办事处", "兴隆村"])
    assert areas == ["七里山街道", "兴隆村", "七里山街道办事处"]
    r = respond(shizhong, section, parse_colour("yellow", section), areas, fake_lookup)
    names = [c.unit for c in r.contacts]
    # both spellings of the street resolve to one line; the unknown place keeps its own line
    assert names[:3] == ["区指挥部办公室", "七里山街道办事处", "兴隆村"]
    assert names.count("七里山街道办事处") == 1
    assert r.contacts[2].note == "不是通讯录中的街道办事处,按地名列出:请确认所属街道并核实号码"


@pytest.mark.parametrize(("raw", "message"), [
    ("", "--area: empty; give a 街道办事处 or place name"),
    ("  ", "--area: empty; give a 街道办事处 or place name"),
    ("a\x07b", "--area: contains control characters; expected plain text"),
    ("长" * 101, "--area: longer than 100 characters"),
])
def test_bad_area(raw: str, message: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_areas([raw])
    assert str(exc.value) == message


def test_a_unit_the_roster_does_not_know_is_a_config_error(shizhong: Profile, cfg: Path) -> None:
    section = section_of(shizhong, cfg)

    def nothing(name: str) -> FakeUnit:
        raise NotFoundError(f'unknown unit "{name}"')

    with pytest.raises(ConfigError) as exc:
        respond(shizhong, section, parse_colour("yellow", section), [], nothing)
    assert str(exc.value) == 'warning.calls.0.unit: unknown unit "区指挥部办公室"'


# --- the national profile ------------------------------------------------------------------
@pytest.mark.parametrize("colour", ["blue", "yellow", "orange", "red"])
def test_national_any_warning_starts_the_notify_duty(national: Profile, cfg: Path, colour: str) -> None:
    section = section_of(national, cfg)
    r = respond(national, section, parse_colour(colour, section), [], fake_lookup)
    assert r.active is True
    assert [m.source for m in r.measures] == ["3.2.4"]
    assert "防灾责任人、监测人和该区域内的群众" in r.measures[0].text
    assert [c.kind for c in r.contacts] == ["area", "party"]
    assert r.area_name == "济南市市中区"


# --- a broken warning: section is refused with file, key path and line ------------------------
def _broken(cfg: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = (cfg / "rules" / "shizhong-2023.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_bad_from_colour(cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _broken(cfg, tmp_path, "    from: yellow\n    text: 济南市发布", "    from: green\n    text: 济南市发布")
    r = cli("warning", "red", "--rules", str(path))
    assert r.exit_code == 2 and r.stdout == ""
    line = path.read_text(encoding="utf-8").splitlines().index("warning:") + 1  # the section's own checks
    assert r.stderr == (f"geohazard: error: {path}:{line}: "
                        "warning: activation.from: 'green' is not a colour (blue, yellow, orange, red)\n")


def test_bad_severity(cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _broken(cfg, tmp_path, "severity: Extreme", "severity: Catastrophic")
    r = cli("warning", "red", "--rules", str(path))
    assert r.exit_code == 2 and r.stdout == ""
    line = _line(path, "Catastrophic")
    assert r.stderr.startswith(f"geohazard: error: {path}:{line}: warning.colours.3.cap.severity: Input should be ")
    assert r.stderr.count("\n") == 1


def test_unknown_key(cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _broken(cfg, tmp_path, "  issuer: 济南市", "  issuer: 济南市\n  isuer: typo")
    r = cli("warning", "red", "--rules", str(path))
    assert r.exit_code == 2
    assert r.stderr == f"geohazard: error: {path}:{_line(path, 'isuer:')}: warning.isuer: unknown key\n"


def test_duplicate_alias(cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _broken(cfg, tmp_path, "aliases: [red, 红, 红色, 红色预警]", "aliases: [red, 红, 红色, 红色预警, 橙]")
    r = cli("warning", "red", "--rules", str(path))
    assert r.exit_code == 2
    assert r.stderr.endswith("warning: colours: '橙' names both orange and red\n")


def test_unknown_placeholder(cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _broken(cfg, tmp_path, 'headline: "{jurisdiction}{colour}{event}"', 'headline: "{place}{colour}"')
    r = cli("warning", "red", "--rules", str(path))
    assert r.exit_code == 2
    assert r.stderr.endswith("warning: cap.headline: unknown placeholder {place} (known: activation, areas, "
                             "colour, event, issuer, jurisdiction)\n")


def test_missing_warning_section(cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = (cfg / "rules" / "shizhong-2023.yaml").read_text(encoding="utf-8")
    path = tmp_path / "nowarning.yaml"
    path.write_text(text[: text.index("warning:\n")] + "warning: {}\n", encoding="utf-8")
    r = cli("warning", "red", "--rules", str(path))
    assert r.exit_code == 2
    assert r.stderr == (f"geohazard: error: {path}: warning: this profile has no warning section "
                        "(geohazard warning needs one; see docs/warning.md)\n")


# --- outputs -------------------------------------------------------------------------------
def test_json_has_level_active_measures_contacts(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "红色", "--area", "七里山街道", "--format", "json", *SENT)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["level"] == "red" and data["level_name"] == "红色"
    assert data["active"] is True
    assert data["sent"] == "2026-07-21T08:30:00+08:00"
    assert data["exercise"] is False
    assert [m["source"] for m in data["measures"]] == RED_MEASURES
    assert data["contacts"][0]["unit"] == "区指挥部办公室"
    assert {"order", "unit", "unit_key", "phone", "dial", "reasons", "duties"} <= set(data["contacts"][0])
    assert data["cap"] == {"severity": "Extreme", "urgency": "Immediate", "certainty": "Likely",
                           "response_type": "Evacuate", "validity": {"hours": 24, "source": None, "local": True}}


def test_text_shows_the_same_measures_and_calls_as_json(cli) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(cli("warning", "yellow", "--area", "七里山街道", "-f", "json", *SENT).stdout)
    r = cli("warning", "yellow", "--area", "七里山街道", *SENT)
    assert r.exit_code == 0
    flat = re.sub(r"[\s│╭╮╰╯─]", "", r.stdout)
    for m in data["measures"]:
        assert re.sub(r"\s", "", m["text"]) in flat
    for c in data["contacts"]:
        assert c["unit"] in flat
    assert "预警期应急响应:启动" in flat


def test_blue_text_says_not_active_and_lists_routine(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "蓝")
    assert r.exit_code == 0
    flat = re.sub(r"[\s│╭╮╰╯─]", "", r.stdout)
    assert "预警期应急响应:未启动" in flat
    assert "日常预防预警工作(仍适用)" in flat
    assert "叫应名单:无" in flat


@pytest.mark.parametrize("fmt", ["html", "markdown", "text"])
def test_templates_render_the_call_sheet(cli, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"w.{fmt}"
    r = cli("warning", "red", "--area", "七里山街道", "-f", fmt, "-o", str(out), *SENT)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    doc = out.read_text(encoding="utf-8")
    for head in ("叫应时间", "应答人", "回应时间", "区指挥部办公室", "市中消防救援大队", "6.3(5)", "6.4(2)"):
        assert head in doc
    if fmt == "html":
        assert "@page" in doc  # the shared print CSS
        assert doc.count("<tr>") == 1 + len(RED_CALLS)


def test_html_escapes_what_the_officer_typed(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "yellow", "--area", '<script>&"', "-f", "html", *SENT)
    assert r.exit_code == 0
    assert "<script>" not in r.stdout
    assert "&lt;script&gt;&amp;&#34;" in r.stdout


def test_markdown_neutralises_table_pipes(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "yellow", "--area", "a|b", "-f", "markdown", *SENT)
    assert r.exit_code == 0
    row = next(line for line in r.stdout.splitlines() if line.startswith("| 2 |"))
    assert "a\\|b" in row
    assert row.count("|") - row.count("\\|") == 9  # 8 columns


HEADLINES = {  # the headline line of each format, as printed
    "text": "{mark}红色地质灾害气象风险预警 · 济南市市中区突发地质灾害应急预案",
    "markdown": "# {mark}红色地质灾害气象风险预警",
    "html": '<h1 class="colour-red">{mark}红色地质灾害气象风险预警</h1>',
}
BANNERS = {"text": "【演练】 演练 非真实预警", "markdown": "> **【演练】 演练 非真实预警**",
           "html": '<div class="exercise-banner">【演练】 演练 非真实预警</div>'}


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_exercise_marks_headline_top_and_bottom(cli, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"w.{fmt}"
    r = cli("warning", "红色", "--area", "七里山街道", "--exercise", "-f", fmt, "-o", str(out), *SENT)
    assert r.exit_code == 0, r.stderr
    lines = [line for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert HEADLINES[fmt].format(mark="【演练】") in lines
    body = lines[lines.index("<body>") + 1:lines.index("</body>")] if fmt == "html" else lines
    body = [line for line in body if "exercise-watermark" not in line]
    assert body[0] == BANNERS[fmt]  # the first thing on the page
    assert body[-1] == BANNERS[fmt]  # and the last


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_a_real_warning_has_no_drill_mark(cli, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"w.{fmt}"
    r = cli("warning", "红色", "--area", "七里山街道", "-f", fmt, "-o", str(out), *SENT)
    assert r.exit_code == 0, r.stderr
    doc = out.read_text(encoding="utf-8")
    assert HEADLINES[fmt].format(mark="") in doc.splitlines()
    assert "演练" not in doc


def test_exercise_marks_the_terminal_panel(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("warning", "红色", "--area", "七里山街道", "--exercise", *SENT)
    assert r.exit_code == 0, r.stderr
    inner = [line.strip("│ ") for line in r.stdout.splitlines()]
    assert "【演练】" in r.stdout.splitlines()[0]  # the panel title
    assert inner[1] == "【演练】 演练 非真实预警" and inner[-2] == "【演练】 演练 非真实预警"
    assert inner[2] == "【演练】红色地质灾害气象风险预警"
    real = cli("warning", "红色", "--area", "七里山街道", *SENT)
    assert "演练" not in real.stdout


# --- times: people read 2026-07-21 08:30 (北京时间); JSON and CAP keep ISO 8601 ----------------
@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "panel"])
def test_human_formats_show_a_plain_beijing_time(cli, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    if fmt == "panel":
        r = cli("warning", "red", "--area", "七里山街道", "--sent", "2026-07-21T01:40:00Z")
        doc = r.stdout
    else:
        out = tmp_path / f"w.{fmt}"
        r = cli("warning", "red", "--area", "七里山街道", "-f", fmt, "-o", str(out),
                "--sent", "2026-07-21T01:40:00Z")
        doc = out.read_text(encoding="utf-8")
    assert r.exit_code == 0, r.stderr
    if fmt == "html":  # what is printed; the <time> element keeps ISO for machines
        assert '<time datetime="2026-07-21T09:40:00+08:00">2026-07-21 09:40</time>' in doc
    text = re.sub(r"<[^>]+>", "", doc.split("<body>")[-1])
    assert "2026-07-21 09:40(北京时间)" in text
    assert text.count("北京时间") == 1
    assert "T09:40" not in text and "+08:00" not in text and "T01:40" not in text


def test_json_keeps_iso_time(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "red", "-f", "json", "--sent", "2026-07-21T01:40:00Z")
    assert json.loads(r.stdout)["sent"] == "2026-07-21T09:40:00+08:00"


# --- the terminal panel: clause references and quoted words never split --------------------------
@pytest.mark.parametrize("columns", ["60", "80", "100"])
def test_panel_never_splits_a_clause(cli, monkeypatch: pytest.MonkeyPatch, columns: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(cli("warning", "红色", "--area", "七里山街道", "-f", "json", *SENT).stdout)
    monkeypatch.setenv("COLUMNS", columns)
    r = cli("warning", "红色", "--area", "七里山街道", *SENT)
    assert r.exit_code == 0, r.stderr
    from rich.cells import cell_len

    lines = r.stdout.splitlines()
    assert all(cell_len(line) <= int(columns) for line in lines)
    inner = [line.strip("│ ") for line in lines[1:-1]]
    sources = {m["source"] for m in data["measures"]}
    sources |= {x["source"] for c in data["contacts"] for x in c["reasons"] + c["duties"]}
    assert "6.3(1); 10.1" in sources and "6.3(1); 3.1.4" in sources
    for source in sources:  # each clause reference is whole on one line, every time it is printed
        printed = sum(line.count(f"({source})") for line in inner)
        assert printed == "".join(inner).count(f"({source})") > 0, source
    # closing punctuation never starts a line (quotes: the quoted words below stay whole)
    assert not [line for line in inner if line.lstrip()[:1] in set(",.;:)，。、；：）")]
    for word in ('"叫醒"', '"叫应"', '"三个紧急撤离"', '"被叫人"', '"回应"'):  # quoted words stay whole
        assert sum(line.count(word) for line in inner) == "".join(inner).count(word) > 0, word


def test_panel_at_80_columns_keeps_the_quoted_words(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("warning", "红色", "--area", "七里山街道", *SENT)
    flat = "\n".join(r.stdout.splitlines())
    assert "(6.\n" not in flat and '叫醒\n' not in flat and "(6.3(1);\n" not in flat


@pytest.mark.parametrize("flag", ["--update", "--cancel", "--identifier"])
def test_cap_only_flags(cli, flag: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "yellow", flag, "a,b,2026-07-21T08:30:00+08:00")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"geohazard: error: {flag}: only with --format cap\n"


def test_bad_sent(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "yellow", "--sent", "tomorrow")
    assert r.exit_code == 2
    assert r.stderr == ('geohazard: error: --sent: "tomorrow" is not a time '
                        f"({TIME_EXAMPLES})\n")


def test_output_is_atomic_nothing_written_on_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "w.html"
    r = cli("warning", "purple", "-f", "html", "-o", str(out))
    assert r.exit_code == 2 and not out.exists()


# --- with the shipped roster (contacts.yaml, 附件3 numbers) -----------------------------------
# 附件3 as printed in the plan: the numbers §6.3's units must be reached on.
APPENDIX_3 = {"区指挥部办公室": "82722671", "区住房城乡建设局": "82597378", "区水务局": "81751867",
              "区自然资源局": "82078846", "市中消防救援大队": "87939119"}


@pytest.mark.parametrize(("colour", "expected"), [
    ("blue", []), ("yellow", YELLOW_CALLS), ("orange", YELLOW_CALLS), ("red", RED_CALLS)])
def test_call_list_with_the_roster(shizhong: Profile, cfg: Path, colour: str, expected: list[str]) -> None:
    from geohazard_cli.contacts_load import load_roster

    section = section_of(shizhong, cfg)
    r = respond(shizhong, section, parse_colour(colour, section), ["七里山街道"], load_roster(cfg).unit)
    assert [c.unit for c in r.contacts] == expected
    for c in r.contacts:
        if c.unit in APPENDIX_3:
            assert (c.phone, c.dial) == (APPENDIX_3[c.unit], "0531-" + APPENDIX_3[c.unit])
        else:  # streets, the people at hazard points and the rescue teams have no number in the plan
            assert c.phone is None and c.note


def test_cli_call_list_numbers(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "red", "--area", "七里山街道", "--area", "兴隆村", "-f", "json", *SENT)
    assert r.exit_code == 0, r.stderr
    contacts = json.loads(r.stdout)["contacts"]
    dial = {c["unit"]: c["dial"] for c in contacts}
    assert dial["区指挥部办公室"] == "0531-82722671"
    assert dial["区自然资源局"] == "0531-82078846"
    unknown = next(c for c in contacts if c["unit"] == "兴隆村")
    assert unknown["dial"] is None
    assert unknown["note"] == ('不是通讯录中的街道办事处,按地名列出:请确认所属街道并核实号码'
                               '(是否属于"兴隆街道办事处"?)')


def test_area_that_is_not_a_street_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "yellow", "--area", "区水务局")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == ('geohazard: error: --area: "区水务局" is 区水务局, not a 街道办事处; give the street or '
                        "place the warning covers (units are called by the plan's own rules)\n")


def test_check_section_lists_unknown_units(shizhong: Profile, cfg: Path, tmp_path: Path) -> None:
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.loader import read_text
    from geohazard_cli.rules import load_profile
    from geohazard_cli.warning import check_section

    lookup = load_roster(cfg).unit
    path = cfg / "rules" / "shizhong-2023.yaml"
    assert check_section(shizhong, str(path), read_text(path), lookup) == []
    bad = _broken(cfg, tmp_path, "  - unit: 区水务局\n", "  - unit: 区水务\n")
    problems = check_section(load_profile(bad), str(bad), read_text(bad), lookup)
    assert problems == [f'{bad}:{_line(bad, "unit: 区水务")}: warning.calls.4.unit: unknown unit "区水务" '
                        '(did you mean "区水务局"?) (see \'geohazard roster\')']


@pytest.mark.parametrize(("lower", "higher"), [("blue", "yellow"), ("yellow", "orange"), ("orange", "red")])
def test_a_higher_colour_keeps_everything_a_lower_one_starts(
        profile: Profile, cfg: Path, lower: str, higher: str) -> None:
    section = section_of(profile, cfg)
    lo = respond(profile, section, parse_colour(lower, section), ["七里山街道"], fake_lookup)
    hi = respond(profile, section, parse_colour(higher, section), ["七里山街道"], fake_lookup)
    assert hi.active or not lo.active
    assert {m.key for m in lo.measures} <= {m.key for m in hi.measures}
    hi_calls = {c.unit: c for c in hi.contacts}
    for c in lo.contacts:
        assert c.unit in hi_calls
        assert set(map(str, c.reasons)) <= set(map(str, hi_calls[c.unit].reasons))
        assert set(map(str, c.duties)) <= set(map(str, hi_calls[c.unit].duties))
    assert hi.cap.severity != lo.cap.severity


# --- --area: split, short forms, typos, places ---------------------------------------------------
PLACE_NOTE = "不是通讯录中的街道办事处,按地名列出:请确认所属街道并核实号码"


def _areas(cli, *values: str) -> tuple[list[str], list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    args = [a for v in values for a in ("--area", v)]
    r = cli("warning", "红色", *args, "-f", "json", *SENT)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    return data["areas"], [c for c in data["contacts"] if c["kind"] == "area"]


@pytest.mark.parametrize("value", ["六里山街道,舜耕街道", "六里山街道，舜耕街道", "六里山街道、舜耕街道",
                                   "六里山街道;舜耕街道", "六里山街道；舜耕街道", "六里山街道 舜耕街道",
                                   " 六里山街道 ,  舜耕街道办事处 "])
def test_one_area_value_with_several_streets_is_split(cli, value: str) -> None:  # type: ignore[no-untyped-def]
    areas, lines = _areas(cli, value)
    assert areas == ["六里山街道", "舜耕街道"]
    assert [(c["unit"], c["unit_key"]) for c in lines] == [("六里山街道办事处", "street_liulishan"),
                                                          ("舜耕街道办事处", "street_shungeng")]


def test_parse_areas_splits_and_drops_duplicates() -> None:
    assert parse_areas(["六里山街道,舜耕街道", "舜耕街道、七里山 ;", "七里山"]) == ["六里山街道", "舜耕街道", "七里山"]
    with pytest.raises(InputError) as exc:
        parse_areas([" ,、；"])
    assert str(exc.value) == "--area: empty; give a 街道办事处 or place name"


@pytest.mark.parametrize(("value", "unit"), [("七里山", "七里山街道办事处"), ("七里山街道办", "七里山街道办事处"),
                                             ("七里山办事处", "七里山街道办事处"), ("十六里河", "十六里河街道办事处"),
                                             ("七贤", "七贤街道办事处")])
def test_short_forms_resolve_through_the_roster(cli, value: str, unit: str) -> None:  # type: ignore[no-untyped-def]
    areas, lines = _areas(cli, value)
    assert areas == [unit.removesuffix("办事处")]
    assert [c["unit"] for c in lines] == [unit]
    assert lines[0]["note"] == "预案未列号码"  # the roster's reason: no number


def test_two_spellings_of_one_street_give_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    areas, lines = _areas(cli, "七里山", "七里山街道办事处", "七里山街道")
    assert areas == ["七里山街道"] and [c["unit"] for c in lines] == ["七里山街道办事处"]


@pytest.mark.parametrize(("value", "message"), [
    ("七理山街道", '"七理山街道" is not a 街道办事处 of the roster (did you mean "七里山街道"?)'),
    ("七里山街到", '"七里山街到" is not a 街道办事处 of the roster (did you mean "七里山街道"?)'),
    ("七理山", '"七理山" is not a 街道办事处 of the roster (did you mean "七里山街道办事处"?)'),
    ("七", '"七" could be 七里山街道办事处、七贤街道办事处; give the street\'s name'),
    ("兴", '"兴" could be 兴隆街道办事处; give the street\'s name'),
    # the end of two streets' names: not a free place name that would go out as the CAP's area
    ("里山", '"里山" is part of 七里山街道办事处、六里山街道办事处, not a street\'s name; give the street\'s name '
             'from its start (e.g. "七里山" for 七里山街道办事处)'),
])
def test_near_misses_of_a_street_are_refused(cli, value: str, message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "红色", "--area", value, *SENT)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"geohazard: error: --area: {message}\n"


def test_a_misspelt_street_inside_a_list_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "红色", "--area", "六里山街道,七理山街道", "-f", "html", *SENT)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ('geohazard: error: --area: "七理山街道" is not a 街道办事处 of the roster '
                        '(did you mean "七里山街道"?)\n')


def test_an_unknown_street_name_is_refused_with_the_roster_list(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "红色", "--area", "望岳街道", *SENT)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith("geohazard: error: --area: \"望岳街道\" is not a 街道办事处 of the roster "
                               "(the roster's 街道办事处: 各街道办事处、大观园街道办事处、")
    assert "、陡沟街道办事处)\n" in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.parametrize("value", ["英雄山滑坡隐患点", "兴隆村", "青龙山北坡"])
def test_a_place_that_is_not_a_street_is_listed_with_a_note(cli, value: str) -> None:  # type: ignore[no-untyped-def]
    areas, lines = _areas(cli, value)
    assert areas == [value]
    assert [(c["unit"], c["unit_key"], c["phone"]) for c in lines] == [(value, None, None)]
    assert lines[0]["note"].startswith(PLACE_NOTE)


@pytest.mark.parametrize("value", ["七里山", "英雄山滑坡隐患点", "六里山街道,舜耕街道", "兴隆村"])
def test_no_call_line_without_a_number_lacks_a_note(cli, value: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "红色", "--area", value, "-f", "json", *SENT)
    contacts = json.loads(r.stdout)["contacts"]
    assert all(c["note"] for c in contacts if not c["phone"])
    assert all("," not in c["unit"] for c in contacts)


def test_short_form_in_text_and_cap(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "红色", "--area", "七里山", "-f", "cap", "--identifier", "370103-test-9", *SENT)
    assert r.exit_code == 0, r.stderr
    assert "<areaDesc>济南市市中区:七里山街道</areaDesc>" in r.stdout
