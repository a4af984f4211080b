"""What call sheets and report forms show, as plain data (pure; rendered by templates/).

``callsheet_context`` and ``report_form_context`` are also the documents' JSON form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geohazard_cli.errors import ConfigError
from geohazard_cli.fields import SHEET_FACTS

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from geohazard_cli.dispatch import CallList
    from geohazard_cli.models import Assessment, Incident
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Site

COUNT_UNITS = {"households": "户"}  # every other count is people (人)
ORIGIN_NAMES = {"plan": "预案", "local": "本地"}  # where a number comes from, on the sheets


def _time_text(value: datetime, tz: str) -> str:
    from geohazard_cli.timeutil import local_text

    return local_text(value, tz)


def _iso(value: datetime | None, tz: str) -> str | None:
    """A time as ISO 8601 with its offset, in the profile's zone (the JSON form; templates show
    ``_time_text``)."""
    from datetime import datetime

    from geohazard_cli.timeutil import local

    if not isinstance(value, datetime):
        return None
    return local(value, tz).isoformat()


def _field_entry(incident: Incident, field: str, tz: str,
                 defined: dict[str, dict[str, Any]] | None = None, profile: Profile | None = None) -> dict[str, Any]:
    """One incident field for the documents: key, label, value (display text, None = blank), for a
    time ``iso`` (ISO 8601 for machines), and ``definition`` (the plan's §10.1 text and clause) for a
    field the profile defines."""
    from geohazard_cli.models import FIELD_LABELS, TIME_FIELDS

    entry: dict[str, Any] = {"key": field, "label": FIELD_LABELS[field],
                             "value": field_text(incident, field, tz, profile)}
    if field in TIME_FIELDS:
        entry["iso"] = _iso(getattr(incident, field), tz)
    if defined and field in defined:
        entry["definition"] = defined[field]
    return entry


def _defined(profile: Profile) -> dict[str, dict[str, Any]]:
    from geohazard_cli.clauses import definitions

    return {d["key"]: d for d in definitions(profile)}


def field_text(incident: Incident, field: str, tz: str, profile: Profile | None = None) -> str | None:
    """An incident field as the forms show it, or None when not reported (a visible blank). A figure
    reported as a range or an estimate reads as the profile words it (``uncertain_figures``)."""
    from decimal import Decimal

    from geohazard_cli.models import AMOUNT_FIELDS, COUNT_FIELDS, TIME_FIELDS
    from geohazard_cli.money import format_wan

    value: Any = incident.hazard_type_name if field == "hazard_type" else getattr(incident, field)
    if value is None:
        return None
    reported = (incident.ranges or {}).get(field)
    if reported is not None and profile is not None and profile.uncertain_figures is not None:
        w = profile.uncertain_figures.wording
        low, high = (field_text(incident.model_copy(update={field: v, "ranges": None}), field, tz)
                     for v in (reported.low, reported.high))
        if reported.low == reported.high:
            return w.value_estimate.format(value=low, text=reported.text)
        return w.value_range.format(low=low, high=high)
    if field in COUNT_FIELDS:
        return f"{value}{COUNT_UNITS.get(field, '人')}"
    if field in AMOUNT_FIELDS:
        return format_wan(Decimal(value))
    if field in TIME_FIELDS:
        return _time_text(value, tz)
    return str(value)


def _deadline_template(text: str | None, key: str, profile: Profile) -> str:
    if text is None:  # check_profile refuses this at load; kept for a profile built in code
        raise ConfigError(f"{profile.source_file}: reporting.deadline.{key}: required when hours are given")
    return text


def deadline_of(assessment: Assessment, profile: Profile) -> dict[str, Any]:
    """The reporting deadline: hours per grade from the report time where the profile sets them."""
    from datetime import timedelta

    dl = profile.reporting.deadline
    hours = dl.hours.get(assessment.grade)
    reported = assessment.incident.reported_at
    due = due_iso = None
    if hours is None:
        text = dl.text
    elif reported is None:
        text = _deadline_template(dl.due_unknown, "due_unknown", profile).format(hours=hours)
    else:
        due = _time_text(reported + timedelta(hours=hours), profile.timezone)
        due_iso = _iso(reported + timedelta(hours=hours), profile.timezone)
        text = _deadline_template(dl.due, "due", profile).format(due=due, hours=hours)
    return {"text": text, "rule": dl.text, "hours": hours, "due": due, "due_iso": due_iso, "source": dl.source}


def _common_context(assessment: Assessment, profile: Profile) -> dict[str, Any]:
    from geohazard_cli.models import FIELD_LABELS

    a, inc = assessment, assessment.incident
    level = profile.level_by_key[a.response_level]
    sk = a.skip_level_report
    rp = profile.reporting
    from geohazard_cli.clauses import first_measures

    return {
        "plan": {"id": profile.id, "title": profile.title, "short_title": profile.short_title,
                 "document": profile.document},
        "incident": {
            "id": inc.id,
            "reporter": inc.reporter,
            "reported_at": field_text(inc, "reported_at", profile.timezone),
            "reported_at_iso": _iso(inc.reported_at, profile.timezone),
            "notes": inc.notes,
        },
        "assessment": {
            "grade": a.grade, "grade_name": a.grade_name, "lower_bound": a.lower_bound,
            "level": a.response_level, "level_name": a.response_level_name,
            "deciding": a.deciding_text,
            "not_reported": [FIELD_LABELS[k] for k in a.not_reported],
            "advisories": [f"{adv.text}({adv.source})" for adv in a.advisories],
            # figures reported as a range or an estimate: the grade range and what the sheet prepares for
            "grade_range": a.grade_range.model_dump(), "prepare_for": a.prepare_for,
            "uncertain": a.uncertain.model_dump(mode="json") if a.uncertain is not None else None,
        },
        "lead": a.lead.model_dump(mode="json"),
        "start_procedure": level.start_procedure.model_dump(mode="json"),
        "first_measures": first_measures(profile),
        "measures": [m.model_dump(mode="json") for m in level.measures],
        "reporting": {
            "public": rp.public.model_dump(mode="json") if rp.public is not None else None,
            "first_report": rp.first_report.model_dump(mode="json"),
            "chain": rp.chain.model_dump(mode="json"),
            "deadline": deadline_of(a, profile),
            "skip_level": {
                "applies": sk.applies, "reasons": sk.reasons,
                "undetermined": [FIELD_LABELS[k] for k in sk.undetermined],
                "text": sk.text, "recipients": sk.recipients, "source": sk.source,
                "follow_up": (f",{sk.follow_up}" if sk.follow_up else ""), "otherwise": sk.otherwise,
            },
        },
    }


def callsheet_context(assessment: Assessment, profile: Profile, call_list: CallList,
                      site: tuple[Site, Path] | None = None, from_site: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
    """Everything a call sheet shows, as plain data (also its JSON form). ``site``: the hazard site
    the incident is at (``--site``) and its register: its 防灾责任人 and 监测人 with their numbers,
    and its evacuation route and place (the bureau's local data, not the plan's); ``from_site``:
    the fields the register filled, not reported (cli._common.site_sourced)."""

    ctx = _common_context(assessment, profile)
    inc = assessment.incident
    defined = _defined(profile)
    ctx["facts"] = [_field_entry(inc, k, profile.timezone, defined, profile) for k in SHEET_FACTS]
    ctx["call_list"] = call_list.model_dump(mode="json")
    # Footnotes (provenance of units the plan does not name), numbered in call order.
    notes: list[dict[str, Any]] = []
    for e in ctx["call_list"]["entries"]:
        e["note_no"] = None
        if e["footnote"]:
            notes.append({"no": len(notes) + 1, "unit": e["unit"], "text": e["footnote"]})
            e["note_no"] = len(notes)
    ctx["footnotes"] = notes
    ctx["missing_numbers"] = [e.unit for e in call_list.entries if e.dial is None]
    # With a local overlay in force, every number says where it comes from (预案/本地); without
    # one every number is the plan's and the sheet reads as before.
    ctx["number_sources"] = any(e.origin == "local" or e.backups or e.on_duty for e in call_list.entries)
    ctx["origin_names"] = ORIGIN_NAMES
    ctx["site"] = None if site is None else _site_entry(*site)
    ctx["from_site"] = from_site
    return ctx


def _site_entry(site: Site, register: Path) -> dict[str, Any]:
    """A site's people and way out, for the sheet: each role with its name and number (None: not in
    the register, or a placeholder there, which the register does not keep as a number)."""
    from geohazard_cli.sites import ROLE_LABELS

    people = [{"role": role, "label": label, "name": getattr(site, f"{role}_name"),
               "dial": getattr(site, f"{role}_phone")} for role, label in ROLE_LABELS.items()]
    return {"id": site.id, "name": site.name, "street": site.street, "hazard_type_name": site.hazard_type_name,
            "households": site.households, "threatened": site.threatened, "people": people,
            "evacuation_route": site.evacuation_route, "evacuation_place": site.evacuation_place,
            "register": str(register), "origin": "local"}


def report_form_context(assessment: Assessment, profile: Profile, from_site: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
    """Everything the 速报单 (§3.2.1) shows; unknown fields stay None (blank on the form); ``from_site``:
    the fields the hazard-site register filled, not reported (cli._common.site_sourced).

    Gives ``fields`` (every incident field by key, with label and display value) besides the
    assessment, recipients, skip-level applicability and deadline."""
    from geohazard_cli.models import FIELD_LABELS

    ctx = _common_context(assessment, profile)
    inc = assessment.incident
    defined = _defined(profile)
    fields = {k: _field_entry(inc, k, profile.timezone, defined, profile) for k in FIELD_LABELS}
    ctx["fields"] = fields
    # The sections as this profile's plan lists the report's content, each citing that plan
    # ("市中区预案(2023)3.2.1", "国家预案(2006)3.3.2").
    from geohazard_cli.dispatch import dispatch_of

    sections = dispatch_of(profile).report_form
    ctx["sections"] = [
        {"title": sec.title, "source": sec.source,
         "cite": f"{profile.short_title}{sec.source}" if sec.source else None,
         "fields": [fields[k] for k in sec.fields]}
        for sec in sections
    ] or [{"title": "报送内容", "source": None, "cite": None, "fields": list(fields.values())}]
    ctx["from_site"] = from_site
    return ctx
