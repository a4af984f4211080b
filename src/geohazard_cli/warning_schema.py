"""The schema of a profile's ``warning:`` section (pydantic): what validates it when the rules file
changes, and what `check` reads. Commands read the section as plain objects (warning_rules.py),
built from the data this schema validated (kept by cache.py beside the profile); each class here
has a runtime twin of the same name and fields there (tests/test_construct.py holds the two equal).
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geohazard_cli.phrasing import placeholder_problem
from geohazard_cli.warning_words import (
    ACTIVATION_PLACEHOLDERS,
    EN_PLACEHOLDERS,
    PLACEHOLDERS,
    UPDATE_PLACEHOLDERS,
    CapCategory,
    Certainty,
    ResponseType,
    Severity,
    Urgency,
    normalise,
)

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


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
    style: str = Field(min_length=1)  # how a terminal shows the headline: "bold red" (textlayout.ATTRIBUTES, COLOURS)
    cap: CapColour

    @field_validator("style")
    @classmethod
    def _style(cls, value: str) -> str:
        # Any style rich can parse, as before the terminal renderer (cli/term.py) replaced rich: a
        # bureau's "bold white on red" still loads; term.py writes the words it knows
        # (textlayout.ATTRIBUTES, COLOURS, "on" + a colour) and leaves out the rest.
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
    # party only: the hazard-site register's sites in the --area streets expand it, each site's
    # 防灾责任人 and 监测人 a line of their own (with their numbers) after the party's line; the
    # text is what such a line says when the register gives no number.
    sites: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> CallRule:
        if sum((self.unit is not None, self.areas, self.party is not None)) != 1:
            raise ValueError("give exactly one of unit, areas: true, party")
        if self.areas and not self.placeholder:
            raise ValueError("an areas: true call needs a placeholder (shown when no --area is given)")
        if self.sites is not None and self.party is None:
            raise ValueError("sites: true belongs on a party call (the people of the hazard sites)")
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
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    warning: WarningSection
