"""Which records a rule revision grades differently (``rules diff OLD NEW --batch/--db/--drill``): pure.

A record is graded under each profile by the one grading computation (``intake.parse_values``,
``grading.assess``), one record at a time, so a stream of any length is compared in flat memory:
``Regrade.compare`` gives the change of one record (or None), ``Regrade.counts`` what was seen.
A drill is run under each profile by the drill runner and its steps' checks are set side by side
(``drill_moves``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geohazard_cli.errors import GeohazardError, InputError

if TYPE_CHECKING:
    from geohazard_cli.drill_run import DrillRun
    from geohazard_cli.rules import Profile


def direction(before: str, after: str, orders: list[list[str]]) -> str:
    """``up``, ``down`` or ``same`` for a grade or level key, by the first order (lowest first) that
    knows both keys; ``changed`` when none does."""
    if before == after:
        return "same"
    for order in orders:
        if before in order and after in order:
            return "up" if order.index(after) > order.index(before) else "down"
    return "changed"


class Regrade:
    """Grade records under OLD and NEW and keep the counts (records, bad, changed, by direction and
    by change)."""

    def __init__(self, old: Profile, new: Profile) -> None:
        self.old, self.new = old, new
        # Parsing depends on the profile only through its ceilings and hazard types.
        self.same_intake = old.limits == new.limits and old.hazard_types == new.hazard_types
        self.grade_orders = [[g.key for g in new.grades], [g.key for g in old.grades]]
        self.level_orders = [[lv.key for lv in reversed(new.levels)], [lv.key for lv in reversed(old.levels)]]
        self.records = self.bad = self.changed = 0
        self.grade_moves = {"up": 0, "down": 0}
        self.level_moves = {"up": 0, "down": 0}
        self.by_change: dict[tuple[str, str, str, str], int] = {}

    def compare(self, record: Any, line: int | None = None) -> dict[str, Any] | None:
        """The change of one record (``line``, ``id``, ``grade``/``level`` direction, ``before``,
        ``after``), ``{"line", "error"}`` for a bad one, or None when both profiles grade it alike."""
        from geohazard_cli.grading import assess
        from geohazard_cli.intake import parse_values

        self.records += 1
        where: dict[str, Any] = {} if line is None else {"line": line}
        if isinstance(record, GeohazardError):  # what the reader made of a line it could not read
            return self._bad(where, record)
        if not isinstance(record, dict):
            return self._bad(where, InputError("a record must be an object of fields"))
        try:
            values = parse_values(record, self.old)
        except GeohazardError as exc:
            return self._bad(where, exc, None if self.same_intake else self._old_only(record))
        try:
            after_values = values if self.same_intake else parse_values(record, self.new)
        except GeohazardError as exc:
            return self._bad(where, exc, f"NEW {self.new.id}")
        before, after = assess(values, self.old), assess(after_values, self.new)
        if values.get("id") is not None:
            where["id"] = values["id"]
        g = direction(before["grade"], after["grade"], self.grade_orders)
        lv = direction(before["response_level"], after["response_level"], self.level_orders)
        if g == "same" and lv == "same":
            return None
        self.changed += 1
        for moves, d in ((self.grade_moves, g), (self.level_moves, lv)):
            if d in moves:
                moves[d] += 1
        key = (before["grade"], after["grade"], before["response_level"], after["response_level"])
        self.by_change[key] = self.by_change.get(key, 0) + 1
        return {**where, "grade": g, "level": lv, "before": outcome(before), "after": outcome(after)}

    def _old_only(self, record: dict[str, Any]) -> str | None:
        """"OLD <id>" when NEW reads the record OLD refused (a hazard type or ceiling of NEW's)."""
        from geohazard_cli.intake import parse_values

        try:
            parse_values(record, self.new)
        except GeohazardError:
            return None
        return f"OLD {self.old.id}"

    def _bad(self, where: dict[str, Any], exc: GeohazardError, only: str | None = None) -> dict[str, Any]:
        self.bad += 1
        message = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
        return {**where, "error": message + (f" (refused under {only} only)" if only else "")}

    def counts(self) -> dict[str, Any]:
        names_old = {g.key: g.name for g in self.old.grades}
        names_new = {g.key: g.name for g in self.new.grades}
        changes = sorted(self.by_change.items(), key=lambda kv: -kv[1])
        return {
            "records": self.records, "bad": self.bad, "changed": self.changed,
            "unchanged": self.records - self.bad - self.changed,
            "grade": dict(self.grade_moves), "level": dict(self.level_moves),
            "by_change": [{"grade": [g0, g1], "grade_name": [names_old.get(g0, g0), names_new.get(g1, g1)],
                           "response_level": [l0, l1], "count": n} for (g0, g1, l0, l1), n in changes],
        }


def outcome(a: dict[str, Any]) -> dict[str, Any]:
    """What a side says of a record: grade, level, whether a lower bound, and the deciding indicator(s)."""
    return {"grade": a["grade"], "grade_name": a["grade_name"], "response_level": a["response_level"],
            "response_level_name": a["response_level_name"], "lower_bound": a["lower_bound"],
            "deciding": a["deciding"], "deciding_text": a["deciding_text"]}


def journal_record(state_incident: dict[str, Any], figure_fields: tuple[str, ...]) -> dict[str, Any]:
    """An incident's current figures (its state's ``incident``) as a record to grade."""
    return {k: state_incident[k] for k in figure_fields if state_incident.get(k) is not None}


# --- drills -------------------------------------------------------------------------------------


def drill_moves(before: DrillRun, after: DrillRun) -> dict[str, Any]:
    """A drill run under OLD and under NEW, step by step: each expectation's value and whether it held
    on both sides, and the steps where anything moved (``moved``: an expectation that held and no
    longer does, or the reverse, or a value that changed)."""
    steps: list[dict[str, Any]] = []
    moved = 0
    for s0, s1 in zip(before.steps, after.steps, strict=True):
        checks = []
        for c0, c1 in zip(s0.checks, s1.checks, strict=True):
            checks.append({"key": c0.key, "expected": c0.expected,
                           "before": {"actual": c0.actual, "ok": c0.ok}, "after": {"actual": c1.actual, "ok": c1.ok},
                           "moved": c0.ok != c1.ok or c0.actual != c1.actual})
        level0, level1 = _step_level(s0.result), _step_level(s1.result)
        step_moved = any(c["moved"] for c in checks) or level0 != level1
        moved += step_moved
        steps.append({"number": s0.number, "kind": s0.kind, "offset": s0.offset, "moved": step_moved,
                      "before": {"ok": s0.ok, "summary": s0.summary, **level0},
                      "after": {"ok": s1.ok, "summary": s1.summary, **level1}, "checks": checks})
    return {"name": before.name, "steps": steps,
            "counts": {"steps": len(steps), "moved": moved, "failed_before": len(before.failed),
                       "failed_after": len(after.failed)},
            "passed": {"before": before.passed, "after": after.passed}}


def _step_level(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("grade", "response_level", "proposed_level") if k in result}
