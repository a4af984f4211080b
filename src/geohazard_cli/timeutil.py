"""Times in the plan's zone (a profile's ``timezone``, "+08:00" for Beijing): one place for it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache


@cache
def zone(tz: str) -> timezone:
    """"+08:00" -> the fixed-offset zone (the profile schema guarantees the ±HH:MM form)."""
    sign = -1 if tz.startswith("-") else 1
    return timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))


def local(value: datetime, tz: str) -> datetime:
    """An aware time moved into the plan's zone; a naive one is taken to be in it already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone(tz))
    return value.astimezone(zone(tz))


def local_text(value: datetime, tz: str) -> str:
    """As an officer reads it: "2026-07-21 09:40" in the plan's zone."""
    return local(value, tz).strftime("%Y-%m-%d %H:%M")


def cap_time(moment: datetime, tz: str) -> str:
    """``2026-07-21T08:30:00+08:00``: the plan's offset, whole seconds (the CAP XSD's form; a
    warning's JSON ``sent`` too)."""
    return moment.astimezone(zone(tz)).replace(microsecond=0).isoformat()
