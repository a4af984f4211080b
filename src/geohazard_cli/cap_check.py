"""`geohazard cap check`: what a CAP 1.2 consumer checks beyond the OASIS XSD.

Pure: ``check(text, profile)`` returns the findings of one alert document, each with the path of
the element it is about (``alert/info[1]/area[2]/polygon``). The rules are OASIS CAP 1.2's own
(§3.2, the parts an XSD cannot say), then a profile's: ``google`` (Google Public Alerts),
``ipaws`` (FEMA IPAWS-OPEN), ``cn`` (GB/T 35965.1-2018). Every profile includes the OASIS rules.
Nothing here prints or touches files.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlparse

from geohazard_cli.cap import CAP_NS
from geohazard_cli.warning import CAP_TOKEN

Level = Literal["error", "warning"]
NS = f"{{{CAP_NS}}}"
_TOKEN = re.compile(CAP_TOKEN)
_TIME = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")  # the XSD's dateTime form
_PAIR = re.compile(r"^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$")
_GBT_ID = re.compile(r"^(\d{14})_(\d{14})_(\d)$")  # GB/T 35965.1-2018 A.1.1

# CAP 1.2 §3.2 value lists; "Very Likely" (certainty) is deprecated since CAP 1.1.
_VALUES = {
    "status": {"Actual", "Exercise", "System", "Test", "Draft"},
    "msgType": {"Alert", "Update", "Cancel", "Ack", "Error"},
    "scope": {"Public", "Restricted", "Private"},
    "category": {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
                 "Infra", "CBRNE", "Other"},
    "responseType": {"Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear",
                     "None"},
    "urgency": {"Immediate", "Expected", "Future", "Past", "Unknown"},
    "severity": {"Extreme", "Severe", "Moderate", "Minor", "Unknown"},
    "certainty": {"Observed", "Likely", "Possible", "Unlikely", "Unknown"},
}
_DEPRECATED = {"certainty": {"Very Likely": "Likely"}}
_ALERT_REQUIRED = ("identifier", "sender", "sent", "status", "msgType", "scope")
_INFO_REQUIRED = ("category", "event", "urgency", "severity", "certainty")
PROFILES = ("oasis", "google", "ipaws", "cn")


@dataclass(frozen=True)
class Finding:
    path: str  # alert/info[1]/expires
    level: Level
    rule: str  # oasis.times, google.expires, ...
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Alert:
    """The parsed document with numbered paths for its infos and areas."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.infos = root.findall(NS + "info")

    def text(self, parent: ET.Element, tag: str) -> str | None:
        el = parent.find(NS + tag)
        return None if el is None else (el.text or "").strip()

    def texts(self, parent: ET.Element, tag: str) -> list[str]:
        return [(el.text or "").strip() for el in parent.findall(NS + tag)]

    def each_info(self) -> Iterator[tuple[str, ET.Element]]:
        for i, info in enumerate(self.infos, start=1):
            yield f"alert/info[{i}]", info

    def each_area(self) -> Iterator[tuple[str, ET.Element]]:
        for where, info in self.each_info():
            for j, area in enumerate(info.findall(NS + "area"), start=1):
                yield f"{where}/area[{j}]", area


Rule = Callable[[_Alert], Iterator[Finding]]


def parse(text: str) -> ET.Element:
    """The alert element of a CAP 1.2 document; ValueError (one line) when it is not one."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("DTDs and entities are not allowed in a CAP file")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from None
    if root.tag != NS + "alert":
        raise ValueError(f"not a CAP 1.2 alert (root element {root.tag}; expected {{{CAP_NS}}}alert)")
    return root


def check(text: str, profile: str = "oasis") -> list[Finding]:
    """Every finding of one CAP document under ``profile`` (the OASIS rules, then the profile's)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
    try:
        root = parse(text)
    except ValueError as exc:
        return [Finding("alert", "error", "oasis.document", str(exc))]
    alert = _Alert(root)
    out: list[Finding] = []
    for rule in (*OASIS, *RULES.get(profile, ())):
        out.extend(rule(alert))
    return out


# --- OASIS CAP 1.2 ------------------------------------------------------------------------------
def _required(a: _Alert) -> Iterator[Finding]:
    for tag in _ALERT_REQUIRED:
        if a.text(a.root, tag) is None:
            yield Finding(f"alert/{tag}", "error", "oasis.required", f"<{tag}> is required")
    for where, info in a.each_info():
        for tag in _INFO_REQUIRED:
            if a.text(info, tag) is None:
                yield Finding(f"{where}/{tag}", "error", "oasis.required", f"<{tag}> is required in every <info>")
        for j, area in enumerate(info.findall(NS + "area"), start=1):
            if a.text(area, "areaDesc") is None:
                yield Finding(f"{where}/area[{j}]/areaDesc", "error", "oasis.required", "<areaDesc> is required")


def _values(a: _Alert) -> Iterator[Finding]:
    def one(path: str, tag: str, value: str) -> Iterator[Finding]:
        if value in _DEPRECATED.get(tag, {}):
            yield Finding(path, "warning", "oasis.deprecated",
                          f'"{value}" is deprecated (CAP 1.1 on); use "{_DEPRECATED[tag][value]}"')
        elif value not in _VALUES[tag]:
            yield Finding(path, "error", "oasis.value", f'"{value}" is not a CAP 1.2 {tag} '
                          f"({', '.join(sorted(_VALUES[tag]))})")

    for tag in ("status", "msgType", "scope"):
        value = a.text(a.root, tag)
        if value is not None:
            yield from one(f"alert/{tag}", tag, value)
    for where, info in a.each_info():
        for tag in ("category", "responseType", "urgency", "severity", "certainty"):
            for value in a.texts(info, tag):
                yield from one(f"{where}/{tag}", tag, value)


def _tokens(a: _Alert) -> Iterator[Finding]:
    for tag in ("identifier", "sender"):
        value = a.text(a.root, tag)
        if value is not None and not _TOKEN.match(value):
            yield Finding(f"alert/{tag}", "error", "oasis.token",
                          f'"{value}" has spaces, commas, < or & (CAP 1.2 3.2.1)')


def _references(a: _Alert) -> Iterator[Finding]:
    refs = a.text(a.root, "references")
    msg_type = a.text(a.root, "msgType")
    if refs is None:
        if msg_type in ("Update", "Cancel", "Ack", "Error"):
            yield Finding("alert/references", "warning", "oasis.references",
                          f"an {msg_type} should name the message(s) it refers to in <references>")
        return
    for n, triplet in enumerate(refs.split(), start=1):
        parts = triplet.split(",")
        if len(parts) != 3 or not all(parts):
            yield Finding("alert/references", "error", "oasis.references",
                          f'reference {n} "{triplet}" is not sender,identifier,sent')
        elif not _TIME.match(parts[2]):
            yield Finding("alert/references", "error", "oasis.references",
                          f'reference {n} has a sent time "{parts[2]}" not in CAP form')


def _scope(a: _Alert) -> Iterator[Finding]:
    scope = a.text(a.root, "scope")
    if a.text(a.root, "restriction") is not None and scope != "Restricted":
        yield Finding("alert/restriction", "error", "oasis.scope", "<restriction> is only for scope Restricted")
    if scope == "Restricted" and a.text(a.root, "restriction") is None:
        yield Finding("alert/restriction", "warning", "oasis.scope", "a Restricted alert should say its <restriction>")
    has_addresses = a.text(a.root, "addresses") is not None
    if has_addresses and scope != "Private":
        yield Finding("alert/addresses", "error", "oasis.scope", "<addresses> is only for scope Private")
    if scope == "Private" and not has_addresses:
        yield Finding("alert/addresses", "error", "oasis.scope", "a Private alert needs <addresses>")


def _note(a: _Alert) -> Iterator[Finding]:
    if a.text(a.root, "note"):
        return
    if a.text(a.root, "status") == "Exercise":
        yield Finding("alert/note", "error", "oasis.note", "an Exercise should name the exercise in <note>")
    if a.text(a.root, "msgType") == "Error":
        yield Finding("alert/note", "error", "oasis.note", "an Error message should explain itself in <note>")


def _times(a: _Alert) -> Iterator[Finding]:
    sent_text = a.text(a.root, "sent")
    sent = _time(sent_text)
    if sent_text is not None and sent is None:
        yield Finding("alert/sent", "error", "oasis.times",
                      f'"{sent_text}" is not a CAP time (2026-07-21T08:30:00+08:00)')
    for where, info in a.each_info():
        got: dict[str, datetime] = {}
        for tag in ("effective", "onset", "expires"):
            value = a.text(info, tag)
            if value is None:
                continue
            moment = _time(value)
            if moment is None:
                yield Finding(f"{where}/{tag}", "error", "oasis.times", f'"{value}" is not a CAP time '
                              "(2026-07-21T08:30:00+08:00)")
            else:
                got[tag] = moment
        effective = got.get("effective", sent)
        order = [("sent", sent, "effective", got.get("effective")),
                 ("effective", effective, "expires", got.get("expires")),
                 ("onset", got.get("onset"), "expires", got.get("expires"))]
        for first, t1, second, t2 in order:
            if t1 is not None and t2 is not None and t1 > t2:
                yield Finding(f"{where}/{second}", "error", "oasis.times", f"{second} is before {first}")


def _time(value: str | None) -> datetime | None:
    if value is None or not _TIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _web(a: _Alert) -> Iterator[Finding]:
    for where, info in a.each_info():
        web = a.text(info, "web")
        if web is not None and not (urlparse(web).scheme and urlparse(web).netloc):
            yield Finding(f"{where}/web", "error", "oasis.web", f'"{web}" is not an absolute URI')


def _geometry(a: _Alert) -> Iterator[Finding]:
    for where, area in a.each_area():
        for k, polygon in enumerate(a.texts(area, "polygon"), start=1):
            path = f"{where}/polygon[{k}]"
            points = _points(polygon)
            if points is None:
                yield Finding(path, "error", "oasis.polygon", "not space-separated lat,lon pairs")
            elif len(points) < 4:
                yield Finding(path, "error", "oasis.polygon", f"{len(points)} pairs; a polygon needs at least 4")
            elif points[0] != points[-1]:
                yield Finding(path, "error", "oasis.polygon", "not closed (the first and last pairs differ)")
        for k, circle in enumerate(a.texts(area, "circle"), start=1):
            point, _, radius = circle.partition(" ")
            if _points(point) is None or not re.fullmatch(r"\d+(\.\d+)?", radius.strip()):
                yield Finding(f"{where}/circle[{k}]", "error", "oasis.circle", f'"{circle}" is not "lat,lon radius"')
        altitude, ceiling = a.text(area, "altitude"), a.text(area, "ceiling")
        if ceiling is not None and altitude is None:
            yield Finding(f"{where}/ceiling", "error", "oasis.altitude", "<ceiling> needs <altitude>")
        if ceiling is not None and altitude is not None:
            try:
                if float(altitude) > float(ceiling):
                    yield Finding(f"{where}/altitude", "error", "oasis.altitude", "altitude is above ceiling")
            except ValueError:
                yield Finding(f"{where}/altitude", "error", "oasis.altitude", "altitude and ceiling must be numbers")


def _points(text: str) -> list[tuple[str, str]] | None:
    out = []
    for pair in text.split():
        m = _PAIR.match(pair)
        if m is None or not (-90 <= float(m.group(1)) <= 90 and -180 <= float(m.group(2)) <= 180):
            return None
        out.append((m.group(1), m.group(2)))
    return out or None


OASIS: tuple[Rule, ...] = (_required, _values, _tokens, _references, _scope, _note, _times, _web, _geometry)


# --- profiles ------------------------------------------------------------------------------------
def _google(a: _Alert) -> Iterator[Finding]:
    for where, info in a.each_info():
        for tag in ("expires", "description"):
            if not a.text(info, tag):
                yield Finding(f"{where}/{tag}", "error", f"google.{tag}", f"<{tag}> is required")
        if info.find(NS + "area") is None:
            yield Finding(f"{where}/area", "error", "google.area", "at least one <area> is required")
        for tag in ("urgency", "severity", "certainty"):
            if a.text(info, tag) == "Unknown":
                yield Finding(f"{where}/{tag}", "error", "google.unknown", f"{tag} must not be Unknown")
        event = a.text(info, "event") or ""
        if len(event) >= 35:
            yield Finding(f"{where}/event", "error", "google.length",
                          f"event is {len(event)} characters; keep it under 35")
    for where, area in a.each_area():
        desc = a.text(area, "areaDesc") or ""
        if len(desc) >= 50:
            yield Finding(f"{where}/areaDesc", "error", "google.length",
                          f"areaDesc is {len(desc)} characters; keep it under 50 (one <area> per place)")
        for k, polygon in enumerate(a.texts(area, "polygon"), start=1):
            points = _points(polygon)
            if points is None:
                continue
            if any(len(v.partition(".")[2]) > 6 for p in points for v in p):
                yield Finding(f"{where}/polygon[{k}]", "error", "google.polygon", "more than 6 decimals")
            if _self_intersects([(float(x), float(y)) for x, y in points]):
                yield Finding(f"{where}/polygon[{k}]", "error", "google.polygon", "the polygon crosses itself")


def _self_intersects(ring: list[tuple[float, float]]) -> bool:
    """Whether two non-adjacent edges of the closed ring cross (or touch)."""
    edges = list(itertools.pairwise(ring))
    n = len(edges)

    def orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    def cross(e: tuple[tuple[float, float], ...], f: tuple[tuple[float, float], ...]) -> bool:
        d1, d2 = orient(f[0], f[1], e[0]), orient(f[0], f[1], e[1])
        d3, d4 = orient(e[0], e[1], f[0]), orient(e[0], e[1], f[1])
        return d1 * d2 < 0 and d3 * d4 < 0

    return any(cross(edges[i], edges[j]) for i in range(n) for j in range(i + 2, n)
               if not (i == 0 and j == n - 1))


def _ipaws(a: _Alert) -> Iterator[Finding]:
    for where, info in a.each_info():
        if not a.text(info, "expires"):
            yield Finding(f"{where}/expires", "error", "ipaws.expires", "<expires> (with its offset) is required")
        if info.find(NS + "area") is None:
            yield Finding(f"{where}/area", "error", "ipaws.area", "at least one <area> is required")
    if len(a.infos) > 1:
        categories = {tuple(sorted(a.texts(i, "category"))) for i in a.infos}
        codes = {tuple(sorted(a.texts(i, "eventCode/" + NS + "value"))) for i in a.infos}
        if len(categories) > 1:
            yield Finding("alert/info", "error", "ipaws.one_event", "the <info> blocks differ in category")
        if len(codes) > 1:
            yield Finding("alert/info", "error", "ipaws.one_event", "the <info> blocks differ in eventCode")


def _cn(a: _Alert) -> Iterator[Finding]:
    ident = a.text(a.root, "identifier") or ""
    m = _GBT_ID.match(ident)
    if m is None:
        yield Finding("alert/identifier", "error", "cn.identifier",
                      f'"{ident}" is not in the GB/T 35965.1 form 发布单位代码_YYYYMMDDhhmmss_N '
                      "(14 digits, 14 digits, 1 digit)")
        return
    sent = _time(a.text(a.root, "sent"))
    if sent is not None and m.group(2) != sent.strftime("%Y%m%d%H%M%S"):
        yield Finding("alert/identifier", "warning", "cn.identifier",
                      f"the identifier's time {m.group(2)} is not the sent time {sent.strftime('%Y%m%d%H%M%S')}")
    if not any((a.text(i, "language") or "").lower() == "zh-cn" for i in a.infos):
        yield Finding("alert/info", "error", "cn.language", "no zh-CN <info>")


RULES: dict[str, tuple[Rule, ...]] = {"google": (_google,), "ipaws": (_ipaws,), "cn": (_cn,)}
