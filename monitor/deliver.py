"""The delivery loop: send what the outbox says is due, record what happened.

The outbox row is marked delivered only after the channel accepted the
alert, so a crash in between re-sends it with the same id (at-least-once;
receivers drop repeats by ``webhook-id`` / ``Message-ID``). The event is
read at send time, so an alert carries every source known by then.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.records import Alert, AlertKind
from monitor.schedule import alert_retry_at
from storage import events as events_db
from storage import outbox as outbox_db

if TYPE_CHECKING:
    from monitor.pipeline import Runtime
    from storage.outbox import OutboxRow

log = logging.getLogger("talentwatch")
PARALLEL_SENDS = 8


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def _alert(rt: Runtime, row: OutboxRow) -> Alert:
    kind: AlertKind = row.kind  # type: ignore[assignment]
    return Alert(
        id=row.id,
        kind=kind,
        lab=row.lab,
        channel=row.channel,
        event=events_db.load_event(rt.store, row.event_id),
        created=row.created,
    )


async def deliver_due(rt: Runtime, client: httpx.AsyncClient) -> DeliveryReport:
    """Try every due alert once; returns what happened."""
    from monitor.notify import deliver

    channels = {channel.key: channel for channel in rt.settings.channels}
    rows = await rt.run(lambda: outbox_db.due(rt.store, rt.clock(), channels=set(channels), limit=500))
    if not rows:
        return DeliveryReport()
    alerts = await rt.run(lambda: [_alert(rt, row) for row in rows])
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def send(row: OutboxRow, alert: Alert) -> str:
        async with gate:
            try:
                await deliver(alert, channels[row.channel], client=client)
            except DeliveryError as exc:
                return await rt.run(_failed, rt, row, exc)
            except Exception as exc:  # a bug in a sender must not stop the other alerts
                log.exception("unexpected error delivering %s", row.id)
                return await rt.run(_failed, rt, row, DeliveryError(f"{type(exc).__name__}: {exc}"))
        await rt.run(lambda: outbox_db.mark_delivered(rt.store, row.id, rt.clock()))
        log.info("alert delivered: %s %s (%s) on %s [%s]", row.kind, alert.event.person or "a group", row.lab,
                 row.channel, row.id)
        return "delivered"

    results = await asyncio.gather(*(send(row, alert) for row, alert in zip(rows, alerts, strict=True)))
    return DeliveryReport(
        delivered=results.count("delivered"), retrying=results.count("retrying"), dead=results.count("dead")
    )


def _failed(rt: Runtime, row: OutboxRow, exc: DeliveryError) -> str:
    now = rt.clock()
    when = None
    if not isinstance(exc, PermanentDeliveryError):
        when = alert_retry_at(now, row.created, row.attempts + 1, retry_after=exc.retry_after)
    outbox_db.mark_failed(rt.store, row.id, error=str(exc), next_attempt=when)
    if when is None:
        log.error("alert dead-lettered after %d tries: %s on %s: %s", row.attempts + 1, row.id, row.channel, exc)
        return "dead"
    log.warning("alert delivery failed (try %d), again at %s: %s on %s: %s", row.attempts + 1,
                when.strftime("%H:%M:%S"), row.id, row.channel, exc)
    return "retrying"
