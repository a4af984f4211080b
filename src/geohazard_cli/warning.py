"""Early warning (§3.1.4, §6.3): what a geohazard weather risk warning of each colour starts and
who is called (叫应); the CAP 1.2 alert for it is cap.py's.

Pure core: the colours, measures, calls and CAP settings all come from the profile's ``warning:``
section (validated here); unit names and numbers come from the roster through a lookup function
the caller passes in. Nothing here prints, reads the clock or touches files.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from geohazard_cli.errors import ConfigError, InputError, NotFoundError, field_error
from geohazard_cli.nodes import Node

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Site

# The section's schema lives in warning_rules.py; its names are used here and by callers of warning.
from geohazard_cli.warning_rules import ACTIVATION_PLACEHOLDERS as ACTIVATION_PLACEHOLDERS
from geohazard_cli.warning_rules import CAP_TOKEN as CAP_TOKEN
from geohazard_cli.warning_rules import EN_PLACEHOLDERS as EN_PLACEHOLDERS
from geohazard_cli.warning_rules import MAX_AREA as MAX_AREA
from geohazard_cli.warning_rules import PLACEHOLDERS as PLACEHOLDERS
from geohazard_cli.warning_rules import UPDATE_PLACEHOLDERS as UPDATE_PLACEHOLDERS
from geohazard_cli.warning_rules import Activation as Activation
from geohazard_cli.warning_rules import ActivationSentence as ActivationSentence
from geohazard_cli.warning_rules import CallRule as CallRule
from geohazard_cli.warning_rules import CapCancel as CapCancel
from geohazard_cli.warning_rules import CapCategory as CapCategory
from geohazard_cli.warning_rules import CapColour as CapColour
from geohazard_cli.warning_rules import CapEnglish as CapEnglish
from geohazard_cli.warning_rules import CapSettings as CapSettings
from geohazard_cli.warning_rules import CapUpdate as CapUpdate
from geohazard_cli.warning_rules import Certainty as Certainty
from geohazard_cli.warning_rules import Clause as Clause
from geohazard_cli.warning_rules import Colour as Colour
from geohazard_cli.warning_rules import ExerciseMarks as ExerciseMarks
from geohazard_cli.warning_rules import Measure as Measure
from geohazard_cli.warning_rules import PublicLine as PublicLine
from geohazard_cli.warning_rules import ResponseType as ResponseType
from geohazard_cli.warning_rules import SenderCode as SenderCode
from geohazard_cli.warning_rules import Severity as Severity
from geohazard_cli.warning_rules import StreetRules as StreetRules
from geohazard_cli.warning_rules import UpstreamRules as UpstreamRules
from geohazard_cli.warning_rules import Urgency as Urgency
from geohazard_cli.warning_rules import Validity as Validity
from geohazard_cli.warning_rules import WarningSection as WarningSection
from geohazard_cli.warning_rules import check_section as check_section
from geohazard_cli.warning_rules import load_section as load_section
from geohazard_cli.warning_rules import normalise as normalise

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # as intake.CONTROL (bidi too)
# What separates several names in one --area value: , ， 、 ; ； and spaces (NFKC turns the
# full-width comma and semicolon into ASCII ones).
_AREA_SEPARATORS = re.compile(r"[,、;\s]+")


# --- input ---------------------------------------------------------------------------------
def parse_colour(value: str, section: WarningSection, field: str = "LEVEL") -> Colour:
    """``red``, ``红色``, ``红`` (full-width and any case too) -> the colour; else a one-line error."""
    wanted = normalise(value)
    for c in section.colours:
        if wanted in {normalise(n) for n in (c.key, c.name, *c.aliases)}:
            return c
    accepted = ", ".join(
        [c.key for c in section.colours] + [c.name for c in section.colours]
        + [a for c in section.colours for a in c.aliases
           if normalise(a) not in {normalise(c.key), normalise(c.name)}]
    )
    raise field_error(field, value, f"is not a warning colour (accepted: {accepted})")


def parse_areas(values: Sequence[str], field: str = "--area") -> list[str]:
    """The places the officer typed: each value split on , ， 、 ; ； and spaces, trimmed,
    non-empty, no control characters, duplicates dropped."""
    out: list[str] = []
    for raw in values:
        text = unicodedata.normalize("NFKC", raw).strip()
        if _CONTROL.search(text):
            raise InputError(f"{field}: contains control characters; expected plain text")
        if len(text) > MAX_AREA:
            raise InputError(f"{field}: longer than {MAX_AREA} characters")
        names = [n for n in _AREA_SEPARATORS.split(text) if n]
        if not names:
            raise InputError(f"{field}: empty; give a 街道办事处 or place name")
        for name in names:
            if name not in out:
                out.append(name)
    return out


# --- the response for one colour -------------------------------------------------------------
class UnitInfo(Protocol):
    """What the call list needs of a roster unit (roster.Unit has these)."""

    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def dial(self) -> str | None: ...


Lookup = Callable[[str], UnitInfo]


# What a warning starts: our own computation from the validated section, as plain read-only
# objects (nodes.Node): no schema to build for it.
class MeasureOut(Node):
    __slots__ = _fields = ("key", "text", "source", "items")
    key: str
    text: str
    source: str
    items: list[str]


class WarningCall(Node):
    """One line of the call sheet (叫应), the same shape as an incident call list entry."""

    __slots__ = _fields = ("order", "kind", "unit", "unit_key", "phone", "dial", "reasons", "duties", "note", "site")
    _defaults: ClassVar[dict[str, Any]] = {"note": None, "site": None}
    order: int
    kind: Literal["unit", "area", "party", "site"]
    unit: str
    unit_key: str | None
    phone: str | None
    dial: str | None
    reasons: list[Clause]
    duties: list[Clause]
    note: str | None
    site: str | None  # kind site: the site's id in the register


class SiteOut(Node):
    """A hazard site in the warning's streets (the register's fields the sheet shows)."""

    __slots__ = _fields = ("id", "name", "street", "hazard_type_name", "households", "threatened",
                           "responsible_name", "responsible_phone", "monitor_name", "monitor_phone",
                           "evacuation_route", "evacuation_place", "lon", "lat", "area")
    _defaults: ClassVar[dict[str, Any]] = {"lon": None, "lat": None, "area": None}
    id: str
    name: str
    street: str
    hazard_type_name: str
    households: int | None
    threatened: int | None
    responsible_name: str | None
    responsible_phone: str | None
    monitor_name: str | None
    monitor_phone: str | None
    evacuation_route: str | None
    evacuation_place: str | None
    lon: float | None  # where it is (the CAP <area>'s shape encloses these); None in older records
    lat: float | None
    area: str | None  # the warning's area (street) it lies in


class WarningResponse(Node):
    """What a warning of one colour starts, for the officer (text) and machines (json)."""

    __slots__ = _fields = ("plan", "plan_title", "area_name", "level", "level_name", "event", "issuer", "active",
                           "activation", "areas", "measures", "routine", "notes", "contacts", "end", "cap", "sites",
                           "street_areas")
    _defaults: ClassVar[dict[str, Any]] = {"sites": [], "street_areas": None}
    plan: str
    plan_title: str
    area_name: str  # the place when no --area is given
    level: str  # colour key
    level_name: str  # 红色
    event: str
    issuer: str
    active: bool
    activation: Activation
    areas: list[str]
    measures: list[MeasureOut]
    routine: list[Clause]
    notes: list[Clause]
    contacts: list[WarningCall]
    end: Clause | None
    cap: CapColour
    sites: list[SiteOut]  # the register's sites in the --area streets
    street_areas: list[str] | None  # the areas that are 街道 (the others: places as typed); None in older records

    def areas_text(self) -> str:
        return "、".join(self.areas) if self.areas else self.area_name


def respond(profile: Profile, section: WarningSection, colour: Colour, areas: Sequence[str],
            lookup: Lookup | None, streets: Sequence[UnitInfo] | None = None,
            field: str = "--area", sites: Sequence[Site] = ()) -> WarningResponse:
    """The measures, routine duties and call list for a warning of ``colour`` over ``areas``.

    ``lookup`` resolves a unit name to its roster entry (NotFoundError if unknown); ``None`` lists
    every unit without a number (for when no roster is available). ``streets`` are the roster's
    街道办事处 that short forms (七里山) resolve to and typos are checked against; by default the
    street units of the roster ``lookup`` is a method of. An area that looks like a street but
    is none of them is an InputError naming ``field``. ``sites``: the hazard-site register; those in
    the resolved streets are listed, and their people join the call list (a ``sites: true`` party).
    """
    if streets is None:
        streets = _roster_streets(lookup)
    resolved = _resolve_areas(section.streets, list(areas), lookup, streets, field, section.no_number)
    active = section.applies(section.activation.from_, colour)
    measures = [MeasureOut({"key": m.key, "text": m.text, "source": m.source, "items": list(m.items)})
                for m in section.measures if section.applies(m.from_, colour)]
    keys = {key.removeprefix("unit:") for key, _ in resolved.values() if key.startswith("unit:")}
    area_of = {key.removeprefix("unit:"): name for name, (key, _) in resolved.items()}
    in_areas = [s for s in sites if s.street_key in keys]
    contacts = _calls(section, colour, resolved, lookup, in_areas)
    return WarningResponse({
        "plan": profile.id, "plan_title": profile.title, "area_name": section.area_name,
        "level": colour.key, "level_name": colour.name, "event": section.event, "issuer": section.issuer,
        "active": active, "activation": section.activation, "areas": list(resolved), "measures": measures,
        "routine": [] if active else list(section.routine),
        "notes": [] if active else list(section.inactive_notes),
        "contacts": contacts, "end": section.end if active else None, "cap": colour.cap,
        "sites": [SiteOut({**{k: getattr(s, k) for k in SiteOut._fields if k != "area"}, "area": area_of[s.street_key]})
                  for s in in_areas],
        "street_areas": [name for name, (key, _) in resolved.items() if key.startswith("unit:")],
    })


class _Draft:
    def __init__(self, kind: Literal["unit", "area", "party", "site"], unit: str, unit_key: str | None = None,
                 phone: str | None = None, dial: str | None = None, note: str | None = None,
                 site: str | None = None) -> None:
        self.kind, self.unit, self.unit_key, self.phone, self.dial, self.note = kind, unit, unit_key, phone, dial, note
        self.site = site
        self.reasons: list[Clause] = []
        self.duties: list[Clause] = []


def _site_people(sites: Sequence[Site], no_number: str) -> list[tuple[str, _Draft]]:
    """Each site's 防灾责任人 and 监测人 as call-list lines (a role without a name is left out)."""
    from geohazard_cli.sites import ROLE_LABELS

    out = []
    for s in sites:
        for role, label in ROLE_LABELS.items():
            name, dial = getattr(s, f"{role}_name"), getattr(s, f"{role}_phone")
            if name is None and dial is None:
                continue
            who = f"{s.name}({s.id}){label} {name or ''}".rstrip()
            out.append((f"site:{s.id}:{role}", _Draft("site", who, f"site:{s.id}:{role}", dial, dial,
                                                      None if dial else no_number, s.id)))
    return out


def _calls(section: WarningSection, colour: Colour, areas: dict[str, tuple[str, _Draft]],
           lookup: Lookup | None, sites: Sequence[Site] = ()) -> list[WarningCall]:
    drafts: dict[str, _Draft] = {}  # insertion order is call order; one line per unit

    def draft(key: str, new: _Draft) -> _Draft:
        return drafts.setdefault(key, new)

    for i, rule in enumerate(section.calls):
        if not section.applies(rule.from_, colour):
            continue
        found: list[_Draft] = []
        if rule.unit is not None:
            if lookup is None:
                found.append(draft("unit:" + rule.unit, _Draft("unit", rule.unit, note="通讯录未载入")))
            else:
                try:
                    u = lookup(rule.unit)
                except NotFoundError as exc:
                    raise ConfigError(f"warning.calls.{i}.unit: {exc}") from None
                found.append(draft("unit:" + u.key, _Draft("unit", u.name, u.key, u.phone, u.dial,
                                                            _missing(u, section.no_number))))
        elif rule.party is not None:
            found.append(draft("party:" + rule.party, _Draft("party", rule.party, note=rule.note)))
            if rule.sites is not None:
                found.extend(draft(key, new) for key, new in _site_people(sites, rule.sites))
        elif not areas:
            placeholder = _Draft("area", rule.placeholder or "", note="未用 --area 指定:请确认并逐一叫应")
            found.append(draft("area:", placeholder))
        else:
            found.extend(draft(key, new) for key, new in areas.values())
        reason = Clause({"text": rule.reason, "source": rule.source})
        for d in found:
            if reason not in d.reasons:
                d.reasons.append(reason)
            d.duties.extend(duty for duty in rule.duties if duty not in d.duties)
    return [WarningCall({"order": n, "kind": d.kind, "unit": d.unit, "unit_key": d.unit_key, "phone": d.phone,
                         "dial": d.dial, "reasons": d.reasons, "duties": d.duties, "note": d.note, "site": d.site})
            for n, d in enumerate(drafts.values(), start=1)]


def _roster_streets(lookup: Lookup | None) -> list[UnitInfo]:
    """The 街道办事处 of the roster whose ``unit`` method ``lookup`` is (none for another lookup)."""
    units = getattr(getattr(lookup, "__self__", None), "units", None)
    return [u for u in units or [] if getattr(u, "kind", None) == "street"]


def _resolve_areas(rules: StreetRules, areas: list[str], lookup: Lookup | None,
                   streets: Sequence[UnitInfo], field: str,
                   no_number: str) -> dict[str, tuple[str, _Draft]]:
    """Each typed area -> (call-list key, its line), keyed by the name shown for it (one per unit).

    A roster name or alias of a 街道办事处 is that street; a unique short form (七里山) too; a
    street-like name that is none of them (七理山街道), or a one-character slip of one (七理山),
    is an InputError; anything else is a place kept as typed, with ``rules.place_note``.
    """
    out: dict[str, tuple[str, _Draft]] = {}
    for area in areas:
        if lookup is None:
            out.setdefault(area, ("area:" + area, _Draft("area", area, note="通讯录未载入")))
            continue
        try:
            u: UnitInfo | None = lookup(area)
        except NotFoundError:
            u = _match_street(rules, area, streets, field)
        if u is None:
            known = {_squash(n): s.name for s in streets for n in (s.name, *getattr(s, "aliases", ()))}
            near = difflib.get_close_matches(_squash(area), list(known), n=1, cutoff=0.5)
            hint = f'(是否属于"{known[near[0]]}"?)' if near else ""
            out.setdefault(area, ("area:" + area, _Draft("area", area, note=rules.place_note + hint)))
            continue
        kind = getattr(u, "kind", "street")
        if kind != "street":
            raise InputError(f'{field}: "{area}" is {u.name}, not a 街道办事处; give the street or place '
                             "the warning covers (units are called by the plan's own rules)")
        shown = u.name
        if shown.endswith(rules.office_suffix) and len(shown) > len(rules.office_suffix):
            shown = shown[: -len(rules.office_suffix)]  # the area 七里山街道, not its office
        if not any(key == "unit:" + u.key for key, _ in out.values()):
            out[shown] = ("unit:" + u.key, _Draft("area", u.name, u.key, u.phone, u.dial,
                                                             _missing(u, no_number)))
    return out


def _squash(name: str) -> str:
    return re.sub(r"\s+", "", normalise(name))


def _match_street(rules: StreetRules, area: str, streets: Sequence[UnitInfo], field: str) -> UnitInfo | None:
    """The street a short form names (streets.match_street, the resolver every --unit uses too)."""
    from geohazard_cli.streets import match_street

    return match_street(rules.suffixes, area, streets, field)


def _missing(u: UnitInfo, no_number: str) -> str | None:
    """Why a unit has no number (the roster's ``phone_missing`` when it says, else the profile's
    ``warning.no_number``)."""
    if u.phone:
        return None
    why = getattr(u, "phone_missing", None)
    return why if isinstance(why, str) and why else no_number



def human_time(sent: str) -> str:
    """``2026-07-21T08:30:00+08:00`` -> ``2026-07-21 08:30`` (for people; JSON and CAP keep ISO)."""
    return datetime.fromisoformat(sent).strftime("%Y-%m-%d %H:%M")


def as_json(response: WarningResponse) -> dict[str, Any]:
    data: dict[str, Any] = response.model_dump(mode="json")  # the section's parts by alias (nodes._dump)
    return data
