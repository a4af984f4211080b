"""A journal row read back: an events row or a stored state decoded and checked, the same on every
backend (``journal.Journal``, ``journal_pg.PgJournal``, ``journal_copy``). ``ValueError`` says what is
wrong; the reader sets the row aside (``journal.Damage``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from geohazard_cli import lifecycle
from geohazard_cli.fields import AMOUNT_FIELDS, COUNT_FIELDS, INCIDENT_FIELDS, TIME_FIELDS
from geohazard_cli.lifecycle import Event, State
from geohazard_cli.ranges import check_stored


def stored_state(response_id: int, snapshot: str) -> State:
    """A response's stored state (the snapshot column), checked; ``ValueError`` says what is wrong."""
    data = _json(snapshot, "it is not valid JSON")
    if not isinstance(data, dict) or data.get("id") != response_id:
        raise ValueError("it is not this response's state")
    try:
        state = lifecycle.from_plain(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"it does not read as a state ({exc})") from None
    if state.response not in ("incident", "warning") or state.status not in ("open", "closed"):
        raise ValueError(f"response {state.response!r}, status {state.status!r} are not known")
    if not isinstance(state.incident, dict):
        raise ValueError("its figures are not an object")
    _check_figures(state.incident)
    if state.call_list is not None and not isinstance(state.call_list, dict):
        raise ValueError("its call list is not an object")
    return state


def stored_event(row: Sequence[Any]) -> Event:
    """One events row (its station and officer last, when read), checked; ``ValueError`` says what is wrong."""
    seq, kind, at, recorded_at, g, lv, details, answerer, responded_at, *who = row
    station, officer = (who[0], who[1]) if who else (None, None)
    if kind not in lifecycle.KINDS:
        raise ValueError(f"its kind {kind!r} is not known")
    data = _json(details, "its details are not valid JSON")
    if not isinstance(data, dict):
        raise ValueError("its details are not an object")
    figures = data.get("incident")
    if kind in ("open", "update") and figures is not None:
        if not isinstance(figures, dict):
            raise ValueError("its figures are not an object")
        _check_figures(figures)
    return Event(seq, kind, _time(at, "at"), _time(recorded_at, "recorded_at"), data, g, lv, answerer,
                 _time(responded_at, "responded_at") if responded_at else None,
                 station if isinstance(station, str) else None, officer if isinstance(officer, str) else None)


def _json(text: Any, problem: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise ValueError(problem) from None


def _time(text: Any, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"its {name} {text!r} is not a time") from None
    if value.tzinfo is None:
        raise ValueError(f"its {name} {text!r} has no offset")
    return value


def _check_figures(figures: dict[str, Any]) -> None:
    """The figures as the journal writes them: counts whole and not negative, money exact decimal
    text not negative, times ISO 8601 with an offset, the rest text. A tampered figure is refused."""
    for name, value in figures.items():
        if value is None:
            continue
        if name not in INCIDENT_FIELDS:
            raise ValueError(f"figure {name!r} is not an incident field")
        if name == "ranges":  # {field: {low, high, estimate, text}}, each end as its field
            check_stored(value, _check_figures)
        elif name in COUNT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"figure {name}: {value!r} is not a count (a whole number, 0 or more)")
        elif name in AMOUNT_FIELDS:
            try:
                amount = Decimal(value) if isinstance(value, str) and value.strip() == value else None
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or amount < 0:
                raise ValueError(f"figure {name}: {value!r} is not an amount of yuan (decimal text, 0 or more)")
        elif name in TIME_FIELDS:
            _time(value, f"figure {name}")
        elif not isinstance(value, str):
            raise ValueError(f"figure {name}: {value!r} is not text")
