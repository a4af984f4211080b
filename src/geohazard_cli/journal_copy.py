"""Copying a journal between backends (``incident migrate``): SQLite -> PostgreSQL for a bureau's
shared server, PostgreSQL -> SQLite for an offline field post. Storage only, no printing.

Responses and events are matched by their uid (the same in every copy), so a second run adds
nothing and a copy taken back and forth meets itself. A response's ids and sequence numbers are the
target's own; its state there is its events replayed. The events of every response copied are
compared after the copy (count and a SHA-256 over their content, ids aside): a copy that differs is
an error, and the target's transaction is rolled back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geohazard_cli import lifecycle
from geohazard_cli.errors import StateError
from geohazard_cli.journal import Journal, stored_event

if TYPE_CHECKING:
    from geohazard_cli.journal_pg import PgJournal

RESPONSE_COLUMNS = ("uid", "response", "status", "exercise", "plan", "opened_at", "updated_at", "closed_at",
                    "close_reason", "grade", "grade_name", "response_level", "response_level_name", "incident",
                    "call_list", "state", "created_at")
EVENT_COLUMNS = ("uid", "kind", "at", "recorded_at", "grade", "response_level", "details", "answerer",
                 "responded_at", "station", "officer")
_READ = "seq, kind, at, recorded_at, grade, response_level, details, answerer, responded_at, station, officer"


@dataclass
class Copied:
    source: str
    target: str
    responses: int  # in the source
    events: int
    new_responses: int  # written to the target by this run
    new_events: int
    checksum: str  # SHA-256 of the source's events (the target's, for the same responses, is equal)

    def plain(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "responses": self.responses, "events": self.events,
                "new_responses": self.new_responses, "new_events": self.new_events, "checksum": self.checksum}


def _ph(j: Journal | PgJournal) -> str:
    return "?" if isinstance(j, Journal) else "%s"


def _rows(j: Journal | PgJournal, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    return list(j.conn.execute(sql.replace("?", _ph(j)), params).fetchall())


def _ours(j: Journal | PgJournal) -> list[tuple[Any, ...]]:
    """Each response: (id, uid, its row), in id order."""
    cols = ", ".join(RESPONSE_COLUMNS)
    return [(r[0], r[1], r[1:]) for r in _rows(j, f"SELECT id, {cols} FROM incidents ORDER BY id")] \
        if j.version else []


def _events(j: Journal | PgJournal, response_id: int) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in _rows(j, f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE incident_id = ? "
                                     "ORDER BY seq", (response_id,))]


def _digest(h: Any, response_uid: str, events: list[tuple[Any, ...]]) -> None:
    h.update(json.dumps([response_uid, events], ensure_ascii=False, separators=(",", ":")).encode())
    h.update(b"\n")


def copy(src: Journal | PgJournal, dst: Journal | PgJournal) -> Copied:
    """Copy what ``dst`` lacks of ``src`` (one read transaction there, one write transaction here)."""
    made = added = events_total = 0
    want, got = hashlib.sha256(), hashlib.sha256()
    with src.transaction(write=False), dst.transaction(write=True):
        theirs = {uid: rid for rid, uid, _ in _ours(dst)}
        responses = _ours(src)
        for rid, uid, row in responses:
            events = _events(src, rid)
            events_total += len(events)
            _digest(want, uid, events)
            target = theirs.get(uid)
            if target is None:
                ph = ", ".join(_ph(dst) for _ in RESPONSE_COLUMNS)
                cur = dst.conn.execute(f"INSERT INTO incidents ({', '.join(RESPONSE_COLUMNS)}) VALUES ({ph}) "
                                       "RETURNING id", row)
                target = int(next(iter(cur.fetchall()))[0])
                made += 1
            have = {e[0] for e in _events(dst, target)}
            fresh = [e for e in events if e[0] not in have]
            ph = ", ".join(_ph(dst) for _ in range(len(EVENT_COLUMNS) + 1))
            for e in fresh:
                dst.conn.execute(f"INSERT INTO events (incident_id, {', '.join(EVENT_COLUMNS)}) VALUES ({ph})",
                                 (target, *e))
            added += len(fresh)
            if fresh:  # its state in the target: its events there replayed
                stored = [stored_event(r) for r in _rows(dst, f"SELECT {_READ} FROM events WHERE incident_id = ? "
                                                              "ORDER BY seq", (target,))]
                dst._store(lifecycle.replay(target, stored))
            _digest(got, uid, _events(dst, target))
        if want.hexdigest() != got.hexdigest():
            raise StateError(f"{dst.where}: the copy's events differ from {src.where}'s for the same responses "
                             "(the target holds events the source does not); nothing was written")
    return Copied(src.where, dst.where, len(responses), events_total, made, added, want.hexdigest())
