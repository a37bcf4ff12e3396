"""Exodus: one extra alert when a tracked lab loses many people within a window.

The count is of the lab's *alerted* losses (an event below ``min_confidence``
or too old does not count), by the time each was first queued, within
``[now - window, now]``. A **crossing** is the moment a newly alerted loss
brings that count to exactly ``count``: losses arrive one at a time, so the
count passes the threshold upward only then. Further losses while the count
stays at or above the threshold send nothing more; once old losses leave the
window and the count falls below it, the next loss that brings it back to
``count`` is a new crossing and a new exodus alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from monitor.rules import AlertPlan, alert_id

if TYPE_CHECKING:
    from config.schema import ExodusSettings


def is_crossing(new_event: int, recent: Sequence[int], count: int) -> bool:
    """Whether ``new_event`` (a loss alerted just now, not before) makes ``recent`` reach ``count``."""
    return new_event in recent and len(recent) == count


def exodus_plans(
    lab: str,
    new_event: int,
    recent: Sequence[int],
    settings: ExodusSettings | None,
    channels: Sequence[str],
) -> list[AlertPlan]:
    """The exodus alerts a newly alerted loss causes: one per channel at a crossing, none otherwise.

    ``recent`` are the lab's alerted losses within the window, oldest first,
    ``new_event`` among them. The alert's key derives from the loss that
    crossed, so the same crossing can never be queued twice.
    """
    if settings is None or not is_crossing(new_event, recent, settings.count):
        return []
    related = tuple(recent)
    return [AlertPlan(alert_id(new_event, "exodus", lab, ch), "exodus", lab, ch, related) for ch in channels]
