"""Pure grading: an incident and a plan profile in, an assessment with its basis out.

Each indicator is graded on its own by the band holding its value ("以上" includes the lower
bound, "以下" excludes the upper: §10.2); the incident's grade is the highest of them (附件2 说明1).
No thresholds, grade names or levels live here: all come from the profile.

The work is done on plain data: ``assess(values, view)`` takes the incident's figures as a dict and
the profile's ``view`` (``view_of``: what grading and intake read of a profile, as plain data that
``marshal`` can cache) and returns the assessment as the dict ``models.Assessment`` holds.
``grade()`` wraps it for the typed models; ``classify`` calls ``assess`` directly, so its start-up
needs neither the pydantic models nor the pickled profile (see cache.profile_view).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from geohazard_cli.fields import FIELD_LABELS, INCIDENT_FIELDS
from geohazard_cli.money import format_wan

if TYPE_CHECKING:
    from typing import TypedDict

    from geohazard_cli.models import Assessment, Incident
    from geohazard_cli.rules import Profile


# --- the profile as plain data ---------------------------------------------------------------------
# Only str, int, None, list, tuple and dict, so that cache.py can keep it with marshal. Bounds and
# amounts are decimal text (Decimal(text) gives back the exact value). The shapes are declared for
# the type checker only: at run time a view is plain dicts, and defining seven TypedDict classes
# would cost start-up ~1 ms for nothing.

if TYPE_CHECKING:
    class BandView(TypedDict):
        grade: str
        rank: int  # index of the grade in ``grades`` (lowest first)
        lower: str  # "以上": included
        upper: str | None  # "以下": excluded; None = no upper bound
        text: str  # "100人以上、500人以下"
        source: str


    class IndicatorView(TypedDict):
        key: str
        name: str
        category: str
        kind: str  # count / amount
        unit: str
        source: str
        bands: list[BandView]


    class GradeView(TypedDict):
        key: str
        name: str
        level: str
        level_name: str
        lead: str


    class LeadView(TypedDict):
        name: str
        full_name: str
        text: str
        source: str


    class SkipLevelView(TypedDict):
        min_rank: int
        casualty_indicators: list[str]
        casualty_reason: str
        text: str
        recipients: list[str]
        recipients_by_grade: dict[str, list[str]]
        follow_up: str
        otherwise: str
        source: str


    class AdvisoryView(TypedDict):
        key: str
        indicator: str
        add: list[str]
        text: str
        source: str


    class ProfileView(TypedDict):
        id: str
        title: str
        timezone: str
        count_limit: int
        amount_limit: str
        hazard_source: str
        hazard_types: list[tuple[str, str]]  # (key, name), in the profile's order
        hazard_lookup: dict[str, tuple[str, str]]  # casefolded key, name or alias -> (key, name)
        grades: list[GradeView]  # lowest first
        leads: dict[str, LeadView]
        indicators: list[IndicatorView]
        skip_level: SkipLevelView
        advisories: list[AdvisoryView]


def view_of(profile: Profile) -> ProfileView:
    """What grading and intake read of a validated profile, as plain data."""
    rank = profile.rank
    levels = profile.level_by_key
    sk = profile.reporting.skip_level
    return {
        "id": profile.id,
        "title": profile.title,
        "timezone": profile.timezone,
        "count_limit": profile.limits.count,
        "amount_limit": str(profile.limits.amount),
        "hazard_source": profile.hazard_types.source,
        "hazard_types": [(h.key, h.name) for h in profile.hazard_types.items],
        "hazard_lookup": {k: (h.key, h.name) for k, h in profile.hazard_lookup.items()},
        "grades": [{"key": g.key, "name": g.name, "level": g.level, "level_name": levels[g.level].name,
                    "lead": g.lead} for g in profile.grades],
        "leads": {k: {"name": v.name, "full_name": v.full_name, "text": v.text, "source": v.source}
                  for k, v in profile.leads.items()},
        "indicators": [
            {
                "key": ind.key, "name": ind.name, "category": ind.category, "kind": ind.kind, "unit": ind.unit,
                "source": ind.source,
                "bands": [{"grade": b.grade, "rank": rank[b.grade], "lower": str(b.lower),
                           "upper": None if b.upper is None else str(b.upper),
                           "text": bound_text(ind.kind, ind.unit, b.lower, b.upper), "source": b.source}
                          for b in ind.bands],
            }
            for ind in profile.indicators
        ],
        "skip_level": {
            "min_rank": rank[sk.min_grade], "casualty_indicators": list(sk.casualty_indicators),
            "casualty_reason": sk.casualty_reason, "text": sk.text, "recipients": list(sk.recipients),
            "recipients_by_grade": {k: list(v) for k, v in sk.recipients_by_grade.items()},
            "follow_up": sk.follow_up, "otherwise": sk.otherwise, "source": sk.source,
        },
        "advisories": [{"key": a.key, "indicator": a.indicator, "add": list(a.add), "text": a.text,
                        "source": a.source} for a in profile.advisories],
    }


# --- grading ---------------------------------------------------------------------------------------

def band_rank(lowers: list[Decimal], ranks: list[int], value: int | Decimal) -> int:
    """Grade rank of ``value`` on one indicator: the last band whose lower bound it reaches."""
    return ranks[bisect_right(lowers, value) - 1]


def format_value(kind: str, unit: str, value: int | Decimal) -> str:
    if kind == "amount":
        return format_wan(Decimal(value))
    return f"{value}{unit}"


def bound_text(kind: str, unit: str, lower: Decimal, upper: Decimal | None) -> str:
    parts = []
    if lower > 0 or upper is None:
        parts.append(f"{format_value(kind, unit, lower)}以上")
    if upper is not None:
        parts.append(f"{format_value(kind, unit, upper)}以下")
    return "、".join(parts)


def _table(ind: IndicatorView) -> tuple[list[Decimal], list[int]]:
    """An indicator's lower bounds (ascending) and the grade rank of each band, for bisect."""
    return [Decimal(b["lower"]) for b in ind["bands"]], [b["rank"] for b in ind["bands"]]


def assess(values: Mapping[str, Any], view: ProfileView) -> dict[str, Any]:
    """Grade one incident (its fields; absent or None = not reported) under one profile's view.

    Returns the assessment as the dict ``models.Assessment`` holds, in its field order, with the
    incident's fields (all of them, in ``models.Incident`` order) under ``incident``.
    """
    basis: list[dict[str, Any]] = []
    ranks: dict[str, int] = {}
    grades = view["grades"]
    for ind in view["indicators"]:
        value = values.get(ind["key"])
        if value is None:
            basis.append({
                "indicator": ind["key"], "name": ind["name"], "category": ind["category"], "unit": ind["unit"],
                "reported": False, "value": None, "value_text": None, "grade": None, "grade_name": None,
                "bound": None, "source": ind["source"],
            })
            continue
        lowers, _ = _table(ind)
        band = ind["bands"][bisect_right(lowers, value) - 1]
        ranks[ind["key"]] = band["rank"]
        g = grades[band["rank"]]
        basis.append({
            "indicator": ind["key"], "name": ind["name"], "category": ind["category"], "unit": ind["unit"],
            "reported": True, "value": value, "value_text": format_value(ind["kind"], ind["unit"], value),
            "grade": g["key"], "grade_name": g["name"],
            "bound": {"lower": Decimal(band["lower"]),
                      "upper": None if band["upper"] is None else Decimal(band["upper"]),
                      "text": band["text"]},
            "source": band["source"],
        })
    if not ranks:
        raise ValueError("grade() needs at least one reported indicator")  # intake guarantees one
    top = max(ranks.values())
    gdef = grades[top]
    deciding = [k for k, r in ranks.items() if r == top]
    deciding_text = [
        f"{b['name']} {b['value_text']}:{b['bound']['text'] if b['bound'] else ''} → {b['grade_name']}({b['source']})"
        for b in basis if b["indicator"] in deciding
    ]
    not_reported = [b["indicator"] for b in basis if not b["reported"]]
    lead = view["leads"][gdef["lead"]]
    return {
        "plan": view["id"],
        "plan_title": view["title"],
        "grade": gdef["key"],
        "grade_name": gdef["name"],
        "response_level": gdef["level"],
        "response_level_name": gdef["level_name"],
        "lower_bound": bool(not_reported) and top < len(grades) - 1,
        "basis": basis,
        "deciding": deciding,
        "deciding_text": deciding_text,
        "not_reported": not_reported,
        "lead": {"key": gdef["lead"], "name": lead["name"], "full_name": lead["full_name"], "text": lead["text"],
                 "source": lead["source"]},
        "skip_level_report": _skip_level(values, view, top),
        "advisories": _advisories(values, view, top),
        "incident": {f: values.get(f) for f in INCIDENT_FIELDS},
    }


def grade(incident: Incident, profile: Profile) -> Assessment:
    """Grade one incident under one profile."""
    from geohazard_cli.models import Assessment

    data = assess(dict(incident), profile.view)
    data["incident"] = incident
    return Assessment.model_validate(data)


def _skip_level(values: Mapping[str, Any], view: ProfileView, top: int) -> dict[str, Any]:
    """§3.2.2 越级上报. When it does not apply yet, ``undetermined`` lists the unreported figures
    (and the missing) that could still make it apply, so "no" is never said for "not yet known"."""
    rule = view["skip_level"]
    grades = view["grades"]
    reasons: list[str] = []
    undetermined: list[str] = []
    min_rank = rule["min_rank"]
    if top >= min_rank:
        reached = "" if min_rank == 0 else f",达到{grades[min_rank]['name']}以上"
        reasons.append(f"等级为{grades[top]['name']}{reached}")
    else:
        # An unreported indicator whose top band reaches min_grade could still lift the grade there.
        for ind in view["indicators"]:
            if values.get(ind["key"]) is None and ind["bands"][-1]["rank"] >= min_rank:
                undetermined.append(ind["key"])
    for field in rule["casualty_indicators"]:
        value = values.get(field)
        if value is None:
            undetermined.append(field)
        elif value > 0:
            reasons.append(f"{rule['casualty_reason']}:{FIELD_LABELS[field]} {value}人")
    if rule["casualty_indicators"] and values.get("missing"):
        undetermined.append("missing")  # a missing person confirmed dead or injured makes it apply
    grade_key = grades[top]["key"]
    return {
        "applies": bool(reasons), "reasons": reasons,
        "undetermined": [] if reasons else list(dict.fromkeys(undetermined)), "text": rule["text"],
        "recipients": list(rule["recipients_by_grade"].get(grade_key, rule["recipients"])),
        "follow_up": rule["follow_up"], "otherwise": rule["otherwise"], "source": rule["source"],
    }


def _advisories(values: Mapping[str, Any], view: ProfileView, top: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    indicators = {ind["key"]: ind for ind in view["indicators"]}
    grades = view["grades"]
    for rule in view["advisories"]:
        extra = [values.get(f) for f in rule["add"]]
        if not any(extra):
            continue
        base = values.get(rule["indicator"]) or 0
        combined = base + sum(e or 0 for e in extra)
        r = band_rank(*_table(indicators[rule["indicator"]]), combined)
        if r > top:
            g = grades[r]
            out.append({"key": rule["key"], "text": rule["text"].format(grade_name=g["name"]), "grade": g["key"],
                        "grade_name": g["name"], "source": rule["source"]})
    return out
