"""Reading an upstream CAP 1.2 alert (the city's or the meteorological service's 地质灾害气象风险预警)
for ``geohazard warning --from-cap FILE``: its colour, the district's streets it names, its times.

Pure: ``read_upstream(text, name, section, geocode, streets, now)`` returns what the alert calls
for, or raises InputError in one line saying why it cannot start a response (not a geohazard
warning, not for this district, expired, a Cancel, malformed). What counts as a geohazard warning
(``warning.upstream.event_words``) is data.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from geohazard_cli.cap_check import NS, parse
from geohazard_cli.errors import InputError

if TYPE_CHECKING:
    from geohazard_cli.warning import UnitInfo, WarningSection


class Upstream(BaseModel):
    """What an upstream alert calls for: a colour key, the streets (as roster names; [] = the whole
    district), the areas outside the district it also named, its times, and notes for the officer."""

    model_config = ConfigDict(defer_build=True, frozen=True)
    name: str  # the file
    identifier: str
    sender: str
    sent: str
    msg_type: str
    colour: str
    areas: list[str]
    ignored: list[str]
    effective: str | None
    expires: str | None
    notes: list[str]


def read_upstream(text: str, name: str, section: WarningSection, geocode: dict[str, str],
                  streets: Sequence[UnitInfo], now: datetime) -> Upstream:
    field = f"--from-cap: {name}"
    try:
        root = parse(text)
    except ValueError as exc:
        raise InputError(f"{field}: malformed: {exc}") from None

    def get(parent: ET.Element, tag: str) -> str | None:
        el = parent.find(NS + tag)
        return None if el is None else ((el.text or "").strip() or None)

    head = {t: get(root, t) for t in ("identifier", "sender", "sent", "msgType", "status")}
    missing = [t for t, v in head.items() if v is None]
    if missing:
        raise InputError(f"{field}: malformed: no <{missing[0]}>")
    if head["msgType"] == "Cancel":
        raise InputError(f"{field}: is a Cancel ({head['identifier']}): it ends a warning, it starts no response")
    info = next((i for i in root.findall(NS + "info") if (get(i, "language") or "").lower().startswith("zh")), None)
    if info is None:
        raise InputError(f"{field}: has no zh-CN <info>; cannot tell the warning's colour and areas")
    event, headline = get(info, "event") or "", get(info, "headline") or ""
    if not any(w in event + headline for w in section.upstream.event_words):
        raise InputError(f"{field}: not a geohazard warning (event: {event or headline or '?'}); "
                         f"this command starts the response to a {section.event}")
    expires = get(info, "expires")
    if expires is not None and _moment(expires, field) < now:
        raise InputError(f"{field}: expired at {expires}; it starts no response")
    colour, notes = _colour(section, headline or event, get(info, "severity"), field)
    district = geocode.get("value", "")
    areas: list[str] = []
    ignored: list[str] = []
    whole = False
    for area in info.findall(NS + "area"):
        desc = get(area, "areaDesc") or ""
        codes = [(g.findtext(NS + "value") or "").strip() for g in area.findall(NS + "geocode")]
        found = _streets(desc, streets, section.streets.office_suffix)
        ours = section.area_name in desc or any(_covers(c, district) for c in codes)
        if found:
            areas += [s for s in found if s not in areas]
        elif ours:
            whole = True
        else:
            ignored.append(desc or "、".join(codes) or "?")
    if not areas and not whole:
        named = "、".join(ignored) or "none"
        raise InputError(f"{field}: not for this district ({section.area_name}, {district}); its areas: {named}")
    if ignored:
        notes.append(f"不在本区、已忽略的区域: {'、'.join(ignored)}")
    return Upstream(name=name, identifier=head["identifier"] or "", sender=head["sender"] or "",
                    sent=head["sent"] or "", msg_type=head["msgType"] or "", colour=colour,
                    areas=[] if whole else areas, ignored=ignored, effective=get(info, "effective"),
                    expires=expires, notes=notes)


def _moment(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: malformed: {value!r} is not a CAP time") from None
    if moment.tzinfo is None:
        raise InputError(f"{field}: malformed: {value!r} has no offset")
    return moment


def _colour(section: WarningSection, headline: str, severity: str | None, field: str) -> tuple[str, list[str]]:
    """The colour the headline names (蓝/黄/橙/红色) and the one the severity gives; the headline's
    when both are there and differ (the product's own words), with a note saying so."""
    by_name = [c for c in section.colours if c.name in headline]
    by_severity = [c for c in section.colours if c.cap.severity == severity]
    named = by_name[0] if len(by_name) == 1 else None
    graded = by_severity[0] if len(by_severity) == 1 else None
    if named is None and graded is None:
        raise InputError(f"{field}: cannot tell the warning's colour (headline: {headline or '?'}, "
                         f"severity: {severity or '?'})")
    notes = []
    if named is not None and graded is not None and named.key != graded.key:
        notes.append(f"预警标题为{named.name},但 severity 为 {severity}(对应{graded.name}):"
                     f"按标题的{named.name}响应,请核实")
    chosen = named if named is not None else graded
    assert chosen is not None
    return chosen.key, notes


def _streets(desc: str, streets: Sequence[UnitInfo], office_suffix: str) -> list[str]:
    """The roster streets an areaDesc names (by name, alias, or name without 办事处)."""
    text = re.sub(r"\s+", "", desc)
    out = []
    for s in streets:
        names = {s.name, *getattr(s, "aliases", ())}
        if s.name.endswith(office_suffix):
            names.add(s.name[: -len(office_suffix)])
        if any(n and n in text for n in names) and s.name not in out:
            out.append(s.name)
    return out


def _covers(code: str, district: str) -> bool:
    """Whether a GB/T 2260 geocode is the district, inside it, or its city or province."""
    if not code or not district:
        return False
    if code.startswith(district):
        return True
    return len(code) == 6 and ((code[4:] == "00" and district[:4] == code[:4])
                               or (code[2:] == "0000" and district[:2] == code[:2]))
