"""Loading the roster: contacts.yaml read and cross-checked, the bureau's contacts.local.yaml merged
over it (numbers the plan leaves out, backups, who is on duty; every number keeps its origin).

``load_roster(cfg)`` is what commands call; ``check_roster`` and ``contacts_local.check_local`` are
what ``check`` reports. The schema itself (``Roster``, ``Unit``, the phone rules) is ``contacts.py``;
the overlay's (``contacts_local.py``) is imported only when there is an overlay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geohazard_cli.contacts import (
    Problem,
    Roster,
    normalise,
    phone_problem,
    validated,
)
from geohazard_cli.errors import ConfigError


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


def numbers(roster: Roster, unit_key: str) -> list[tuple[str, str]]:
    """A unit's dialable numbers, the primary first: (number, origin), origin ``plan`` or ``local``."""
    return [(n.dial, n.origin) for n in roster.by_key[unit_key].numbers()]


_cache: dict[tuple[Path, int, int, int, int], Roster] = {}


def parse_roster(text: str, file: str) -> Roster:
    """Validate contacts.yaml text against the schema (no cross-checks)."""
    from geohazard_cli.construct import plain
    from geohazard_cli.contacts_schema import RosterSchema

    return Roster(plain(validated(RosterSchema, text, file)[0]))


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
        from geohazard_cli.contacts_schema import RosterSchema

        text = read_text(path)
        schema, _ = validated(RosterSchema, text, str(path))
        data = plain(schema)
        roster = Roster(data)
        fatal = [p for p in check_roster(roster, str(path)) if p.fatal]
        if fatal:  # again with line numbers, which cost a YAML compose
            raise _first_fatal([p for p in check_roster(roster, str(path), text) if p.fatal])
        parsed.append(roster)
        return dict(data)

    # contacts.yaml, once it has passed the schema and the fatal checks, is kept as the validated
    # model's plain data (cache.py, as the rules profile is): a run builds the roster's plain objects
    # from it without the schema (contacts_schema.py), the YAML parser or the cross-checks.
    from pydantic.version import VERSION

    from geohazard_cli.cache import cached_data
    from geohazard_cli.construct import plain

    data = cached_data(path, parse, computed_by=__name__, key_extra=(VERSION,))
    roster = parsed[0] if parsed else Roster(data)
    if cache_key[-1] >= 0:  # there is a contacts.local.yaml
        from geohazard_cli.contacts_local import check_local, merge_local, parse_local  # only with an overlay

        local_text = read_text(local_path)
        local, _ = parse_local(local_text, str(local_path))
        fatal = [p for p in check_local(roster, local, str(local_path)) if p.fatal]
        if fatal:
            raise _first_fatal([p for p in check_local(roster, local, str(local_path), local_text) if p.fatal])
        roster = merge_local(roster, data, local, str(local_path))
    _cache[cache_key] = roster
    return roster
