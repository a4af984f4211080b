"""The lifecycle core on its own: the one rule for 叫应 across a level change, and state as a pure
function of the events (the stored snapshot, folded one write at a time, equals a replay)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from geohazard_cli import lifecycle
from geohazard_cli.lifecycle import Draft, Event, State

T0 = datetime(2026, 7, 21, 9, 40, tzinfo=timezone(timedelta(hours=8)))
LEVELS = ["I", "II", "III"]


def _list(level: str, *units: str) -> dict[str, object]:
    return {"level": level, "level_name": f"{level}级响应",
            "entries": [{"order": i, "unit": f"单位{u}", "unit_key": u} for i, u in enumerate(units, 1)]}


def _summary(level: str) -> dict[str, object]:
    grade = {"I": "large", "II": "medium", "III": "small"}[level]
    return {"grade": grade, "grade_name": grade, "response_level": level, "response_level_name": f"{level}级响应",
            "lower_bound": False, "deciding_text": []}


class Store:
    """The journal's part, in memory: number the drafts, fold them, keep the snapshot as plain data."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.snapshot: dict[str, object] | None = None

    def write(self, drafts: list[Draft]) -> State:
        state = lifecycle.from_plain(self.snapshot) if self.snapshot is not None else State(id=1)
        for d in drafts:
            ev = Event(len(self.events) + 1, d.kind, d.at, d.at, d.details, d.grade, d.response_level, d.answerer,
                       d.responded_at)
            self.events.append(ev)
            lifecycle.apply(state, ev)
        self.snapshot = lifecycle.to_plain(state)
        return state

    def state(self) -> State:
        assert self.snapshot is not None
        return lifecycle.from_plain(self.snapshot)


def _open(store: Store, level: str, *units: str) -> State:
    return store.write(lifecycle.opening("incident", T0, "p", False, _list(level, *units),
                                         incident={"evacuees": 1}, assessment=_summary(level)))


def _update(store: Store, level: str, *units: str, minutes: int = 10) -> State:
    return store.write(lifecycle.updating(store.state(), T0 + timedelta(minutes=minutes), LEVELS, given={},
                                          changes=[], incident={"evacuees": 2}, assessment=_summary(level),
                                          call_list=_list(level, *units)))


def _ack(store: Store, unit: str, outcome: str = "answered", minutes: int = 5) -> State:
    return store.write(lifecycle.acking(store.state(), T0 + timedelta(minutes=minutes), unit, f"单位{unit}",
                                        outcome, None))


def test_a_new_level_is_a_new_round_of_calls() -> None:
    store = Store()
    _open(store, "III", "a", "b")
    _ack(store, "a")
    assert [p["unit_key"] for p in lifecycle.pending(store.state())] == ["b"]
    state = _update(store, "II", "a", "b", "c")  # raised: everyone is told again, a included
    assert [p["unit_key"] for p in lifecycle.pending(state)] == ["a", "b", "c"]
    assert lifecycle.pending(state)[0]["last_outcome"] == "answered"  # the last call stays visible
    _ack(store, "a", minutes=20)
    state = _update(store, "II", "a", "b", "c", minutes=30)  # same level: the round goes on
    assert [p["unit_key"] for p in lifecycle.pending(state)] == ["b", "c"]
    assert lifecycle.acknowledged(state) == ["单位a"]


def test_a_failed_call_is_an_attempt_not_an_answer() -> None:
    store = Store()
    _open(store, "III", "a")
    _ack(store, "a", "no-answer")
    _ack(store, "a", "busy", minutes=7)
    (p,) = lifecycle.pending(store.state())
    assert (p["attempts"], p["last_outcome"]) == (2, "busy")


def test_a_warning_colour_change_is_a_new_round_and_the_same_colour_is_not() -> None:
    store = Store()
    w = {"level": "yellow", "level_name": "黄色", "areas": ["x"]}
    store.write(lifecycle.opening("warning", T0, "p", False, _list("yellow", "a"), warning=w))
    _ack(store, "a")
    same = store.write(lifecycle.warning_change(store.state(), T0 + timedelta(hours=1), ["red", "yellow"], w,
                                                _list("yellow", "a")))
    assert lifecycle.pending(same) == []
    red = {**w, "level": "red", "level_name": "红色"}
    state = store.write(lifecycle.warning_change(store.state(), T0 + timedelta(hours=2), ["red", "yellow"], red,
                                                 _list("red", "a", "b")))
    assert [p["unit_key"] for p in lifecycle.pending(state)] == ["a", "b"]
    assert state.response_level == "red" and store.events[-2].details["direction"] == "up"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["update", "ack", "noanswer"]), st.sampled_from(LEVELS),
                          st.sampled_from(["a", "b", "c"])), max_size=25))
def test_the_snapshot_folded_write_by_write_equals_a_replay(ops: list[tuple[str, str, str]]) -> None:
    store = Store()
    _open(store, "III", "a", "b")
    for i, (op, level, unit) in enumerate(ops, start=1):
        if op == "update":
            _update(store, level, *sorted({"a", unit}), minutes=i)
        else:
            _ack(store, unit, "answered" if op == "ack" else "no-answer", minutes=i)
    replayed = lifecycle.replay(1, store.events)
    assert lifecycle.to_plain(replayed) == store.snapshot
