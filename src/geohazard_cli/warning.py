"""Early warning (§3.1.4, §6.3): what a geohazard weather risk warning of each colour starts and
who is called (叫应); the CAP 1.2 alert for it is cap.py's.

Pure core: the colours, measures, calls and CAP settings all come from the profile's ``warning:``
section (validated here); unit names and numbers come from the roster through a lookup function
the caller passes in. Nothing here prints, reads the clock or touches files.
"""

from __future__ import annotations

import difflib
import re
import string
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geohazard_cli.errors import ConfigError, InputError, NotFoundError, field_error
from geohazard_cli.phrasing import placeholder_problem

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
ResponseType = Literal["Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess",
                       "AllClear", "None"]
CapCategory = Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                      "Transport", "Infra", "CBRNE", "Other"]

# CAP 1.2 §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters
# (< and &)".
CAP_TOKEN = r"^[^\s,<&]+$"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # as intake.CONTROL (bidi too)
MAX_AREA = 100
# What separates several names in one --area value: , ， 、 ; ； and spaces (NFKC turns the
# full-width comma and semicolon into ASCII ones).
_AREA_SEPARATORS = re.compile(r"[,、;\s]+")
PLACEHOLDERS = frozenset({"jurisdiction", "areas", "colour", "issuer", "event", "activation"})


# --- the profile's warning: section -------------------------------------------------------------
class Clause(BaseModel):
    model_config = _STRICT
    text: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Validity(BaseModel):
    """How long an alert of one colour stays in force (CAP ``<expires>`` = sent + ``hours``): the
    plan's clause (``source``) or, where the plan is silent, the bureau's own setting (``local: true``)."""

    model_config = _STRICT
    hours: int = Field(gt=0, le=240)
    source: str | None = None
    local: bool = False

    @model_validator(mode="after")
    def _said_by(self) -> Validity:
        if (self.source is None) == (not self.local):
            raise ValueError("give the plan's clause (source: ...) or mark the setting local: true, one of them")
        return self


class CapColour(BaseModel):
    """How one colour is written in CAP (a documented convention, not the plan)."""

    model_config = _STRICT
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    response_type: ResponseType | None = None
    validity: Validity


class Colour(BaseModel):
    model_config = _STRICT
    key: str = Field(pattern=r"^[a-z_]+$")
    name: str  # 蓝色, 黄色...
    aliases: list[str] = []
    source: str
    style: str = Field(min_length=1)  # how a terminal shows the headline (a rich style: "bold red")
    cap: CapColour

    @field_validator("style")
    @classmethod
    def _style(cls, value: str) -> str:
        from rich.errors import StyleSyntaxError
        from rich.style import Style

        try:
            Style.parse(value)
        except StyleSyntaxError as exc:
            raise ValueError(f"not a terminal style ({exc}; e.g. bold red, bold dark_orange)") from None
        return value


class Activation(BaseModel):
    model_config = _STRICT
    name: str  # 预警期应急响应
    from_: str = Field(alias="from")
    text: str
    source: str


class ActivationSentence(BaseModel):
    """The CAP description's ``{activation}``: whether the response starts, in the plan's words.
    Templates: ``{name}`` ``{text}`` ``{source}`` of ``activation``."""

    model_config = _STRICT
    active: str = Field(min_length=1)
    inactive: str = Field(min_length=1)


ACTIVATION_PLACEHOLDERS = ("name", "text", "source")


class Measure(BaseModel):
    model_config = _STRICT
    key: str
    from_: str = Field(alias="from")
    text: str
    source: str
    items: list[str] = []


class CallRule(BaseModel):
    """One line of the call list: a roster unit, the --area streets, or a party with no number."""

    model_config = _STRICT
    unit: str | None = None
    areas: bool = False
    party: str | None = None
    from_: str = Field(alias="from")
    reason: str
    source: str
    duties: list[Clause] = []
    note: str | None = None  # shown on the sheet (for a party: how it is reached)
    placeholder: str | None = None  # areas: the line shown when no --area was given

    @model_validator(mode="after")
    def _one_target(self) -> CallRule:
        if sum((self.unit is not None, self.areas, self.party is not None)) != 1:
            raise ValueError("give exactly one of unit, areas: true, party")
        if self.areas and not self.placeholder:
            raise ValueError("an areas: true call needs a placeholder (shown when no --area is given)")
        return self


class CapCancel(BaseModel):
    model_config = _STRICT
    urgency: Urgency
    certainty: Certainty
    headline: str
    description: str
    instruction: str


class CapUpdate(BaseModel):
    """What an Update says changed, when its REF is the earlier alert's file (``{old}``/``{new}``:
    the colour names, or the areas)."""

    model_config = _STRICT
    colour: str = Field(min_length=1)
    areas: str = Field(min_length=1)
    unchanged: str = Field(min_length=1)

    @model_validator(mode="after")
    def _placeholders(self) -> CapUpdate:
        for where in ("colour", "areas", "unchanged"):
            bad = placeholder_problem(getattr(self, where), UPDATE_PLACEHOLDERS)
            if bad:
                raise ValueError(f"{where}: {bad}")
        return self


UPDATE_PLACEHOLDERS = ("old", "new")


class SenderCode(BaseModel):
    """发布单位代码 ZZZZZZDDDUUUXX (GB/T 35965.1-2018 A.1.2): the CAP sender, and the start of every
    identifier (ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N, A.1.1). A bureau's own setting: ``local: true``."""

    model_config = _STRICT
    area: str = Field(pattern=r"^\d{6}$")  # ZZZZZZ: GB/T 2260 行政区划代码
    institution: str = Field(pattern=r"^\d{3}$")  # DDD: GB/T 4657 机构行业编码
    unit: str = Field(default="000", pattern=r"^\d{3}$")  # UUU: 内部二级编码, 000 by default
    extension: str = Field(default="00", pattern=r"^\d{2}$")  # XX: 扩展编码, 00 by default
    local: Literal[True]

    def text(self) -> str:
        return self.area + self.institution + self.unit + self.extension


class PublicLine(BaseModel):
    """One line of a Public alert's ``<instruction>``: what residents must do, from colour ``from``."""

    model_config = _STRICT
    from_: str = Field(alias="from")
    text: str = Field(min_length=1)
    source: str = Field(min_length=1)


class CapEnglish(BaseModel):
    """``--lang en``: the en-US ``<info>`` after the zh-CN one (our translation, not the plan's words).
    Texts may use {jurisdiction} {areas} {colour} {event}; ``instructions`` follow
    ``cap.public_instructions`` line by line."""

    model_config = _STRICT
    event: str = Field(min_length=1)
    sender_name: str = Field(min_length=1)
    jurisdiction: str = Field(min_length=1)  # the areaDesc before ": 七里山街道" (street names stay as written)
    colours: dict[str, str]  # colour key -> Blue, Yellow, ...
    headline: str = Field(min_length=1)
    description: str = Field(min_length=1)
    instructions: list[str]
    exercise_mark: str = Field(min_length=1)
    cancel_headline: str = Field(min_length=1)
    cancel_description: str = Field(min_length=1)
    cancel_instruction: str = Field(min_length=1)


EN_PLACEHOLDERS = ("jurisdiction", "areas", "colour", "event")


class CapSettings(BaseModel):
    model_config = _STRICT
    sender_code: SenderCode
    sender_name: str
    language: str = "zh-CN"
    category: CapCategory = "Geo"
    scope: Literal["Public", "Restricted"] = "Public"  # the default; --scope overrides (Private needs addresses)
    headline: str
    description: str
    public_instructions: list[PublicLine] = Field(min_length=1)
    restriction: str = Field(min_length=1)  # the <restriction> of a --scope restricted alert
    cancel: CapCancel
    update: CapUpdate
    en: CapEnglish | None = None


class ExerciseMarks(BaseModel):
    """How a drill (``--exercise``) is marked in every format (``warning.exercise``)."""

    model_config = _STRICT
    mark: str = Field(min_length=1)  # 【演练】: before every headline
    banner: str = Field(min_length=1)  # 演练 非真实预警: at the top and bottom of every sheet
    cap_note: str = Field(min_length=1)  # the CAP <note> of an Exercise alert


class StreetRules(BaseModel):
    """How ``--area`` names are matched against the roster's 街道办事处 (``warning.streets``)."""

    model_config = _STRICT
    suffixes: list[str] = Field(min_length=1)  # a name ending in one of these means a street
    office_suffix: str = Field(min_length=1)  # 七里山街道办事处 minus this = the area 七里山街道
    place_note: str = Field(min_length=1)  # shown on the line of a place that is not a street


class UpstreamRules(BaseModel):
    """How ``--from-cap`` tells an upstream alert is a geohazard warning (``warning.upstream``)."""

    model_config = _STRICT
    event_words: list[str] = Field(min_length=1)  # one of them in the event or headline


class WarningSection(BaseModel):
    """The ``warning:`` section of a profile."""

    model_config = _STRICT
    event: str
    issuer: str
    area_name: str  # the place the response covers when no --area is given; CAP areaDesc
    source: str
    colours: list[Colour] = Field(min_length=1)  # lowest first
    activation: Activation
    activation_sentence: ActivationSentence
    routine_title: str = Field(min_length=1)  # the heading of `routine` on the sheet
    routine: list[Clause] = []
    inactive_notes: list[Clause] = []
    measures: list[Measure] = []
    calls: list[CallRule] = []
    end: Clause | None = None
    time_label: str  # 北京时间: what the profile's timezone is called on the sheet
    no_number: str = Field(min_length=1)  # why a unit has no number when the roster does not say
    exercise: ExerciseMarks
    streets: StreetRules
    upstream: UpstreamRules
    cap: CapSettings

    @model_validator(mode="after")
    def _sound(self) -> WarningSection:
        keys = [c.key for c in self.colours]
        if len(set(keys)) != len(keys):
            raise ValueError(f"colours: a colour key is listed twice ({', '.join(keys)})")
        seen: dict[str, str] = {}
        for c in self.colours:
            for name in (c.key, c.name, *c.aliases):
                norm = normalise(name)
                if seen.get(norm, c.key) != c.key:
                    raise ValueError(f"colours: {name!r} names both {seen[norm]} and {c.key}")
                seen[norm] = c.key
        known = ", ".join(keys)
        if self.activation.from_ not in keys:
            raise ValueError(f"activation.from: {self.activation.from_!r} is not a colour ({known})")
        mkeys = [m.key for m in self.measures]
        if len(set(mkeys)) != len(mkeys):
            raise ValueError("measures: a measure key is listed twice")
        starts = [("measures", i, m.from_) for i, m in enumerate(self.measures)]
        starts += [("calls", i, c.from_) for i, c in enumerate(self.calls)]
        starts += [("cap.public_instructions", i, p.from_) for i, p in enumerate(self.cap.public_instructions)]
        for where, i, from_ in starts:
            if from_ not in keys:
                raise ValueError(f"{where}.{i}.from: {from_!r} is not a colour ({known})")
        texts = {"cap.headline": self.cap.headline, "cap.description": self.cap.description,
                 "cap.cancel.headline": self.cap.cancel.headline,
                 "cap.cancel.description": self.cap.cancel.description,
                 "cap.cancel.instruction": self.cap.cancel.instruction}
        en = self.cap.en
        if en is not None:
            if set(en.colours) != set(keys):
                raise ValueError(f"cap.en.colours: give an English name for each colour ({known})")
            if len(en.instructions) != len(self.cap.public_instructions):
                raise ValueError(f"cap.en.instructions: {len(en.instructions)} lines for "
                                 f"{len(self.cap.public_instructions)} public_instructions; give one for each")
            for where in ("headline", "description", "cancel_headline", "cancel_description", "cancel_instruction"):
                bad = placeholder_problem(getattr(en, where), EN_PLACEHOLDERS)
                if bad:
                    raise ValueError(f"cap.en.{where}: {bad}")
        for where, text in (("activation_sentence.active", self.activation_sentence.active),
                            ("activation_sentence.inactive", self.activation_sentence.inactive)):
            bad = placeholder_problem(text, ACTIVATION_PLACEHOLDERS)
            if bad:
                raise ValueError(f"{where}: {bad}")
        for where, text in texts.items():
            try:
                names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            unknown = names - PLACEHOLDERS
            if unknown:
                raise ValueError(f"{where}: unknown placeholder {{{sorted(unknown)[0]}}} "
                                 f"(known: {', '.join(sorted(PLACEHOLDERS))})")
        return self

    def rank(self, key: str) -> int:
        return [c.key for c in self.colours].index(key)

    def applies(self, from_: str, colour: Colour) -> bool:
        return self.rank(colour.key) >= self.rank(from_)


class _Holder(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    warning: WarningSection


def load_section(profile: Profile, name: str, text: str | None = None) -> WarningSection:
    """Validate ``profile.warning``; errors name the rules file (``name``), key path and line."""
    if not profile.warning:
        raise ConfigError(f"{name}: warning: this profile has no warning section "
                          "(geohazard warning needs one; see docs/warning.md)")
    from geohazard_cli.loader import describe_validation_error

    try:
        return _Holder.model_validate({"warning": profile.warning}).warning
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, name, text)) from None


def check_section(profile: Profile, name: str, text: str | None, lookup: Lookup | None) -> list[str]:
    """Every problem of a profile's ``warning:`` section, one line each (for ``geohazard check``):
    the schema and soundness checks, and every ``calls[].unit`` against the roster."""
    try:
        section = load_section(profile, name, text)
    except ConfigError as exc:
        return [str(exc)]
    out: list[str] = []
    if lookup is not None:
        from geohazard_cli.loader import line_of

        for i, rule in enumerate(section.calls):
            if rule.unit is None:
                continue
            try:
                lookup(rule.unit)
            except NotFoundError as exc:
                line = line_of(text, ["warning", "calls", i, "unit"]) if text else None
                out.append(f"{name}{f':{line}' if line else ''}: warning.calls.{i}.unit: {exc}")
    return out


# --- input ---------------------------------------------------------------------------------
def normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


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


class MeasureOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    text: str
    source: str
    items: list[str] = []


class WarningCall(BaseModel):
    """One line of the call sheet (叫应), the same shape as an incident call list entry."""

    model_config = ConfigDict(frozen=True)
    order: int
    kind: Literal["unit", "area", "party"]
    unit: str
    unit_key: str | None
    phone: str | None
    dial: str | None
    reasons: list[Clause]
    duties: list[Clause]
    note: str | None = None


class WarningResponse(BaseModel):
    """What a warning of one colour starts, for the officer (text) and machines (json)."""

    model_config = ConfigDict(frozen=True)
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

    def areas_text(self) -> str:
        return "、".join(self.areas) if self.areas else self.area_name


def respond(profile: Profile, section: WarningSection, colour: Colour, areas: Sequence[str],
            lookup: Lookup | None, streets: Sequence[UnitInfo] | None = None,
            field: str = "--area") -> WarningResponse:
    """The measures, routine duties and call list for a warning of ``colour`` over ``areas``.

    ``lookup`` resolves a unit name to its roster entry (NotFoundError if unknown); ``None`` lists
    every unit without a number (for when no roster is available). ``streets`` are the roster's
    街道办事处 that short forms (七里山) resolve to and typos are checked against; by default the
    street units of the roster ``lookup`` is a method of. An area that looks like a street but
    is none of them is an InputError naming ``field``.
    """
    if streets is None:
        streets = _roster_streets(lookup)
    resolved = _resolve_areas(section.streets, list(areas), lookup, streets, field, section.no_number)
    active = section.applies(section.activation.from_, colour)
    measures = [MeasureOut(key=m.key, text=m.text, source=m.source, items=list(m.items))
                for m in section.measures if section.applies(m.from_, colour)]
    contacts = _calls(section, colour, resolved, lookup)
    return WarningResponse(
        plan=profile.id, plan_title=profile.title, area_name=section.area_name,
        level=colour.key, level_name=colour.name, event=section.event, issuer=section.issuer,
        active=active, activation=section.activation, areas=list(resolved), measures=measures,
        routine=[] if active else list(section.routine),
        notes=[] if active else list(section.inactive_notes),
        contacts=contacts, end=section.end if active else None, cap=colour.cap,
    )


class _Draft:
    def __init__(self, kind: Literal["unit", "area", "party"], unit: str, unit_key: str | None = None,
                 phone: str | None = None, dial: str | None = None, note: str | None = None) -> None:
        self.kind, self.unit, self.unit_key, self.phone, self.dial, self.note = kind, unit, unit_key, phone, dial, note
        self.reasons: list[Clause] = []
        self.duties: list[Clause] = []


def _calls(section: WarningSection, colour: Colour, areas: dict[str, tuple[str, _Draft]],
           lookup: Lookup | None) -> list[WarningCall]:
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
        elif not areas:
            placeholder = _Draft("area", rule.placeholder or "", note="未用 --area 指定:请确认并逐一叫应")
            found.append(draft("area:", placeholder))
        else:
            found.extend(draft(key, new) for key, new in areas.values())
        reason = Clause(text=rule.reason, source=rule.source)
        for d in found:
            if reason not in d.reasons:
                d.reasons.append(reason)
            d.duties.extend(duty for duty in rule.duties if duty not in d.duties)
    return [WarningCall(order=n, kind=d.kind, unit=d.unit, unit_key=d.unit_key, phone=d.phone, dial=d.dial,
                        reasons=d.reasons, duties=d.duties, note=d.note)
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
    """The street a short form names (七里山 -> 七里山街道办事处), None for a place that is clearly
    not a street name; InputError for an ambiguous short form or a near miss of a street name."""
    suffixes = sorted({_squash(x) for x in rules.suffixes}, key=len, reverse=True)

    def core(name: str) -> str:
        n = _squash(name)
        for suffix in suffixes:
            if n.endswith(suffix):
                return n[: -len(suffix)]
        return n

    names: dict[str, tuple[str, UnitInfo]] = {}  # squashed name or alias -> (as written, unit)
    for u in streets:
        for n in (u.name, *getattr(u, "aliases", ())):
            names.setdefault(_squash(n), (n, u))
    typed, wanted = _squash(area), core(area)
    hits: dict[str, UnitInfo] = {}  # a short form: the start of a street's name
    for n, u in names.values():
        if wanted and core(n).startswith(wanted):
            hits.setdefault(u.key, u)
    if len(hits) == 1 and len(wanted) >= 2:  # one character is too little to go on
        return next(iter(hits.values()))
    if hits:
        raise InputError(f'{field}: "{area}" could be {"、".join(u.name for u in hits.values())}; '
                         "give the street's name")
    close = difflib.get_close_matches(typed, list(names), n=1, cutoff=0.75)
    if not close and len(wanted) >= 3:  # a one-character slip in a short form (七理山 for 七里山)
        close = [k for k, (n, _) in names.items()
                 if len(core(n)) == len(wanted) and sum(a != b for a, b in zip(core(n), wanted, strict=True)) == 1][:1]
    street_like = any(typed.endswith(suffix) for suffix in suffixes)
    if not close and not street_like:
        return None
    if close:
        hint = f'did you mean "{names[close[0]][0]}"?'
    else:
        known = "、".join(dict.fromkeys(u.name for _, u in names.values()))
        hint = f"the roster's 街道办事处: {known}" if known else "the roster lists none"
    raise InputError(f'{field}: "{area}" is not a 街道办事处 of the roster ({hint})')


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
    data: dict[str, Any] = response.model_dump(mode="json", by_alias=True)
    return data
