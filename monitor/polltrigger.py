"""The APScheduler trigger of a feed poll: its interval, spread without drift, on whole seconds.

APScheduler's ``IntervalTrigger`` adds its jitter, between 0 and ``jitter``,
on top of the previous run time, which already carries the last one: a
feed polled "every 15 minutes" with 90 s of jitter is polled every 15.75
minutes on average, a little less often than its owner asked. Here the
jitter is centred (between ``-jitter/2`` and ``+jitter/2``): polls that fall
due together still drift apart, and the mean interval is the configured one.

Run times are rounded to the second. Ten thousand feeds every fifteen
minutes fall due about eleven a second; APScheduler wakes once for all
those due at one time, so on whole seconds it wakes once a second rather
than once a feed, and each wake-up's bookkeeping is shared.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

_SECOND = timedelta(seconds=1)


class PollTrigger(IntervalTrigger):  # type: ignore[misc]
    """``IntervalTrigger(seconds=..., jitter=...)`` with centred jitter and whole-second run times."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if previous_fire_time is None:
            return _whole_second(super().get_next_fire_time(None, now))
        when = previous_fire_time + self.interval
        if self.jitter:
            when += timedelta(seconds=random.uniform(-self.jitter / 2, self.jitter / 2))
        if self.end_date is not None and when > self.end_date:
            return None
        return _whole_second(when)


def _whole_second(when: datetime | None) -> datetime | None:
    """The nearest whole second."""
    if when is None or not when.microsecond:
        return when
    down = when.replace(microsecond=0)
    return down + _SECOND if when.microsecond >= 500_000 else down
