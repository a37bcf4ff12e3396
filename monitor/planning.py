"""Queueing the alerts an event change causes, inside the caller's transaction.

The rules (``monitor.rules``, ``monitor.exodus``) decide; this module asks
the outbox what was queued before and writes what is new, so an event and
its alerts commit together (or not at all) and a repeat is never queued.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.exodus import exodus_plans
from monitor.rules import AlertPlan, follow_up_plans, plan_alerts
from storage import outbox as outbox_db

if TYPE_CHECKING:
    from config.schema import AlertSettings
    from monitor.catalog import Catalog
    from monitor.records import Event, Status
    from monitor.rules import TrackedLab
    from storage import Store

log = logging.getLogger("talentwatch")


def queue_alerts(
    store: Store,
    event: Event,
    before: Status | None,
    labs: Sequence[TrackedLab],
    settings: AlertSettings,
    channels: Sequence[str],
    catalog: Catalog,
    now: datetime,
) -> int:
    """Queue every alert ``event`` deserves now; returns how many were new.

    ``before`` is the event's status before this report (None when the
    report created it), which decides whether a follow-up is due.
    """
    plans = plan_alerts(event, labs, settings, channels, catalog, now)
    first_losses = {p.lab for p in plans
                    if p.kind == "loss" and not outbox_db.has_alert(store, event_id=event.id, kind="loss", lab=p.lab)}
    queued = 0
    already: list[AlertPlan] = []
    for plan in plans:
        if _enqueue(store, event, plan, now):
            queued += 1
        elif outbox_db.state_of(store, plan.id) == "delivered":
            already.append(plan)
    for plan in follow_up_plans(already, before, event, settings):
        queued += _enqueue(store, event, plan, now)
    if settings.exodus is not None:
        since = now - timedelta(seconds=settings.exodus.window)
        for lab in sorted(first_losses):
            recent = outbox_db.recent_events(store, lab=lab, kind="loss", since=since)
            for plan in exodus_plans(lab, event.id, recent, settings.exodus, channels):
                queued += _enqueue(store, event, plan, now)
    return queued


def _enqueue(store: Store, event: Event, plan: AlertPlan, now: datetime) -> bool:
    if not outbox_db.enqueue(store, alert_id=plan.id, event_id=event.id, kind=plan.kind, lab=plan.lab,
                             channel=plan.channel, now=now, related=plan.related):
        return False
    what = f"{len(plan.related)} losses" if plan.kind == "exodus" else event.person or "a group"
    log.info("alert queued: %s %s (%s) on %s", plan.kind, what, plan.lab, plan.channel)
    return True
