"""Dispatch: who is called for an assessed incident, and why (the profile's ``dispatch:`` section).

``resolve_call_list(assessment, profile, roster)`` is pure: which units to call, each once, with
every reason (role in the command, work group, the clause of the level's measures) and the duty
text to read out. Which units a response level engages comes from the profile; no unit name,
number or duty lives here. ``check_dispatch`` cross-checks the section against the roster.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from geohazard_cli.contacts import Group, Problem, Roster, Unit, normalise
from geohazard_cli.errors import ConfigError
from geohazard_cli.nodes import Convert, Node, dict_of, list_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from geohazard_cli.dispatch_schema import Dispatch as DispatchSchema
    from geohazard_cli.models import Assessment
    from geohazard_cli.rules import Profile

# --- the section as commands read it: plain read-only objects (nodes.Node), built from the data
# dispatch_schema.py validated (kept by cache.py): no schema to build -----------------------------


class EngageRule(Node):
    """One rule of a level: which units it adds to the call list, why, and the clause."""

    __slots__ = _fields = ("engage", "name", "units", "reason", "source", "label", "all_streets")
    engage: Literal["office", "command", "members", "groups", "group", "unit", "local_street"]
    name: str | None  # group or unit name for `group` / `unit`
    units: Literal["all", "lead"] | list[str]  # for `group`
    reason: str
    source: str
    label: str | None  # `local_street` only (dispatch_schema.EngageRule says how)
    all_streets: str | None


class LevelDispatch(Node):
    __slots__ = _fields = ("text", "source", "engage")
    _convert: ClassVar[Convert] = {"engage": list_of(EngageRule)}
    text: str
    source: str
    engage: list[EngageRule]


class ReportSection(Node):
    """One section of the 速报单: its title, the incident fields it holds, and the clause."""

    __slots__ = _fields = ("title", "fields", "source")
    title: str
    fields: list[str]
    source: str | None  # None: not named by the plan (shown without a citation)


class Dispatch(Node):
    __slots__ = _fields = ("levels", "report_form", "roster_cite")
    _convert: ClassVar[Convert] = {"levels": dict_of(LevelDispatch), "report_form": list_of(ReportSection)}
    levels: dict[str, LevelDispatch]
    report_form: list[ReportSection]  # the 速报单's content as this profile's plan lists it
    roster_cite: str  # the mark before every clause the roster cites when it encodes another plan


def dispatch_of(profile: Profile) -> Dispatch:
    """The validated ``dispatch:`` section of a profile; ConfigError names the key path. Validated
    once per profile (``construct.profile_section``: from cache.py when the rules file is unchanged)."""
    from geohazard_cli.construct import profile_section

    return profile_section(profile, "dispatch", Dispatch, _validated, __name__)


def _validated(profile: Profile) -> DispatchSchema:
    from pydantic import ValidationError

    from geohazard_cli.dispatch_schema import Dispatch as DispatchSchema

    try:
        return DispatchSchema.model_validate(profile.dispatch)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in ("dispatch", *err["loc"]))
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{profile.source_file}: {path}: {msg}") from None


# --- call lists -------------------------------------------------------------------------------


# A call list is our own computation from validated data: plain read-only objects (nodes.Node), no
# schema to build.
class BackupNumber(Node):
    """A further number of a unit (contacts.local.yaml ``backups``, or a plan number a local one
    replaced), with where it comes from."""

    __slots__ = _fields = ("dial", "origin", "source")
    dial: str
    origin: Literal["plan", "local"]
    source: str


class CallEntry(Node):
    """One unit to call, once, with every reason and the duties to read out."""

    __slots__ = _fields = ("order", "unit", "label", "footnote", "unit_key", "kind", "phone", "dial", "phone_missing",
                           "in_plan", "reasons", "duties", "origin", "origin_source", "backups", "on_duty")
    _convert: ClassVar[Convert] = {"backups": list_of(BackupNumber)}
    _defaults: ClassVar[dict[str, Any]] = {"label": None, "footnote": None, "origin": None, "origin_source": None,
                                           "backups": [], "on_duty": None}
    order: int
    unit: str  # the unit's full name
    label: str | None  # what it is on this sheet: 受灾街道办事处 (the dispatch rule's label)
    footnote: str | None  # provenance, for a unit the plan does not name (in_plan false)
    unit_key: str
    kind: str
    phone: str | None
    dial: str | None
    phone_missing: str | None  # why no number is known, when phone is None
    in_plan: bool
    reasons: list[str]
    duties: list[str]
    # Where ``dial`` comes from: "plan" (contacts.yaml; ``origin_source`` its clause, 附件3) or
    # "local" (contacts.local.yaml; whose list); None when there is no number.
    origin: Literal["plan", "local"] | None
    origin_source: str | None
    backups: list[BackupNumber]  # further numbers, in the order to try them
    on_duty: str | None  # the person on duty (contacts.local.yaml)


class CallList(Node):
    __slots__ = _fields = ("plan", "level", "level_name", "text", "source", "entries")
    _convert: ClassVar[Convert] = {"entries": list_of(CallEntry)}
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
    bad = check_dispatch(profile, roster, profile.source_file, level=level_key, validated=dispatch)
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
            collective = collective_streets(roster)
            if collective is not None:
                if not streets:
                    add(collective, roster.wording.street_unknown.format(reason=rule.reason, source=rule.source))
                elif rule.all_streets:
                    keep_all = f"{rule.all_streets}({rule.source})"

    # The affected street office stands for 各街道办事处 (the plan's name for the streets in the
    # command and its work groups): it takes over that entry's roles and duties, and 各街道办事处 is
    # not called as well, unless the level calls every street (then it is listed once, saying so).
    collective = collective_streets(roster)
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

    def cite(texts: list[str]) -> list[str]:
        """The roster's own texts with each clause marked as the roster's plan's (``roster_cite``)."""
        if not dispatch.roster_cite:
            return texts
        import re

        return [re.sub(r"\((?=[0-9附])", "(" + dispatch.roster_cite, t) for t in texts]

    entries = []
    for n, key in enumerate(keys, start=1):
        u = roster.by_key[key]
        own = u.duties
        if not own and key in local and collective is not None:
            own = collective.duties  # 附件1(二) 各街道办事处: the affected one's duties
        duties = cite([f"{d.text}({d.source})" for d in own])
        for g, leads in group_duties.get(key, []):
            if leads or not own:
                text = (roster.wording.lead_duty if leads else roster.wording.member_duty).format(
                    group=g.name, duties=g.duties, source=g.source)
                text = cite([text])[0]
                if text not in duties:
                    duties.append(text)
        footnote = None
        if not u.in_plan:
            where = (f"名称据地点“{assessment.incident.location}”确定;" if key in local
                     and assessment.incident.location else "")
            footnote = cite([f"{u.name}: {where}{u.source}"])[0]
        nums = u.numbers()
        first, rest = (nums[0] if nums else None), nums[1:]
        entries.append(CallEntry({
            "order": n, "unit": u.name, "label": labels.get(key), "footnote": footnote, "unit_key": u.key,
            "kind": u.kind, "phone": u.phone, "dial": u.dial,
            "phone_missing": cite([gap])[0] if (gap := u.phone_gap()) else None, "in_plan": u.in_plan,
            "reasons": cite(roster.roles_of(u) + group_roles.get(key, [])) + reasons[key], "duties": duties,
            "origin": first.origin if first else None, "origin_source": first.source if first else None,
            "backups": [BackupNumber({"dial": b.dial, "origin": b.origin, "source": b.source}) for b in rest],
            "on_duty": u.on_duty(),
        }))
    lvl = profile.level_by_key.get(level_key)
    return CallList({"plan": profile.id, "level": level_key, "level_name": lvl.name if lvl else level_key,
                     "text": level.text, "source": level.source, "entries": entries})


def collective_streets(roster: Roster) -> Unit | None:
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


def street_hint(location: str, roster: Roster) -> Unit | None:
    """The street office a location names no street of probably means (a slip: 七理山街道 for
    七里山街道): the one whose name or alias is closest to a stretch of the text as long as it, at
    least three quarters alike; None when none is."""
    import difflib

    text = normalise(location)
    best: tuple[float, Unit] | None = None
    for u in roster.units:
        if u.kind != "street" or u.parent is None:
            continue
        for name in (u.name, *u.aliases):
            n = normalise(name)
            for i in range(max(1, len(text) - len(n) + 1)):
                ratio = difflib.SequenceMatcher(None, n, text[i:i + len(n)]).ratio()
                if ratio >= 0.75 and (best is None or ratio > best[0]):
                    best = (ratio, u)
    return None if best is None else best[1]


def call_list_diff(old: CallList | None, new: CallList) -> tuple[list[CallEntry], list[CallEntry]]:
    """(entries newly to call, entries no longer needed) going from ``old`` to ``new``."""
    if old is None:
        return list(new.entries), []
    before = {e.unit_key for e in old.entries}
    after = {e.unit_key for e in new.entries}
    return ([e for e in new.entries if e.unit_key not in before],
            [e for e in old.entries if e.unit_key not in after])


def check_dispatch(profile: Profile, roster: Roster, file: str, text: str | None = None,
                   level: str | None = None, validated: Dispatch | None = None) -> list[Problem]:
    """Problems of a profile's ``dispatch:`` section against its levels and the roster. With
    ``level``, only that level's entry (what resolving its call list needs), checked on the section
    as already ``validated`` when given."""
    from geohazard_cli.loader import line_finder

    line_of = line_finder(text)
    problems: list[Problem] = []

    def report(loc: list[str | int], message: str, unit: str | None = None) -> None:
        full = ["dispatch", *loc]
        problems.append(Problem(file=file, line=line_of(full), path=".".join(map(str, full)), unit=unit,
                                message=message))

    dispatch = validated
    if dispatch is None:
        from pydantic import ValidationError

        from geohazard_cli.construct import plain
        from geohazard_cli.dispatch_schema import Dispatch as DispatchSchema

        try:
            dispatch = Dispatch(plain(DispatchSchema.model_validate(profile.dispatch)))
        except ValidationError as exc:
            for err in exc.errors():
                loc = list(err["loc"])
                msg = "unknown key" if err["type"] == "extra_forbidden" else (
                    "required key is missing" if err["type"] == "missing" else err["msg"])
                report(loc, msg)
            return problems
    if level is None:
        _check_sections(dispatch, profile, report)
    known = [lv.key for lv in profile.levels]
    for key, ld in dispatch.levels.items():
        if level is not None and key != level:
            continue
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


def _check_sections(dispatch: Dispatch, profile: Profile,
                    report: Callable[[list[str | int], str], None]) -> None:
    """check_dispatch's checks of the whole section: the 速报单's fields, a level for each of the
    profile's levels."""
    from geohazard_cli.fields import FIELD_LABELS

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
