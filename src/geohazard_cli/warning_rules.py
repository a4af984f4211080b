"""The profile's ``warning:`` section (§3.1.4, §6.3): colours, activation, measures, calls, CAP
settings, street rules, as commands read it: plain read-only objects (nodes.Node) built from the data
its schema (warning_schema.py, pydantic) validated, kept by cache.py beside the profile, so a run
creates no schema class. ``warning.py`` computes the response from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from geohazard_cli.errors import ConfigError, NotFoundError
from geohazard_cli.nodes import Convert, Node, list_of, node
from geohazard_cli.warning_words import ACTIVATION_PLACEHOLDERS as ACTIVATION_PLACEHOLDERS
from geohazard_cli.warning_words import CAP_TOKEN as CAP_TOKEN
from geohazard_cli.warning_words import EN_PLACEHOLDERS as EN_PLACEHOLDERS
from geohazard_cli.warning_words import MAX_AREA as MAX_AREA
from geohazard_cli.warning_words import PLACEHOLDERS as PLACEHOLDERS
from geohazard_cli.warning_words import UPDATE_PLACEHOLDERS as UPDATE_PLACEHOLDERS
from geohazard_cli.warning_words import CapCategory as CapCategory
from geohazard_cli.warning_words import Certainty as Certainty
from geohazard_cli.warning_words import ResponseType as ResponseType
from geohazard_cli.warning_words import Severity as Severity
from geohazard_cli.warning_words import Urgency as Urgency
from geohazard_cli.warning_words import normalise as normalise

if TYPE_CHECKING:
    from geohazard_cli import warning_schema
    from geohazard_cli.rules import Profile
    from geohazard_cli.warning import Lookup

_FROM: dict[str, str] = {"from_": "from"}  # the file's key, a Python keyword


class Clause(Node):
    __slots__ = _fields = ("text", "source")
    text: str
    source: str


class Validity(Node):
    """How long an alert of one colour stays in force (CAP ``<expires>`` = sent + ``hours``)."""

    __slots__ = _fields = ("hours", "source", "local")
    hours: int
    source: str | None
    local: bool


class CapColour(Node):
    """How one colour is written in CAP (a documented convention, not the plan)."""

    __slots__ = _fields = ("severity", "urgency", "certainty", "response_type", "validity")
    _convert: ClassVar[Convert] = {"validity": node(Validity)}
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    response_type: ResponseType | None
    validity: Validity


class Colour(Node):
    __slots__ = _fields = ("key", "name", "aliases", "source", "style", "cap")
    _convert: ClassVar[Convert] = {"cap": node(CapColour)}
    key: str
    name: str  # 蓝色, 黄色...
    aliases: list[str]
    source: str
    style: str  # how a terminal shows the headline: "bold red" (textlayout.ATTRIBUTES, COLOURS)
    cap: CapColour


class Activation(Node):
    __slots__ = _fields = ("name", "from_", "text", "source")
    _aliases: ClassVar[dict[str, str]] = _FROM
    name: str  # 预警期应急响应
    from_: str
    text: str
    source: str


class ActivationSentence(Node):
    """The CAP description's ``{activation}``: whether the response starts, in the plan's words."""

    __slots__ = _fields = ("active", "inactive")
    active: str
    inactive: str


class Measure(Node):
    __slots__ = _fields = ("key", "from_", "text", "source", "items")
    _aliases: ClassVar[dict[str, str]] = _FROM
    key: str
    from_: str
    text: str
    source: str
    items: list[str]


class CallRule(Node):
    """One line of the call list: a roster unit, the --area streets, or a party with no number."""

    __slots__ = _fields = ("unit", "areas", "party", "from_", "reason", "source", "duties", "note", "placeholder",
                           "sites")
    _aliases: ClassVar[dict[str, str]] = _FROM
    _convert: ClassVar[Convert] = {"duties": list_of(Clause)}
    unit: str | None
    areas: bool
    party: str | None
    from_: str
    reason: str
    source: str
    duties: list[Clause]
    note: str | None  # shown on the sheet (for a party: how it is reached)
    placeholder: str | None  # areas: the line shown when no --area was given
    sites: str | None  # party only: what a site person's line says when the register gives no number


class CapCancel(Node):
    __slots__ = _fields = ("urgency", "certainty", "headline", "description", "instruction")
    urgency: Urgency
    certainty: Certainty
    headline: str
    description: str
    instruction: str


class CapUpdate(Node):
    """What an Update says changed (``{old}``/``{new}``: the colour names, or the areas)."""

    __slots__ = _fields = ("colour", "areas", "unchanged")
    colour: str
    areas: str
    unchanged: str


class SenderCode(Node):
    """发布单位代码 ZZZZZZDDDUUUXX (GB/T 35965.1-2018 A.1.2): the CAP sender, and the start of every
    identifier. A bureau's own setting: ``local: true``."""

    __slots__ = _fields = ("area", "institution", "unit", "extension", "local")
    area: str
    institution: str
    unit: str
    extension: str
    local: Literal[True]

    def text(self) -> str:
        return self.area + self.institution + self.unit + self.extension


class PublicLine(Node):
    """One line of a Public alert's ``<instruction>``: what residents must do, from colour ``from``."""

    __slots__ = _fields = ("from_", "text", "source")
    _aliases: ClassVar[dict[str, str]] = _FROM
    from_: str
    text: str
    source: str


class CapEnglish(Node):
    """``--lang en``: the en-US ``<info>`` after the zh-CN one (our translation, not the plan's words)."""

    __slots__ = _fields = ("event", "sender_name", "jurisdiction", "colours", "headline", "description",
                           "instructions", "exercise_mark", "cancel_headline", "cancel_description",
                           "cancel_instruction")
    event: str
    sender_name: str
    jurisdiction: str
    colours: dict[str, str]  # colour key -> Blue, Yellow, ...
    headline: str
    description: str
    instructions: list[str]
    exercise_mark: str
    cancel_headline: str
    cancel_description: str
    cancel_instruction: str


class CapSettings(Node):
    __slots__ = _fields = ("sender_code", "sender_name", "language", "category", "scope", "headline", "description",
                           "public_instructions", "restriction", "cancel", "update", "en")
    _convert: ClassVar[Convert] = {"sender_code": node(SenderCode), "public_instructions": list_of(PublicLine),
                                   "cancel": node(CapCancel), "update": node(CapUpdate), "en": node(CapEnglish)}
    sender_code: SenderCode
    sender_name: str
    language: str
    category: CapCategory
    scope: Literal["Public", "Restricted"]
    headline: str
    description: str
    public_instructions: list[PublicLine]
    restriction: str
    cancel: CapCancel
    update: CapUpdate
    en: CapEnglish | None


class ExerciseMarks(Node):
    """How a drill (``--exercise``) is marked in every format (``warning.exercise``)."""

    __slots__ = _fields = ("mark", "banner", "cap_note")
    mark: str  # 【演练】: before every headline
    banner: str  # 演练 非真实预警: at the top and bottom of every sheet
    cap_note: str  # the CAP <note> of an Exercise alert


class StreetRules(Node):
    """How ``--area`` names are matched against the roster's 街道办事处 (``warning.streets``)."""

    __slots__ = _fields = ("suffixes", "office_suffix", "place_note")
    suffixes: list[str]
    office_suffix: str
    place_note: str


class UpstreamRules(Node):
    """How ``--from-cap`` tells an upstream alert is a geohazard warning (``warning.upstream``)."""

    __slots__ = _fields = ("event_words",)
    event_words: list[str]


class WarningSection(Node):
    """The ``warning:`` section of a profile."""

    __slots__ = _fields = ("event", "issuer", "area_name", "source", "colours", "activation", "activation_sentence",
                           "routine_title", "routine", "inactive_notes", "measures", "calls", "end", "time_label",
                           "no_number", "exercise", "streets", "upstream", "cap")
    _convert: ClassVar[Convert] = {
        "colours": list_of(Colour), "activation": node(Activation), "activation_sentence": node(ActivationSentence),
        "routine": list_of(Clause), "inactive_notes": list_of(Clause), "measures": list_of(Measure),
        "calls": list_of(CallRule), "end": node(Clause), "exercise": node(ExerciseMarks),
        "streets": node(StreetRules), "upstream": node(UpstreamRules), "cap": node(CapSettings)}
    event: str
    issuer: str
    area_name: str  # the place the response covers when no --area is given; CAP areaDesc
    source: str
    colours: list[Colour]  # lowest first
    activation: Activation
    activation_sentence: ActivationSentence
    routine_title: str  # the heading of `routine` on the sheet
    routine: list[Clause]
    inactive_notes: list[Clause]
    measures: list[Measure]
    calls: list[CallRule]
    end: Clause | None
    time_label: str  # 北京时间: what the profile's timezone is called on the sheet
    no_number: str  # why a unit has no number when the roster does not say
    exercise: ExerciseMarks
    streets: StreetRules
    upstream: UpstreamRules
    cap: CapSettings

    def rank(self, key: str) -> int:
        return [c.key for c in self.colours].index(key)

    def applies(self, from_: str, colour: Colour) -> bool:
        return self.rank(colour.key) >= self.rank(from_)


def load_section(profile: Profile, name: str, text: str | None = None) -> WarningSection:
    """Validate ``profile.warning``; errors name the rules file (``name``), key path and line."""
    if not profile.warning:
        raise ConfigError(f"{name}: warning: this profile has no warning section "
                          "(geohazard warning needs one; see docs/warning.md)")
    from geohazard_cli.construct import profile_section

    try:  # once per profile; from cache.py when the rules file is unchanged
        return profile_section(profile, "warning", WarningSection, lambda p: _validated(p, name, None), __name__)
    except ConfigError:
        if text is not None:
            _validated(profile, name, text)  # the same error, with its line in the file
        raise


def _validated(profile: Profile, name: str, text: str | None) -> warning_schema.WarningSection:
    from pydantic import ValidationError

    from geohazard_cli import warning_schema
    from geohazard_cli.loader import describe_validation_error

    try:
        return warning_schema._Holder.model_validate({"warning": profile.warning}).warning
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


