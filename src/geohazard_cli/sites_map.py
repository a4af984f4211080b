"""The hazard-site register as maps: GeoJSON that QGIS opens, and what the offline map templates
(templates/sites-map.*.j2) draw."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Bounds
    from geohazard_cli.sites_grade import Graded


def geojson(graded: list[Graded]) -> dict[str, Any]:
    """A FeatureCollection of Points (what QGIS opens): each site's fields and grade."""
    features = []
    for g in graded:
        props = {k: v for k, v in g.site.as_json().items() if k not in ("lon", "lat")}
        props.update(grade=g.grade, grade_name=g.grade_name, level=g.level)
        features.append({"type": "Feature", "id": g.site.id, "properties": props,
                         "geometry": {"type": "Point", "coordinates": [g.site.lon, g.site.lat]}})
    return {"type": "FeatureCollection", "features": features}


def map_context(graded: list[Graded], bounds: Bounds, profile: Profile, width: int = 800) -> dict[str, Any]:
    """What the offline map (templates/sites-map.*.j2) draws: each site at its place in the
    district's box (equirectangular, true to scale at its middle latitude), street labels at the
    middle of their sites, the grades for the legend, and a scale bar of a round length."""
    import math

    km_per_lon = 111.32 * math.cos(math.radians((bounds.south + bounds.north) / 2))
    km_w, km_h = (bounds.east - bounds.west) * km_per_lon, (bounds.north - bounds.south) * 110.57
    margin = 40
    scale = (width - 2 * margin) / km_w  # pixels per km
    height = round(km_h * scale) + 2 * margin

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (round(margin + (lon - bounds.west) * km_per_lon * scale, 1),
                round(margin + (bounds.north - lat) * 110.57 * scale, 1))

    points = [{"id": g.site.id, "name": g.site.name, "street": g.site.street, "grade": g.grade or "ungraded",
               "grade_name": g.grade_name or "未定级", "threatened": g.site.threatened,
               "x": xy(g.site.lon, g.site.lat)[0], "y": xy(g.site.lon, g.site.lat)[1]} for g in graded]
    streets: dict[str, list[tuple[float, float]]] = {}
    for g in graded:
        streets.setdefault(g.site.street, []).append(xy(g.site.lon, g.site.lat))
    labels = [{"name": name.removesuffix("办事处"), "x": round(sum(x for x, _ in pts) / len(pts), 1),
               "y": round(sum(y for _, y in pts) / len(pts) - 12, 1)} for name, pts in streets.items()]
    bar_km = next(k for k in (20, 10, 5, 2, 1, 0.5) if k * scale <= width / 4)
    return {"title": bounds.name, "width": width, "height": height, "points": points, "labels": labels,
            "grades": [{"key": g.key, "name": g.name} for g in profile.grades],
            "scale": {"km": bar_km, "px": round(bar_km * scale, 1), "x": margin, "y": height - margin / 2},
            "count": len(points)}
