"""The shape of a CAP ``<area>`` (CAP 1.2 §3.3.1: ``<polygon>`` or ``<circle>``) that encloses the
hazard sites of a warned street, beside its areaDesc.

The rule: three or more distinct sites give a ``<polygon>``, the convex hull of the sites each
widened by the margin (an octagon around each site, drawn outside a circle of the margin's radius,
so every point within the margin of a site lies inside); one or two give a ``<circle>``, centred
between them, its radius half their distance plus the margin, and never under the minimum radius.
Margin and minimum radius come from ``district.yaml`` (``cap_area``: local data, not the plan);
without them no shape is drawn and the area is its areaDesc and geocode alone.

CAP forms: a polygon is "lat,lon" pairs separated by spaces, closed (first pair = last), at least
four pairs; a circle is "lat,lon radius" with the radius in km. WGS 84 (CGCS2000 within a metre).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

KM_PER_DEG_LAT = 110.574


class Margins(NamedTuple):
    margin_km: float
    min_radius_km: float


class Shape(NamedTuple):
    kind: str  # "polygon" or "circle" (the CAP element's name)
    text: str


def _km_per_deg_lon(lat: float) -> float:
    return 111.320 * math.cos(math.radians(lat))


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull, counter-clockwise (Andrew's monotone chain); collinear points left out."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _pair(lon: float, lat: float) -> str:
    return f"{lat:.5f},{lon:.5f}"


def enclosing(sites: Sequence[tuple[float, float]], margins: Margins) -> Shape | None:
    """The shape around ``sites`` (lon, lat pairs) by the rule above; None without sites."""
    distinct = sorted(set(sites))
    if not distinct:
        return None
    mid_lat = sum(lat for _, lat in distinct) / len(distinct)
    kx, ky = _km_per_deg_lon(mid_lat), KM_PER_DEG_LAT  # km per degree, locally (a street is small)
    if len(distinct) <= 2:
        (lon1, lat1), (lon2, lat2) = distinct[0], distinct[-1]
        half = math.hypot((lon2 - lon1) * kx, (lat2 - lat1) * ky) / 2
        radius = max(half + margins.margin_km, margins.min_radius_km)
        # rounded up, so the circle written is never smaller than the one computed
        return Shape("circle", f"{_pair((lon1 + lon2) / 2, (lat1 + lat2) / 2)} {math.ceil(radius * 100) / 100:.2f}")
    r = margins.margin_km / math.cos(math.pi / 8)  # the octagon's corners: its sides touch the margin's circle
    widened = [(lon + r * math.cos(a) / kx, lat + r * math.sin(a) / ky)
               for lon, lat in distinct for a in (k * math.pi / 4 + math.pi / 8 for k in range(8))]
    hull = _hull(widened)
    ring = [*hull, hull[0]]
    return Shape("polygon", " ".join(_pair(lon, lat) for lon, lat in ring))


def load_margins(cfg: Path) -> Margins | None:
    """``cap_area: {margin_km, min_radius_km}`` of the config dir's district.yaml (None without it)."""
    from geohazard_cli.config import cached_data_file
    from geohazard_cli.errors import ConfigError

    path = cfg / "district.yaml"
    if not path.is_file():
        return None
    spec = cached_data_file(path).get("cap_area")
    if spec is None:
        return None
    try:
        assert isinstance(spec, dict)
        m = Margins(float(spec["margin_km"]), float(spec["min_radius_km"]))
        assert 0 < m.margin_km <= 50 and 0 < m.min_radius_km <= 50
    except (AssertionError, KeyError, TypeError, ValueError):
        raise ConfigError(f"{path}: cap_area: expected margin_km and min_radius_km, each a number of km "
                          "over 0 and at most 50") from None
    return m
