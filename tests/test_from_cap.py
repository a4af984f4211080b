"""`geohazard warning --from-cap FILE`: the response an upstream CAP alert calls for.

The upstream alerts here are written for these tests (no public repository keeps a 济南市
地质灾害气象风险预警 in CAP): the GB/T 35965.1 identifier form, a zh-CN info, GB/T 2260 geocodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from geohazard_cli.cap_check import PROFILES, check

DATA = Path(__file__).parent / "data" / "cap"


def area(desc: str, code: str) -> str:
    geocode = f"<geocode><valueName>GB/T 2260</valueName><value>{code}</value></geocode>"
    return f"<area><areaDesc>{desc}</areaDesc>{geocode}</area>"


AREA_QLS = area("市中区七里山街道、六里山街道", "370103")
AREA_LX, AREA_CITY = area("历下区", "370102"), area("济南市", "370100")


def upstream(tmp_path: Path, name: str = "up.xml", *, headline: str = "济南市发布地质灾害气象风险橙色预警",
             event: str = "地质灾害气象风险预警", severity: str = "Severe", msg_type: str = "Alert",
             expires: str = "2099-07-22T08:00:00+08:00", areas: str = AREA_QLS + AREA_LX,
             ident: str = "37010041600000_20260721080000_0", refs: str = "") -> Path:
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{ident}</identifier><sender>37010041600000</sender>
  <sent>2026-07-21T08:00:00+08:00</sent><status>Actual</status><msgType>{msg_type}</msgType>
  <scope>Public</scope>{refs}
  <info><language>zh-CN</language><category>Geo</category><event>{event}</event>
    <urgency>Expected</urgency><severity>{severity}</severity><certainty>Likely</certainty>
    <expires>{expires}</expires><senderName>济南市自然资源和规划局</senderName>
    <headline>{headline}</headline><description>预计未来24小时发生地质灾害的风险较高。</description>
    {areas}
  </info>
</alert>
"""
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    return path


def test_colour_streets_and_times_from_the_alert(cli: Any, tmp_path: Path) -> None:
    r = cli("warning", "--from-cap", str(upstream(tmp_path)), "--format", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["level"] == "orange" and data["active"] is True
    assert data["areas"] == ["七里山街道", "六里山街道"]
    assert data["sent"] == "2026-07-21T08:00:00+08:00"
    assert data["upstream"]["identifier"] == "37010041600000_20260721080000_0"
    assert data["upstream"]["ignored"] == ["历下区"]
    assert r.stderr.splitlines() == [
        "geohazard: 上游预警 37010041600000_20260721080000_0(37010041600000,发布 2026-07-21T08:00:00+08:00,"
        "有效至 2099-07-22T08:00:00+08:00)",
        "geohazard: 注意: 不在本区、已忽略的区域: 历下区"]


def test_headline_and_severity_disagree(cli: Any, tmp_path: Path) -> None:
    r = cli("warning", "--from-cap", str(upstream(tmp_path, headline="地质灾害气象风险红色预警")), "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["level"] == "red"
    assert "geohazard: 注意: 预警标题为红色,但 severity 为 Severe(对应橙色):按标题的红色响应,请核实" in r.stderr


def test_severity_alone_and_a_city_wide_area(cli: Any, tmp_path: Path) -> None:
    path = upstream(tmp_path, headline="济南市地质灾害气象风险预警", severity="Moderate", areas=AREA_CITY)
    r = cli("warning", "--from-cap", str(path), "-f", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["level"], data["areas"]) == ("yellow", [])


def refused(cli: Any, *args: str) -> str:
    r = cli("warning", *args)
    assert r.exit_code == 2, r.stdout
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_what_starts_no_response(cli: Any, tmp_path: Path) -> None:
    def msg(path: Path) -> str:
        return refused(cli, "--from-cap", str(path)).removeprefix(f"geohazard: error: --from-cap: {path}: ")

    assert msg(upstream(tmp_path, event="暴雨蓝色预警", headline="济南市气象台发布暴雨蓝色预警")) == (
        "not a geohazard warning (event: 暴雨蓝色预警); this command starts the response to a 地质灾害气象风险预警")
    assert msg(upstream(tmp_path, areas=AREA_LX)) == "not for this district (济南市市中区, 370103); its areas: 历下区"
    assert msg(upstream(tmp_path, expires="2020-07-22T08:00:00+08:00")) == (
        "expired at 2020-07-22T08:00:00+08:00; it starts no response")
    assert msg(upstream(tmp_path, msg_type="Cancel")) == (
        "is a Cancel (37010041600000_20260721080000_0): it ends a warning, it starts no response")
    bad = tmp_path / "bad.xml"
    bad.write_text("<alert", encoding="utf-8")
    assert msg(bad).startswith("malformed: not XML")
    thunder = DATA / "oasis-a2-thunderstorm.xml"  # a real alert, in English
    assert msg(thunder) == "has no zh-CN <info>; cannot tell the warning's colour and areas"
    assert refused(cli, "red", "--from-cap", str(upstream(tmp_path))) == (
        "geohazard: error: --from-cap: the alert gives the colour and areas; leave out LEVEL and --area")


def test_an_update_changes_the_recorded_response(cli: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "j.sqlite3")
    first = cli("warning", "--from-cap", str(upstream(tmp_path)), "--record", "--db", db)
    assert first.exit_code == 0, first.stderr
    assert "已记录:预警响应 #1" in first.stdout
    update = upstream(tmp_path, "up2.xml", headline="地质灾害气象风险红色预警", severity="Extreme",
                      msg_type="Update", ident="37010041600000_20260721100000_0",
                      refs="<references>37010041600000,37010041600000_20260721080000_0,2026-07-21T08:00:00+08:00"
                           "</references>")
    second = cli("warning", "--from-cap", str(update), "--record", "--db", db, "-f", "json")
    assert second.exit_code == 0, second.stderr
    data = json.loads(second.stdout)
    assert (data["id"], data["recorded"], data["level"]) == (1, "changed", "red")
    assert "geohazard: 上游更新 37010041600000_20260721100000_0" in second.stderr


def test_the_cap_it_writes_passes_every_profile(cli: Any, tmp_path: Path) -> None:
    r = cli("warning", "--from-cap", str(upstream(tmp_path)), "--format", "cap")
    assert r.exit_code == 0, r.stderr
    for profile in PROFILES:
        assert check(r.stdout, profile) == [], profile
