"""The roster (contacts.yaml: the command, office, work groups, unit duties and numbers) and dispatch.

``load_roster(cfg)`` reads and cross-checks contacts.yaml; ``resolve_call_list(assessment, profile,
roster)`` is pure: which units to call for the assessed incident, each once, with every reason (role
in the command, work group, the clause of the level's measures) and the duty text to read out.
Which units a response level engages comes from the profile's ``dispatch:`` section; no unit name,
number or duty lives here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    computed_field,
    field_validator,
)

from geohazard_cli.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from geohazard_cli.models import Assessment
    from geohazard_cli.rules import Profile

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

# Chinese numbers: 7- or 8-digit local fixed lines, optionally with a 0xx(x) area code; 11-digit
# mobiles (1[3-9]...). A number in the roster's own area (contacts.yaml `area_code`) must have that
# area's length (`local_number_length`: 8 in 济南). See `phone_problem`.
_FIXED = re.compile(r"^(?:(0\d{2,3})-?)?([2-9]\d{6,7})$")
_PHONE_QUERY = re.compile(r"^[0-9\-()\s]{7,}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


# --- contacts.yaml schema -------------------------------------------------------------------


class Duty(BaseModel):
    model_config = _STRICT
    text: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Holder(BaseModel):
    """A post in the command (指挥长, 副指挥长, 办公室主任...) and the unit that holds it."""

    model_config = _STRICT
    title: str
    holder: str  # 区应急局局长
    unit: str  # a unit name or alias


class Command(BaseModel):
    model_config = _STRICT
    name: str
    full_name: str
    source: str
    commander: Holder
    deputies: list[Holder]
    members: list[str] = Field(min_length=1)
    duties: Duty


class Office(BaseModel):
    model_config = _STRICT
    unit: str
    seat: str
    source: str
    director: Holder
    deputies: list[Holder]


UnitKind = Literal["office", "post", "member", "section", "street", "team"]


class Unit(BaseModel):
    """One unit (or post) to call. ``phone`` is exactly as the plan prints it; ``dial`` adds the area code."""

    model_config = _STRICT
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    aliases: list[str] = []
    kind: UnitKind
    parent: str | None = None
    phone: str | None
    phone_missing: str | None = None  # why no number is known (shown on call sheets)
    in_plan: bool = True  # False: not named by the plan (see source)
    source: str = Field(min_length=1)
    duties: list[Duty] = []
    _area_code: str = PrivateAttr(default="")
    _bad_number: str = PrivateAttr(default="")
    _local_length: int | None = PrivateAttr(default=None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dial(self) -> str | None:
        """The number to dial: "0531-82722671" for a local fixed line, a mobile as is, None if unknown
        or not a valid number."""
        return dial_number(self.phone, self._area_code, self._local_length)

    def phone_gap(self) -> str | None:
        """Why this unit cannot be dialled (``phone_missing``, or what is wrong with the number)."""
        if self.dial is not None:
            return None
        if self.phone and self.phone.strip():
            if phone_problem(self.phone, self._area_code, self._local_length) is None:
                return self.phone_missing
            # On a sheet for the wall: the plan's language; `geohazard check` gives the technical reason.
            return self._bad_number.format(phone=self.phone) if self._bad_number else self.phone_missing
        return self.phone_missing


class Group(BaseModel):
    """A work group of 附件1(一)."""

    model_config = _STRICT
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    lead: str
    members: list[str]
    source: str
    duties: str = Field(min_length=1)
    note: str | None = None


class RosterWording(BaseModel):
    """How call lists and the roster name group membership and unplaced streets (``wording:`` in
    contacts.yaml): the plan's own words, as templates whose ``{placeholders}`` the code fills in."""

    model_config = _STRICT
    title: str = Field(min_length=1)  # the roster table's heading (区指挥部成员通讯录)
    group_lead: str = Field(min_length=1)  # a reason: {group} {source} (应急救援组牵头单位(附件1(一)))
    group_member: str = Field(min_length=1)  # a reason: {group} {source}
    group_lead_short: str = Field(min_length=1)  # the roster table: {group} (应急救援组(牵头))
    lead_duty: str = Field(min_length=1)  # a duty: {group} {duties} {source}
    member_duty: str = Field(min_length=1)  # a duty: {group} {duties} {source}
    street_unknown: str = Field(min_length=1)  # the location names no street: {reason} {source}
    bad_number: str = Field(min_length=1)  # a number that cannot be dialled, on the sheet: {phone}

    @field_validator("group_lead", "group_member", "group_lead_short", "lead_duty", "member_duty",
                     "street_unknown", "bad_number")
    @classmethod
    def _placeholders(cls, value: str, info: ValidationInfo) -> str:
        from geohazard_cli.phrasing import placeholder_problem

        bad = placeholder_problem(value, WORDING_PLACEHOLDERS[info.field_name or ""])
        if bad:
            raise ValueError(bad)
        return value


WORDING_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "group_lead": ("group", "source"), "group_member": ("group", "source"), "group_lead_short": ("group",),
    "lead_duty": ("group", "duties", "source"), "member_duty": ("group", "duties", "source"),
    "street_unknown": ("reason", "source"), "bad_number": ("phone",),
}


class Roster(BaseModel):
    """contacts.yaml as a model, with name lookup."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_version: Literal[1] = Field(alias="schema")
    title: str
    document: str
    area_code: str = Field(pattern=r"^0\d{2,3}$")
    local_number_length: int = Field(ge=7, le=8)  # digits of a local fixed-line number in area_code
    command: Command
    office: Office
    units: list[Unit] = Field(min_length=1)
    groups: list[Group]
    wording: RosterWording

    def model_post_init(self, context: Any, /) -> None:
        for u in self.units:
            u._area_code = self.area_code
            u._local_length = self.local_number_length
            u._bad_number = self.wording.bad_number

    @cached_property
    def index(self) -> dict[str, Unit]:
        """Normalised name/alias/key -> unit (the first one wins; `check` reports clashes)."""
        out: dict[str, Unit] = {}
        for u in self.units:
            for name in (u.name, *u.aliases, u.key):
                out.setdefault(normalise(name), u)
        return out

    @cached_property
    def by_key(self) -> dict[str, Unit]:
        return {u.key: u for u in self.units}

    def find(self, name: str) -> Unit | None:
        return self.index.get(normalise(name))

    def unit(self, name: str) -> Unit:
        """The unit by full name, alias or key; unknown -> NotFoundError with the closest name."""
        found = self.find(name)
        if found is None:
            raise NotFoundError(f'unknown unit "{name}"{self.suggest(name)} (see \'geohazard roster\')')
        return found

    def suggest(self, name: str) -> str:
        """' (did you mean "X"?)' for the closest known unit name, or ''."""
        best = closest(name, self.index)
        if best is None:
            return ""
        return f' (did you mean "{self.index[best].name}"?)'

    def group(self, name: str) -> Group | None:
        key = normalise(name)
        for g in self.groups:
            if key in (normalise(g.name), normalise(g.key)):
                return g
        return None

    def groups_of(self, unit: Unit) -> list[tuple[Group, bool]]:
        """The work groups a unit belongs to, with whether it leads them."""
        out = []
        for g in self.groups:
            if self.find(g.lead) is unit:
                out.append((g, True))
            elif any(self.find(m) is unit for m in g.members):
                out.append((g, False))
        return out

    def roles_of(self, unit: Unit) -> list[str]:
        """Posts in the command and office held in this unit, each with its clause."""
        out = []
        cmd, office = self.command, self.office
        for h in (cmd.commander, *cmd.deputies):
            if self.find(h.unit) is unit:
                out.append(f"{h.title}: {h.holder}({cmd.source})")
        for h in (office.director, *office.deputies):
            if self.find(h.unit) is unit:
                out.append(f"{h.title}: {h.holder}({office.source})")
        return out

    def is_member(self, unit: Unit) -> bool:
        return any(self.find(m) is unit for m in self.command.members)

    def search(self, query: str) -> list[Unit]:
        """Units matching ``query``, best first (all, in roster order, when empty).

        A phone number (82722671, 0531-82722671) finds the units with that number (caller ID).
        Otherwise ranked: the unit's name, alias or key contains it; it names a work group (or its
        duties) the unit leads, or a post the unit holds; a group it is a member of; its duty text.
        Within a rank, roster order."""
        q = normalise(query)
        if not q:
            return list(self.units)
        digits = phone_digits(query)
        if digits is not None:
            out = []
            for u in self.units:
                dial = re.sub(r"\D", "", u.dial or "")
                local = re.sub(r"\D", "", (u.dial or "").partition("-")[2])
                if dial and digits in (dial, local):
                    out.append(u)
            return out
        ranked: list[tuple[int, int, Unit]] = []
        for pos, u in enumerate(self.units):
            rank = None
            if any(q in normalise(h) for h in (u.name, *u.aliases, u.key)):
                rank = 0
            else:
                groups = self.groups_of(u)
                if any(q in normalise(h) for h in self.roles_of(u)) or any(
                        leads and (q in normalise(g.name) or q in normalise(g.duties)) for g, leads in groups):
                    rank = 1
                elif any(not leads and (q in normalise(g.name) or q in normalise(g.duties))
                         for g, leads in groups):
                    rank = 2
                elif any(q in normalise(d.text) for d in u.duties):
                    rank = 3
            if rank is not None:
                ranked.append((rank, pos, u))
        return [u for _, _, u in sorted(ranked, key=lambda t: (t[0], t[1]))]

    def closest_names(self, query: str, n: int = 3) -> list[str]:
        """Up to ``n`` unit names closest to ``query`` (for "nothing matches")."""
        names: dict[str, str] = {}
        for u in self.units:
            for name in (u.name, *u.aliases):
                names.setdefault(normalise(name), u.name)
        out: list[str] = []
        for m in difflib.get_close_matches(normalise(query), list(names), n=n * 3, cutoff=0.5):
            if names[m] not in out:
                out.append(names[m])
        return out[:n]


def normalise(name: str) -> str:
    """NFKC, no spaces, case-folded: how names are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def closest(name: str, candidates: Any) -> str | None:
    matches = difflib.get_close_matches(normalise(name), list(candidates), n=1, cutoff=0.5)
    return matches[0] if matches else None


def dial_number(phone: str | None, area_code: str, local_length: int | None = None) -> str | None:
    """The dialable form of a number, or None when it is unknown or not a valid number.

    ``local_length``: the digits of a local number in ``area_code`` (8 in 济南); a local number of
    another length cannot be dialled and gives None."""
    if phone is None:
        return None
    p = unicodedata.normalize("NFKC", phone).strip().replace(" ", "")
    if _MOBILE.match(p):
        return p
    m = _FIXED.match(p)
    if m is None:
        return None
    area, local = m.group(1) or area_code, m.group(2)
    if area == area_code and local_length is not None and len(local) != local_length:
        return None
    return f"{area}-{local}"


def phone_problem(phone: str, area_code: str | None = None, local_length: int | None = None) -> str | None:
    """Why ``phone`` is not a valid Chinese fixed-line or mobile number, or None.

    With ``area_code`` and ``local_length`` (contacts.yaml), a number without an area code or with
    that one must have exactly ``local_length`` digits (济南: 8)."""
    p = unicodedata.normalize("NFKC", phone).strip()
    if not p:
        return "blank number"
    if p != phone:
        return f'"{phone}" has spaces or full-width digits; write it as "{p.replace(" ", "")}"'
    if _MOBILE.match(p):
        return None
    if p.startswith("1") and p.isdigit() and len(p) == 11:
        return f'"{phone}" is not a mobile number (11 digits starting 13-19)'
    m = _FIXED.match(p)
    if m:
        area, local = m.group(1) or area_code, m.group(2)
        if area_code is not None and local_length is not None and area == area_code \
                and len(local) != local_length:
            return (f'"{phone}" has {len(local)} digits; local numbers in {area_code} have {local_length} '
                    f"(local_number_length)")
        return None
    return f'"{phone}" is not a fixed-line (7-8 digits, optional area code 0xx-) or mobile number'


def phone_digits(text: str) -> str | None:
    """The digits of ``text`` when it looks like a phone number (a caller-ID query), else None."""
    t = unicodedata.normalize("NFKC", text).strip()
    if not _PHONE_QUERY.match(t):
        return None
    digits = re.sub(r"\D", "", t)
    return digits if len(digits) >= 7 else None


# --- dispatch (the profile's `dispatch:` section) --------------------------------------------


class EngageRule(BaseModel):
    """One rule of a level: which units it adds to the call list, why, and the clause."""

    model_config = _STRICT
    engage: Literal["office", "command", "members", "groups", "group", "unit", "local_street"]
    name: str | None = None  # group or unit name for `group` / `unit`
    units: Literal["all", "lead"] | list[str] = "all"  # for `group`
    reason: str = Field(min_length=1)
    source: str = Field(min_length=1)
    # `local_street` only: what the street office named from the location is (受灾街道办事处), shown
    # before its name; and whether this level calls every street office even when the affected one
    # is known (then 各街道办事处 stays on the list, once, with `all_streets` as the reason).
    label: str | None = None
    all_streets: str | None = None


class LevelDispatch(BaseModel):
    model_config = _STRICT
    text: str
    source: str
    engage: list[EngageRule] = Field(min_length=1)


class ReportSection(BaseModel):
    """One section of the 速报单: its title, the incident fields it holds, and the clause."""

    model_config = _STRICT
    title: str = Field(min_length=1)
    fields: list[str] = Field(min_length=1)
    source: str | None = None  # None: not named by the plan (shown without a citation)


class Dispatch(BaseModel):
    model_config = _STRICT
    levels: dict[str, LevelDispatch]
    # The 速报单's content as this profile's plan lists it (district §3.2.1, national §3.3.2).
    report_form: list[ReportSection] = Field(default_factory=list)


def dispatch_of(profile: Profile) -> Dispatch:
    """The validated ``dispatch:`` section of a profile; ConfigError names the key path."""
    try:
        return Dispatch.model_validate(profile.dispatch)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in ("dispatch", *err["loc"]))
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{profile.source_file}: {path}: {msg}") from None


# --- call lists -------------------------------------------------------------------------------


class CallEntry(BaseModel):
    """One unit to call, once, with every reason and the duties to read out."""

    order: int
    unit: str  # the unit's full name
    label: str | None = None  # what it is on this sheet: 受灾街道办事处 (the dispatch rule's label)
    footnote: str | None = None  # provenance, for a unit the plan does not name (in_plan false)
    unit_key: str
    kind: str
    phone: str | None
    dial: str | None
    phone_missing: str | None  # why no number is known, when phone is None
    in_plan: bool
    reasons: list[str]
    duties: list[str]


class CallList(BaseModel):
    plan: str
    level: str
    level_name: str
    text: str
    source: str
    entries: list[CallEntry]

    def names(self) -> list[str]:
        return [e.unit for e in self.entries]


def resolve_call_list(assessment: Assessment, profile: Profile, roster: Roster) -> CallList:
    """The call list for an assessed incident under ``profile`` (pure)."""
    dispatch = dispatch_of(profile)
    level_key = assessment.response_level
    level = dispatch.levels.get(level_key)
    if level is None:
        known = ", ".join(dispatch.levels) or "none"
        raise ConfigError(f"{profile.source_file}: dispatch.levels: no entry for response level "
                          f"{level_key!r} (has: {known})")
    bad = [p for p in check_dispatch(profile, roster, profile.source_file)
           if p.path.startswith(f"dispatch.levels.{level_key}.")]
    if bad:
        more = f" (and {len(bad) - 1} more; run geohazard check)" if len(bad) > 1 else ""
        raise ConfigError(f"{bad[0]}{more}")

    reasons: dict[str, list[str]] = {}  # unit key -> tasks, each with its clause
    group_roles: dict[str, list[str]] = {}  # unit key -> 应急救援组牵头单位(附件1(一))...
    group_duties: dict[str, list[tuple[Group, bool]]] = {}
    local: set[str] = set()
    labels: dict[str, str] = {}  # unit key -> 受灾街道办事处
    keep_all: str | None = None  # the level calls every street office (the reason)

    def add(unit: Unit, reason: str) -> None:
        lst = reasons.setdefault(unit.key, [])
        if reason not in lst:
            lst.append(reason)

    def via_group(g: Group, which: Literal["all", "lead"] | list[str], rule: EngageRule) -> None:
        picked: list[tuple[Unit, bool]] = [(roster.unit(g.lead), True)]
        if which == "all":
            picked += [(roster.unit(m), False) for m in g.members]
        elif isinstance(which, list):
            picked = [(u, u is picked[0][0]) for u in (roster.unit(n) for n in which)]
        for u, leads in picked:
            role = (roster.wording.group_lead if leads else roster.wording.group_member).format(
                group=g.name, source=g.source)
            if role not in group_roles.setdefault(u.key, []):
                group_roles[u.key].append(role)
            add(u, f"{rule.reason}({rule.source})")
            group_duties.setdefault(u.key, []).append((g, leads))

    for rule in level.engage:
        tag = f"{rule.reason}({rule.source})"
        if rule.engage == "office":
            add(roster.unit(roster.office.unit), tag)
        elif rule.engage == "command":
            for h in (roster.command.commander, *roster.command.deputies):
                add(roster.unit(h.unit), tag)
        elif rule.engage == "members":
            for name in roster.command.members:
                add(roster.unit(name), tag)
        elif rule.engage == "groups":
            for g in roster.groups:
                via_group(g, "all", rule)
        elif rule.engage == "group":
            found = roster.group(rule.name or "")
            if found is None:
                raise ConfigError(f"{profile.source_file}: dispatch.levels.{level_key}: "
                                  f"unknown work group {rule.name!r}")
            via_group(found, rule.units, rule)
        elif rule.engage == "unit":
            add(roster.unit(rule.name or ""), tag)
        elif rule.engage == "local_street":
            streets = local_streets(assessment.incident.location, roster)
            for u in streets:
                local.add(u.key)
                add(u, f"{rule.reason}({rule.source});地点: {assessment.incident.location}")
                if rule.label:
                    labels.setdefault(u.key, rule.label)
            collective = _collective_streets(roster)
            if collective is not None:
                if not streets:
                    add(collective, roster.wording.street_unknown.format(reason=rule.reason, source=rule.source))
                elif rule.all_streets:
                    keep_all = f"{rule.all_streets}({rule.source})"

    # The affected street office stands for 各街道办事处 (the plan's name for the streets in the
    # command and its work groups): it takes over that entry's roles and duties, and 各街道办事处 is
    # not called as well, unless the level calls every street (then it is listed once, saying so).
    collective = _collective_streets(roster)
    if local and collective is not None and collective.key in reasons:
        folded_roles = group_roles.pop(collective.key, [])
        folded_reasons = reasons.pop(collective.key)
        folded_groups = group_duties.pop(collective.key, [])
        for k in local:
            for role in folded_roles:
                if role not in group_roles.setdefault(k, []):
                    group_roles[k].append(role)
            for reason in folded_reasons:
                add(roster.by_key[k], reason)
            group_duties.setdefault(k, []).extend(folded_groups)
        if keep_all is not None:
            reasons[collective.key] = [keep_all]
    elif local and collective is not None and keep_all is not None:
        reasons[collective.key] = [keep_all]

    # Order: office, commander, deputies, the affected street (first on the ground, §5), group
    # leads, then roster order.
    tiers: dict[str, int] = {}
    office_unit = roster.unit(roster.office.unit)
    tiers[office_unit.key] = 0
    tiers.setdefault(roster.unit(roster.command.commander.unit).key, 1)
    for h in roster.command.deputies:
        tiers.setdefault(roster.unit(h.unit).key, 2)
    for k in local:
        tiers.setdefault(k, 3)
    for g in roster.groups:
        tiers.setdefault(roster.unit(g.lead).key, 4)
    position = {u.key: i for i, u in enumerate(roster.units)}
    keys = sorted(reasons, key=lambda k: (tiers.get(k, 5), position[k]))

    entries = []
    for n, key in enumerate(keys, start=1):
        u = roster.by_key[key]
        own = u.duties
        if not own and key in local and collective is not None:
            own = collective.duties  # 附件1(二) 各街道办事处: the affected one's duties
        duties = [f"{d.text}({d.source})" for d in own]
        for g, leads in group_duties.get(key, []):
            if leads or not own:
                text = (roster.wording.lead_duty if leads else roster.wording.member_duty).format(
                    group=g.name, duties=g.duties, source=g.source)
                if text not in duties:
                    duties.append(text)
        footnote = None
        if not u.in_plan:
            where = (f"名称据地点“{assessment.incident.location}”确定;" if key in local
                     and assessment.incident.location else "")
            footnote = f"{u.name}: {where}{u.source}"
        entries.append(CallEntry(
            order=n, unit=u.name, label=labels.get(key), footnote=footnote, unit_key=u.key, kind=u.kind,
            phone=u.phone, dial=u.dial, phone_missing=u.phone_gap(), in_plan=u.in_plan,
            reasons=roster.roles_of(u) + group_roles.get(key, []) + reasons[key], duties=duties,
        ))
    lvl = profile.level_by_key.get(level_key)
    return CallList(plan=profile.id, level=level_key, level_name=lvl.name if lvl else level_key,
                    text=level.text, source=level.source, entries=entries)


def _collective_streets(roster: Roster) -> Unit | None:
    """The 各街道办事处 entry: the street unit that other streets name as parent."""
    for u in roster.units:
        if u.kind == "street" and u.parent is None:
            return u
    return None


def local_streets(location: str | None, roster: Roster) -> list[Unit]:
    """Street offices whose name or alias the incident's location text contains."""
    if not location:
        return []
    text = normalise(location)
    out = []
    for u in roster.units:
        if u.kind != "street" or u.parent is None:
            continue
        if any(normalise(n) in text for n in (u.name, *u.aliases)):
            out.append(u)
    return out


def call_list_diff(old: CallList | None, new: CallList) -> tuple[list[CallEntry], list[CallEntry]]:
    """(entries newly to call, entries no longer needed) going from ``old`` to ``new``."""
    if old is None:
        return list(new.entries), []
    before = {e.unit_key for e in old.entries}
    after = {e.unit_key for e in new.entries}
    return ([e for e in new.entries if e.unit_key not in before],
            [e for e in old.entries if e.unit_key not in after])


# --- loading and cross-checks ----------------------------------------------------------------


class Problem(BaseModel):
    """One problem found in a config file, naming the file, line, key path and unit."""

    file: str
    line: int | None = None
    path: str
    unit: str | None = None
    message: str
    fatal: bool = True  # False: the data still loads (a missing or malformed number)
    notice: bool = False  # True: a known gap, explained in the data (a unit with no number)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" [{self.unit}]" if self.unit else ""
        return f"{where}: {self.path}:{who} {self.message}"


def check_roster(roster: Roster, file: str, text: str | None = None) -> list[Problem]:
    """Every cross-check problem of a roster: unknown or ambiguous names, duplicates, bad numbers."""
    from geohazard_cli.loader import line_finder

    line_of = line_finder(text)
    problems: list[Problem] = []

    def report(loc: list[str | int], message: str, unit: str | None = None, fatal: bool = True,
               notice: bool = False) -> None:
        problems.append(Problem(file=file, line=line_of(loc), path=".".join(map(str, loc)), unit=unit,
                                message=message, fatal=fatal, notice=notice))

    seen: dict[str, tuple[int, str]] = {}
    keys: dict[str, int] = {}
    dials: dict[str, str] = {}
    for i, u in enumerate(roster.units):
        if u.key in keys:
            report(["units", i, "key"], f"key {u.key!r} is used twice (also units.{keys[u.key]})", u.name)
        keys.setdefault(u.key, i)
        for j, alias in enumerate((u.name, *u.aliases)):
            n = normalise(alias)
            if n in seen and seen[n][0] != i:
                other = roster.units[seen[n][0]].name
                what = "unit" if j == 0 and alias == other else "name"
                at: list[str | int] = ["units", i, "name"] if j == 0 else ["units", i, "aliases", j - 1]
                report(at, f"{what} {alias!r} is listed twice (also units.{seen[n][0]}: {other})", u.name)
            seen.setdefault(n, (i, u.name))
        if u.phone is None or not u.phone.strip():
            if u.phone_missing:
                report(["units", i, "phone"], f"no number ({u.phone_missing})", u.name, fatal=False,
                       notice=True)
            else:
                report(["units", i, "phone"], "blank number (write the number, or say why in phone_missing)",
                       u.name, fatal=False)
        else:
            bad = phone_problem(u.phone, roster.area_code, roster.local_number_length)
            if bad:
                report(["units", i, "phone"], bad, u.name, fatal=False)
            elif u.phone_missing:
                report(["units", i, "phone_missing"], "set although the unit has a number", u.name,
                       fatal=False)
            # A shared number is allowed (附件3 gives 区指挥部办公室 and 区应急局 the same one) but
            # listed, since a number pasted twice by mistake looks the same.
            if u.dial and u.dial in dials:
                report(["units", i, "phone"], f"same number as {dials[u.dial]} ({u.phone})", u.name,
                       fatal=False, notice=True)
            if u.dial:
                dials.setdefault(u.dial, u.name)
        if u.parent is not None and roster.find(u.parent) is None:
            report(["units", i, "parent"], f"unknown unit {u.parent!r}{roster.suggest(u.parent)}", u.name)

    def ref(loc: list[str | int], name: str, context: str | None = None) -> None:
        if roster.find(name) is None:
            report(loc, f"unknown unit {name!r}{roster.suggest(name)}", context or name)

    cmd = roster.command
    ref(["command", "commander", "unit"], cmd.commander.unit, cmd.commander.title)
    for i, h in enumerate(cmd.deputies):
        ref(["command", "deputies", i, "unit"], h.unit, h.title)
    members_seen: dict[str, int] = {}
    for i, name in enumerate(cmd.members):
        ref(["command", "members", i], name)
        mu = roster.find(name)
        if mu is not None:
            if mu.key in members_seen:
                report(["command", "members", i], f"{mu.name!r} is listed twice (also command.members."
                       f"{members_seen[mu.key]})", mu.name)
            members_seen.setdefault(mu.key, i)
    off = roster.office
    ref(["office", "unit"], off.unit, "区指挥部办公室")
    ref(["office", "seat"], off.seat)
    ref(["office", "director", "unit"], off.director.unit, off.director.title)
    for i, h in enumerate(off.deputies):
        ref(["office", "deputies", i, "unit"], h.unit, h.title)
    gnames: dict[str, int] = {}
    for i, g in enumerate(roster.groups):
        for n in (normalise(g.name), normalise(g.key)):
            if n in gnames and gnames[n] != i:
                report(["groups", i, "name"],
                       f"work group {g.name!r} is listed twice (also groups.{gnames[n]})", g.name)
            gnames.setdefault(n, i)
        ref(["groups", i, "lead"], g.lead, f"{g.name} lead {g.lead}")
        in_group: dict[str, int] = {}
        lead = roster.find(g.lead)
        for j, m in enumerate(g.members):
            ref(["groups", i, "members", j], m, f"{g.name} member {m}")
            gu = roster.find(m)
            if gu is None:
                continue
            if gu is lead:
                report(["groups", i, "members", j], f"{gu.name!r} is the lead of {g.name}, not also a member",
                       gu.name)
            if gu.key in in_group:
                report(["groups", i, "members", j], f"{gu.name!r} is listed twice in {g.name}", gu.name)
            in_group.setdefault(gu.key, j)
    return problems


def check_dispatch(profile: Profile, roster: Roster, file: str, text: str | None = None) -> list[Problem]:
    """Problems of a profile's ``dispatch:`` section against its levels and the roster."""
    from geohazard_cli.loader import line_finder

    line_of = line_finder(text)
    problems: list[Problem] = []

    def report(loc: list[str | int], message: str, unit: str | None = None) -> None:
        full = ["dispatch", *loc]
        problems.append(Problem(file=file, line=line_of(full), path=".".join(map(str, full)), unit=unit,
                                message=message))

    try:
        dispatch = Dispatch.model_validate(profile.dispatch)
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            msg = "unknown key" if err["type"] == "extra_forbidden" else (
                "required key is missing" if err["type"] == "missing" else err["msg"])
            report(loc, msg)
        return problems
    from geohazard_cli.models import FIELD_LABELS

    if not dispatch.report_form:
        report(["report_form"], "no report_form sections: the 速报单 would cite no clause of this plan")
    for i, sec in enumerate(dispatch.report_form):
        for j, f in enumerate(sec.fields):
            if f not in FIELD_LABELS:
                best = difflib.get_close_matches(f, list(FIELD_LABELS), n=1, cutoff=0.5)
                hint = f' (did you mean "{best[0]}"?)' if best else ""
                report(["report_form", i, "fields", j], f"unknown incident field {f!r}{hint}")
    for lv in profile.levels:
        if lv.key not in dispatch.levels:
            report(["levels"], f"no entry for response level {lv.key} ({lv.name}): nobody would be called")
    known = [lv.key for lv in profile.levels]
    for key, ld in dispatch.levels.items():
        if key not in known:
            report(["levels", key], f"{key!r} is not a response level of this profile ({', '.join(known)})")
        kinds = {r.engage for r in ld.engage}
        if "office" not in kinds:
            report(["levels", key, "engage"], "the 区指挥部办公室 is not engaged (engage: office)")
        for i, r in enumerate(ld.engage):
            loc = ["levels", key, "engage", i]
            if r.engage in ("group", "unit") and not r.name:
                report([*loc, "name"], f"engage: {r.engage} needs a name")
                continue
            if r.engage not in ("group", "unit") and r.name is not None:
                report([*loc, "name"], f"engage: {r.engage} takes no name")
            for extra in ("label", "all_streets"):
                if r.engage != "local_street" and getattr(r, extra) is not None:
                    report([*loc, extra], f"engage: {r.engage} takes no {extra} (local_street only)")
            if r.engage == "unit" and r.name and roster.find(r.name) is None:
                report([*loc, "name"], f"unknown unit {r.name!r}{roster.suggest(r.name)}", r.name)
            if r.engage == "group" and r.name:
                g = roster.group(r.name)
                if g is None:
                    names = [gg.name for gg in roster.groups]
                    best = difflib.get_close_matches(r.name, names, n=1, cutoff=0.5)
                    hint = f' (did you mean "{best[0]}"?)' if best else ""
                    report([*loc, "name"], f"unknown work group {r.name!r}{hint}", r.name)
                elif isinstance(r.units, list):
                    allowed = {normalise(n) for n in (g.lead, *g.members)}
                    for j, n in enumerate(r.units):
                        u = roster.find(n)
                        if u is None:
                            report([*loc, "units", j], f"unknown unit {n!r}{roster.suggest(n)}", n)
                        elif not any(roster.find(a) is u for a in allowed):
                            report([*loc, "units", j], f"{u.name!r} is not in {g.name}", u.name)
    return problems


_cache: dict[tuple[Path, int, int], Roster] = {}


def parse_roster(text: str, file: str) -> Roster:
    """Validate contacts.yaml text against the schema (no cross-checks)."""
    from geohazard_cli.loader import describe_validation_error, load_yaml

    data = load_yaml(text, file)
    try:
        return Roster.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, file, text)) from None


def load_roster(cfg_dir: Path) -> Roster:
    """Read ``contacts.yaml`` of a config dir; ConfigError on bad data (a missing number is not one)."""
    from geohazard_cli.config import contacts_path
    from geohazard_cli.loader import read_text

    path = contacts_path(cfg_dir).resolve()
    try:
        st = path.stat()
        cache_key = (path, st.st_mtime_ns, st.st_size)
    except OSError:
        cache_key = None
    if cache_key is not None and cache_key in _cache:
        return _cache[cache_key]
    text = read_text(path)
    roster = parse_roster(text, str(path))
    fatal = [p for p in check_roster(roster, str(path)) if p.fatal]
    if fatal:  # again with line numbers, which cost a YAML compose
        fatal = [p for p in check_roster(roster, str(path), text) if p.fatal]
        more = f" (and {len(fatal) - 1} more; run geohazard check)" if len(fatal) > 1 else ""
        raise ConfigError(f"{fatal[0]}{more}")
    if cache_key is not None:
        _cache[cache_key] = roster
    return roster


# --- documents: what call sheets and report forms show (pure; rendered by templates/) ----------

COUNT_UNITS = {"households": "户"}  # every other count is people (人)


def _time_text(value: Any, tz: str) -> str:
    from geohazard_cli.timeutil import local_text

    return local_text(value, tz)


def _iso(value: Any, tz: str) -> str | None:
    """A time as ISO 8601 with its offset, in the profile's zone (the JSON form; templates show
    ``_time_text``)."""
    from datetime import datetime

    from geohazard_cli.timeutil import local

    if not isinstance(value, datetime):
        return None
    return local(value, tz).isoformat()


def _field_entry(incident: Any, field: str, tz: str) -> dict[str, Any]:
    """One incident field for the documents: key, label, value (display text, None = blank) and, for a
    time, ``iso`` (ISO 8601 for machines)."""
    from geohazard_cli.models import FIELD_LABELS, TIME_FIELDS

    entry: dict[str, Any] = {"key": field, "label": FIELD_LABELS[field], "value": field_text(incident, field, tz)}
    if field in TIME_FIELDS:
        entry["iso"] = _iso(getattr(incident, field), tz)
    return entry


def field_text(incident: Any, field: str, tz: str) -> str | None:
    """An incident field as the forms show it, or None when not reported (a visible blank)."""
    from decimal import Decimal

    from geohazard_cli.models import AMOUNT_FIELDS, COUNT_FIELDS, TIME_FIELDS
    from geohazard_cli.money import format_wan

    value = incident.hazard_type_name if field == "hazard_type" else getattr(incident, field)
    if value is None:
        return None
    if field in COUNT_FIELDS:
        return f"{value}{COUNT_UNITS.get(field, '人')}"
    if field in AMOUNT_FIELDS:
        return format_wan(Decimal(value))
    if field in TIME_FIELDS:
        return _time_text(value, tz)
    return str(value)


def _deadline_template(text: str | None, key: str, profile: Profile) -> str:
    if text is None:  # check_profile refuses this at load; kept for a profile built in code
        raise ConfigError(f"{profile.source_file}: reporting.deadline.{key}: required when hours are given")
    return text


def deadline_of(assessment: Assessment, profile: Profile) -> dict[str, Any]:
    """The reporting deadline: hours per grade from the report time where the profile sets them."""
    from datetime import timedelta

    dl = profile.reporting.deadline
    hours = dl.hours.get(assessment.grade)
    reported = assessment.incident.reported_at
    due = due_iso = None
    if hours is None:
        text = dl.text
    elif reported is None:
        text = _deadline_template(dl.due_unknown, "due_unknown", profile).format(hours=hours)
    else:
        due = _time_text(reported + timedelta(hours=hours), profile.timezone)
        due_iso = _iso(reported + timedelta(hours=hours), profile.timezone)
        text = _deadline_template(dl.due, "due", profile).format(due=due, hours=hours)
    return {"text": text, "rule": dl.text, "hours": hours, "due": due, "due_iso": due_iso, "source": dl.source}


def _common_context(assessment: Assessment, profile: Profile) -> dict[str, Any]:
    from geohazard_cli.models import FIELD_LABELS

    a, inc = assessment, assessment.incident
    level = profile.level_by_key[a.response_level]
    sk = a.skip_level_report
    rp = profile.reporting
    return {
        "plan": {"id": profile.id, "title": profile.title, "short_title": profile.short_title,
                 "document": profile.document},
        "incident": {
            "id": inc.id,
            "reporter": inc.reporter,
            "reported_at": field_text(inc, "reported_at", profile.timezone),
            "reported_at_iso": _iso(inc.reported_at, profile.timezone),
            "notes": inc.notes,
        },
        "assessment": {
            "grade": a.grade, "grade_name": a.grade_name, "lower_bound": a.lower_bound,
            "level": a.response_level, "level_name": a.response_level_name,
            "deciding": a.deciding_text,
            "not_reported": [FIELD_LABELS[k] for k in a.not_reported],
            "advisories": [f"{adv.text}({adv.source})" for adv in a.advisories],
        },
        "lead": a.lead.model_dump(mode="json"),
        "start_procedure": level.start_procedure.model_dump(mode="json"),
        "measures": [m.model_dump(mode="json") for m in level.measures],
        "reporting": {
            "first_report": rp.first_report.model_dump(mode="json"),
            "chain": rp.chain.model_dump(mode="json"),
            "deadline": deadline_of(a, profile),
            "skip_level": {
                "applies": sk.applies, "reasons": sk.reasons,
                "undetermined": [FIELD_LABELS[k] for k in sk.undetermined],
                "text": sk.text, "recipients": sk.recipients, "source": sk.source,
                "follow_up": (f",{sk.follow_up}" if sk.follow_up else ""), "otherwise": sk.otherwise,
            },
        },
    }


def callsheet_context(assessment: Assessment, profile: Profile, call_list: CallList) -> dict[str, Any]:
    """Everything a call sheet shows, as plain data (also its JSON form)."""

    ctx = _common_context(assessment, profile)
    inc = assessment.incident
    facts = ["hazard_type", "location", "occurred_at", "reported_at", "scale", "evacuees", "potential_loss",
             "deaths", "missing", "injured", "direct_loss", "households", "threatened"]
    ctx["facts"] = [_field_entry(inc, k, profile.timezone) for k in facts]
    ctx["call_list"] = call_list.model_dump(mode="json")
    # Footnotes (provenance of units the plan does not name), numbered in call order.
    notes: list[dict[str, Any]] = []
    for e in ctx["call_list"]["entries"]:
        e["note_no"] = None
        if e["footnote"]:
            notes.append({"no": len(notes) + 1, "unit": e["unit"], "text": e["footnote"]})
            e["note_no"] = len(notes)
    ctx["footnotes"] = notes
    ctx["missing_numbers"] = [e.unit for e in call_list.entries if e.dial is None]
    return ctx


def report_form_context(assessment: Assessment, profile: Profile) -> dict[str, Any]:
    """Everything the 速报单 (§3.2.1) shows; unknown fields stay None (blank on the form).

    Gives ``fields`` (every incident field by key, with label and display value) besides the
    assessment, recipients, skip-level applicability and deadline."""
    from geohazard_cli.models import FIELD_LABELS

    ctx = _common_context(assessment, profile)
    inc = assessment.incident
    fields = {k: _field_entry(inc, k, profile.timezone) for k in FIELD_LABELS}
    ctx["fields"] = fields
    # The sections as this profile's plan lists the report's content, each citing that plan
    # ("市中区预案(2023)3.2.1", "国家预案(2006)3.3.2").
    sections = dispatch_of(profile).report_form
    ctx["sections"] = [
        {"title": sec.title, "source": sec.source,
         "cite": f"{profile.short_title}{sec.source}" if sec.source else None,
         "fields": [fields[k] for k in sec.fields]}
        for sec in sections
    ] or [{"title": "报送内容", "source": None, "cite": None, "fields": list(fields.values())}]
    return ctx


# --- plain-text layout helpers for the .txt templates (CJK characters are two columns wide) -------


def width(text: str) -> int:
    """Display width in a terminal: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


_NO_LINE_START = set(",.;:!?)]}，。、；：！？）】」』”’%")
_NO_LINE_END = set("([{（【「『“‘")
_TOKENS = re.compile(r"[!-~]+|\s+|.", re.S)  # runs of printable ASCII stay whole ("(6.1.3(5))")


def wrap(text: str, cols: int = 78, indent: str = "", first: str | None = None) -> str:
    """Wrap ``text`` to ``cols`` display columns; ``first`` replaces ``indent`` on the first line.

    CJK text breaks between any two characters, except before closing punctuation (which may run
    one character past ``cols``); ASCII runs such as clause numbers and phone numbers are not split
    unless longer than a line.
    """
    lines: list[str] = []
    line = indent if first is None else first
    for tok in _TOKENS.findall(text.replace("\n", " ")):
        if tok.isspace():
            tok = " "
        fits = width(line) + width(tok) <= cols
        if not fits and line.strip() and tok[0] not in _NO_LINE_START and width(indent + tok) <= cols:
            carry = ""
            while line.strip() and line[-1] in _NO_LINE_END:  # an opening bracket goes with what follows
                carry, line = line[-1] + carry, line[:-1]
            lines.append(line.rstrip())
            line = indent + carry
            if tok == " ":
                continue
        elif not fits and width(tok) > cols - width(indent):  # a run longer than a line: split it
            for ch in tok:
                if width(line) + width(ch) > cols and line.strip():
                    lines.append(line.rstrip())
                    line = indent
                line += ch
            continue
        line += tok
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


def pad(text: str, cols: int) -> str:
    """Left-justify ``text`` to ``cols`` display columns."""
    return text + " " * max(0, cols - width(text))


TEXT_HELPERS = {"wrap": wrap, "pad": pad, "width": width}
