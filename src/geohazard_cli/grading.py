"""Pure grading: an incident and a plan profile in, an assessment with its basis out.

Each indicator is graded on its own by the band holding its value ("以上" includes the lower
bound, "以下" excludes the upper: §10.2); the incident's grade is the highest of them (附件2 说明1).
No thresholds, grade names or levels live here: all come from the profile.
"""

from __future__ import annotations

from bisect import bisect_right
from decimal import Decimal

from geohazard_cli.models import (
    FIELD_LABELS,
    Advisory,
    Assessment,
    Bound,
    Incident,
    IndicatorResult,
    LeadInfo,
    SkipLevelReport,
)
from geohazard_cli.money import format_wan
from geohazard_cli.rules import Band, Indicator, Profile


def band_rank(lowers: list[Decimal], ranks: list[int], value: int | Decimal) -> int:
    """Grade rank of ``value`` on one indicator: the last band whose lower bound it reaches."""
    return ranks[bisect_right(lowers, value) - 1]


def format_value(ind: Indicator, value: int | Decimal) -> str:
    if ind.kind == "amount":
        return format_wan(Decimal(value))
    return f"{value}{ind.unit}"


def bound_text(ind: Indicator, band: Band) -> str:
    parts = []
    if band.lower > 0 or band.upper is None:
        parts.append(f"{format_value(ind, band.lower)}以上")
    if band.upper is not None:
        parts.append(f"{format_value(ind, band.upper)}以下")
    return "、".join(parts)


def grade(incident: Incident, profile: Profile) -> Assessment:
    """Grade one incident under one profile."""
    basis: list[IndicatorResult] = []
    ranks: dict[str, int] = {}
    for ind, lowers, band_ranks in profile.tables:
        value = getattr(incident, ind.key)
        if value is None:
            basis.append(IndicatorResult(
                indicator=ind.key, name=ind.name, category=ind.category, unit=ind.unit, reported=False,
                value=None, value_text=None, grade=None, grade_name=None, bound=None, source=ind.source,
            ))
            continue
        idx = bisect_right(lowers, value) - 1
        band = ind.bands[idx]
        ranks[ind.key] = band_ranks[idx]
        g = profile.grade_by_key[band.grade]
        basis.append(IndicatorResult(
            indicator=ind.key, name=ind.name, category=ind.category, unit=ind.unit, reported=True,
            value=value, value_text=format_value(ind, value), grade=g.key, grade_name=g.name,
            bound=Bound(lower=band.lower, upper=band.upper, text=bound_text(ind, band)),
            source=band.source,
        ))
    if not ranks:
        raise ValueError("grade() needs at least one reported indicator")  # intake guarantees one
    top = max(ranks.values())
    gdef = profile.grades[top]
    level = profile.level_by_key[gdef.level]
    deciding = [k for k, r in ranks.items() if r == top]
    deciding_text = [
        f"{b.name} {b.value_text}:{b.bound.text if b.bound else ''} → {b.grade_name}({b.source})"
        for b in basis if b.indicator in deciding
    ]
    not_reported = [b.indicator for b in basis if not b.reported]
    lead = profile.leads[gdef.lead]
    return Assessment(
        plan=profile.id,
        plan_title=profile.title,
        grade=gdef.key,
        grade_name=gdef.name,
        response_level=level.key,
        response_level_name=level.name,
        lower_bound=bool(not_reported) and top < len(profile.grades) - 1,
        basis=basis,
        deciding=deciding,
        deciding_text=deciding_text,
        not_reported=not_reported,
        lead=LeadInfo(key=gdef.lead, name=lead.name, full_name=lead.full_name, text=lead.text, source=lead.source),
        skip_level_report=_skip_level(incident, profile, top),
        advisories=_advisories(incident, profile, top),
        incident=incident,
    )


def _skip_level(incident: Incident, profile: Profile, top: int) -> SkipLevelReport:
    """§3.2.2 越级上报. When it does not apply yet, ``undetermined`` lists the unreported figures
    (and the missing) that could still make it apply, so "no" is never said for "not yet known"."""
    rule = profile.reporting.skip_level
    reasons: list[str] = []
    undetermined: list[str] = []
    min_rank = profile.rank[rule.min_grade]
    if top >= min_rank:
        reached = "" if min_rank == 0 else f",达到{profile.grade_by_key[rule.min_grade].name}以上"
        reasons.append(f"等级为{profile.grades[top].name}{reached}")
    else:
        # An unreported indicator whose top band reaches min_grade could still lift the grade there.
        for ind, _lowers, band_ranks in profile.tables:
            if getattr(incident, ind.key) is None and band_ranks[-1] >= min_rank:
                undetermined.append(ind.key)
    for field in rule.casualty_indicators:
        value = getattr(incident, field)
        if value is None:
            undetermined.append(field)
        elif value > 0:
            reasons.append(f"{rule.casualty_reason}:{FIELD_LABELS[field]} {value}人")
    if rule.casualty_indicators and incident.missing:
        undetermined.append("missing")  # a missing person confirmed dead or injured makes it apply
    grade_key = profile.grades[top].key
    return SkipLevelReport(
        applies=bool(reasons), reasons=reasons, undetermined=[] if reasons else list(dict.fromkeys(undetermined)),
        text=rule.text, recipients=rule.recipients_by_grade.get(grade_key, rule.recipients),
        follow_up=rule.follow_up, otherwise=rule.otherwise, source=rule.source,
    )


def _advisories(incident: Incident, profile: Profile, top: int) -> list[Advisory]:
    out: list[Advisory] = []
    tables = {ind.key: (lowers, ranks) for ind, lowers, ranks in profile.tables}
    for rule in profile.advisories:
        extra = [getattr(incident, f) for f in rule.add]
        if not any(extra):
            continue
        base = getattr(incident, rule.indicator) or 0
        combined = base + sum(e or 0 for e in extra)
        lowers, ranks = tables[rule.indicator]
        r = band_rank(lowers, ranks, combined)
        if r > top:
            g = profile.grades[r]
            out.append(Advisory(key=rule.key, text=rule.text.format(grade_name=g.name), grade=g.key,
                                grade_name=g.name, source=rule.source))
    return out
