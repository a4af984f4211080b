"""Loading the roster: contacts.yaml read and cross-checked, the bureau's contacts.local.yaml merged
over it (numbers the plan leaves out, backups, who is on duty; every number keeps its origin).

``load_roster(cfg)`` is what commands call; ``check_roster`` and ``check_local`` are what ``check``
reports. The schema itself (``Roster``, ``Unit``, the phone rules) is ``contacts.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from geohazard_cli.contacts import (
    Number,
    Problem,
    Roster,
    dial_number,
    normalise,
    phone_problem,
)
from geohazard_cli.errors import ConfigError

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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


# --- the local overlay (contacts.local.yaml) -------------------------------------------------
#
# What the plan leaves out but a bureau must set: numbers of the 街道办事处 and the 指挥长, duty
# mobiles, backup numbers, the person on duty. Kept in its own file beside contacts.yaml (which stays
# exactly the plan), merged over it at load, every number marked with where it comes from. A plan
# number is replaced only with ``override: true`` (then it stays as the first backup).

LOCAL_FILE = "contacts.local.yaml"
# A number or name still to be filled in: X or * for digits, <...>, 待/填 (待填写, 待核实).
_PLACEHOLDER = re.compile(r"[XxＸｘ*＊?？]|[<>〈〉《》]|待|填")


class LocalNumber(BaseModel):
    model_config = _STRICT
    phone: str = Field(min_length=1)
    note: str | None = None  # 值班手机, 夜间


class LocalPerson(BaseModel):
    """The person on duty (值班人员)."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    phone: str | None = None
    role: str | None = None  # 值班领导, 值班员


class LocalUnit(BaseModel):
    """One unit's local numbers. ``unit`` is a name, alias or key of contacts.yaml."""

    model_config = _STRICT
    unit: str = Field(min_length=1)
    phone: str | None = None  # the primary number (replaces a plan number only with override)
    override: bool = False
    backups: list[LocalNumber | str] = []
    on_duty: LocalPerson | None = None
    source: str = Field(min_length=1)  # whose list the numbers come from (区应急局值班表 2026-07)
    note: str | None = None


class LocalContacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    schema_version: Literal[1] = Field(alias="schema")
    local: Literal[True]  # says, in the file, that none of it is the plan
    title: str | None = None
    units: list[LocalUnit] = []


def is_placeholder(text: str) -> bool:
    """Whether a number or name is a placeholder still to be filled in (the shipped example's)."""
    return bool(_PLACEHOLDER.search(text))


def check_local(roster: Roster, local: LocalContacts, file: str, text: str | None = None) -> list[Problem]:
    """Problems of a local overlay against the plan's roster: unknown units (fatal), invalid or
    placeholder numbers, a plan number replaced without ``override: true``, a unit given twice."""
    from geohazard_cli.loader import line_finder

    line_of = line_finder(text)
    out: list[Problem] = []

    def report(loc: list[str | int], message: str, unit: str | None = None, fatal: bool = False) -> None:
        out.append(Problem(file=file, line=line_of(loc), path=".".join(map(str, loc)), unit=unit,
                           message=message, fatal=fatal))

    def number(loc: list[str | int], phone: str, unit: str) -> None:
        if is_placeholder(phone):
            report(loc, f'"{phone}" is a placeholder, not a number: fill in the real number (not dialled '
                   "until then)", unit)
        elif (bad := phone_problem(phone, roster.area_code, roster.local_number_length)) is not None:
            report(loc, f"{bad} (not dialled)", unit)

    seen: dict[str, int] = {}
    for i, lu in enumerate(local.units):
        u = roster.find(lu.unit)
        if u is None:
            report(["units", i, "unit"], f"unknown unit {lu.unit!r}{roster.suggest(lu.unit)}", fatal=True)
            continue
        if u.key in seen:
            report(["units", i, "unit"], f"{u.name} is given twice (also units.{seen[u.key]})", u.name,
                   fatal=True)
        seen.setdefault(u.key, i)
        if lu.phone is not None:
            number(["units", i, "phone"], lu.phone, u.name)
            if u.dial and not lu.override:
                report(["units", i, "phone"], f"{u.name} has the plan's number {u.phone} ({u.source}); "
                       "replacing it needs override: true (or give the local number under backups)", u.name)
        elif lu.override:
            report(["units", i, "override"], "override: true without a phone to put first", u.name)
        for j, b in enumerate(lu.backups):
            phone = b if isinstance(b, str) else b.phone
            number(["units", i, "backups", j] if isinstance(b, str) else ["units", i, "backups", j, "phone"],
                   phone, u.name)
        if lu.on_duty is not None:
            if is_placeholder(lu.on_duty.name):
                report(["units", i, "on_duty", "name"], f'"{lu.on_duty.name}" is a placeholder: fill in who is '
                       "on duty", u.name)
            if lu.on_duty.phone is not None:
                number(["units", i, "on_duty", "phone"], lu.on_duty.phone, u.name)
    return out


def _dialable(phone: str | None, roster: Roster) -> str | None:
    if phone is None or is_placeholder(phone):
        return None
    if phone_problem(phone, roster.area_code, roster.local_number_length) is not None:
        return None
    return dial_number(phone, roster.area_code, roster.local_number_length)


def merge_local(roster: Roster, data: dict[str, Any], local: LocalContacts, file: str) -> Roster:
    """The roster with the overlay's numbers merged in (``data`` is contacts.yaml as loaded).

    Only valid, non-placeholder numbers are merged; a plan number stays first unless the local entry
    says ``override: true``. What is not merged is what ``check_local`` reports."""
    source = Path(file).name
    patches: dict[str, LocalUnit] = {}
    for lu in local.units:
        u = roster.find(lu.unit)
        if u is not None:
            patches.setdefault(u.key, lu)
    if not patches:
        return roster
    units = [dict(u) for u in data.get("units", [])]
    primary: dict[str, Number] = {}
    for i, raw in enumerate(units):
        wanted = patches.get(str(raw.get("key")))
        dial = _dialable(wanted.phone, roster) if wanted is not None else None
        if wanted is None or dial is None:
            continue
        lu = wanted
        plan_unit = roster.by_key[str(raw["key"])]
        if plan_unit.dial and not lu.override:
            continue
        units[i] = {**raw, "phone": lu.phone, "phone_missing": None}
        primary[plan_unit.key] = Number(dial, "local", f"{source}: {lu.source}")
    merged = Roster.model_validate({**data, "units": units})
    for u in merged.units:
        found = patches.get(u.key)
        if found is None:
            continue
        lu, plan_unit = found, roster.by_key[u.key]
        backups: list[Number] = []
        if u.key in primary:
            u._origin, u._origin_source = "local", primary[u.key].source
            if plan_unit.dial:  # the replaced plan number stays, as the first backup
                backups.append(Number(plan_unit.dial, "plan", plan_unit.source))
        for b in lu.backups:
            phone, note = (b, None) if isinstance(b, str) else (b.phone, b.note)
            dial = _dialable(phone, roster)
            if dial is not None:
                backups.append(Number(dial, "local", f"{source}: {lu.source}" + (f"; {note}" if note else "")))
        u._backups = tuple(backups)
        person = lu.on_duty
        if person is not None and not is_placeholder(person.name):
            dial = _dialable(person.phone, roster)
            u._on_duty = " ".join(x for x in (person.role, person.name, dial) if x)
    return merged


def numbers(roster: Roster, unit_key: str) -> list[tuple[str, str]]:
    """A unit's dialable numbers, the primary first: (number, origin), origin ``plan`` or ``local``."""
    return [(n.dial, n.origin) for n in roster.by_key[unit_key].numbers()]


_M = TypeVar("_M", bound=BaseModel)


def _validated(model: type[_M], text: str, file: str) -> tuple[_M, dict[str, Any]]:
    """YAML text validated against ``model``: (the model, the data as loaded); ConfigError with file and
    line (``loader.parse_model``, keeping the data: the local overlay is merged into it)."""
    from pydantic import ValidationError

    from geohazard_cli.loader import describe_validation_error, load_yaml

    data = load_yaml(text, file)
    try:
        return model.model_validate(data), data
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, file, text)) from None


def parse_local(text: str, file: str) -> tuple[LocalContacts, dict[str, Any]]:
    """Validate contacts.local.yaml text against its schema (no cross-checks: ``check_local``)."""
    return _validated(LocalContacts, text, file)


_cache: dict[tuple[Path, int, int, int, int], Roster] = {}


def parse_roster(text: str, file: str) -> Roster:
    """Validate contacts.yaml text against the schema (no cross-checks)."""
    return _validated(Roster, text, file)[0]


def _stamp(path: Path) -> tuple[int, int]:
    """(mtime, size) of a file for the cache key; (0, -1) when it is not there."""
    try:
        st = path.stat()
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def _first_fatal(fatal: list[Problem]) -> ConfigError:
    more = f" (and {len(fatal) - 1} more; run geohazard check)" if len(fatal) > 1 else ""
    return ConfigError(f"{fatal[0]}{more}")


def load_roster(cfg_dir: Path) -> Roster:
    """Read ``contacts.yaml`` of a config dir, and ``contacts.local.yaml`` over it when there is one;
    ConfigError on bad data (a missing or placeholder number is not one)."""
    from geohazard_cli.config import contacts_path
    from geohazard_cli.loader import read_text

    path = contacts_path(cfg_dir).resolve()
    local_path = path.with_name(LOCAL_FILE)
    cache_key = (path, *_stamp(path), *_stamp(local_path))
    if cache_key in _cache:
        return _cache[cache_key]
    parsed: list[Roster] = []

    def parse() -> dict[str, Any]:
        text = read_text(path)
        roster, data = _validated(Roster, text, str(path))
        fatal = [p for p in check_roster(roster, str(path)) if p.fatal]
        if fatal:  # again with line numbers, which cost a YAML compose
            raise _first_fatal([p for p in check_roster(roster, str(path), text) if p.fatal])
        parsed.append(roster)
        return data

    # contacts.yaml as loaded, once it has passed the schema and the fatal checks, is kept as plain
    # data (cache.py, as the rules profile is): a run validates it again (pydantic-core, fast) but
    # neither imports nor runs the YAML parser, nor repeats the cross-checks.
    from pydantic.version import VERSION

    from geohazard_cli.cache import cached_data

    data = cached_data(path, parse, computed_by=__name__, key_extra=(VERSION,))
    roster = parsed[0] if parsed else Roster.model_validate(data)
    if cache_key[-1] >= 0:  # there is a contacts.local.yaml
        local_text = read_text(local_path)
        local, _ = parse_local(local_text, str(local_path))
        fatal = [p for p in check_local(roster, local, str(local_path)) if p.fatal]
        if fatal:
            raise _first_fatal([p for p in check_local(roster, local, str(local_path), local_text) if p.fatal])
        roster = merge_local(roster, data, local, str(local_path))
    _cache[cache_key] = roster
    return roster
