"""The response lifecycle: a response (an incident, or a warning period) is its ordered events, and
its state is a pure function of them.

Everything that records or rehearses a response goes through here: the journal appends the events
this module decides and stores the state it folds (a snapshot, so a write never re-reads history);
``drill run`` feeds its steps through the same functions on an in-memory journal. No I/O, no clock:
times come in with the events.

The one rule for 叫应 across a level change (§6.1.2, §6.2.2 "可视灾情及其发展情况及时调整响应级别";
§6.3(1) "既能叫醒也有回应"): **a new level is a new round**. Opening a response, a change of its
response level, and a change of a warning's colour each start a round; a unit on the current call
list counts as answered only by an answer recorded in the current round. A unit that answered for
III级响应 has to be told that it is now II级响应.

Event kinds (``kind``, with ``details``):

- ``open``: the response starts. ``details.response`` is ``incident`` or ``warning``; an incident
  carries its figures and first assessment, a warning its colour and areas.
- ``update``: new figures for an incident (续报) and the assessment they give. The assessment is a
  proposal (建议): when its level differs from the level in force, a ``proposal`` follows.
- ``proposal``: the level the assessment calls for, and that level's call list, for the officer to
  prepare (§6.1.2, §6.2.2: 区指挥部向区政府提出建议); the level in force does not move.
- ``decision``: who decided (区政府) which level is in force; when it changed, its call list is the
  one to work and a new round starts. (``level_change``: journals written before decisions were
  recorded moved the level at once; it folds as a decision nobody was named for.)
- ``warning``: a later warning for the same response (colour raised or lowered); starts a round
  when the colour changed.
- ``call``: the call list changed: ``newly`` and ``dropped`` entries and the whole new ``call_list``.
- ``ack``: one call of the 叫应 loop and its outcome.
- ``report``: a report sent upward (速报 ``first``, 续报 ``follow_up``), to whom.
- ``amend``: a correction of a mistyped figure or time (the opening time): the history keeps both
  the original and the correction; corrected figures are re-assessed like a report.
- ``close``: the response ends (§6.4).
- ``message``: a 叫应 message queued for one unit over one channel (``incident notify``): its
  idempotency ``key`` (response, round, unit, channel, kind), target and text.
- ``attempt``: one delivery attempt of a message: ``result`` ``sending`` (recorded before the
  request), then ``sent`` or ``failed`` with the platform's reply ``code``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

KINDS = ("open", "update", "amend", "proposal", "decision", "level_change", "warning", "call", "ack", "report",
         "close", "message", "attempt")
KIND_LABELS = {"open": "接报", "update": "续报", "amend": "更正", "proposal": "级别建议", "decision": "级别决定",
               "level_change": "级别调整", "warning": "预警", "call": "叫应", "ack": "回应", "report": "上报",
               "close": "响应终止", "message": "通知", "attempt": "发送"}
ROUND_STARTERS = ("open", "level_change")  # and "warning" when the colour changed
ANSWERED = "answered"
# What a message event records and its state keeps (the text is kept so a --retry resends it as queued).
MESSAGE_FIELDS = ("channel", "kind", "unit_key", "unit", "target", "text", "text_digest", "round_seq")

Direction = Literal["up", "down", "same"]


# Records are NamedTuples and State a plain class, not dataclasses: generating a dataclass's methods
# cost ~1.4 ms each at every journal command's start-up.
class Draft(NamedTuple):
    """An event decided but not yet stored: the journal gives it its ``seq`` and ``recorded_at``."""

    kind: str
    at: datetime
    details: dict[str, Any]
    grade: str | None = None
    response_level: str | None = None
    answerer: str | None = None
    responded_at: datetime | None = None


class Event(NamedTuple):
    """One stored line of a response's timeline."""

    seq: int
    kind: str
    at: datetime
    recorded_at: datetime
    details: dict[str, Any]
    grade: str | None = None
    response_level: str | None = None
    answerer: str | None = None  # ack: 接听人, who answered at the unit (the caller is details "by")
    responded_at: datetime | None = None  # ack: 回应时间, when the unit responded (the call is "at")
    station: str | None = None  # who wrote it: the duty station (值班点) and its officer (not part of the state)
    officer: str | None = None


# State's fields after ``id``, each with its default (a type: a new empty one of it each time).
_STATE_DEFAULTS: dict[str, Any] = {
    "response": "incident", "status": "open", "exercise": False, "plan": "", "opened_at": None, "updated_at": None,
    "closed_at": None, "close_reason": None, "close_by": None, "incident": dict, "assessment": None, "grade": "",
    "grade_name": "", "response_level": "", "response_level_name": "", "warning": None, "proposed": None,
    "decided_by": None, "decided_at": None, "level_grade": "", "level_grade_name": "", "reports": dict, "amended": 0,
    "linked_warning": None, "call_list": None, "round_seq": 0, "round_at": None, "answered": dict, "attempts": dict,
    "last": dict, "last_seq": 0, "messages": dict,
}


class State:
    """A response as its events leave it. ``apply`` folds one event in; ``replay`` folds them all.
    ``State(id, field=value, ...)``: the fields not given take their defaults."""

    __slots__ = ("id", *_STATE_DEFAULTS)
    id: int
    response: str  # incident | warning
    status: str  # open | closed
    exercise: bool
    plan: str
    opened_at: datetime | None
    updated_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    close_by: str | None
    incident: dict[str, Any]  # the figures (Incident as JSON)
    assessment: dict[str, Any] | None  # the last recorded assessment summary
    grade: str
    grade_name: str
    response_level: str
    response_level_name: str
    warning: dict[str, Any] | None  # a warning's level, level_name, areas, active
    proposed: dict[str, Any] | None  # a level proposed and not yet decided (and its call list)
    decided_by: str | None  # who decided the level in force (None: as opened, not yet decided)
    decided_at: datetime | None
    level_grade: str  # the grade when the level in force was set (opened or decided)
    level_grade_name: str
    # first, last (ISO) and count of reports sent; correction: a figure amended after the 速报, until
    # the next report (a 续报 or 更正) carries it
    reports: dict[str, Any]
    amended: int  # corrections recorded
    linked_warning: int | None  # the warning response open for its street when it was opened
    call_list: dict[str, Any] | None  # the current call list (entries in call order)
    round_seq: int  # the event that started the current round of 叫应
    round_at: datetime | None
    answered: dict[str, str]  # unit key -> first answer (ISO) this round
    attempts: dict[str, int]  # unit key -> calls recorded this round
    last: dict[str, dict[str, Any]]  # unit key -> last call {at, outcome}
    last_seq: int
    messages: dict[str, dict[str, Any]]  # message key -> its delivery status

    def __init__(self, id: int, **values: Any) -> None:
        unknown = set(values) - set(_STATE_DEFAULTS)
        if unknown:
            raise TypeError(f"State: unknown fields {sorted(unknown)}")
        self.id = id
        for name, default in _STATE_DEFAULTS.items():
            setattr(self, name, values[name] if name in values else default() if isinstance(default, type)
                    else default)

    def __eq__(self, other: object) -> bool:
        return type(other) is State and all(getattr(self, f) == getattr(other, f) for f in State.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"State({', '.join(f'{f}={getattr(self, f)!r}' for f in State.__slots__)})"


# --- folding ------------------------------------------------------------------------------------


def apply(state: State, ev: Event) -> State:
    """Fold one event into ``state`` (in place; returned for chaining)."""
    d = ev.details
    state.last_seq = ev.seq
    if state.updated_at is None or ev.at > state.updated_at:
        state.updated_at = ev.at
    kind = ev.kind
    if kind == "open":
        state.response = d.get("response", "incident")
        state.exercise = bool(d.get("exercise"))
        state.plan = d.get("plan", state.plan)
        state.opened_at = ev.at
        state.incident = dict(d.get("incident") or {})
        state.linked_warning = d.get("linked_warning")
        if d.get("warning") is not None:
            _warned(state, d["warning"])
        _assessed(state, d.get("assessment"))
        if d.get("call_list") is not None:
            state.call_list = d["call_list"]
        _new_round(state, ev)
    elif kind == "amend":
        state.amended += 1
        opened = d.get("opened_at")
        if opened is not None:
            new = datetime.fromisoformat(opened["new"])
            if state.round_at == state.opened_at:
                state.round_at = new
            state.opened_at = new
        if d.get("incident") is not None:
            _figures(state, d)
            if state.reports.get("first") is not None:  # figures already reported upward: a corrected report is owed
                state.reports = {**state.reports, "correction": ev.at.isoformat()}
    elif kind == "report":
        at = ev.at.isoformat()
        first = state.reports.get("first") or (at if d.get("report") == "first" else None)
        state.reports = {"first": first, "last": at, "count": state.reports.get("count", 0) + 1}
    elif kind == "update":
        _figures(state, d)
    elif kind == "proposal":
        state.proposed = {**d, "at": ev.at.isoformat()}
    elif kind in ("decision", "level_change"):
        changed = d["response_level"] != state.response_level
        state.response_level = d["response_level"]
        state.response_level_name = d["response_level_name"]
        if kind == "level_change":
            state.grade, state.grade_name = d.get("grade", state.grade), d.get("grade_name", state.grade_name)
        state.level_grade, state.level_grade_name = state.grade, state.grade_name
        state.decided_by, state.decided_at = d.get("by"), ev.at
        if state.proposed is not None and state.proposed.get("response_level") == d["response_level"]:
            state.proposed = None
        if d.get("call_list") is not None:
            state.call_list = d["call_list"]
        if changed or kind == "level_change":
            _new_round(state, ev)
    elif kind == "warning":
        previous = (state.warning or {}).get("level")
        _warned(state, d["warning"])
        if d["warning"].get("level") != previous:
            _new_round(state, ev)
    elif kind == "call":
        if d.get("call_list") is not None:
            state.call_list = d["call_list"]
        else:  # journals written before the call event carried the whole list
            state.call_list = _derived_list(state.call_list, d)
    elif kind == "ack":
        key = d.get("unit_key")
        if isinstance(key, str):
            state.last[key] = {"at": ev.at.isoformat(), "outcome": d.get("outcome")}
            state.attempts[key] = state.attempts.get(key, 0) + 1
            if d.get("outcome") == ANSWERED and key not in state.answered:
                state.answered[key] = ev.at.isoformat()
    elif kind == "close":
        state.status = "closed"
        state.closed_at = ev.at
        state.close_reason = d.get("reason")
        state.close_by = d.get("by")
    elif kind in ("message", "attempt"):
        _delivery(state, ev)
    return state


def _delivery(state: State, ev: Event) -> None:
    """A message queued (``queued``) and each attempt at it: ``sending`` before the request, then
    ``sent`` or ``failed``. A ``sending`` with nothing after it is an attempt whose end is unknown."""
    d, key = ev.details, ev.details.get("key")
    if not isinstance(key, str):
        return
    if ev.kind == "message":
        if key not in state.messages:
            state.messages[key] = {name: d.get(name) for name in MESSAGE_FIELDS} | {
                "status": "queued", "attempts": 0, "code": None, "at": ev.at.isoformat()}
        return
    m = state.messages.get(key)
    if m is None:
        return
    m["status"], m["code"], m["at"] = d.get("result"), d.get("code"), ev.at.isoformat()
    if d.get("result") == "sending":
        m["attempts"] = int(m.get("attempts") or 0) + 1


def replay(response_id: int, events: Iterable[Event]) -> State:
    """The state a response's events give, from the first."""
    state = State(id=response_id)
    for ev in events:
        apply(state, ev)
    return state


def _assessed(state: State, summary: dict[str, Any] | None) -> None:
    """The opening assessment: the response starts at its level (to be decided: §6.1.2)."""
    if summary is None:
        return
    state.assessment = dict(summary)
    state.grade, state.grade_name = summary["grade"], summary["grade_name"]
    state.response_level = summary["response_level"]
    state.response_level_name = summary["response_level_name"]
    state.level_grade, state.level_grade_name = state.grade, state.grade_name


def _figures(state: State, d: dict[str, Any]) -> None:
    """New figures and their assessment: the grade is the figures'; the level in force moves only by
    a decision."""
    state.incident = dict(d.get("incident") or state.incident)
    a = d.get("assessment")
    if a is not None:
        state.assessment = dict(a)
        state.grade, state.grade_name = a["grade"], a["grade_name"]
        if a["response_level"] == state.response_level:  # the figures no longer call for a change
            state.proposed = None


def _warned(state: State, warning: dict[str, Any]) -> None:
    """A warning's colour stands where an incident's response level does."""
    state.warning = dict(warning)
    state.response_level = warning.get("level") or ""
    state.response_level_name = warning.get("level_name") or ""


def _new_round(state: State, ev: Event) -> None:
    state.round_seq, state.round_at = ev.seq, ev.at
    state.answered, state.attempts = {}, {}


def _derived_list(old: dict[str, Any] | None, d: dict[str, Any]) -> dict[str, Any]:
    dropped = {e.get("unit_key") for e in d.get("dropped", [])}
    kept = [e for e in (old or {}).get("entries", []) if e.get("unit_key") not in dropped]
    entries = sorted([*kept, *d.get("newly", [])], key=lambda e: e.get("order") or 0)
    return {**(old or {}), "entries": entries}


# --- reading the state --------------------------------------------------------------------------


def entries(state: State) -> list[dict[str, Any]]:
    return list((state.call_list or {}).get("entries", []))


def backup_dials(entry: dict[str, Any]) -> list[Any]:
    """A call-list entry's backup numbers (contacts.local.yaml), as dialled, in their order."""
    return [b.get("dial") if isinstance(b, dict) else b for b in entry.get("backups") or ()]


def on_list(state: State, unit_key: str) -> bool:
    return any(e.get("unit_key") == unit_key for e in entries(state))


def pending(state: State) -> list[dict[str, Any]]:
    """Units on the current call list with no answer in the current round (叫应 not closed), in call
    order, each with its last recorded call (of any round)."""
    out = []
    for e in entries(state):
        key = e.get("unit_key") or ""
        if key in state.answered:
            continue
        last = state.last.get(key)
        out.append({"order": e.get("order"), "unit": e.get("unit", key), "unit_key": key,
                    "phone": e.get("phone"), "dial": e.get("dial"),
                    "last_outcome": last["outcome"] if last else None,
                    "last_at": last["at"] if last else None,
                    "attempts": state.attempts.get(key, 0)})
    return out


def acknowledged(state: State) -> list[str]:
    """Names of the units on the current call list that answered in the current round."""
    return [e.get("unit", "") for e in entries(state) if e.get("unit_key") in state.answered]


# --- deciding events ----------------------------------------------------------------------------


def direction(order: Sequence[str], old: str, new: str) -> Direction:
    """Levels are listed strongest first (I, II, III): a smaller index is a stronger response."""
    if old == new or old not in order or new not in order:
        return "same"
    return "up" if order.index(new) < order.index(old) else "down"


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[list[dict[str, Any]],
                                                                          list[dict[str, Any]]]:
    """(entries newly to call, entries no longer needed) going from call list ``old`` to ``new``."""
    before = {e.get("unit_key") for e in (old or {}).get("entries", [])}
    after = {e.get("unit_key") for e in (new or {}).get("entries", [])}
    return ([e for e in (new or {}).get("entries", []) if e.get("unit_key") not in before],
            [e for e in (old or {}).get("entries", []) if e.get("unit_key") not in after])


def opening(response: str, at: datetime, plan: str, exercise: bool, call_list: dict[str, Any] | None, *,
            incident: dict[str, Any] | None = None, figures: list[dict[str, Any]] | None = None,
            assessment: dict[str, Any] | None = None, warning: dict[str, Any] | None = None,
            linked_warning: int | None = None) -> list[Draft]:
    """A new response: its opening and the units to call (an incident: and the warning response open
    for its street, if any)."""
    details: dict[str, Any] = {"response": response, "exercise": exercise, "plan": plan}
    if linked_warning is not None:
        details["linked_warning"] = linked_warning
    if response == "incident":
        details |= {"figures": figures or [], "incident": incident or {}, "assessment": assessment}
    else:
        details["warning"] = warning
    details["call_list"] = call_list
    g, lv = _keys(assessment, warning)
    out = [Draft("open", at, details, g, lv)]
    if call_list is not None and call_list.get("entries"):
        out.append(Draft("call", at, {"newly": call_list["entries"], "dropped": [], "call_list": call_list},
                         g, lv))
    return out


def updating(state: State, at: datetime, levels: Sequence[str], *, given: dict[str, Any],
             changes: list[dict[str, Any]], incident: dict[str, Any], assessment: dict[str, Any],
             call_list: dict[str, Any] | None) -> list[Draft]:
    """A new report (续报): the update, the level change it implies, the call-list change."""
    g, lv = assessment["grade"], assessment["response_level"]
    out = [Draft("update", at, {"given": given, "changes": changes, "incident": incident,
                                "assessment": assessment}, g, lv)]
    if lv == state.response_level:
        return out + _call_change(state.call_list, call_list, at, g, lv)
    newly, dropped = diff(state.call_list, call_list) if call_list is not None else ([], [])
    out.append(Draft("proposal", at, {
        "direction": direction(levels, state.response_level, lv),
        "previous_level": state.response_level, "previous_level_name": state.response_level_name,
        "response_level": lv, "response_level_name": assessment["response_level_name"],
        "previous_grade": state.grade, "previous_grade_name": state.grade_name,
        "grade": g, "grade_name": assessment["grade_name"],
        "call_list": call_list, "newly": newly, "dropped": dropped,
    }, g, lv))
    return out


def deciding(state: State, at: datetime, levels: Sequence[str], level: str, level_name: str, by: str,
             call_list: dict[str, Any] | None, note: str | None = None) -> list[Draft]:
    """A decision on the level in force (§6.1.2, §6.2.2: 区政府启动/调整), by whom; when it changes
    the level, that level's call list is the one to work and a new round of 叫应 starts."""
    proposal = state.proposed if (state.proposed or {}).get("response_level") == level else None
    newly, dropped = diff(state.call_list, call_list) if call_list is not None else ([], [])
    return [Draft("decision", at, {
        "by": by, "note": note, "direction": direction(levels, state.response_level, level),
        "previous_level": state.response_level, "previous_level_name": state.response_level_name,
        "response_level": level, "response_level_name": level_name,
        "previous_grade": state.level_grade, "previous_grade_name": state.level_grade_name,
        "grade": state.grade, "grade_name": state.grade_name,
        "as_proposed": proposal is not None or level == (state.assessment or {}).get("response_level"),
        "call_list": call_list, "newly": newly, "dropped": dropped,
    }, state.grade or None, level)]


def warning_change(state: State, at: datetime, levels: Sequence[str], warning: dict[str, Any],
                   call_list: dict[str, Any] | None) -> list[Draft]:
    """A later warning for the same response: its colour (a new round when it changed), the calls."""
    old = state.warning or {}
    way = direction(levels, old.get("level", ""), warning.get("level", ""))
    details = {"warning": warning, "previous_level": old.get("level"),
               "previous_level_name": old.get("level_name"), "direction": way}
    lv = warning.get("level")
    return [Draft("warning", at, details, None, lv), *_call_change(state.call_list, call_list, at, None, lv)]


def _call_change(old: dict[str, Any] | None, new: dict[str, Any] | None, at: datetime, g: str | None,
                 lv: str | None) -> list[Draft]:
    if new is None:
        return []
    newly, dropped = diff(old, new)
    if not newly and not dropped and old == new:
        return []
    return [Draft("call", at, {"newly": newly, "dropped": dropped, "call_list": new}, g, lv)]


def acking(state: State, at: datetime, unit_key: str, unit: str, outcome: str, by: str | None,
           answerer: str | None = None, responded_at: datetime | None = None) -> list[Draft]:
    """One call of the 叫应 loop, one row of the paper call sheet."""
    return [Draft("ack", at, {"unit": unit, "unit_key": unit_key, "outcome": outcome, "by": by,
                              "on_call_list": on_list(state, unit_key)},
                  state.grade or None, state.response_level or None, answerer, responded_at)]


def reporting(state: State, at: datetime, report: str, to: list[str], by: str | None,
              note: str | None = None) -> list[Draft]:
    """A report sent upward: 速报 (``first``) or 续报 (``follow_up``), to whom, by whom."""
    return [Draft("report", at, {"report": report, "to": to, "by": by, "note": note},
                  state.grade or None, state.response_level or None)]


def amending(state: State, at: datetime, levels: Sequence[str], reason: str, *,
             opened_at: datetime | None = None, given: dict[str, Any] | None = None,
             changes: list[dict[str, Any]] | None = None, incident: dict[str, Any] | None = None,
             assessment: dict[str, Any] | None = None, call_list: dict[str, Any] | None = None) -> list[Draft]:
    """A correction: a mistyped opening time, or figures (then re-assessed as a report would be, so a
    corrected figure that calls for another level proposes it)."""
    details: dict[str, Any] = {"reason": reason}
    if opened_at is not None and state.opened_at is not None:
        details["opened_at"] = {"old": state.opened_at.isoformat(), "new": opened_at.isoformat()}
    if incident is not None and assessment is not None:
        details |= {"given": given or {}, "changes": changes or [], "incident": incident, "assessment": assessment}
        drafts = updating(state, at, levels, given=given or {}, changes=changes or [], incident=incident,
                          assessment=assessment, call_list=call_list)
        return [Draft("amend", at, details, assessment["grade"], assessment["response_level"]), *drafts[1:]]
    return [Draft("amend", at, details, state.grade or None, state.response_level or None)]


def closing(state: State, at: datetime, reason: str, by: str | None,
            confirmed: list[str] | None = None) -> list[Draft]:
    """The response ends (§6.4); ``confirmed``: the criteria the officer confirmed (each with its clause)."""
    details: dict[str, Any] = {"reason": reason, "by": by}
    if confirmed is not None:
        details["confirmed"] = confirmed
    return [Draft("close", at, details, state.grade or None, state.response_level or None)]


def _keys(assessment: dict[str, Any] | None, warning: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if assessment is not None:
        return assessment["grade"], assessment["response_level"]
    if warning is not None:
        return None, warning.get("level")
    return None, None


# --- the snapshot as plain data -----------------------------------------------------------------

_TIMES = ("opened_at", "updated_at", "closed_at", "round_at", "decided_at")  # the datetime fields


def to_plain(state: State) -> dict[str, Any]:
    """The state as JSON-able data (the journal's snapshot column)."""
    out = {name: getattr(state, name) for name in State.__slots__}
    for name in _TIMES:
        value = out[name]
        out[name] = value.isoformat() if value is not None else None
    return out


def from_plain(data: dict[str, Any]) -> State:
    values = dict(data)
    for name in _TIMES:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    known = set(State.__slots__)
    return State(**{k: v for k, v in values.items() if k in known})
