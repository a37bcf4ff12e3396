"""The delivery loop: send what the outbox says is due, record what happened.

The outbox row is marked delivered only after the channel accepted the
alert, so a crash in between re-sends it with the same id (at-least-once;
receivers drop repeats by ``webhook-id`` / ``Message-ID``). The event is
read at send time, so an alert carries every source known by then.

Each round: close the digest periods that ended (``monitor.digest``), take
the due alerts, hold back what a channel's rate limit does not allow yet
(it stays in the outbox, due again when the window has room), send the rest
(a digest's alerts as one message), and record each outcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import jinja2

from monitor.digest import close_due_digests
from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.feedhealth import from_detail
from monitor.records import Alert, AlertKind, Event
from monitor.schedule import alert_retry_at
from storage import events as events_db
from storage import outbox as outbox_db

if TYPE_CHECKING:
    from config.schema import Channel
    from monitor.pipeline import Runtime
    from storage.outbox import OutboxRow

log = logging.getLogger("talentwatch")
# One send in flight per channel: a crash can then repeat at most one alert on each channel (with its id).
IN_FLIGHT_PER_CHANNEL = 1
# One delivery round at a time per event loop: two rounds would both read the
# same due rows before either marks them, and send them twice.
_ROUNDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    held: int = 0  # over a channel's rate limit: waiting in the outbox


@dataclass(frozen=True, slots=True)
class Batch:
    """What one send carries: one alert, or every alert of one digest."""

    key: str  # the alert id, or the digest id
    channel: str
    rows: tuple[OutboxRow, ...]


def batches(rows: Sequence[OutboxRow]) -> list[Batch]:
    """One batch per plain alert, one per digest (its alerts in queue order)."""
    grouped: dict[str, list[OutboxRow]] = {}
    for row in rows:
        grouped.setdefault(row.digest or row.id, []).append(row)
    return [Batch(key, group[0].channel, tuple(group)) for key, group in grouped.items()]


def within_limits(found: Sequence[Batch], room: Mapping[str, int]) -> tuple[list[Batch], list[Batch]]:
    """Split batches into those a channel may send now and those that must wait, oldest first.

    ``room`` is how many more messages each rate-limited channel may send in
    its current window; a channel not in it is not limited.
    """
    left = dict(room)
    send: list[Batch] = []
    wait: list[Batch] = []
    for batch in found:
        if batch.channel not in left:
            send.append(batch)
        elif left[batch.channel] > 0:
            left[batch.channel] -= 1
            send.append(batch)
        else:
            wait.append(batch)
    return send, wait


def _single(rt: Runtime, row: OutboxRow) -> Alert:
    kind: AlertKind = row.kind  # type: ignore[assignment]
    if row.feed_id is not None:  # a feed health alert: about a feed, with no event of its own
        health = from_detail(json.loads(row.detail or "{}"))
        stand_in = Event(id=0, person=None, from_org=None, to_org=None, role=None, confidence=0.0,
                         status="reported", first_seen=health.since)
        return Alert(id=row.id, kind=kind, lab=row.lab, channel=row.channel, event=stand_in, created=row.created,
                     feed=health)
    return Alert(
        id=row.id,
        kind=kind,
        lab=row.lab,
        channel=row.channel,
        event=events_db.load_event(rt.store, row.event_id),
        created=row.created,
        related=tuple(events_db.load_event(rt.store, e) for e in row.related),
    )


def build_alert(rt: Runtime, batch: Batch) -> Alert:
    """The Alert a batch sends; a digest's ``created`` is its newest alert's, the same on every retry."""
    items = [_single(rt, row) for row in batch.rows]
    if len(batch.rows) == 1 and batch.rows[0].digest is None:
        return items[0]
    labs = ", ".join(dict.fromkeys(item.lab for item in items))
    return Alert(id=batch.key, kind="digest", lab=labs, channel=batch.channel, event=items[0].event,
                 created=max(row.created for row in batch.rows), items=tuple(items))


def _room(rt: Runtime, channels: Mapping[str, Channel], now: datetime) -> dict[str, int]:
    room = {}
    for key, channel in channels.items():
        if channel.rate_limit is not None and not channel.digest:
            count, seconds = channel.rate_limit
            room[key] = max(0, count - outbox_db.sent_since(rt.store, key, now - timedelta(seconds=seconds)))
    return room


async def deliver_due(rt: Runtime, client: httpx.AsyncClient) -> DeliveryReport:
    """Close ended digest periods, then try every due alert once; returns what happened.

    A call made while another round runs returns at once with nothing done:
    the running round, or the next one, sends what is due.
    """
    lock = _ROUNDS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    if lock.locked():
        return DeliveryReport()
    async with lock:
        return await _round(rt, client)


async def _round(rt: Runtime, client: httpx.AsyncClient) -> DeliveryReport:
    from monitor.notify import deliver

    channels = {channel.key: channel for channel in rt.settings.channels}
    held_channels = {key for key, channel in channels.items() if channel.digest}

    def pick() -> tuple[list[tuple[Batch, Alert]], int]:
        now = rt.clock()
        close_due_digests(rt, now)
        rows = outbox_db.due(rt.store, now, channels=set(channels), held=held_channels, limit=500)
        send, wait = within_limits(batches(rows), _room(rt, channels, now))
        for channel in sorted({b.channel for b in wait}):
            _hold(rt, channels[channel], [row.id for b in wait if b.channel == channel for row in b.rows], now)
        return [(batch, build_alert(rt, batch)) for batch in send], sum(len(b.rows) for b in wait)

    chosen, held = await rt.run(pick)
    if not chosen:
        return DeliveryReport(held=held)
    gates = {key: asyncio.Semaphore(IN_FLIGHT_PER_CHANNEL) for key in channels}
    templates = rt.settings.alerts.templates

    async def send(batch: Batch, alert: Alert) -> tuple[str, int]:
        ids = [row.id for row in batch.rows]
        async with gates[batch.channel]:
            try:
                await deliver(alert, channels[batch.channel], client=client, templates=templates)
            except DeliveryError as exc:
                return await rt.run(_failed, rt, batch, exc), len(ids)
            except jinja2.TemplateError as exc:  # a user's template: retrying will not fix it
                error = PermanentDeliveryError(f"template error: {type(exc).__name__}: {exc}")
                return await rt.run(_failed, rt, batch, error), len(ids)
            except Exception as exc:  # a bug in a sender must not stop the other alerts
                log.exception("unexpected error delivering %s", batch.key)
                return await rt.run(_failed, rt, batch, DeliveryError(f"{type(exc).__name__}: {exc}")), len(ids)
        await rt.run(_delivered, rt, ids)
        what = (f"{len(ids)} alerts" if alert.kind == "digest" else alert.feed.url if alert.feed
                else alert.event.person or "a group")
        log.info("alert delivered: %s %s (%s) on %s [%s]", alert.kind, what, alert.lab, batch.channel, batch.key)
        return "delivered", len(ids)

    results = await asyncio.gather(*(send(batch, alert) for batch, alert in chosen))
    totals = {"delivered": 0, "retrying": 0, "dead": 0}
    for outcome, count in results:
        totals[outcome] += count
    return DeliveryReport(**totals, held=held)


def _hold(rt: Runtime, channel: Channel, ids: list[str], now: datetime) -> None:
    """Alerts over the rate limit wait until the oldest message in the window leaves it."""
    assert channel.rate_limit is not None
    window = timedelta(seconds=channel.rate_limit[1])
    oldest = outbox_db.oldest_sent_since(rt.store, channel.key, now - window)
    until = (oldest or now) + window
    with rt.store.transaction():
        outbox_db.postpone(rt.store, ids, until)
    log.info("rate limit reached on %s: %d alerts wait in the outbox until %s", channel.key, len(ids),
             until.strftime("%H:%M:%S"))


def _delivered(rt: Runtime, ids: list[str]) -> None:
    with rt.store.transaction():
        outbox_db.mark_delivered(rt.store, ids, rt.clock())


def _failed(rt: Runtime, batch: Batch, exc: DeliveryError) -> str:
    now = rt.clock()
    attempts = max(row.attempts for row in batch.rows) + 1
    created = max(row.created for row in batch.rows)
    when = None
    if not isinstance(exc, PermanentDeliveryError):
        when = alert_retry_at(now, created, attempts, retry_after=exc.retry_after)
    with rt.store.transaction():
        outbox_db.mark_failed(rt.store, [row.id for row in batch.rows], error=str(exc), next_attempt=when)
    if when is None:
        log.error("alert dead-lettered after %d tries: %s on %s: %s", attempts, batch.key, batch.channel, exc)
        return "dead"
    log.warning("alert delivery failed (try %d), again at %s: %s on %s: %s", attempts,
                when.strftime("%H:%M:%S"), batch.key, batch.channel, exc)
    return "retrying"
