"""The hazard-site register: loading with file and line, import from CSV/GeoJSON, grading."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from geohazard_cli.config import rules_path
from geohazard_cli.contacts_load import load_roster
from geohazard_cli.errors import ConfigError
from geohazard_cli.grading import assess
from geohazard_cli.rules import load_profile
from geohazard_cli.sites import KEYS, load_bounds
from geohazard_cli.sites_grade import grade_sites
from geohazard_cli.sites_load import load_sites, read_register

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sites.yaml"
GOOD = {"id": "T-1", "name": "测试坡", "hazard_type": "滑坡", "street": "七里山街道", "lon": "116.99",
        "lat": "36.63", "households": "10", "threatened": "120", "potential_loss": "300万",
        "responsible_name": "李四", "responsible_phone": "13900000011", "monitor_name": "王五",
        "monitor_phone": "0531-80000012"}


def _write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header or list(GOOD))
        w.writeheader()
        w.writerows(rows)
    return path


def _ctx(cfg: Path):  # type: ignore[no-untyped-def]
    return load_profile(rules_path(None, None, cfg)), load_roster(cfg), load_bounds(cfg)


def test_example_loads_grades_and_flags_placeholders(cfg: Path) -> None:
    profile, roster, bounds = _ctx(cfg)
    reg = load_sites(EXAMPLE, profile, roster, bounds)
    assert [s.id for s in reg.sites] == [f"EX-00{i}" for i in range(1, 7)]
    assert reg.warnings and all("placeholder" in p.message for p in reg.warnings)
    assert all(s.responsible_phone is None for s in reg.sites)  # placeholders are never dialled
    graded = {g.site.id: g.grade for g in grade_sites(reg.sites, profile)}
    assert graded == {"EX-001": "small", "EX-002": "medium", "EX-003": "large", "EX-004": "small",
                      "EX-005": "extra_large", "EX-006": "small"}
    # the same grade grading.assess gives an incident with those figures
    for g in grade_sites(reg.sites, profile):
        a = assess({"evacuees": g.site.threatened, "potential_loss": g.site.potential_loss}, profile)
        assert a["grade"] == g.grade


@pytest.mark.parametrize(("change", "message"), [
    ({"lon": "36.63", "lat": "116.99"}, "lies outside 济南市市中区"),
    ({"street": "七理山街道"}, "is not a 街道办事处 of the roster (did you mean"),
    ({"responsible_phone": "1234"}, "is not a fixed-line"),
    ({"hazard_type": "地震"}, "is not a hazard type of shizhong-2023"),
    ({"threatened": "many"}, "is not a whole number of people"),
])
def test_bad_rows_name_file_line_and_field(cfg: Path, tmp_path: Path, change: dict[str, str], message: str) -> None:
    path = _write_csv(tmp_path / "s.csv", [GOOD, {**GOOD, "id": "T-2", **change}])
    with pytest.raises(ConfigError) as exc:
        load_sites(path, *_ctx(cfg))
    assert str(exc.value).startswith(f"{path}:3: sites.1.")
    assert message in str(exc.value)


def test_duplicate_ids_and_yaml_lines(cfg: Path, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: EX-002", "id: EX-001")
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_sites(path, *_ctx(cfg))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "示例采石场边坡" in t)
    assert str(exc.value) == f"{path}:{line}: sites.1.id: [EX-001] id 'EX-001' is used twice (also row 1)"


def test_import_csv_with_chinese_headers_then_grade(cli, copy: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    labels = ["编号", "名称", "灾害类型", "街道", "经度", "纬度", "威胁户数", "威胁人数", "潜在经济损失",
              "防灾责任人", "防灾责任人电话", "监测人", "监测人电话"]
    rows = [dict(zip(labels, GOOD.values(), strict=True))]
    src = _write_csv(tmp_path / "export.csv", rows, labels)
    r = cli("sites", "import", str(src), "--config-dir", str(copy))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.endswith("sites.yaml: 1 site written\n")
    again = cli("sites", "import", str(src), "--config-dir", str(copy))
    assert again.exit_code == 2 and "exists; pass --force" in again.stderr
    data = json.loads(cli("sites", "grade", "--config-dir", str(copy), "--format", "json").stdout)
    assert data["sites"][0]["id"] == "T-1" and data["sites"][0]["grade"] == "medium"
    assert data["counts"]["by_grade"]["medium"] == 1
    assert cli("check", "--config-dir", str(copy)).exit_code == 0


def test_import_refuses_bad_rows_and_writes_nothing(cli, copy: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = _write_csv(tmp_path / "export.csv", [GOOD, {**GOOD, "id": "T-1"}])
    r = cli("sites", "import", str(src), "--config-dir", str(copy))
    assert r.exit_code == 2
    assert f"error: {src}:3: sites.1.id: [T-1] id 'T-1' is used twice (also row 1)" in r.stdout
    assert not (copy / "sites.yaml").exists()


def test_import_geojson_round_trips_the_map(cli, copy: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.99, 36.63]},
               "properties": {k: v for k, v in GOOD.items() if k not in ("lon", "lat")}}
    src = tmp_path / "layer.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    out = tmp_path / "sites.yaml"
    r = cli("sites", "import", str(src), "-o", str(out), "--config-dir", str(copy))
    assert r.exit_code == 0, r.stderr
    profile, roster, bounds = _ctx(copy)
    assert [s.id for s in read_register(out, profile, roster, bounds)[0]] == ["T-1"]


def test_grade_csv_has_every_column(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("sites", "grade", "--sites", str(EXAMPLE), "--format", "csv").stdout
    rows = list(csv.DictReader(out.splitlines()))
    assert list(rows[0]) == [*KEYS, "grade", "grade_name", "level"] and len(rows) == 6
    text = cli("sites", "grade", "--sites", str(EXAMPLE)).stdout
    assert "按等级: 小型 3  中型 1  大型 1  特大型 1" in text
    assert "需搬迁转移人数 100人(中型): EX-006 示例公园北坡 95人" in text


def test_check_lists_register_problems(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(EXAMPLE, copy / "sites.yaml")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    problems = json.loads(r.stdout)["problems"]
    assert r.exit_code == 2 and problems and all(p["file"] == "sites.yaml" for p in problems)


REAL = """\
schema: 1
local: true
sites:
  - {id: Q-1, name: 测试东坡, hazard_type: 崩塌, street: 七里山街道, lon: 116.995, lat: 36.628, threatened: 40,
     households: 12, potential_loss: 80万, responsible_name: 李四, responsible_phone: "13900000011",
     monitor_name: 王五, monitor_phone: "0531-80000012", evacuation_route: 向北, evacuation_place: 操场}
  - {id: Q-2, name: 测试西坡, hazard_type: 滑坡, street: 舜耕街道, lon: 117.02, lat: 36.63, threatened: 5,
     responsible_name: 赵六, responsible_phone: "13900000013"}
"""


def test_warning_names_the_sites_and_calls_their_people(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sites.yaml"
    path.write_text(REAL, encoding="utf-8")
    args = ("warning", "red", "--area", "七里山街道", "--sites", str(path), "--sent", "2026-07-21 08:30")
    data = json.loads(cli(*args, "--format", "json").stdout)
    assert [s["id"] for s in data["sites"]] == ["Q-1"]  # only the warned street's sites
    people = [(c["unit"], c["dial"], c["site"]) for c in data["contacts"] if c["kind"] == "site"]
    assert people == [("测试东坡(Q-1)防灾责任人 李四", "13900000011", "Q-1"),
                      ("测试东坡(Q-1)监测人 王五", "0531-80000012", "Q-1")]
    party = next(c for c in data["contacts"] if c["kind"] == "party")
    site_call = next(c for c in data["contacts"] if c["kind"] == "site")
    assert site_call["reasons"] == party["reasons"] and site_call["order"] == party["order"] + 1
    text = cli(*args).stdout
    assert "Q-1 测试东坡(七里山街道办事处;崩塌;威胁40人)" in text
    assert "防灾责任人: 李四 13900000011  监测人: 王五 0531-80000012" in text
    for fmt in ("markdown", "html"):
        assert "测试东坡(Q-1)监测人 王五" in cli(*args, "--format", fmt).stdout
    # without --area no street is known: no sites, and the call list is as before
    plain = json.loads(cli("warning", "red", "--sites", str(path), "--format", "json").stdout)
    assert plain["sites"] == [] and not any(c["kind"] == "site" for c in plain["contacts"])


def test_recorded_warning_round_includes_the_site_people(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sites.yaml"
    path.write_text(REAL, encoding="utf-8")
    db = tmp_path / "j.sqlite3"
    r = cli("warning", "red", "--area", "七里山街道", "--sites", str(path), "--record", "--db", str(db),
            "--sent", "2026-07-21 08:30")
    assert r.exit_code == 0, r.stderr
    shown = json.loads(cli("incident", "show", "1", "--db", str(db), "--format", "json").stdout)
    keys = [e["unit_key"] for e in shown["call_list"]["entries"]]
    assert "site:Q-1:responsible" in keys and "site:Q-1:monitor" in keys
    assert {p["unit_key"] for p in shown["pending"]} >= {"site:Q-1:responsible", "site:Q-1:monitor"}


@pytest.mark.parametrize("cmd", [("classify",), ("callsheet",), ("report-form",)])
def test_site_fills_the_incident_and_flags_override(cli, cmd: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    base = (*cmd, "--site", "EX-002", "--sites", str(EXAMPLE), "--format", "json")
    result = cli(*base)
    data = json.loads(result.stdout)
    # the site's 威胁人数 standing as 需搬迁转移人数 is said, and not once the officer gives the number
    assert "需搬迁转移人数 160人 is the site's 威胁人数" in result.stderr
    assert "威胁人数" not in cli(*base, "--evacuees", "30").stderr
    inc = data["incident"] if cmd == ("classify",) else None
    if inc is not None:
        assert (inc["location"], inc["hazard_type"], inc["evacuees"], inc["potential_loss"], inc["households"]) == (
            "七里山街道 示例采石场边坡", "landslide", 160, "6000000", 45)
        assert data["grade"] == "medium"
        over = json.loads(cli(*base, "--evacuees", "600", "--location", "别处").stdout)
        assert (over["grade"], over["incident"]["evacuees"], over["incident"]["location"]) == ("large", 600, "别处")
    elif cmd == ("callsheet",):
        assert "七里山街道办事处" in [e["unit"] for e in data["call_list"]["entries"]]
        assert {f["key"]: f["value"] for f in data["facts"]}["location"] == "七里山街道 示例采石场边坡"
    else:
        assert data["fields"]["evacuees"]["value"] == "160人"


def test_callsheet_at_a_site_lists_its_people_to_call(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # An incident at a site: the sheet names the site's 防灾责任人 and 监测人 with their numbers (the
    # register's, said to be local data), with the 叫应 columns, and its way out; the sections stay
    # numbered in order.
    import re

    path = tmp_path / "sites.yaml"
    path.write_text(REAL, encoding="utf-8")
    base = ("callsheet", "--site", "Q-1", "--sites", str(path))
    text = cli(*base).stdout
    block = text[text.index("、本隐患点"):text.index("、叫应表")]
    assert "Q-1 测试东坡(七里山街道办事处;崩塌;威胁40人/12户)" in block
    assert re.search(r"防灾责任人: 李四 +13900000011\n +呼叫时间", block)
    assert re.search(r"监测人: 王五 +0531-80000012\n +呼叫时间", block)
    assert "撤离: 向北 → 操场" in block and f"名册:{path}(本地数据)" in "".join(block.split())  # (a long path wraps)
    data = json.loads(cli(*base, "--format", "json").stdout)
    assert [(p["label"], p["name"], p["dial"]) for p in data["site"]["people"]] == [
        ("防灾责任人", "李四", "13900000011"), ("监测人", "王五", "0531-80000012")]
    # a site with only its 防灾责任人: the 监测人 says so, no number invented
    one = cli("callsheet", "--site", "Q-2", "--sites", str(path)).stdout
    assert re.search(r"监测人: 未填 +无号码", one)
    numerals = "一二三四五六七八"
    for fmt, pattern in (("text", r"^([一二三四五六七八])、"), ("markdown", r"^## ([一二三四五六七八])、"),
                         ("html", r"<h2>([一二三四五六七八])、")):
        for args in (base, ("callsheet", "--evacuees", "140")):
            heads = re.findall(pattern, cli(*args, "--format", fmt).stdout, re.M)
            assert heads == list(numerals[:len(heads)]), (fmt, args, heads)
    assert cli("callsheet", "--evacuees", "140", "--format", "json").stdout.count('"site": null') == 1
    assert "本隐患点" not in cli("callsheet", "--evacuees", "140").stdout


@pytest.mark.parametrize("cmd", ["report-form", "callsheet"])
def test_a_sheet_says_which_figures_the_register_filled(cli, cmd: str) -> None:  # type: ignore[no-untyped-def]
    # The 速报单 goes upward: a figure the register filled (威胁人数 standing as 需搬迁转移人数) is
    # said on the sheet itself, in every format, until the officer gives it.
    base = (cmd, "--site", "EX-002", "--sites", str(EXAMPLE))
    head = "".join(cli(*base).stdout.split()[:40])
    assert ("注意:地点、地质灾害类型、需搬迁转移人数、潜在经济损失、受威胁户数、受威胁人数取自隐患点名册EX-002"
            f"({EXAMPLE}),需搬迁转移人数为其威胁人数,不是报告的数字") in head
    for fmt in ("markdown", "html"):
        assert "取自隐患点名册 EX-002" in cli(*base, "--format", fmt).stdout
    data = json.loads(cli(*base, "--evacuees", "30", "--format", "json").stdout)
    assert data["from_site"]["keys"] == ["location", "hazard_type", "potential_loss", "households", "threatened"]
    given = cli(*base, "--evacuees", "30", "--location", "七里山街道某处", "--hazard-type", "滑坡",
                "--potential-loss", "100万", "--households", "3", "--threatened", "9")
    assert "取自隐患点名册" not in given.stdout
    if cmd == "callsheet":  # (the site's people are still listed: they are the register's, said so)
        assert "本隐患点" in given.stdout
    assert "取自隐患点名册" not in cli(cmd, "--evacuees", "30").stdout


def test_a_location_naming_no_street_is_said_with_the_likely_one(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A slip in --location would quietly drop the affected street from the call list (各街道办事处
    # stands in): it is said on stderr, once, with the street it probably means; a location
    # naming a street, or one like no street at all, is not guessed at.
    said = 'warning: location "{}" names no street office of contacts.yaml{}; the call list calls 各街道办事处'
    for loc, hint in (("七理山街道", " (did you mean 七里山街道?)"), ("七里山", " (did you mean 七里山街道?)"),
                      ("七理山街道七里山路东侧边坡", " (did you mean 七里山街道?)"), ("某村后山", "")):
        r = cli("callsheet", "--evacuees", "140", "--location", loc)
        assert r.exit_code == 0 and r.stderr.count(said.format(loc, hint)) == 1, r.stderr
    assert "names no street" not in cli("callsheet", "--evacuees", "140", "--location", "七里山街道东坡").stderr
    r = cli("incident", "open", "--evacuees", "140", "--location", "七理山街道", "--db", str(tmp_path / "j.db"))
    assert r.exit_code == 0 and said.format("七理山街道", " (did you mean 七里山街道?)") in r.stderr


def test_a_sheet_at_a_site_takes_its_file_from_stdin(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("report-form", "--site", "EX-002", "--sites", str(EXAMPLE), "--file", "-", "--format", "json",
            stdin='{"evacuees": 30}')
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["from_site"]["keys"] == ["location", "hazard_type", "potential_loss", "households",
                                                          "threatened"]


def test_a_count_too_long_for_int_is_worded_not_a_crash(cfg: Path, tmp_path: Path) -> None:
    rows = [dict(zip(KEYS, ["T-1", "坡", "滑坡", "七里山街道", "116.99", "36.63", "9" * 5000, "10", "300万",
                            "李四", "13900000011", "王五", "0531-80000012", "向北", "操场", "测"], strict=True))]
    path = _write_csv(tmp_path / "s.csv", rows, header=list(KEYS))
    sites, problems = read_register(path, *_ctx(cfg))
    assert sites == [] and [p.path for p in problems] == ["sites.0.households"]


def test_site_unknown_or_without_register(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--site", "EX-02", "--sites", str(EXAMPLE))
    assert r.exit_code == 2 and f'--site: "EX-02" is not a site of {EXAMPLE} (did you mean "EX-002"?)' in r.stderr
    r = cli("classify", "--site", "EX-002")
    assert r.exit_code == 2 and "--site: no hazard-site register" in r.stderr


def test_incident_open_at_a_site(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "j.sqlite3"
    r = cli("incident", "open", "--site", "EX-003", "--sites", str(EXAMPLE), "--db", str(db), "--format", "json",
            "--at", "2026-07-21 09:40")
    assert r.exit_code == 0, r.stderr
    shown = json.loads(cli("incident", "show", "1", "--db", str(db), "--format", "json").stdout)
    assert shown["incident"]["location"] == "十六里河街道 示例沟谷" and shown["incident"]["evacuees"] == 520


def test_map_geojson_is_a_feature_collection_of_points(cli) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(cli("sites", "map", "--sites", str(EXAMPLE), "--format", "geojson").stdout)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 6
    f = data["features"][0]
    assert f["geometry"] == {"type": "Point", "coordinates": [116.995, 36.628]}
    assert f["properties"]["grade"] == "small" and f["properties"]["name"] == "示例山体东坡"


def test_map_svg_escapes_what_the_register_holds(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sites.yaml"
    path.write_text(REAL.replace("测试东坡", "<b>坡&</b>"), encoding="utf-8")
    svg = cli("sites", "map", "--sites", str(path), "--format", "svg").stdout
    assert "&lt;b&gt;坡&amp;&lt;/b&gt;" in svg and "<b>" not in svg


@pytest.mark.slow
def test_map_html_renders_in_chromium(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import re
    import subprocess

    from test_callsheet import CHROMIUM_FLAGS, _chromium

    browser = _chromium()
    html = tmp_path / "map.html"
    assert cli("sites", "map", "--sites", str(EXAMPLE), "--format", "html", "-o", str(html)).exit_code == 0
    flags = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", html.as_uri()], check=True, capture_output=True,
                         timeout=120).stdout.decode("utf-8")
    grades = re.findall(r'<circle class="site" data-id="[^"]+" data-grade="([a-z_]+)"', dom)
    assert sorted(grades) == ["extra_large", "large", "medium", "small", "small", "small"]
    for phrase in ("图例(险情分级)", "小型", "特大型", "5 公里", "七里山街道", "十六里河街道"):
        assert phrase in dom, phrase
    png = tmp_path / "map.png"
    subprocess.run([*flags, f"--screenshot={png}", "--window-size=900,1200", html.as_uri()], check=True,
                   capture_output=True, timeout=120)
    assert png.stat().st_size > 5000  # drawn, not blank


def test_import_never_writes_into_the_shipped_copy(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without --output or a config dir of the bureau's own, the register would land in the installed
    package (or the source tree), which a reinstall replaces: refused, nothing written."""
    from geohazard_cli.config import config_dir

    monkeypatch.delenv("GEOHAZARD_CONFIG_DIR", raising=False)
    shipped = config_dir(None)
    before = (shipped / "sites.yaml").exists()
    register = tmp_path / "r.csv"
    register.write_text("id,name\n", encoding="utf-8")
    r = cli("sites", "import", str(register))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("geohazard: error: sites import: no --output and no --config-dir: the config dir in "
                               f"force is the shipped copy ({shipped})")
    assert (shipped / "sites.yaml").exists() == before


@pytest.mark.parametrize("odd", [{}, {"name": '坡"甲",乙'}, {"evacuation_route": "向北\n再向东"},
                                 {"threatened": "", "potential_loss": ""}, {"source": "a\rb"}])
def test_grade_csv_lines_are_what_csv_writes(cli, cfg: Path, tmp_path: Path, odd: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    # The CSV of `sites grade` is joined from columns when no cell needs quoting, else written by
    # csv: either way it is what csv.writer writes for each graded site's row.
    rows = [{**GOOD, "evacuation_route": "", "evacuation_place": "", "source": ""},
            {**GOOD, "id": "T-2", "threatened": "99", "potential_loss": "", **odd},
            {**GOOD, "id": "T-3", "threatened": "", "potential_loss": "499.5万", "monitor_phone": ""}]
    path = _write_csv(tmp_path / "s.csv", rows, [*GOOD, "evacuation_route", "evacuation_place", "source"])
    out = cli("sites", "grade", "--sites", str(path), "--format", "csv")
    assert out.exit_code == 0, out.stderr
    profile, roster, bounds = _ctx(cfg)
    import io

    want = io.StringIO()
    w = csv.writer(want, lineterminator="\n")
    w.writerow([*KEYS, "grade", "grade_name", "level"])
    for g in grade_sites(load_sites(path, profile, roster, bounds).sites, profile):
        s = g.site
        w.writerow([*s[:2], *s[3:5], *s[6:], g.grade, g.grade_name, g.level])
    assert out.stdout == want.getvalue()
