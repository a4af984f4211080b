"""`geohazard cap check`: the CAP 1.2 rules an XSD cannot express and the consumers' profiles, on
real alerts (tests/data/cap, see its README), hand-broken copies of them, and our own alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from geohazard_cli.cap_check import PROFILES, check

DATA = Path(__file__).parent / "data" / "cap"
REAL = sorted(p.name for p in DATA.glob("*.xml"))
A1, A2, A3, A4 = ("oasis-a1-homeland-security.xml", "oasis-a2-thunderstorm.xml", "oasis-a3-earthquake.xml",
                  "oasis-a4-amber.xml")
GOOGLE, IPAWS = "google-tsunami-cancellation.xml", "ipaws-michigan-cem.xml"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def found(text: str, profile: str = "oasis") -> list[tuple[str, str, str]]:
    return [(f.path, f.level, f.rule) for f in check(text, profile)]


def test_the_real_alerts_pass_the_oasis_rules() -> None:
    assert len(REAL) == 6
    for name in REAL:
        assert check(read(name)) == [], name


# What each consumer would say about the real alerts (none of them was written for Google, IPAWS
# and GB/T 35965.1 at once): the profiles find what those consumers document.
PROFILE_FINDINGS = {
    ("google", A1): [("alert/info[1]/expires", "error", "google.expires"),
                     ("alert/info[1]/event", "error", "google.length")],
    ("google", A2): [("alert/info[1]/area[1]/areaDesc", "error", "google.length")],
    ("google", A3): [("alert/info[1]/expires", "error", "google.expires"),
                     ("alert/info[1]/area[1]/areaDesc", "error", "google.length")],
    ("google", A4): [("alert/info[1]/expires", "error", "google.expires"),
                     ("alert/info[2]/expires", "error", "google.expires")],
    ("google", GOOGLE): [("alert/info[1]/severity", "error", "google.unknown")],
    ("google", IPAWS): [],
    ("ipaws", A1): [("alert/info[1]/expires", "error", "ipaws.expires")],
    ("ipaws", A2): [],
    ("ipaws", A3): [("alert/info[1]/expires", "error", "ipaws.expires")],
    ("ipaws", A4): [("alert/info[1]/expires", "error", "ipaws.expires"),
                    ("alert/info[2]/expires", "error", "ipaws.expires")],
    ("ipaws", GOOGLE): [],
    ("ipaws", IPAWS): [],
}


@pytest.mark.parametrize(("profile", "name"), sorted(PROFILE_FINDINGS))
def test_profiles_on_real_alerts(profile: str, name: str) -> None:
    assert found(read(name), profile) == PROFILE_FINDINGS[(profile, name)]


@pytest.mark.parametrize("name", REAL)
def test_no_real_alert_has_a_gbt_identifier(name: str) -> None:
    assert found(read(name), "cn") == [("alert/identifier", "error", "cn.identifier")]


# One hand-broken copy per rule: (file, what is replaced, by what, profile, the finding).
BROKEN = [
    (A1, "<identifier>43b080713727", "<identifier>43b 080713727", "oasis",
     ("alert/identifier", "error", "oasis.token")),
    (A1, "<sender>hsas@dhs.gov", "<sender>hsas,dhs.gov", "oasis", ("alert/sender", "error", "oasis.token")),
    (A1, "<sender>hsas@dhs.gov</sender>", "", "oasis", ("alert/sender", "error", "oasis.required")),
    (A3, "trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00", "trinet@caltech.edu,TRI13970876.1",
     "oasis", ("alert/references", "error", "oasis.references")),
    (A3, "2003-06-11T20:30:00-07:00</references>", "2003-06-11 20:30</references>", "oasis",
     ("alert/references", "error", "oasis.references")),
    (A3, "<references>trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00</references>", "", "oasis",
     ("alert/references", "warning", "oasis.references")),
    (A1, "<scope>Public</scope>", "<scope>Public</scope><restriction>staff only</restriction>", "oasis",
     ("alert/restriction", "error", "oasis.scope")),
    (A1, "<scope>Public</scope>", "<scope>Public</scope><addresses>ops</addresses>", "oasis",
     ("alert/addresses", "error", "oasis.scope")),
    (A1, "<scope>Public</scope>", "<scope>Private</scope>", "oasis", ("alert/addresses", "error", "oasis.scope")),
    (A2, "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14",
     "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89", "oasis",
     ("alert/info[1]/area[1]/polygon[1]", "error", "oasis.polygon")),
    (A2, "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14",
     "38.47,-120.14 38.34,-119.95 38.47,-120.14", "oasis",
     ("alert/info[1]/area[1]/polygon[1]", "error", "oasis.polygon")),
    (A2, "38.47,-120.14 38.34,-119.95", "38.47 -120.14 38.34,-119.95", "oasis",
     ("alert/info[1]/area[1]/polygon[1]", "error", "oasis.polygon")),
    (A3, "<circle>32.9525,-115.5527 0</circle>", "<circle>32.9525,-115.5527</circle>", "oasis",
     ("alert/info[1]/area[1]/circle[1]", "error", "oasis.circle")),
    (A3, "<circle>32.9525,-115.5527 0</circle>", "<circle>32.9525,-115.5527 0</circle><ceiling>100</ceiling>",
     "oasis", ("alert/info[1]/area[1]/ceiling", "error", "oasis.altitude")),
    (A3, "<circle>32.9525,-115.5527 0</circle>",
     "<circle>32.9525,-115.5527 0</circle><altitude>200</altitude><ceiling>100</ceiling>", "oasis",
     ("alert/info[1]/area[1]/altitude", "error", "oasis.altitude")),
    (A1, "<web>http://www.dhs.gov/dhspublic/display?theme=29</web>", "<web>www.dhs.gov/dhspublic</web>", "oasis",
     ("alert/info[1]/web", "error", "oasis.web")),
    (A2, "<expires>2003-06-17T16:00:00-07:00</expires>", "<expires>2003-06-17T14:00:00-07:00</expires>", "oasis",
     ("alert/info[1]/expires", "error", "oasis.times")),
    (A2, "<expires>2003-06-17T16:00:00-07:00</expires>",
     "<effective>2003-06-17T14:00:00-07:00</effective><expires>2003-06-17T16:00:00-07:00</expires>", "oasis",
     ("alert/info[1]/effective", "error", "oasis.times")),
    (GOOGLE, "<onset>2013-01-05T10:58:23-00:00</onset>", "<onset>2013-01-05T11:58:23-00:00</onset>", "oasis",
     ("alert/info[1]/expires", "error", "oasis.times")),
    (A2, "<expires>2003-06-17T16:00:00-07:00</expires>", "<expires>2003-06-17T16:00:00</expires>", "oasis",
     ("alert/info[1]/expires", "error", "oasis.times")),
    (A1, "<certainty>Likely</certainty>", "<certainty>Very Likely</certainty>", "oasis",
     ("alert/info[1]/certainty", "warning", "oasis.deprecated")),
    (A1, "<severity>Severe</severity>", "<severity>Huge</severity>", "oasis",
     ("alert/info[1]/severity", "error", "oasis.value")),
    (A1, "<status>Actual</status>", "<status>Exercise</status>", "oasis", ("alert/note", "error", "oasis.note")),
    (A1, "<msgType>Alert</msgType>", "<msgType>Error</msgType>", "oasis", ("alert/note", "error", "oasis.note")),
    (IPAWS, "<description>From the Governor's Office: The State of Michigan has extended the Stay Home Stay Safe "
     "order until May 15 to save lives. Individuals are strongly encouraged to wear a homemade, non-medical grade "
     "mask when they leave the house. Some restrictions have been lifted. For additional guidance, see "
     "www.michigan.gov/coronavirus</description>", "", "google",
     ("alert/info[1]/description", "error", "google.description")),
    (IPAWS, "<area><areaDesc>State of MI</areaDesc><geocode><valueName>SAME</valueName><value>026000</value>"
     "</geocode></area>", "", "google", ("alert/info[1]/area", "error", "google.area")),
    (IPAWS, "<urgency>Immediate</urgency>", "<urgency>Unknown</urgency>", "google",
     ("alert/info[1]/urgency", "error", "google.unknown")),
    (A2, "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14",
     "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.6212345,-119.89 38.47,-120.14", "google",
     ("alert/info[1]/area[1]/polygon[1]", "error", "google.polygon")),
    (A2, "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14",
     "38.47,-120.14 38.52,-119.74 38.34,-119.95 38.62,-119.89 38.47,-120.14", "google",
     ("alert/info[1]/area[1]/polygon[1]", "error", "google.polygon")),
    (IPAWS, "<expires>2020-04-24T14:23:35-04:00</expires>", "", "ipaws",
     ("alert/info[1]/expires", "error", "ipaws.expires")),
    (IPAWS, "<area><areaDesc>State of MI</areaDesc><geocode><valueName>SAME</valueName><value>026000</value>"
     "</geocode></area>", "", "ipaws", ("alert/info[1]/area", "error", "ipaws.area")),
    (A4, "<category>Rescue</category>\n        <event>Abducción",
     "<category>Safety</category>\n        <event>Abducción", "ipaws", ("alert/info", "error", "ipaws.one_event")),
]


@pytest.mark.parametrize(("name", "old", "new", "profile", "finding"), BROKEN,
                         ids=[f"{b[3]}-{b[4][2]}-{i}" for i, b in enumerate(BROKEN)])
def test_each_rule_on_a_hand_broken_copy(name: str, old: str, new: str, profile: str,
                                         finding: tuple[str, str, str]) -> None:
    text = read(name)
    assert old in text
    before = found(text, profile)
    assert finding not in before
    after = found(text.replace(old, new, 1), profile)
    assert finding in after, after


def test_documents_that_are_not_cap_12() -> None:
    cap11 = read(A1).replace("cap:1.2", "cap:1.1")
    assert [f.message for f in check(cap11)] == [
        "not a CAP 1.2 alert (root element {urn:oasis:names:tc:emergency:cap:1.1}alert; expected "
        "{urn:oasis:names:tc:emergency:cap:1.2}alert)"]
    assert check("<alert")[0].rule == "oasis.document"
    assert "DTDs" in check('<!DOCTYPE a [<!ENTITY x "y">]><a/>')[0].message


# --- our own alerts pass every profile -----------------------------------------------------------
SENT = ("--sent", "2026-07-21 08:30")


def ours(cli: Any, tmp_path: Path) -> dict[str, str]:
    def write(name: str, *args: str) -> str:
        r = cli("warning", *args, "--format", "cap")
        assert r.exit_code == 0, r.stderr
        (tmp_path / name).write_text(r.stdout, encoding="utf-8")
        return r.stdout

    out = {}
    for plan in ("shizhong-2023", "national-2006"):
        for colour in ("blue", "yellow", "orange", "red"):
            out[f"{plan}-{colour}"] = write(f"{plan}-{colour}.xml", colour, "--plan", plan, *SENT)
    out["many-areas"] = write("a1.xml", "red", "--area", "七里山,六里山,舜玉路,兴隆村", *SENT)
    out["exercise"] = write("ex.xml", "yellow", "--exercise", *SENT)
    out["restricted"] = write("r.xml", "orange", "--scope", "restricted", *SENT)
    out["update"] = write("u.xml", "orange", "--update", str(tmp_path / "a1.xml"), "--sent", "2026-07-21 09:00")
    out["cancel"] = write("c.xml", "--cancel", str(tmp_path / "u.xml"), "--sent", "2026-07-21 10:00")
    out["english"] = write("en.xml", "red", "--area", "七里山", "--lang", "en", "--exercise", *SENT)
    out["english-cancel"] = write("enc.xml", "--cancel", str(tmp_path / "en.xml"), "--lang", "en", "--exercise",
                                  "--sent", "2026-07-21 10:00")
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_every_alert_we_write_passes_every_profile(cli, tmp_path: Path, profile: str) -> None:  # type: ignore[no-untyped-def]
    for what, xml in ours(cli, tmp_path).items():
        assert check(xml, profile) == [], (what, profile)


def test_the_command(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ours(cli, tmp_path)
    ok = cli("cap", "check", *(str(p) for p in sorted(tmp_path.glob("*.xml"))), "--profile", "google")
    assert ok.exit_code == 0, ok.stdout
    assert ok.stdout == "15 file(s), 0 finding(s), 0 error(s) (google)\n"
    a1 = str(DATA / A1)
    r = cli("cap", "check", a1, "--profile", "ipaws")
    assert r.exit_code == 2
    assert r.stdout.splitlines() == [
        f"{a1}: alert/info[1]/expires: error: <expires> (with its offset) is required [ipaws.expires]",
        "1 file(s), 1 finding(s), 1 error(s) (ipaws)"]
    r = cli("cap", "check", a1, str(DATA / A2), "--profile", "google", "--format", "json")
    assert r.exit_code == 2
    data = json.loads(r.stdout)
    assert data["profile"] == "google" and data["errors"] == 3
    assert [f["file"] for f in data["files"]] == [a1, str(DATA / A2)]
    assert data["files"][1]["findings"] == [{"path": "alert/info[1]/area[1]/areaDesc", "level": "error",
                                             "rule": "google.length",
                                             "message": "areaDesc is 162 characters; keep it under 50 "
                                                        "(one <area> per place)"}]
    warn = tmp_path / "warn.xml"
    very = read(A1).replace("<certainty>Likely</certainty>", "<certainty>Very Likely</certainty>")
    warn.write_text(very, encoding="utf-8")
    assert cli("cap", "check", str(warn)).exit_code == 0  # a warning alone does not fail
    missing = cli("cap", "check", str(tmp_path / "nope.xml"))
    assert missing.exit_code == 2 and "nope.xml" in missing.stderr
