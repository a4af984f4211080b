"""The roster: contacts.yaml (the command, office, work groups, unit duties and numbers) as a model.

``Roster`` finds units by name, alias, key or number; the phone rules say which numbers can be
dialled; ``contacts_load.load_roster(cfg)`` reads, cross-checks and merges the local overlay. ``Problem`` is what every
config check reports (this one and ``dispatch.check_dispatch``, ``checks``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, TypeVar

from geohazard_cli.errors import ConfigError, NotFoundError
from geohazard_cli.nodes import Convert, Node, list_of, node

if TYPE_CHECKING:
    from pydantic import BaseModel

# Chinese numbers: 7- or 8-digit local fixed lines, optionally with a 0xx(x) area code; 11-digit
# mobiles (1[3-9]...). A number in the roster's own area (contacts.yaml `area_code`) must have that
# area's length (`local_number_length`: 8 in 济南). See `phone_problem`.
_FIXED = re.compile(r"^(?:(0\d{2,3})-?)?([2-9]\d{6,7})$")
_PHONE_QUERY = re.compile(r"^[0-9\-()\s]{7,}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


# --- the roster as commands read it: plain read-only objects (nodes.Node) with contacts.yaml's
# names, built from the data contacts_schema.py validated (kept by cache.py): no schema to build ---


class Duty(Node):
    __slots__ = _fields = ("text", "source")
    text: str
    source: str


class Holder(Node):
    """A post in the command (指挥长, 副指挥长, 办公室主任...) and the unit that holds it."""

    __slots__ = _fields = ("title", "holder", "unit")
    title: str
    holder: str  # 区应急局局长
    unit: str  # a unit name or alias


class Command(Node):
    __slots__ = _fields = ("name", "full_name", "source", "commander", "deputies", "members", "duties")
    _convert: ClassVar[Convert] = {"commander": node(Holder), "deputies": list_of(Holder), "duties": node(Duty)}
    name: str
    full_name: str
    source: str
    commander: Holder
    deputies: list[Holder]
    members: list[str]
    duties: Duty


class Office(Node):
    __slots__ = _fields = ("unit", "seat", "source", "director", "deputies")
    _convert: ClassVar[Convert] = {"director": node(Holder), "deputies": list_of(Holder)}
    unit: str
    seat: str
    source: str
    director: Holder
    deputies: list[Holder]


class Number(NamedTuple):
    """A number to dial and where it comes from: ``plan`` (contacts.yaml, 附件3 or the clause in
    ``source``) or ``local`` (contacts.local.yaml, ``source`` says whose list)."""

    dial: str
    origin: Literal["plan", "local"]
    source: str


UnitKind = Literal["office", "post", "member", "section", "street", "team"]


class Unit(Node):
    """One unit (or post) to call. ``phone`` is exactly as the plan prints it; ``dial`` adds the area code."""

    _fields = ("key", "name", "aliases", "kind", "parent", "phone", "phone_missing", "in_plan", "source", "duties")
    __slots__ = (*_fields, "_area_code", "_bad_number", "_local_length", "_origin", "_origin_source", "_backups",
                 "_on_duty")
    _convert: ClassVar[Convert] = {"duties": list_of(Duty)}
    key: str
    name: str
    aliases: list[str]
    kind: UnitKind
    parent: str | None
    phone: str | None
    phone_missing: str | None  # why no number is known (shown on call sheets)
    in_plan: bool  # False: not named by the plan (see source)
    source: str
    duties: list[Duty]
    # From the roster: its area code, local number length and wording for a bad number. Set by a
    # local overlay (contacts.local.yaml, ``localise``): where ``phone`` comes from, the backup
    # numbers (each with its origin), and who is on duty. See ``numbers``.
    _area_code: str
    _bad_number: str
    _local_length: int | None
    _origin: Literal["plan", "local"]
    _origin_source: str | None
    _backups: tuple[Number, ...]
    _on_duty: str | None

    def __init__(self, data: Mapping[str, Any], area_code: str = "", local_length: int | None = None,
                 bad_number: str = "") -> None:
        super().__init__(data)
        for name, value in (("_area_code", area_code), ("_bad_number", bad_number), ("_local_length", local_length),
                            ("_origin", "plan"), ("_origin_source", None), ("_backups", ()), ("_on_duty", None)):
            object.__setattr__(self, name, value)

    def localise(self, origin: tuple[Literal["plan", "local"], str | None] | None, backups: tuple[Number, ...],
                 on_duty: str | None) -> None:
        """What a local overlay says of this unit (contacts_local.merge_local, on the merged roster's
        own copy): where its number comes from, its backups, who is on duty."""
        if origin is not None:
            object.__setattr__(self, "_origin", origin[0])
            object.__setattr__(self, "_origin_source", origin[1])
        object.__setattr__(self, "_backups", backups)
        object.__setattr__(self, "_on_duty", on_duty)

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {**super().model_dump(mode), "dial": self.dial}  # as the schema's computed field did

    def numbers(self) -> list[Number]:
        """Every dialable number of this unit, the primary first, each with where it comes from."""
        out = [Number(self.dial, self._origin, self._origin_source or self.source)] if self.dial else []
        return out + [b for b in self._backups if b.dial not in {n.dial for n in out}]

    def on_duty(self) -> str | None:
        """The person on duty (contacts.local.yaml ``on_duty``), as "name phone", or None."""
        return self._on_duty

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


class Group(Node):
    """A work group of 附件1(一)."""

    __slots__ = _fields = ("key", "name", "lead", "members", "source", "duties", "note")
    key: str
    name: str
    lead: str
    members: list[str]
    source: str
    duties: str
    note: str | None


class RosterWording(Node):
    """How call lists and the roster name group membership and unplaced streets (``wording:`` in
    contacts.yaml): the plan's own words, as templates whose ``{placeholders}`` the code fills in."""

    __slots__ = _fields = ("title", "group_lead", "group_member", "group_lead_short", "lead_duty", "member_duty",
                           "street_unknown", "bad_number")
    title: str  # the roster table's heading (区指挥部成员通讯录)
    group_lead: str  # a reason: {group} {source} (应急救援组牵头单位(附件1(一)))
    group_member: str  # a reason: {group} {source}
    group_lead_short: str  # the roster table: {group} (应急救援组(牵头))
    lead_duty: str  # a duty: {group} {duties} {source}
    member_duty: str  # a duty: {group} {duties} {source}
    street_unknown: str  # the location names no street: {reason} {source}
    bad_number: str  # a number that cannot be dialled, on the sheet: {phone}


class Roster(Node):
    """contacts.yaml as commands read it, with name lookup. Built from contacts_schema.RosterSchema's
    plain data (``schema`` for its ``schema_version``, as the file names it)."""

    _fields = ("schema_version", "title", "document", "area_code", "local_number_length", "command", "office",
               "units", "groups", "wording")
    __slots__ = (*_fields, "_index", "_by_key")
    _convert: ClassVar[Convert] = {"command": node(Command), "office": node(Office), "groups": list_of(Group),
                                   "wording": node(RosterWording)}
    schema_version: int
    title: str
    document: str
    area_code: str
    local_number_length: int  # digits of a local fixed-line number in area_code
    command: Command
    office: Office
    units: list[Unit]
    groups: list[Group]
    wording: RosterWording
    _index: dict[str, Unit] | None
    _by_key: dict[str, Unit] | None

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__({**data, "schema_version": data["schema"]} if "schema" in data else data)
        wording = self.wording
        units = [u if isinstance(u, Unit) else Unit(u, self.area_code, self.local_number_length, wording.bad_number)
                 for u in self.units]
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "_index", None)
        object.__setattr__(self, "_by_key", None)

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        """As contacts.yaml names it (``schema``)."""
        out = super().model_dump(mode)
        return {"schema": out.pop("schema_version"), **out}

    @property
    def index(self) -> dict[str, Unit]:
        """Normalised name/alias/key -> unit (the first one wins; `check` reports clashes)."""
        if self._index is None:
            out: dict[str, Unit] = {}
            for u in self.units:
                for name in (u.name, *u.aliases, u.key):
                    out.setdefault(normalise(name), u)
            object.__setattr__(self, "_index", out)
        return self._index  # type: ignore[return-value]

    @property
    def by_key(self) -> dict[str, Unit]:
        if self._by_key is None:
            object.__setattr__(self, "_by_key", {u.key: u for u in self.units})
        return self._by_key  # type: ignore[return-value]

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


def closest(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(normalise(name), list(candidates), n=1, cutoff=0.5)
    return matches[0] if matches else None


def is_mobile(phone: str) -> bool:
    """A mobile number (11 digits starting 13-19), as dial_number writes one."""
    return _MOBILE.match(phone) is not None


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


# A number or name still to be filled in: X or * for digits, <...>, 待/填 (待填写, 待核实).
_PLACEHOLDER = re.compile(r"[XxＸｘ*＊?？]|[<>〈〉《》]|待|填")


def is_placeholder(text: str) -> bool:
    """Whether a number or name is a placeholder still to be filled in (the shipped example's)."""
    return bool(_PLACEHOLDER.search(text))


_M = TypeVar("_M", bound="BaseModel")  # a schema model (contacts_schema.py, contacts_local.py)


def validated(model: type[_M], text: str, file: str) -> tuple[_M, dict[str, Any]]:
    """YAML text validated against ``model``: (the model, the data as loaded); ConfigError with file and
    line (``loader.parse_model``, keeping the data: the local overlay is merged into it)."""
    from pydantic import ValidationError

    from geohazard_cli.loader import describe_validation_error, load_yaml

    data = load_yaml(text, file)
    try:
        return model.model_validate(data), data
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, file, text)) from None


# --- loading and cross-checks ----------------------------------------------------------------


class Problem(Node):
    """One problem found in a config file, naming the file, line, key path and unit
    (``Problem(file=..., path=..., message=...)``)."""

    __slots__ = _fields = ("file", "line", "path", "unit", "message", "fatal", "notice")
    _defaults: ClassVar[dict[str, Any]] = {"line": None, "unit": None, "fatal": True, "notice": False}
    file: str
    line: int | None
    path: str
    unit: str | None
    message: str
    fatal: bool  # False: the data still loads (a missing or malformed number)
    notice: bool  # True: a known gap, explained in the data (a unit with no number)

    def __init__(self, **values: Any) -> None:
        super().__init__(values)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" [{self.unit}]" if self.unit else ""
        return f"{where}: {self.path}:{who} {self.message}"


