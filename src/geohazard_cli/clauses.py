"""The plan's clauses read out where they act, as plain data (pure): §5 先期处置 (call sheets, an
incident's opening), §6.4 响应终止's criteria (close, export), §8 后期处置 (export) and the §10.1
definitions (beside a figure). Each comes from the profile; a profile without one gives None/[]."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile


def first_measures(profile: Profile) -> dict[str, Any] | None:
    """§5 先期处置: title, the lead sentence, its clause and the measures (each with its clause)."""
    fm = profile.first_measures
    return fm.model_dump(mode="json") if fm is not None else None


def aftermath(profile: Profile) -> dict[str, Any] | None:
    """§8 后期处置 as a checklist: each task with its owner and where the owner is read from."""
    am = profile.aftermath
    return am.model_dump(mode="json") if am is not None else None


def termination_criteria(profile: Profile, response: str = "incident") -> list[dict[str, Any]]:
    """What the officer confirms before ending a response (§6.4): each criterion of an incident's
    end (§6.4(1)), or a warning period's end (§6.4(2), ``warning.end``)."""
    if response == "warning":
        end = profile.warning.get("end")
        return [{"text": end["text"], "source": end["source"]}] if isinstance(end, dict) else []
    return [c.model_dump(mode="json") for c in profile.decisions.termination.criteria]


def termination(profile: Profile, response: str = "incident") -> dict[str, Any]:
    """Who ends the response, on whose advice, and the criteria to confirm (§6.4)."""
    t = profile.decisions.termination
    return {"decider": t.decider, "advisers": list(t.advisers), "text": t.text, "source": t.source,
            "criteria": termination_criteria(profile, response)}


def termination_lines(profile: Profile, response: str = "incident") -> list[str]:
    """The criteria as lines for a terminal, each to be confirmed, then who decides."""
    t = termination(profile, response)
    lines = [f"[ ] {c['text']}({c['source']})" for c in t["criteria"]]
    if lines:
        lines.append(f"{t['text']}({t['source']})")
    return lines


def definitions(profile: Profile, keys: list[str] | None = None) -> list[dict[str, Any]]:
    """The §10.1 definitions of these incident fields (all when None), in the profile's order."""
    return [d.model_dump(mode="json") for d in profile.definitions if keys is None or d.key in keys]
