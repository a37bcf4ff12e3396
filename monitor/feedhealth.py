"""Feed health alerts: a feed failing poll after poll, or bringing nothing new for long.

Pure decisions over a feed's health figures and ``[alerts.feed_health]``;
the pipeline queues what they return in the same transaction as the poll's
outcome. Each alert's key derives from the feed, the problem and the moment
the problem began (the streak's first failure, or the last new entries), so
one streak or one silent spell alerts once per channel however many polls
see it, and a feed that recovers and fails again later alerts again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.records import FeedHealth
from monitor.rules import alert_id
from storage.db import from_iso, iso

if TYPE_CHECKING:
    from config.schema import FeedHealthSettings


@dataclass(frozen=True, slots=True)
class FeedAlertPlan:
    """A feed health alert to queue on one channel."""

    id: str
    feed_id: int
    channel: str
    health: FeedHealth


def failing(feed_id: int, health: FeedHealth, settings: FeedHealthSettings | None,
            channels: Sequence[str]) -> list[FeedAlertPlan]:
    """Alerts due for a feed whose ``health.failures``-th failure in a row was just recorded."""
    if settings is None or not settings.failures or health.failures < settings.failures:
        return []
    return _plans(feed_id, health, channels)


def silent(feed_id: int, health: FeedHealth, settings: FeedHealthSettings | None,
           channels: Sequence[str], now: datetime) -> list[FeedAlertPlan]:
    """Alerts due for a feed polled fine but with no new entries since ``health.since``."""
    if settings is None or settings.silent is None:
        return []
    if now - health.since < timedelta(seconds=settings.silent):
        return []
    return _plans(feed_id, health, channels)


def _plans(feed_id: int, health: FeedHealth, channels: Sequence[str]) -> list[FeedAlertPlan]:
    spell = f"{health.problem}@{iso(health.since)}"
    return [FeedAlertPlan(alert_id(feed_id, "feed_health", spell, ch), feed_id, ch, health) for ch in channels]


def to_detail(health: FeedHealth) -> dict[str, Any]:
    """What the outbox keeps of an alert, so every retry says what was true when it was queued."""
    return {"url": health.url, "name": health.name, "problem": health.problem, "since": iso(health.since),
            "failures": health.failures, "last_error": health.last_error, "last_status": health.last_status}


def from_detail(detail: dict[str, Any]) -> FeedHealth:
    since = from_iso(detail.get("since"))
    assert since is not None, "a feed health alert always has its start"
    return FeedHealth(url=str(detail["url"]), name=detail.get("name"), problem=detail["problem"], since=since,
                      failures=int(detail.get("failures") or 0), last_error=detail.get("last_error"),
                      last_status=detail.get("last_status"))
