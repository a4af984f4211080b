"""The plan's clauses read out where they act, as plain data (pure): §5 先期处置 (call sheets, an
incident's opening), §6.4 响应终止's criteria (close, export), §8 后期处置 (export) and the §10.1
definitions (beside a figure). Each comes from the profile; a profile without one gives None/[]."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

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


def termination_lines(profile: Profile, response: str = "incident", ticked: bool = False) -> list[str]:
    """The criteria as numbered lines for a terminal, each to be confirmed (``ticked``: confirmed),
    then who decides."""
    t = termination(profile, response)
    box = "[x]" if ticked else "[ ]"
    lines = [f"{n}. {box} {c['text']}({c['source']})" for n, c in enumerate(t["criteria"], start=1)]
    if lines:
        lines.append(f"{t['text']}({t['source']})")
    return lines


def definitions(profile: Profile, keys: list[str] | None = None) -> list[dict[str, Any]]:
    """The §10.1 definitions of these incident fields (all when None), in the profile's order."""
    return [d.model_dump(mode="json") for d in profile.definitions if keys is None or d.key in keys]


def confirmed_criteria(profile: Profile, response: str, confirm: Sequence[int] | Literal["all"],
                       field: str = "--confirm", how: str = "--confirm N for each, or --confirm-all",
                       ) -> list[dict[str, Any]]:
    """The §6.4 criteria confirmed (each by its number, 1 first, or ``"all"``), all of them or an
    InputError naming what is not yet confirmed and who decides: a response ends only when the
    officer has confirmed every criterion the profile lists for it."""
    from geohazard_cli.errors import InputError

    criteria = termination_criteria(profile, response)
    numbers = range(1, len(criteria) + 1)
    wrong = [n for n in ([] if confirm == "all" else confirm) if n not in numbers]
    if wrong:
        raise InputError(f"{field}: {wrong[0]} is not a criterion number (1-{len(criteria)}: "
                         + "; ".join(f"{n} {c['text']}" for n, c in zip(numbers, criteria, strict=True)) + ")")
    missing = [] if confirm == "all" else [n for n in numbers if n not in confirm]
    if missing:
        t = termination(profile, response)
        sources = "、".join(dict.fromkeys(criteria[n - 1]["source"] for n in missing))
        raise InputError(f"{field}: not confirmed ({sources}): "
                         + "; ".join(f"{n} {criteria[n - 1]['text']}" for n in missing)
                         + f" ({how}, once {t['decider']} has declared the end, {t['source']})")
    return criteria
