"""Pure grading: an incident and a plan profile in, an assessment with its basis out.

Each indicator is graded on its own by the band holding its value ("以上" includes the lower
bound, "以下" excludes the upper: §10.2); the incident's grade is the highest of them (附件2 说明1).
No thresholds, grade names or levels live here: all come from the profile.

``assess(values, profile)`` is the one grading computation: the incident's figures as a dict (as
intake.parse_values gives them) and the profile (rules.Profile) in, the assessment out as the dict
``models.Assessment`` holds. ``grade()`` only wraps that dict in the typed model for the commands
that keep it (journal, call sheets, drills); ``classify`` calls ``assess`` directly, so its
start-up defines no pydantic model.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from geohazard_cli.fields import FIELD_LABELS, INCIDENT_FIELDS
from geohazard_cli.money import format_wan

if TYPE_CHECKING:
    from geohazard_cli.models import Assessment, Incident
    from geohazard_cli.rules import Profile


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


def assess(values: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    """Grade one incident (its fields; absent or None = not reported) under one profile.

    Returns the assessment as the dict ``models.Assessment`` holds, in its field order, with the
    incident's fields (all of them, in ``models.Incident`` order) under ``incident``. Figures
    reported as a range or an estimate (``ranges``) are graded at both ends: ``grade_range``, the
    grade to prepare for by the profile's policy (``uncertain_figures``; the assessment is that
    end's), and the bounds that would settle it (``settles``).
    """
    ranges: Mapping[str, Any] = values.get("ranges") or {}
    if not ranges:
        a = _assess(values, profile)
        a.update(grade_range={"low": a["grade"], "high": a["grade"]}, prepare_for=a["grade"], settles=[],
                 estimated=[], uncertain=None)
        return a
    return _assess_uncertain(values, ranges, profile)


def _end(reported: Any, end: str) -> Any:
    return reported[end] if isinstance(reported, Mapping) else getattr(reported, end)


def _assess_uncertain(values: Mapping[str, Any], ranges: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    policy = profile.uncertain_figures
    if policy is None:  # intake refuses ranges under such a profile; a journal row may still hold one
        raise ValueError(f"profile {profile.id} sets no uncertain_figures policy")
    w = policy.wording
    kinds = {ind.key: ind for ind in profile.indicators}
    texts: dict[str, str] = {}
    for key, r in ranges.items():
        ind = kinds.get(key)
        if ind is None:
            continue
        lo_v, hi_v = _end(r, "low"), _end(r, "high")
        if lo_v == hi_v:
            texts[key] = w.value_estimate.format(value=format_value(ind.kind, ind.unit, lo_v), text=_end(r, "text"))
        else:
            texts[key] = w.value_range.format(low=format_value(ind.kind, ind.unit, lo_v),
                                              high=format_value(ind.kind, ind.unit, hi_v))
    low = _assess({**values, **{k: _end(r, "low") for k, r in ranges.items()}}, profile, texts)
    high = _assess({**values, **{k: _end(r, "high") for k, r in ranges.items()}}, profile, texts)
    main = high if policy.prepare_for == "high" else low
    for b in main["basis"]:
        r = ranges.get(b["indicator"])
        if r is not None:
            b["range"] = {"low": _end(r, "low"), "high": _end(r, "high"), "estimate": _end(r, "estimate"),
                          "text": _end(r, "text")}
    grades = profile.grades
    low_rank = profile.rank[low["grade"]]
    settles: list[dict[str, Any]] = []
    for ind, lowers, band_ranks in profile.tables:
        r = ranges.get(ind.key)
        if r is None:
            continue
        lo_v, hi_v = _end(r, "low"), _end(r, "high")
        for lower, rank in zip(lowers, band_ranks, strict=True):
            if lo_v < lower <= hi_v and rank > low_rank:
                g = grades[rank]
                settles.append({"indicator": ind.key, "name": ind.name,
                                "bound": int(lower) if ind.kind == "count" else lower,
                                "bound_text": format_value(ind.kind, ind.unit, lower),
                                "grade": g.key, "grade_name": g.name})
    text: list[str] = []
    if low["grade"] != high["grade"]:
        by: dict[str, list[str]] = {}
        for st in settles:
            by.setdefault(st["name"], []).append(st["bound_text"])
        said = "，".join(w.settle.format(name=n, bounds="、".join(bs)) for n, bs in by.items())
        text.append(w.range.format(low=low["grade_name"], high=high["grade_name"], prepare=main["grade_name"],
                                   settles=said))
    elif any(_end(r, "low") != _end(r, "high") for r in ranges.values()):
        text.append(w.same.format(grade=main["grade_name"]))
    estimated = [k for k, r in ranges.items() if _end(r, "estimate")]
    if estimated:
        figures = "、".join(f"{FIELD_LABELS.get(k, k)} {_end(ranges[k], 'text')}" for k in estimated)
        text.append(w.estimate.format(grade=main["grade_name"], figures=figures))
    main.update(grade_range={"low": low["grade"], "high": high["grade"]}, prepare_for=main["grade"],
                settles=settles, estimated=estimated,
                uncertain={"text": text, "prepare": policy.prepare_for, "reason": policy.reason,
                           "source": policy.source,
                           "callsheet": w.callsheet.format(prepare=main["grade_name"], summary="；".join(text))})
    main["incident"] = {f: values.get(f) for f in INCIDENT_FIELDS}
    return main


def _assess(values: Mapping[str, Any], profile: Profile, texts: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One grading of the figures as they stand (``texts``: how a figure reads, when not its value)."""
    basis: list[dict[str, Any]] = []
    ranks: dict[str, int] = {}
    grades = profile.grades
    for ind, lowers, band_ranks in profile.tables:
        value = values.get(ind.key)
        if value is None:
            basis.append({
                "indicator": ind.key, "name": ind.name, "category": ind.category, "unit": ind.unit,
                "reported": False, "value": None, "value_text": None, "grade": None, "grade_name": None,
                "bound": None, "source": ind.source, "range": None,
            })
            continue
        i = bisect_right(lowers, value) - 1
        band = ind.bands[i]
        ranks[ind.key] = band_ranks[i]
        g = grades[band_ranks[i]]
        basis.append({
            "indicator": ind.key, "name": ind.name, "category": ind.category, "unit": ind.unit,
            "reported": True, "value": value,
            "value_text": (texts or {}).get(ind.key) or format_value(ind.kind, ind.unit, value),
            "grade": g.key, "grade_name": g.name,
            "bound": {"lower": band.lower, "upper": band.upper,
                      "text": bound_text(ind.kind, ind.unit, band.lower, band.upper)},
            "source": band.source, "range": None,
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
    lead = profile.leads[gdef.lead]
    return {
        "plan": profile.id,
        "plan_title": profile.title,
        "grade": gdef.key,
        "grade_name": gdef.name,
        "response_level": gdef.level,
        "response_level_name": profile.level_by_key[gdef.level].name,
        "lower_bound": bool(not_reported) and top < len(grades) - 1,
        "basis": basis,
        "deciding": deciding,
        "deciding_text": deciding_text,
        "not_reported": not_reported,
        "lead": {"key": gdef.lead, "name": lead.name, "full_name": lead.full_name, "text": lead.text,
                 "source": lead.source},
        "skip_level_report": _skip_level(values, profile, top),
        "advisories": _advisories(values, profile, top),
        "incident": {f: values.get(f) for f in INCIDENT_FIELDS},
    }


def grade(incident: Incident | Mapping[str, Any], profile: Profile) -> Assessment:
    """``assess``, wrapped in the typed ``Assessment`` (no second computation): for the commands that
    keep or render the model. ``incident`` is an Incident or its fields (intake.parse_values)."""
    from geohazard_cli.models import Assessment, Incident

    values = dict(incident)
    data = assess(values, profile)
    data["incident"] = incident if isinstance(incident, Incident) else Incident(**values)
    return Assessment(data)


def _skip_level(values: Mapping[str, Any], profile: Profile, top: int) -> dict[str, Any]:
    """§3.2.2 越级上报. When it does not apply yet, ``undetermined`` lists the unreported figures
    (and the missing) that could still make it apply, so "no" is never said for "not yet known"."""
    rule = profile.reporting.skip_level
    grades = profile.grades
    reasons: list[str] = []
    undetermined: list[str] = []
    min_rank = profile.rank[rule.min_grade]
    if top >= min_rank:
        reached = "" if min_rank == 0 else f",达到{grades[min_rank].name}以上"
        reasons.append(f"等级为{grades[top].name}{reached}")
    else:
        # An unreported indicator whose top band reaches min_grade could still lift the grade there.
        for ind, _, band_ranks in profile.tables:
            if values.get(ind.key) is None and band_ranks[-1] >= min_rank:
                undetermined.append(ind.key)
    for field in rule.casualty_indicators:
        value = values.get(field)
        if value is None:
            undetermined.append(field)
        elif value > 0:
            reasons.append(f"{rule.casualty_reason}:{FIELD_LABELS[field]} {value}人")
    if rule.casualty_indicators and values.get("missing"):
        undetermined.append("missing")  # a missing person confirmed dead or injured makes it apply
    grade_key = grades[top].key
    return {
        "applies": bool(reasons), "reasons": reasons,
        "undetermined": [] if reasons else list(dict.fromkeys(undetermined)), "text": rule.text,
        "recipients": list(rule.recipients_by_grade.get(grade_key, rule.recipients)),
        "follow_up": rule.follow_up, "otherwise": rule.otherwise, "source": rule.source,
    }


def _advisories(values: Mapping[str, Any], profile: Profile, top: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    tables = {ind.key: (lowers, band_ranks) for ind, lowers, band_ranks in profile.tables}
    grades = profile.grades
    for rule in profile.advisories:
        extra = [values.get(f) for f in rule.add]
        if not any(extra):
            continue
        base = values.get(rule.indicator) or 0
        combined = base + sum(e or 0 for e in extra)
        r = band_rank(*tables[rule.indicator], combined)
        if r > top:
            g = grades[r]
            out.append({"key": rule.key, "text": rule.text.format(grade_name=g.name), "grade": g.key,
                        "grade_name": g.name, "source": rule.source})
    return out
