"""Raw incident figures (flags, YAML/JSON files, batch records) -> a validated ``Incident``.

Every input path goes through ``parse_incident`` so a figure means the same wherever it is typed.
``field_name`` turns a snake_case field into how the user wrote it (``--direct-loss`` for flags,
``direct_loss`` for files), so messages name what the user typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from geohazard_cli.errors import InputError, field_error
from geohazard_cli.fields import ALL_FIELDS, AMOUNT_FIELDS, COUNT_FIELDS, TEXT_FIELDS, TIME_FIELDS
from geohazard_cli.money import refuse_odd_characters
from geohazard_cli.ranges import Reported, parse_figure

if TYPE_CHECKING:
    from geohazard_cli.models import Incident
    from geohazard_cli.rules import Profile

MAX_TEXT = 2000
TIME_EXAMPLES = ("ISO 8601, 2026-07-21 09:40, 2026年7月21日9时40分, 7月21日 9:40 (this year) or 09:40 / "
                 "9时40分 (today); no offset means +08:00")
# A date and time as an officer writes it in Chinese: 2026年7月21日9时40分, 2026年7月21日 9:40,
# 2026年7月21日9点, 2026年7月21日9时40分15秒 (after NFKC, so full-width digits are folded). Without
# the year (7月21日 9:40) it is this year's; without the date (09:40, 9时40分) it is today's, both on
# the command's clock (``now``: the drill clock in a drill).
_CLOCK = r"(\d{1,2})(?:[时点]|:(?=\d\d))(?:(\d{1,2})分?(?:(\d{1,2})秒)?)?"
_CHINESE_TIME = rf"(?:(?:(\d{{4}})年)?(\d{{1,2}})月(\d{{1,2}})日\s*)?{_CLOCK}"
_COLON_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"


def _chinese_time(text: str, now: Callable[[], datetime]) -> str:
    """``2026年7月21日9时40分`` -> ``2026-07-21T09:40:00``; ``7月21日 9:40`` and ``09:40`` take the
    year or the date of ``now()`` (unchanged when the text is none of these forms)."""
    m = re.fullmatch(_CHINESE_TIME, text)
    if m is not None:
        y, mo, d, h, mi, s = (int(g) if g else None for g in m.groups())
    else:
        m = re.fullmatch(_COLON_TIME, text)
        if m is None:
            return text
        y = mo = d = None
        h, mi, s = (int(g) if g else None for g in m.groups())
    if y is None:
        today = now()
        y, mo, d = today.year, mo if mo is not None else today.month, d if d is not None else today.day
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi or 0:02d}:{s or 0:02d}"


def is_relative(text: str) -> bool:
    """A time typed without its date (09:40, 9时40分) or year (7月21日 9:40): read on the clock."""
    folded = nfkc(text).strip()
    m = re.fullmatch(_CHINESE_TIME, folded)
    return re.fullmatch(_COLON_TIME, folded) is not None or (m is not None and m.group(1) is None)


# C0 and C1 controls (ESC among them; tab and newline are text) and the bidirectional embeddings,
# overrides and isolates, which reorder what is shown (U+202A-U+202E, U+2066-U+2069).
# Compiled (and cached by re) on first use; loader.py refuses the same in files.
CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
# Incident times lie well inside the calendar, so deadlines and zone shifts on them never overflow
# (9999-12-31T23:59:59-23:59 is past datetime's range once moved to UTC).
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(3000, 1, 1, tzinfo=UTC)
_SURROGATE = "[\ud800-\udfff]"  # how Python keeps undecodable bytes of argv


def nfkc(text: str) -> str:
    """NFKC form (full-width digits and letters folded); ASCII text is its own, so unicodedata (a
    large table, ~0.5 ms to load) is imported only for other text."""
    if text.isascii():
        return text
    import unicodedata

    return unicodedata.normalize("NFKC", text)


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def parse_time(value: object, field: str, tz: str = "+08:00", now: datetime | None = None) -> datetime:
    """ISO 8601 / ``2026-07-21 09:40`` / the Chinese forms; naive times are local to the plan
    (Beijing, +08:00). A time without its year or date is read on ``now`` (the command's clock,
    moved into the plan's zone; the wall clock when not given)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        def today() -> datetime:
            from geohazard_cli.timeutil import local, zone

            return local(now, tz) if now is not None else datetime.now(zone(tz))

        text = _chinese_time(nfkc(value).strip(), today).replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise field_error(field, value, f"is not a time ({TIME_EXAMPLES})") from None
        # Read as a time only once folded (²): refuse what folds into a digit; the units of the
        # Chinese form (年月日时点分秒) are not such characters.
        refuse_odd_characters(re.sub("[年月日时点分秒]", "0", value), field, "2026-07-21 09:40")
    else:
        raise field_error(field, str(value), f"is not a time ({TIME_EXAMPLES})")
    if dt.tzinfo is None:
        from geohazard_cli.timeutil import zone

        dt = dt.replace(tzinfo=zone(tz))
    if not _EARLIEST <= dt < _LATEST:
        shown = value if isinstance(value, str) else dt.isoformat()
        raise field_error(field, shown, f"is outside the years 1900-2999 ({TIME_EXAMPLES})")
    return dt


def parse_text(value: object, field: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise field_error(field, str(value), "is not text")
    text = str(value).strip()
    if re.search(CONTROL, text):
        raise InputError(f"{field}: contains control characters; expected plain text")
    if re.search(_SURROGATE, text):  # bytes the terminal or file sent that are not UTF-8
        raise InputError(f"{field}: is not UTF-8 text (set the terminal to UTF-8); expected plain text")
    if len(text) > MAX_TEXT:
        raise InputError(f"{field}: longer than {MAX_TEXT} characters")
    return text or None


def parse_hazard_type(value: object, field: str, profile: Profile) -> tuple[str, str]:
    if isinstance(value, str):
        found = profile.hazard_lookup.get(nfkc(value).strip().casefold())
        if found is not None:
            return found.key, found.name
    accepted = ", ".join(f"{h.name} ({h.key})" for h in profile.hazard_types.items)
    source = profile.hazard_types.source
    raise field_error(field, str(value), f"is not a hazard type of this plan (§{source}: {accepted})")


def parse_incident(
    raw: Mapping[str, Any],
    profile: Profile,
    name: Callable[[str], str] = str,
    where: str = "",
    base: Incident | None = None,
    require_figure: bool = True,
    now: datetime | None = None,
) -> Incident:
    """Validate raw fields into an Incident. ``base`` supplies figures not given (updates carry over).

    ``None`` (an empty CSV cell, a YAML ``~``) means "not reported" and never overrides a base value.
    """
    from geohazard_cli.models import Incident

    return Incident(**parse_values(raw, profile, name, where, base, require_figure, now))


def parse_values(
    raw: Mapping[str, Any],
    profile: Profile,
    name: Callable[[str], str] = str,
    where: str = "",
    base: Mapping[str, Any] | Incident | None = None,
    require_figure: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The one parser: raw fields in, the incident's fields out (only those given here or in
    ``base``), each already of the type ``models.Incident`` holds (``parse_incident`` makes the
    model of them). Defines no pydantic model, for the start-up path of ``classify``. ``now`` is
    the clock a time without its date is read on (the drill clock; the wall clock when None)."""
    prefix = f"{where}: " if where else ""
    unknown = [k for k in raw if k not in ALL_FIELDS and k != "hazard_type_name"]
    if unknown:
        known = ", ".join(ALL_FIELDS)
        raise InputError(f"{prefix}{name(str(unknown[0]))}: unknown field (known: {known})")
    values: dict[str, Any] = dict(base) if base is not None else {}
    if values.get("ranges"):  # plain data, whether the base is an Incident or its fields
        values["ranges"] = {k: r if isinstance(r, dict) else r.model_dump() for k, r in values["ranges"].items()}
    try:
        for key, value in raw.items():
            if value is None or (isinstance(value, str) and not value.strip() and key not in TEXT_FIELDS):
                continue
            label = name(key)
            if key in COUNT_FIELDS or key in AMOUNT_FIELDS:
                count = key in COUNT_FIELDS
                figure = parse_figure(value, label, "count" if count else "amount",
                                      profile.limits.count if count else profile.limits.amount)
                if isinstance(figure, Reported):  # the field holds the upper end; ranges keeps it as typed
                    if profile.uncertain_figures is None:
                        raise field_error(label, value, f"is a range or an estimate, and the profile "
                                          f"{profile.id} sets no policy for those (uncertain_figures:); "
                                          "give one figure")
                    ranges = {**(values.get("ranges") or {}), key: figure.plain()}
                    values[key], values["ranges"] = figure.high, ranges
                else:
                    values[key] = figure
                    if values.get("ranges") and key in values["ranges"]:
                        rest = {k: v for k, v in values["ranges"].items() if k != key}
                        values["ranges"] = rest or None
            elif key in TIME_FIELDS:
                values[key] = parse_time(value, label, profile.timezone, now)
            elif key in TEXT_FIELDS:
                values[key] = parse_text(value, label)
            elif key == "hazard_type":
                values["hazard_type"], values["hazard_type_name"] = parse_hazard_type(value, label, profile)
    except InputError as exc:
        if prefix:
            raise InputError(f"{prefix}{exc}") from None
        raise
    if require_figure and not any(values.get(ind.key) is not None for ind in profile.indicators):
        wanted = ", ".join(f"{name(ind.key)} ({ind.name})" for ind in profile.indicators)
        deaths = next((ind for ind in profile.indicators if ind.key == "deaths"), None)
        hint = (f" ({name('deaths')} 0 when the report says no one died)"
                if deaths is not None and values.get("deaths") is None else "")
        raise InputError(f"{prefix}no figure to grade on: give at least one of {wanted}{hint}")
    return values


def implausible(values: Mapping[str, Any], keys: Iterable[str], profile: Profile,
                name: Callable[[str], str] = str) -> list[str]:
    """The figures among ``keys`` past the jurisdiction's scale (``limits.warn``), each as one line
    showing the figure: they are graded as given, and the officer checks them (a typo, or a truly
    exceptional event). A figure past ``limits.count``/``amount`` never gets here: it is refused."""
    warn = profile.limits.warn
    if warn is None:
        return []
    from geohazard_cli.money import format_wan

    out = []
    for key in dict.fromkeys(keys):
        value = values.get(key)
        if key in COUNT_FIELDS and value is not None and value > warn.count:
            out.append(f"{name(key)}: {value}人 ({format_wan(Decimal(value)).removesuffix('元')}人) is more than "
                       f"{format_wan(Decimal(warn.count)).removesuffix('元')}人: {warn.text}")
        elif key in AMOUNT_FIELDS and value is not None and value > warn.amount:
            out.append(f"{name(key)}: {format_wan(value)} is more than {format_wan(warn.amount)}: {warn.text}")
    return out
