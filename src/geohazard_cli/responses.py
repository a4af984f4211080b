"""The operations on a response, each one transaction: open, update (续报), ack (叫应), close, and a
warning period's opening and later warnings.

Each reads the response's state inside the write transaction, asks the lifecycle core which events
follow (grading and the call list come in from the plan's profile and roster), appends them and
stores the new state. The CLI's ``incident`` and ``warning --record`` commands and ``drill run``
call these same functions, so a drill rehearses exactly what the journal records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from geohazard_cli import lifecycle
from geohazard_cli.errors import InputError
from geohazard_cli.fields import AMOUNT_FIELDS, FIELD_LABELS, TIME_FIELDS
from geohazard_cli.lifecycle import Event, State
from geohazard_cli.timeline import Outcome, human_time, offset_of

if TYPE_CHECKING:
    from geohazard_cli.contacts import Roster
    from geohazard_cli.models import Assessment, Incident
    from geohazard_cli.rules import Profile
    from geohazard_cli.storage import Storage as Journal  # either backend

# Who a level calls: assessment -> the call list as JSON (roster.resolve_call_list), or None when the
# profile defines no dispatch. Passed in so this module needs no roster.
Resolver = Callable[["Assessment"], "dict[str, Any] | None"]


# --- figures as people read them ----------------------------------------------------------------

def value_text(field: str, value: Any, profile: Profile) -> str | None:
    """A figure as people read it: 140人, 500万元, 2026-07-21 09:40."""
    from geohazard_cli.money import format_wan

    if value is None:
        return None
    if field in AMOUNT_FIELDS:
        return format_wan(Decimal(value))
    if field in TIME_FIELDS:
        return human_time(value, profile.timezone) if isinstance(value, datetime) else str(value)
    for ind in profile.indicators:
        if ind.key == field and ind.kind == "count":
            return f"{value}{ind.unit}"
    return str(value)


def plain(value: Any) -> Any:
    if isinstance(value, dict):  # ranges: {field: Reported}
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "model_dump"):
        return plain(value.model_dump())
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _fields(incident: Incident) -> Iterable[str]:
    return (f for f in type(incident).model_fields if f not in ("hazard_type_name", "ranges"))


def _text(incident: Incident, field: str, profile: Profile) -> str | None:
    """``value_text``, or for a figure reported as a range or an estimate, as the forms show it."""
    if incident.ranges and field in incident.ranges:
        from geohazard_cli.documents import field_text

        return field_text(incident, field, profile.timezone, profile)
    shown = "hazard_type_name" if field == "hazard_type" else field
    return value_text(field, getattr(incident, shown), profile)


def _reported(incident: Incident, field: str) -> dict[str, Any] | None:
    r = (incident.ranges or {}).get(field)
    return None if r is None else {k: plain(v) for k, v in r.model_dump().items()}


def narrowed(old: Incident, new: Incident, field: str) -> bool:
    """Whether ``new`` reports ``field`` within the range ``old`` reported, and more closely."""
    r = (old.ranges or {}).get(field)
    if r is None or r.low == r.high or getattr(new, field) is None:
        return False
    n = (new.ranges or {}).get(field)
    low, high = (n.low, n.high) if n is not None else (getattr(new, field),) * 2
    return bool(r.low <= low and high <= r.high and (low, high) != (r.low, r.high))


def figure_changes(old: Incident, new: Incident, profile: Profile) -> list[dict[str, Any]]:
    """Each figure an update changed: field, label, old and new values and texts (a range as typed
    under ``old_range``/``new_range``; ``narrowed`` when the new figure lies within the old range)."""
    changes = []
    for field in _fields(old):
        a, b = getattr(old, field), getattr(new, field)
        ra, rb = _reported(old, field), _reported(new, field)
        if a != b or ra != rb:
            change = {"field": field, "label": FIELD_LABELS.get(field, field), "old": plain(a), "new": plain(b),
                      "old_text": _text(old, field, profile), "new_text": _text(new, field, profile)}
            if ra is not None or rb is not None:
                change |= {"old_range": ra, "new_range": rb, "narrowed": narrowed(old, new, field)}
            changes.append(change)
    return changes


def reported_figures(incident: Incident, profile: Profile) -> list[dict[str, Any]]:
    """The figures an incident holds, labelled, for the opening line and the report."""
    out = []
    for field in _fields(incident):
        if field == "id":
            continue
        text = _text(incident, field, profile)
        if text is not None:
            out.append({"field": field, "label": FIELD_LABELS.get(field, field),
                        "value": plain(getattr(incident, field)), "text": text})
    return out


def recorded_figures(state: State, events: Iterable[Event]) -> list[dict[str, Any]]:
    """The figures as ``reported_figures`` gives them, from the texts the journal recorded (the
    opening's figures, then each update's changes): for an incident whose profile is not at hand."""
    from geohazard_cli.fields import INCIDENT_FIELDS

    texts: dict[str, str] = {}
    for e in events:
        if e.kind == "open":
            texts = {f["field"]: f["text"] for f in e.details.get("figures", [])}
        elif e.kind == "update":
            for c in e.details.get("changes", []):
                if c.get("new_text") is None:
                    texts.pop(c["field"], None)
                else:
                    texts[c["field"]] = c["new_text"]
    return [{"field": field, "label": FIELD_LABELS.get(field, field), "value": state.incident.get(field),
             "text": texts[field]} for field in INCIDENT_FIELDS if field in texts]


def summary(a: Assessment) -> dict[str, Any]:
    """What the journal records of an assessment."""
    return {"grade": a.grade, "grade_name": a.grade_name, "response_level": a.response_level,
            "response_level_name": a.response_level_name, "lower_bound": a.lower_bound,
            "deciding_text": a.deciding_text, "grade_range": a.grade_range.model_dump(), "prepare_for": a.prepare_for,
            "settles": [st.model_dump(mode="json") for st in a.settles],
            "uncertain": a.uncertain.text if a.uncertain is not None else None}


def incident_of(state: State) -> Incident:
    from geohazard_cli.models import Incident

    return Incident.model_validate(state.incident)


def stated(previous: Incident, parsed: Incident, typed: Iterable[str]) -> dict[str, Any]:
    """The fields an update states: every flag typed (even if unchanged) and whatever else it changes.

    Applied over the latest state inside the write transaction, so two officers updating different
    figures at once both keep theirs (figures carry over; the last statement of a figure wins).
    """
    typed = set(typed)
    out = {k: getattr(parsed, k) for k in type(parsed).model_fields
           if k in typed or getattr(parsed, k) != getattr(previous, k)}
    if "hazard_type" in out:
        out["hazard_type_name"] = parsed.hazard_type_name
    return out


def levels(profile: Profile) -> list[str]:
    return [lv.key for lv in profile.levels]


# --- operations ---------------------------------------------------------------------------------

def open_incident(j: Journal, incident: Incident, profile: Profile, resolve: Resolver | None, at: datetime,
                  exercise: bool) -> tuple[State, list[Event], Assessment, dict[str, Any] | None]:
    """Record a new incident, its first assessment and the units to call."""
    from geohazard_cli.grading import grade

    assessment = grade(incident, profile)
    call_list = resolve(assessment) if resolve is not None else None
    with j.transaction(write=True):
        warning = _warning_for(j, incident.location)
        drafts = lifecycle.opening("incident", at, profile.id, exercise, call_list,
                                   incident=incident.model_dump(mode="json"),
                                   figures=reported_figures(incident, profile), assessment=summary(assessment),
                                   linked_warning=warning.id if warning is not None else None)
        state, events = j.create(drafts)
    return state, events, assessment, call_list


class Update(NamedTuple):
    """What an update did: the new assessment, the figures it changed, and the level it proposes
    (``level_changed``: the assessment calls for another level than the one in force; that level is
    proposed, not in force, until ``decide``) with the units that level would newly call."""

    assessment: Assessment
    changes: list[dict[str, Any]]
    previous_grade: str
    previous_grade_name: str
    previous_level: str
    previous_level_name: str
    direction: str
    call_list: dict[str, Any] | None
    newly_called: list[dict[str, Any]]
    no_longer_needed: list[dict[str, Any]]

    @property
    def level_changed(self) -> bool:
        return self.assessment.response_level != self.previous_level

    @property
    def grade_changed(self) -> bool:
        return self.assessment.grade != self.previous_grade


def update_incident(j: Journal, response_id: int, delta: dict[str, Any], profile: Profile,
                    resolve: Resolver | None, at: datetime) -> tuple[State, list[Event], Update]:
    """Apply a new report to an open incident: re-grade it over the latest figures, and record the
    update, any level change and any change to the call list, in one transaction."""
    from geohazard_cli.grading import grade
    from geohazard_cli.models import Incident

    with j.transaction(write=True):
        state = j.writable(response_id, at)
        if state.plan != profile.id:
            raise InputError(f'incident {response_id} is graded under plan "{state.plan}", not "{profile.id}"')
        before = incident_of(state)
        after = Incident.model_validate({**before.model_dump(), **delta})
        a = grade(after, profile)
        call_list = resolve(a) if resolve is not None else None
        changes = figure_changes(before, after, profile)
        newly, dropped = lifecycle.diff(state.call_list, call_list) if call_list is not None else ([], [])
        result = Update(a, changes, state.grade, state.grade_name, state.response_level,
                        state.response_level_name, lifecycle.direction(levels(profile), state.response_level,
                                                                       a.response_level),
                        call_list if call_list is not None else state.call_list, newly, dropped)
        drafts = lifecycle.updating(state, at, levels(profile), given={k: plain(v) for k, v in delta.items()},
                                    changes=changes, incident=after.model_dump(mode="json"),
                                    assessment=summary(a), call_list=call_list)
        state, events = j.append(state, drafts)
    return state, events, result


_ROMAN_OF = {**{str(n): r for n, r in enumerate(("I", "II", "III", "IV", "V"), start=1)},
             **dict(zip("一二三四五", ("I", "II", "III", "IV", "V"), strict=True))}


def parse_level(text: str, profile: Profile, field: str = "--level") -> tuple[str, str]:
    """A response level as typed: its key (II), its name (II级响应), or II级; full-width too."""
    import unicodedata

    raw = unicodedata.normalize("NFKC", text).strip()
    # The same numeral written otherwise: 2, 2级, 二级, 二级响应 for II (the keys are Roman numerals)
    bare = raw.removesuffix("响应").removesuffix("级").strip()
    roman = _ROMAN_OF.get(bare, bare.upper())
    for lv in profile.levels:
        if raw in (lv.key, lv.name, f"{lv.key}级") or raw.upper() == lv.key or roman == lv.key:
            return lv.key, lv.name
    from geohazard_cli.errors import field_error

    known = ", ".join(f"{lv.key} ({lv.name})" for lv in profile.levels)
    raise field_error(field, text, f"is not a response level of {profile.short_title} (accepted: {known})")


def decide(j: Journal, response_id: int, level: str, by: str, profile: Profile, resolve: Resolver | None,
           at: datetime, note: str | None = None) -> tuple[State, list[Event]]:
    """Record a decision on an incident's response level (§6.1.2, §6.2.2), by whom: the level in
    force from now, and its call list; a changed level starts a new round of 叫应."""
    from geohazard_cli.grading import grade

    with j.transaction(write=True):
        state = j.writable(response_id, at)
        if state.response != "incident":
            raise InputError(f"ID: {response_id} is a warning response; its level is the warning's colour "
                             "(record a later warning with 'geohazard warning LEVEL --record')")
        key, name = parse_level(level, profile)
        a = grade(incident_of(state), profile)
        decided = a.model_copy(update={"response_level": key, "response_level_name": name})
        call_list = resolve(decided) if resolve is not None else None
        drafts = lifecycle.deciding(state, at, levels(profile), key, name, by, call_list, note)
        return j.append(state, drafts)


def acknowledge(j: Journal, response_id: int, calls: list[tuple[str, str]], outcome: Outcome, by: str | None,
                at: datetime, answerer: str | None = None,
                responded_at: datetime | None = None) -> tuple[State, list[Event]]:
    """Record calls of the 叫应 loop, one row of the paper call sheet each (unit key, unit name): ``at``
    呼叫时间, ``outcome`` 结果, ``answerer`` 接听人 (who answered at the unit), ``responded_at`` 回应时间,
    and ``by`` 经办人 (the officer who made the call). Several units: one transaction."""
    if responded_at is not None and responded_at < at:
        raise InputError(f'--responded-at: "{human_time(responded_at, offset_of(at))}" is before the call '
                         f"({human_time(at)})")
    with j.transaction(write=True):
        state = j.writable(response_id, at)
        drafts = [d for key, name in calls
                  for d in lifecycle.acking(state, at, key, name, outcome.value, by, answerer, responded_at)]
        return j.append(state, drafts)


def report_sent(j: Journal, response_id: int, report: str, to: list[str], by: str | None, at: datetime,
                note: str | None = None) -> tuple[State, list[Event]]:
    """Record a report sent upward (速报 ``first`` or 续报 ``follow_up``): what ``incident due`` counts."""
    with j.transaction(write=True):
        state = j.writable(response_id, at)
        return j.append(state, lifecycle.reporting(state, at, report, to, by, note))


def amend(j: Journal, response_id: int, reason: str, at: datetime, profile: Profile | None = None,
          resolve: Resolver | None = None, delta: dict[str, Any] | None = None,
          opened_at: datetime | None = None) -> tuple[State, list[Event]]:
    """Correct a mistyped opening time or figures, as a new event (the history keeps both). The
    correction may be made at any time after the mistake, so ``at`` is not held against the
    (possibly mistyped) opening time; the corrected opening may not follow what is recorded after it."""
    from geohazard_cli.grading import grade
    from geohazard_cli.models import Incident

    with j.transaction(write=True):
        state = j.writable(response_id, None)
        if opened_at is not None:
            events = j.events(response_id)
            opening = {e.seq for e in events[:2] if e.at == events[0].at and e.kind in ("open", "call")}
            later = [e.at for e in events if e.seq not in opening and e.at < opened_at]
            if later:
                raise InputError(f"--opened-at: {human_time(opened_at, offset_of(opened_at))} is after events "
                                 f"already recorded ({human_time(min(later))}); give the time it was really opened")
        figures: dict[str, Any] = {}
        if delta:
            assert profile is not None
            before = incident_of(state)
            after = Incident.model_validate({**before.model_dump(), **delta})
            a = grade(after, profile)
            figures = {"given": {k: plain(v) for k, v in delta.items()},
                       "changes": figure_changes(before, after, profile), "incident": after.model_dump(mode="json"),
                       "assessment": summary(a), "call_list": resolve(a) if resolve is not None else None}
        levels_ = levels(profile) if profile is not None else []
        drafts = lifecycle.amending(state, at, levels_, reason, opened_at=opened_at, **figures)
        return j.append(state, drafts)


def close(j: Journal, response_id: int, reason: str, by: str | None, at: datetime,
          confirmed: list[str] | None = None) -> tuple[State, list[Event]]:
    """Terminate the response (§6.4): it takes no more updates or calls. ``confirmed``: the §6.4
    criteria the officer confirmed (clauses.confirmed_criteria checks that none is left out)."""
    with j.transaction(write=True):
        state = j.writable(response_id, at)
        return j.append(state, lifecycle.closing(state, at, reason, by, confirmed))


def read(j: Journal, response_id: int) -> tuple[State, list[Event]]:
    """The state and the timeline, read in one transaction (a consistent view)."""
    with j.transaction(write=False):
        return j.state(response_id), j.events(response_id)


def state_of(j: Journal, response_id: int) -> State:
    """The state alone (its snapshot: one row, however long the history), in one read transaction."""
    with j.transaction(write=False):
        return j.state(response_id)


def listing(j: Journal, status: str | None) -> list[State]:
    with j.transaction(write=False):
        return j.states(status)


def resolve_unit(name: str, roster: Roster | None, states: Iterable[State], suffixes: Sequence[str] = (),
                 field: str = "--unit") -> tuple[str, str]:
    """A unit called or answering, as (key, name): one the roster knows (by name, alias or key), else
    one on a response's current call list (the plan names it, the roster has no entry: the hazard
    sites' people), else a 街道办事处 by its short form (七里山; ``suffixes``: the profile's
    ``warning.streets.suffixes``), as ``warning --area`` reads it; an ambiguous short form is an
    error listing the candidates, an unknown name one naming the closest unit."""
    unit = roster.find(name) if roster is not None else None
    if unit is not None:
        return unit.key, unit.name
    found = listed_unit(name, states)
    if found is not None:
        return found
    if roster is not None:
        from geohazard_cli.streets import match_street

        street = match_street(suffixes, name, [u for u in roster.units if u.kind == "street"], field)
        if street is not None:
            return street.key, street.name
        roster.unit(name)  # raises NotFoundError with the closest name
    return name, name


def listed_unit(name: str, states: Iterable[State]) -> tuple[str, str] | None:
    """The unit as a response's current call list names it, by its key or its full name: (key,
    name), or None. A call list is made from the roster, so a unit the roster knows resolves here
    to what ``resolve_unit`` gives (``incident ack`` looks here first and reads the roster only for
    a name the list does not hold: a short form, an alias, a unit not called)."""
    import unicodedata

    wanted = unicodedata.normalize("NFKC", name).strip().casefold()
    for s in states:
        for e in lifecycle.entries(s):
            key, listed = str(e.get("unit_key") or ""), str(e.get("unit") or "")
            if wanted in (key.casefold(), unicodedata.normalize("NFKC", listed).strip().casefold()):
                return key, listed
    return None


def street_suffixes(profile: Profile) -> list[str]:
    """The endings that make a name a street's (``warning.streets.suffixes``), for resolve_unit."""
    return list(_warning_facts(profile)["suffixes"])


def _warning_facts(profile: Profile) -> dict[str, Any]:
    """What the journal needs of the profile's ``warning:`` section (street suffixes, colour keys),
    as warning_rules validated it. A journal command (ack, update, notify) needs only these, not the
    section's ~20 models: they are kept as plain data in cache.py, beside the profile's entry and
    keyed on warning_rules' sources, and used only for the very section they were taken from."""
    def facts() -> dict[str, Any]:
        from geohazard_cli.warning_rules import load_section

        section = load_section(profile, profile.id)
        return {"warning": profile.warning, "suffixes": list(section.streets.suffixes),
                "colours": [c.key for c in section.colours]}

    if profile.loaded_from is None:
        return facts()
    from pydantic.version import VERSION

    from geohazard_cli.cache import cached_data

    data: dict[str, Any] = cached_data(profile.loaded_from, facts, computed_by="geohazard_cli.warning_rules",
                                       key_extra=(VERSION,), kind="warning-facts")
    return data if data.get("warning") == profile.warning else facts()


# --- warning periods ----------------------------------------------------------------------------

def warning_call_list(data: dict[str, Any]) -> dict[str, Any]:
    """A warning response's 叫应 list (``warning --format json``'s contacts) as call-list entries."""
    entries = [{"order": i, "unit": c.get("unit"), "unit_key": c.get("unit_key") or c.get("unit"),
                "phone": c.get("phone"), "dial": c.get("dial"),
                "reasons": [_reason_text(r) for r in c.get("reasons", [])]}
               for i, c in enumerate((c for c in data.get("contacts", []) if isinstance(c, dict)), start=1)]
    return {"level": data.get("level"), "level_name": data.get("level_name"), "entries": entries}


def warning_summary(data: dict[str, Any]) -> dict[str, Any]:
    """What the journal records of a warning (``warning --format json``): colour, areas, whether it
    starts the warning-period response, and that response's name."""
    activation = data.get("activation")
    return {"level": data.get("level"), "level_name": data.get("level_name"), "areas": list(data.get("areas") or []),
            "active": bool(data.get("active")), "event": data.get("event"),
            "period": activation.get("name") if isinstance(activation, dict) else None}


def warning_colours(profile: Profile) -> list[str]:
    """The profile's warning colours, lowest first."""
    return list(_warning_facts(profile)["colours"])


def _reason_text(reason: Any) -> str:
    if isinstance(reason, dict):
        text, source = reason.get("text", ""), reason.get("source")
        return f"{text}({source})" if source else str(text)
    return str(reason)


def open_warning(j: Journal, data: dict[str, Any], plan: str, at: datetime,
                 exercise: bool) -> tuple[State, list[Event]]:
    """A warning period starts: its 叫应 list is the warning's."""
    drafts = lifecycle.opening("warning", at, plan, exercise, warning_call_list(data),
                               warning=warning_summary(data))
    with j.transaction(write=True):
        return j.create(drafts)


def change_warning(j: Journal, response_id: int, data: dict[str, Any], colours: list[str],
                   at: datetime) -> tuple[State, list[Event]]:
    """A later warning for the same response: a new colour is a new round of 叫应."""
    with j.transaction(write=True):
        state = j.writable(response_id, at)
        drafts = lifecycle.warning_change(state, at, colours, warning_summary(data), warning_call_list(data))
        return j.append(state, drafts)


def _warning_for(j: Journal, location: str | None) -> State | None:
    """The latest open warning response one of whose areas the location names (inside a transaction)."""
    if not location:
        return None
    found = [s for s in j.states("open", "warning")
             if any(a and a in location for a in (s.warning or {}).get("areas") or [])]
    return found[-1] if found else None


def active_warning(j: Journal, areas: Iterable[str]) -> State | None:
    """The open warning response covering any of these areas (the latest), if any."""
    wanted = set(areas)
    with j.transaction(write=False):
        found = [s for s in j.states("open", "warning") if wanted & set((s.warning or {}).get("areas") or [])]
    return found[-1] if found else None


def record_warning(j: Journal, data: dict[str, Any], plan: str, colours: list[str], at: datetime, exercise: bool,
                   lifted: str | None = None) -> tuple[State, list[Event], str]:
    """Record a warning as a response: the first for its areas opens one; a later one for the same
    areas (overlapping) is an event of that response; ``lifted`` (the reason, for a Cancel) ends it.
    Returns the state, the events written and what happened: opened, changed or lifted."""
    current = active_warning(j, data.get("areas") or [])
    if lifted is not None:
        if current is None:
            raise InputError("--record: no open warning response covers "
                             f"{'、'.join(data.get('areas') or []) or 'these areas'}; nothing to lift")
        state, events = close(j, current.id, lifted, None, at)
        return state, events, "lifted"
    if current is None:
        state, events = open_warning(j, data, plan, at, exercise)
        return state, events, "opened"
    state, events = change_warning(j, current.id, data, list(reversed(colours)), at)
    return state, events, "changed"


# --- delivery (incident notify) and replies (incident ack-import) ---------------------------------

def queue_messages(j: Journal, response_id: int, messages: list[dict[str, Any]],
                   at: datetime) -> tuple[State, list[Event]]:
    """Record messages to send (``message`` events), each once: a key already in the journal is
    not queued again (the idempotency key is the message's identity)."""
    with j.transaction(write=True):
        state = j.writable(response_id, at)
        fresh = list({m["key"]: m for m in messages if m["key"] not in state.messages}.values())
        if not fresh:
            return state, []
        return j.append(state, [lifecycle.Draft("message", at, dict(m), state.grade or None,
                                                state.response_level or None) for m in fresh])


def claim(j: Journal, response_id: int, key: str, allowed: Iterable[str],
          at: datetime) -> dict[str, Any] | None:
    """Record ``sending`` for a message before its request, if its status is still one of ``allowed``
    (another notify may have sent it meanwhile): the message as recorded when this process may
    send it, else None."""
    return claim_many(j, response_id, [key], allowed, at).get(key)


def claim_many(j: Journal, response_id: int, keys: list[str], allowed: Iterable[str],
               at: datetime) -> dict[str, dict[str, Any]]:
    """``claim`` for several messages in one transaction: the ones whose status is still one of
    ``allowed``, each recorded ``sending`` (all of a round at once for a channel that reaches no
    one: ``delivery.send_all``)."""
    with j.transaction(write=True):
        state = j.writable(response_id, at)
        ok = set(allowed)
        claimed = {k: dict(m) for k in dict.fromkeys(keys) if (m := state.messages.get(k)) is not None
                   and m.get("status") in ok}
        if claimed:
            j.append(state, [_attempt(state, k, "sending", None, "", at) for k in claimed])
        return claimed


def record_attempts(j: Journal, response_id: int, attempts: list[tuple[str, str, str | None, str]],
                    at: datetime) -> State:
    """Record how attempts ended: (key, ``sent``/``failed``, the platform's reply code, a short detail
    that never holds a secret)."""
    with j.transaction(write=True):
        state = j.writable(response_id, at)
        state, _ = j.append(state, [_attempt(state, key, result, code, detail, at)
                                    for key, result, code, detail in attempts])
        return state


def _attempt(state: State, key: str, result: str, code: str | None, detail: str, at: datetime) -> lifecycle.Draft:
    m = state.messages.get(key) or {}
    details = {"key": key, "channel": m.get("channel"), "target": m.get("target"), "unit": m.get("unit"),
               "unit_key": m.get("unit_key"), "text_digest": m.get("text_digest"), "result": result,
               "code": code, "detail": detail, "at": at.isoformat()}
    return lifecycle.Draft("attempt", at, details, state.grade or None, state.response_level or None)


def import_replies(j: Journal, response_id: int, replies: list[tuple[str, str, Outcome, datetime, str]],
                   by: str | None) -> tuple[State, list[Event]]:
    """Record the replies of an SMS platform's export as answers of the 叫应 loop, one transaction:
    (unit key, unit name, outcome, when it replied, the number it came from)."""
    if not replies:
        with j.transaction(write=False):
            return j.state(response_id), []
    with j.transaction(write=True):
        state = j.writable(response_id, min(r[3] for r in replies))
        drafts = [d for key, name, outcome, when, number in replies
                  for d in lifecycle.acking(state, when, key, name, outcome.value, by, number, when)]
        return j.append(state, drafts)
