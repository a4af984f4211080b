"""The bureau's contacts.local.yaml: its schema, its checks against the plan's roster, and the
merge over it (numbers the plan leaves out, backups, who is on duty; every number keeps its origin).
Imported only when a config dir has an overlay, or by ``check`` (its models cost start-up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geohazard_cli.contacts import Number, Problem, Roster, dial_number, is_placeholder, phone_problem, validated

_STRICT = ConfigDict(defer_build=True, extra="forbid", frozen=True, populate_by_name=True)


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
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, populate_by_name=True)
    schema_version: Literal[1] = Field(alias="schema")
    local: Literal[True]  # says, in the file, that none of it is the plan
    title: str | None = None
    units: list[LocalUnit] = []


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
    from geohazard_cli.construct import plain
    from geohazard_cli.contacts_schema import RosterSchema

    merged = Roster(plain(RosterSchema.model_validate({**data, "units": units})))
    for u in merged.units:
        found = patches.get(u.key)
        if found is None:
            continue
        lu, plan_unit = found, roster.by_key[u.key]
        backups: list[Number] = []
        origin: tuple[Literal["plan", "local"], str | None] | None = None
        if u.key in primary:
            origin = ("local", primary[u.key].source)
            if plan_unit.dial:  # the replaced plan number stays, as the first backup
                backups.append(Number(plan_unit.dial, "plan", plan_unit.source))
        for b in lu.backups:
            phone, note = (b, None) if isinstance(b, str) else (b.phone, b.note)
            dial = _dialable(phone, roster)
            if dial is not None:
                backups.append(Number(dial, "local", f"{source}: {lu.source}" + (f"; {note}" if note else "")))
        on_duty = None
        person = lu.on_duty
        if person is not None and not is_placeholder(person.name):
            dial = _dialable(person.phone, roster)
            on_duty = " ".join(x for x in (person.role, person.name, dial) if x)
        u.localise(origin, tuple(backups), on_duty)
    return merged


def parse_local(text: str, file: str) -> tuple[LocalContacts, dict[str, Any]]:
    """Validate contacts.local.yaml text against its schema (no cross-checks: ``check_local``)."""
    return validated(LocalContacts, text, file)
