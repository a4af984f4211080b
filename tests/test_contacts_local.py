"""The local contacts overlay (contacts.local.yaml): merged over the plan's roster at load, every
number marked with where it comes from, checked by `geohazard check`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from geohazard_cli.contacts import is_placeholder
from geohazard_cli.contacts_load import load_roster, numbers

ROOT = Path(__file__).resolve().parents[1]
FILLED = """\
schema: 1
local: true
units:
  - unit: 指挥长
    phone: "13900000001"
    source: 区政府办公室
  - unit: 区应急局
    backups: [{phone: "13900000002", note: 24小时值班手机}]
    on_duty: {role: 值班员, name: 张三, phone: "13900000003"}
    source: 区应急局值班表
  - unit: 七里山街道
    phone: "0531-80000001"
    source: 街道值班表
  - unit: 区水务局
    phone: "0531-80000009"
    override: true
    source: 区水务局值班表
"""


def _with(copy: Path, text: str) -> Path:
    (copy / "contacts.local.yaml").write_text(text, encoding="utf-8")
    return copy


def test_numbers_primary_first_with_origin(copy: Path) -> None:
    roster = load_roster(_with(copy, FILLED))
    assert numbers(roster, "commander") == [("13900000001", "local")]
    assert numbers(roster, "emergency") == [("0531-82722671", "plan"), ("13900000002", "local")]
    assert numbers(roster, "street_qilishan") == [("0531-80000001", "local")]
    # override: the local number first, the plan's kept as the first backup
    assert numbers(roster, "water") == [("0531-80000009", "local"), ("0531-81751867", "plan")]
    assert roster.by_key["emergency"].on_duty() == "值班员 张三 13900000003"


def test_no_overlay_is_the_plan(cfg: Path) -> None:
    roster = load_roster(cfg)
    assert numbers(roster, "emergency") == [("0531-82722671", "plan")]
    assert numbers(roster, "commander") == []


def test_callsheet_says_where_each_number_comes_from(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    _with(copy, FILLED)
    args = ("callsheet", "--evacuees", "140", "--location", "七里山街道", "--config-dir", str(copy))
    data = json.loads(cli(*args, "--format", "json").stdout)
    by_key = {e["unit_key"]: e for e in data["call_list"]["entries"]}
    assert by_key["commander"]["dial"] == "13900000001"
    assert (by_key["commander"]["origin"], by_key["commander"]["origin_source"]) == (
        "local", "contacts.local.yaml: 区政府办公室")
    assert by_key["hq_office"]["origin"] == "plan" and by_key["hq_office"]["origin_source"] == "2.2; 附件3"
    assert by_key["emergency"]["backups"] == [
        {"dial": "13900000002", "origin": "local", "source": "contacts.local.yaml: 区应急局值班表; 24小时值班手机"}]
    assert "区指挥部指挥长" not in data["missing_numbers"]
    text = cli(*args).stdout
    assert "号码来源: 〔预案〕contacts.yaml(附件3等,见出处)  〔本地〕contacts.local.yaml" in text
    assert "13900000001〔本地〕" in text and "0531-82722671〔预案〕" in text
    assert "    备用: - 13900000002〔本地〕contacts.local.yaml: 区应急局值班表; 24小时值班" in text
    assert "    值班: 值班员 张三 13900000003" in text
    for fmt in ("markdown", "html"):
        out = cli(*args, "--format", fmt).stdout
        assert "〔本地〕" in out and "备用: 13900000002" in out


def test_sheet_without_overlay_has_no_source_marks(cli) -> None:  # type: ignore[no-untyped-def]
    text = cli("callsheet", "--evacuees", "140").stdout
    assert "〔预案〕" not in text and "号码来源" not in text


def test_check_flags_the_example_placeholders(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(ROOT / "examples" / "contacts.local.yaml", copy / "contacts.local.yaml")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    assert r.exit_code == 2
    problems = json.loads(r.stdout)["problems"]
    assert problems and all(p["file"] == "contacts.local.yaml" and "placeholder" in p["message"] for p in problems)
    # the example's numbers are never dialled, and the units stay listed as missing a number
    roster = load_roster(copy)
    assert numbers(roster, "commander") == [] and numbers(roster, "street_qilishan") == []


def test_check_refuses_unknown_unit_and_silent_override(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    typo = "  - {unit: 七理山街道, phone: '13900000004', source: x}\n"
    _with(copy, FILLED.replace("    override: true\n", "") + typo)
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert ("contacts.local.yaml:15: units.3.phone: [区水务局] 区水务局 has the plan's number 81751867 (2.1; 附件3); "
            "replacing it needs override: true (or give the local number under backups)") in r.stdout
    assert ("contacts.local.yaml:17: units.4.unit: unknown unit '七理山街道' (did you mean \"七里山街道办事处\"?)"
            in r.stdout)
    # an unknown unit stops every command, naming the file and line
    r = cli("callsheet", "--evacuees", "140", "--config-dir", str(copy))
    assert r.exit_code == 2 and "contacts.local.yaml:17: units.4.unit: unknown unit" in r.stderr


def test_check_lists_still_missing_after_overlay(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    _with(copy, FILLED)
    data = json.loads(cli("check", "--config-dir", str(copy), "--format", "json").stdout)
    missing = {p["unit"] for p in data["notices"] if p["message"].startswith("no number")}
    assert "区指挥部指挥长" not in missing and "七里山街道办事处" not in missing
    assert "大观园街道办事处" in missing


def test_overlay_schema_error_names_file_and_line(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    _with(copy, "schema: 1\nlocal: true\nunits:\n  - unit: 区应急局\n    phon: '1'\n    source: x\n")
    r = cli("callsheet", "--evacuees", "140", "--config-dir", str(copy))
    assert r.exit_code == 2 and "contacts.local.yaml" in r.stderr and "phon" in r.stderr


def test_placeholders() -> None:
    assert all(is_placeholder(p) for p in ("1XXXXXXXXXX", "0531-XXXXXXXX", "<姓名>", "待填写"))
    assert not any(is_placeholder(p) for p in ("13900000001", "0531-82722671", "张三"))
