"""Digests: a channel that takes one message per period instead of single alerts.

Alerts for a digest channel wait in the outbox. When the channel's schedule
fires (an APScheduler ``CronTrigger`` in the daemon, and a check before
every delivery round, so a period that ended while talentwatch was stopped
is closed at the next start), every alert waiting on the channel is stamped
with the id of one digest message; the delivery loop then sends that
message with the same retries as any alert and marks all of them delivered
together. The id is stored before sending, so a crash in between re-sends
the same digest under the same id. A period with no alerts sends nothing.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from config.cron import digest_trigger
from storage import outbox as outbox_db
from storage import state as state_db
from storage.db import from_iso, iso

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

    from config.schema import Channel
    from monitor.pipeline import Runtime

log = logging.getLogger("talentwatch")
STATE_KEY = "digests"  # {channel key: when its last period closed}


def digest_id(channel: str, closed: datetime) -> str:
    """The digest message's idempotency key: one per channel and period."""
    digest = hashlib.sha256(f"digest\x1f{channel}\x1f{iso(closed)}".encode()).hexdigest()
    return f"msg_{digest[:26]}"


def trigger_of(channel: Channel) -> CronTrigger:
    assert channel.digest is not None
    return digest_trigger(channel.digest, channel.timezone)


def period_ended(trigger: CronTrigger, last_closed: datetime, now: datetime) -> bool:
    """Whether the schedule fired after ``last_closed`` and by ``now``."""
    following = trigger.get_next_fire_time(None, last_closed + timedelta(microseconds=1))
    return following is not None and following <= now


def close_due_digests(rt: Runtime, now: datetime) -> dict[str, int]:
    """Close every digest channel's period that has ended: {channel: alerts put into its digest}.

    A channel seen for the first time starts its first period now. Runs on
    the database worker, in one transaction.
    """
    channels = [c for c in rt.settings.channels if c.digest]
    if not channels:
        return {}
    closed: dict[str, int] = {}
    with rt.store.transaction():
        marks: dict[str, str] = dict(state_db.get(rt.store, STATE_KEY, {}) or {})
        changed = False
        for channel in channels:
            last = from_iso(marks.get(channel.key))
            if last is not None and not period_ended(trigger_of(channel), last, now):
                continue
            if last is not None:
                count = outbox_db.close_digest(rt.store, channel=channel.key, digest_id=digest_id(channel.key, now),
                                               upto=now)
                closed[channel.key] = count
                if count:
                    log.info("digest closed on %s: %d alerts", channel.key, count)
            marks[channel.key] = iso(now) or ""
            changed = True
        if changed:
            state_db.put(rt.store, STATE_KEY, marks, now)
    return closed
