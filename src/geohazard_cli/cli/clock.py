"""The command's clock: a typed time read on it, and a time in the future refused (the allowed
skew from the config dir's response.local.yaml). Shared by the incident commands and the sheets
(classify, callsheet, report-form); imports nothing of the shell, so either may use it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from geohazard_cli.models import Incident


def when_of(at: str | None, tz: str, flag: str = "--at", skew_minutes: int | None = None) -> datetime:
    """--at, or now, in the incident's (the plan's) time zone, to the second. A time more than the
    allowed clock skew in the future is a mistyped time: refused, with the clock shown."""
    from datetime import datetime, timedelta

    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import parse_time
    from geohazard_cli.timeline import human_time

    zone = parse_time("2000-01-01T00:00", flag, tz).tzinfo
    now = datetime.now(zone).replace(microsecond=0)
    if at is None:
        return now
    when = parse_time(at, flag, tz, now)
    if skew_minutes is None:  # the config dir in force ($GEOHAZARD_CONFIG_DIR or the shipped one)
        from geohazard_cli.config import config_dir

        skew_minutes = skew_of(config_dir(None))
    skew = skew_minutes
    if when - now > timedelta(minutes=skew):
        from geohazard_cli.intake import is_relative

        # A time typed without its date is today's: one later than now is not read as yesterday's.
        hint = (f"; for another day write the date: {human_time(when - timedelta(days=1), tz)}"
                if is_relative(at) else "")
        raise InputError(f'{flag}: "{human_time(when, tz)}" is in the future (the clock says {human_time(now, tz)}; '
                         f"at most {skew} minutes ahead is taken, as set by clock_skew_minutes in "
                         f"response.local.yaml){hint}")
    return when


def refuse_future(incident: Incident | Mapping[str, Any], tz: str, typed: Mapping[str, Any] | None = None,
                  skew_minutes: int | None = None) -> None:
    """A 报告时间 or 发生时间 in the future is a mistyped time (it would push every deadline away, and
    put tomorrow's date on a 速报单): refused like a future --at, with the clock shown (and, for a
    time typed without its date, the date to write for another day: ``typed`` holds the flags as
    given). ``incident``: the model, or its fields as plain values (classify, callsheet, report-form)."""
    for field, flag in (("reported_at", "--reported-at"), ("occurred_at", "--occurred-at")):
        value = incident.get(field) if isinstance(incident, Mapping) else getattr(incident, field)
        if value is not None:
            text = (typed or {}).get(field)
            when_of(text if isinstance(text, str) else value.isoformat(), tz, flag, skew_minutes)


DEFAULT_SKEW_MINUTES = 5  # when the config dir has no response.local.yaml (deadlines.LocalResponse's default)


def skew_of(cfg: Path) -> int:
    """The config dir's allowed clock skew (response.local.yaml), else the default."""
    from geohazard_cli.deadlines import load

    local = load(cfg)
    return local.clock_skew_minutes if local is not None else DEFAULT_SKEW_MINUTES
