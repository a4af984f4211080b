"""`geohazard check` against broken copies of the shipped config (built in tmp_path).

Each case breaks one thing the way an editor might and expects every problem listed with its file,
line, key path and unit, and exit code 2; the shipped config is sound (exit 0).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from geohazard_cli.config import config_source


def edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace ``old`` (which must occur) and return the 1-based line where the edit starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def errors(stdout: str) -> list[str]:
    return [line.removeprefix("error: ") for line in stdout.splitlines() if line.startswith("error: ")]


def test_shipped_config_is_sound(cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("check")
    assert (r.exit_code, r.stderr) == (0, "")
    assert errors(r.stdout) == []
    # by default the 23 notices are one line, so that real problems are not buried (2 since issue
    # 18: each profile's CAP sender code still has the placeholder institution code 000)
    assert r.stdout.splitlines() == [
        "notice: 20 units have no number (区指挥部指挥长, 各街道办事处, 各类专业救援队伍, …); "
        "1 shared number (区应急局); 2 other notices; --notices lists them",
        f"{cfg} ({config_source(None)}): sound; 23 notices",
    ]
    assert config_source(None).startswith("the shipped copy, ")  # says which copy it validated
    r = cli("check", "--notices")
    assert (r.exit_code, r.stderr) == (0, "")
    notices = [line for line in r.stdout.splitlines() if line.startswith("notice: ")]
    # with --notices every unit without a number is listed, none dropped
    assert len(notices) == 23
    assert sum("warning.cap.sender_code.institution: institution 000 is a placeholder" in n for n in notices) == 2
    assert any("[各街道办事处] no number (附件3未列各街道办事处号码;按街道逐一联系)" in n for n in notices)
    assert r.stdout.splitlines()[-1] == f"{cfg} ({config_source(None)}): sound; 23 notices"


def test_problems_come_first_and_notices_stay_one_line(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    line = edit(copy / "contacts.yaml", 'phone: "82078710"', 'phone: ""')
    lines = cli("check", "--config-dir", str(copy)).stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"error: contacts.yaml:{line}: units.1.phone: [区人武部] blank number")
    assert lines[1].startswith("notice: 20 units have no number") and lines[1].endswith("--notices lists them")


def test_seven_digit_local_number_is_an_error(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    """济南 local numbers have 8 digits (contacts.yaml local_number_length): 0531-8207830 cannot be dialled."""
    line = edit(copy / "contacts.yaml", 'phone: "82078300"', 'phone: "8207830"')
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [f'contacts.yaml:{line}: units.3.phone: [区政府办公室] "8207830" has 7 digits; '
                                "local numbers in 0531 have 8 (local_number_length)"]
    # the call sheet does not print an undiallable "0531-8207830": it shows the gap and why
    sheet = cli("callsheet", "--config-dir", str(copy), "--evacuees", "50").stdout
    assert "0531-8207830" not in sheet
    gap = r"!号码: 通讯录号码“8207830”有误,无法拨打;请核实\(geohazard check 列出原因\)"
    assert re.search(r"区政府办公室 +无号码\n +" + gap, sheet)
    # the length is data: a district with 7-digit numbers says so
    edit(copy / "contacts.yaml", "local_number_length: 8", "local_number_length: 7")
    r = cli("check", "--config-dir", str(copy))
    assert 'units.3.phone: [区政府办公室] "8207830"' not in r.stdout
    assert 'units.1.phone: [区人武部] "82078710" has 8 digits; local numbers in 0531 have 7' in r.stdout


def test_blank_number(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    line = edit(copy / "contacts.yaml", 'phone: "82078710"', 'phone: ""')
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [f"contacts.yaml:{line}: units.1.phone: [区人武部] blank number "
                                "(write the number, or say why in phone_missing)"]
    assert r.stdout.splitlines()[-1] == f"{copy} (--config-dir): 1 problem; 23 notices"


def test_malformed_numbers(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    l1 = edit(copy / "contacts.yaml", 'phone: "82078134"', 'phone: "010-6207813"')  # 7 digits elsewhere: valid
    l2 = edit(copy / "contacts.yaml", 'phone: "82078300"', 'phone: "820783"')
    l3 = edit(copy / "contacts.yaml", 'phone: "82078351"', 'phone: "12078351000"')
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert l1 < l2
    assert errors(r.stdout) == [
        f'contacts.yaml:{l2}: units.3.phone: [区政府办公室] "820783" is not a fixed-line '
        '(7-8 digits, optional area code 0xx-) or mobile number',
        f'contacts.yaml:{l3}: units.4.phone: [区发展改革局] "12078351000" is not a mobile number (11 digits '
        'starting 13-19)',
    ]


def test_unknown_unit_in_group(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    line = edit(copy / "contacts.yaml", "members: [区民政局, 区农业农村局, 各街道办事处]",
                "members: [区民政, 区农业农村局, 各街道办事处]")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [f"contacts.yaml:{line}: groups.3.members.0: [医疗卫生组 member 区民政] "
                                'unknown unit \'区民政\' (did you mean "区民政局"?)']
    # a command using this roster refuses it in one line, pointing at check
    r = cli("callsheet", "--evacuees", "140", "--config-dir", str(copy))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f"geohazard: error: {copy / 'contacts.yaml'}:{line}: groups.3.members.0: "
                        "[医疗卫生组 member 区民政] unknown unit '区民政' (did you mean \"区民政局\"?)\n")


def test_duplicated_unit(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    text = (copy / "contacts.yaml").read_text(encoding="utf-8")
    anchor = "  # The number printed in the notice"
    dup = ('  - {key: water_again, name: 区水务局, kind: member, phone: "81751867", source: "附件3"}\n')
    (copy / "contacts.yaml").write_text(text.replace(anchor, dup + anchor), encoding="utf-8")
    line = text[: text.index(anchor)].count("\n") + 1
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [f"contacts.yaml:{line}: units.24.name: [区水务局] unit '区水务局' is "
                                "listed twice (also units.12: 区水务局)"]


def test_rules_gap_and_dispatch_gap(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "shizhong-2023.yaml"
    band = edit(rules, "{grade: medium, from: 100, below: 500,", "{grade: medium, from: 120, below: 500,")
    edit(rules, "    III:\n      text:", "    IIIx:\n      text:")
    level = (rules.read_text(encoding="utf-8").splitlines()).index("    IIIx:") + 1
    levels = (rules.read_text(encoding="utf-8").splitlines()).index("  levels:", 150) + 1
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [
        f"rules/shizhong-2023.yaml:{band}: indicators.0 (evacuees).bands.1.from: gap between 100 and 120",
        f"rules/shizhong-2023.yaml:{levels}: dispatch.levels: no entry for response level III (III级响应): "
        "nobody would be called",
        f"rules/shizhong-2023.yaml:{level}: dispatch.levels.IIIx: 'IIIx' is not a response level of this "
        "profile (I, II, III)",
    ]


def test_unknown_unit_and_group_in_dispatch(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "national-2006.yaml"
    l1 = edit(rules, "{engage: unit, name: 市中交警大队,", "{engage: unit, name: 市中交警,")
    l2 = edit(rules, "{engage: group, name: 宣传报道组,", "{engage: group, name: 宣传组,")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [
        f"rules/national-2006.yaml:{l1}: dispatch.levels.IV.engage.7.name: [市中交警] unknown unit "
        "'市中交警' (did you mean \"市中交警大队\"?)",
        f"rules/national-2006.yaml:{l2}: dispatch.levels.IV.engage.12.name: [宣传组] unknown work group "
        "'宣传组' (did you mean \"宣传报道组\"?)",
    ]


def test_template_syntax_error(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    line = edit(copy / "templates" / "callsheet.md.j2", "{% for m in measures %}", "{% for m in %}")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    [problem] = errors(r.stdout)
    assert problem.startswith(f"templates/callsheet.md.j2:{line}: (template): template syntax error: ")


def test_template_that_does_not_render(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    edit(copy / "templates" / "report-form.txt.j2", "{{ a.level_name }}", "{{ a.no_such_key }}")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [
        "templates/report-form.txt.j2: (render): does not render a sample 小型 incident of national-2006: "
        "'dict object' has no attribute 'no_such_key'"]



def test_notify_templates_render_a_sample_of_this_config_dirs_own_units(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    """Another district's config dir (its office and streets renamed): the notify templates are
    rendered with its own office unit and street, not the shipped plan's names."""
    for path in copy.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("区指挥部办公室", "县指挥部办公室").replace("大观园街道", "城关街道"),
                        encoding="utf-8")
    (copy / "templates" / "notify" / "incident.txt.j2").write_text(
        '{% if unit == "县指挥部办公室" and location == "城关街道" and warning.areas == ["城关街道"] %}'
        "{{ unit }}{% else %}{{ no_such.name }}{% endif %}\n", encoding="utf-8")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    assert [p for p in json.loads(r.stdout)["problems"] if "notify" in p["file"]] == []
    (copy / "templates" / "notify" / "incident.txt.j2").write_text(
        '{% if unit == "区指挥部办公室" %}{{ unit }}{% else %}{{ no_such.name }}{% endif %}\n', encoding="utf-8")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    assert [p["file"] for p in json.loads(r.stdout)["problems"]] == ["templates/notify/incident.txt.j2"]
    from geohazard_cli.checks import notify_sample

    blank = notify_sample(None, None)  # nothing loaded: placeholders, no plan's names
    assert (blank["unit"], blank["location"]) == ("某单位", "某街道")

def test_missing_template(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    (copy / "templates" / "callsheet.html.j2").unlink()
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == ["templates/callsheet.html.j2: (template): template missing"]


def test_yaml_syntax_errors(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    c = edit(copy / "contacts.yaml", 'area_code: "0531"', 'area_code: ["0531"')
    rules = copy / "rules" / "shizhong-2023.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "x: [1,\n", encoding="utf-8")
    end = len(rules.read_text(encoding="utf-8").splitlines()) + 1
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    found = errors(r.stdout)
    assert len(found) == 2
    file, line, rest = found[0].split(":", 2)
    assert (file, rest) == ("contacts.yaml", " (file): did not find expected ',' or ']'")
    assert c <= int(line) <= c + 3  # PyYAML marks where the unclosed list is noticed
    assert found[1] == f"rules/shizhong-2023.yaml:{end}: (file): did not find expected node content"


def test_every_problem_is_listed(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    edit(copy / "contacts.yaml", 'phone: "82078710"', 'phone: ""')
    edit(copy / "contacts.yaml", "lead: 区卫生健康局", "lead: 区卫健")
    edit(copy / "contacts.yaml", "    - 区司法局\n", "    - 区司法\n")
    edit(copy / "templates" / "report-form.html.j2", "{% endfor %}", "{% endfo %}")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    assert r.exit_code == 2
    data = json.loads(r.stdout)
    assert data["sound"] is False
    assert [(p["file"], p["path"], p["unit"]) for p in data["problems"]] == [
        ("contacts.yaml", "units.1.phone", "区人武部"),
        ("contacts.yaml", "command.members.7", "区司法"),
        ("contacts.yaml", "groups.3.lead", "医疗卫生组 lead 区卫健"),
        ("templates/report-form.html.j2", "(template)", None),
    ]
    assert len(data["notices"]) == 23  # 21 contacts notices + 2 CAP placeholders (issue 18)


def test_schema_errors_all_listed(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    l1 = edit(copy / "contacts.yaml", "    kind: member\n    phone: \"82078710\"",
              "    kind: soldier\n    phone: \"82078710\"")
    l2 = edit(copy / "contacts.yaml", "  seat: 区应急局", "  seats: 区应急局")
    office = (copy / "contacts.yaml").read_text(encoding="utf-8").splitlines().index("office:") + 1
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [
        f"contacts.yaml:{office}: office.seat: required key is missing",
        f"contacts.yaml:{l2}: office.seats: unknown key",
        f"contacts.yaml:{l1}: units.1.kind: Input should be 'office', 'post', 'member', 'section', 'street' "
        "or 'team'",
    ]


def test_config_dir_missing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("check", "--config-dir", str(tmp_path / "nope"))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f"geohazard: error: --config-dir: {tmp_path / 'nope'} is not a directory "
                        "(expected one holding rules/, contacts.yaml)\n")


def test_contacts_missing(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    (copy / "contacts.yaml").unlink()
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == ["contacts.yaml: (file): no such file"]
    r = cli("callsheet", "--evacuees", "5", "--config-dir", str(copy))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"geohazard: error: {copy.resolve() / 'contacts.yaml'}: no such file\n"


def test_malformed_dispatch_rule(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "shizhong-2023.yaml"
    line = edit(rules, "{engage: unit, name: 区商务局,", "{engage: units, name: 区商务局,")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [
        f"rules/shizhong-2023.yaml:{line}: dispatch.levels.III.engage.11.engage: Input should be 'office', "
        "'command', 'members', 'groups', 'group', 'unit' or 'local_street'"]
    r = cli("callsheet", "--evacuees", "5", "--config-dir", str(copy))
    assert (r.exit_code, r.stdout) == (2, "")
    # a command names the very file it loaded (check lists paths relative to the config dir)
    assert r.stderr == (f"geohazard: error: {rules}: dispatch.levels.III.engage.11.engage: "
                        "Input should be 'office', 'command', 'members', 'groups', 'group', 'unit' or "
                        "'local_street'\n")


def test_unknown_unit_in_warning_section(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    rules = copy / "rules" / "shizhong-2023.yaml"
    text = rules.read_text(encoding="utf-8")
    start = text.index("\nwarning:")
    old = "unit: 区水务局"
    at = text.index(old, start)
    rules.write_text(text[:at] + "unit: 区水务" + text[at + len(old):], encoding="utf-8")
    line = text[:at].count("\n") + 1
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    [problem] = errors(r.stdout)
    assert problem.startswith(f"rules/shizhong-2023.yaml:{line}: warning: warning.calls.")
    assert problem.endswith('.unit: unknown unit "区水务" (did you mean "区水务局"?) (see \'geohazard roster\')')


def test_profile_id_must_match_its_file_name(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(copy / "rules" / "shizhong-2023.yaml", copy / "rules" / "foo.yaml")
    line = (copy / "rules" / "foo.yaml").read_text(encoding="utf-8").splitlines().index("id: shizhong-2023") + 1
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert errors(r.stdout) == [f"rules/foo.yaml:{line}: id: 'shizhong-2023' differs from the file name 'foo': "
                                "results would say plan 'shizhong-2023' for --plan foo; make them the same"]


def test_check_says_which_copy_it_validated(cli, cfg: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GEOHAZARD_CONFIG_DIR", str(cfg))
    r = cli("check")
    assert r.stdout.splitlines()[-1] == f"{cfg} ($GEOHAZARD_CONFIG_DIR): sound; 23 notices"
    assert json.loads(cli("check", "--format", "json").stdout)["config_source"] == "$GEOHAZARD_CONFIG_DIR"
    monkeypatch.delenv("GEOHAZARD_CONFIG_DIR")
    data = json.loads(cli("check", "--format", "json").stdout)
    assert data["config_source"].endswith(": no --config-dir or $GEOHAZARD_CONFIG_DIR given")
