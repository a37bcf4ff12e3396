"""Digest schedules: ``"daily 09:00"``, ``"weekly mon 09:00"``, ``"hourly"`` or a cron expression.

Parsed into an APScheduler ``CronTrigger``, so the daemon schedules a digest
with the same object the config was checked with, and a schedule that the
config accepts can always be run. A five-field expression is crontab's
(minute hour day month weekday); a six-field one puts seconds first.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def zone(name: str) -> ZoneInfo:
    """A time zone by its IANA name ("UTC", "Europe/Berlin"), or ValueError."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a known time zone (e.g. 'UTC', 'Europe/Berlin')") from None


def _at(text: str, expression: str) -> tuple[int, int]:
    found = _TIME.fullmatch(text)
    if not found:
        raise ValueError(f"{expression!r}: {text!r} is not a time of day like 09:00")
    return int(found.group(1)), int(found.group(2))


def _crontab_weekdays(field: str, expression: str) -> str:
    """Crontab counts weekdays from Sunday (0 or 7); APScheduler from Monday: translate to names."""
    if not any(ch.isdigit() for ch in field):
        return field  # names, or "*": the same in both
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, _, high = span.partition("-")
            if not (low.isdigit() and high.isdigit()):
                raise ValueError(f"{expression!r}: mix of names and numbers in the weekday field")
            first, last = int(low), int(high)
        elif span.isdigit():
            first = last = int(span)
        else:
            raise ValueError(f"{expression!r}: {part!r} is not a weekday")
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last and step >= 1):
            raise ValueError(f"{expression!r}: {part!r} is not a weekday (0-7, Sunday is 0 or 7)")
        days.update(range(first, last + 1, step))
    names = ("sun", *_DAYS[:6])
    return ",".join(names[d % 7] for d in sorted({d % 7 for d in days}))


def digest_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """The trigger for a channel's ``digest`` setting, or ValueError saying what is wrong."""
    tz = zone(timezone)
    words = expression.strip().lower().split()
    if not words:
        raise ValueError("empty: use 'daily 09:00', 'weekly mon 09:00', 'hourly' or a cron expression")
    try:
        if words == ["hourly"]:
            return CronTrigger(minute=0, timezone=tz)
        if words[0] == "daily" and len(words) == 2:
            hour, minute = _at(words[1], expression)
            return CronTrigger(hour=hour, minute=minute, timezone=tz)
        if words[0] == "weekly" and len(words) == 3:
            if words[1][:3] not in _DAYS:
                raise ValueError(f"{expression!r}: {words[1]!r} is not a day of the week")
            hour, minute = _at(words[2], expression)
            return CronTrigger(day_of_week=words[1][:3], hour=hour, minute=minute, timezone=tz)
        if len(words) == 5:
            minutes, hours, day, month, weekday = words
            return CronTrigger(minute=minutes, hour=hours, day=day, month=month,
                               day_of_week=_crontab_weekdays(weekday, expression), timezone=tz)
        if len(words) == 6:
            second, minutes, hours, day, month, weekday = words
            return CronTrigger(second=second, minute=minutes, hour=hours, day=day, month=month,
                               day_of_week=_crontab_weekdays(weekday, expression), timezone=tz)
    except ValueError as exc:
        if str(exc).startswith(repr(expression)):
            raise
        raise ValueError(f"{expression!r} is not a valid schedule ({exc})") from None
    raise ValueError(
        f"{expression!r} is not a schedule: use 'daily 09:00', 'weekly mon 09:00', 'hourly', "
        "a cron expression (minute hour day month weekday) or one with seconds first"
    )
