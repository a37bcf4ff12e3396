"""Alert rules: which events are a loss (or a gain) for which tracked lab, on which channel.

Pure functions over the event, the tracked labs and the alert settings.
A tracked lab matches an organisation by name or alias, and through the
catalog's units: tracking "Alibaba" covers Tongyi Lab, tracking "Tongyi
Lab" does not cover the rest of Alibaba.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.people import fold
from monitor.records import STATUS_RANK, AlertKind, Event, Status

if TYPE_CHECKING:
    from config.schema import AlertSettings, LabSettings
    from monitor.catalog import Catalog, Org


@dataclass(frozen=True, slots=True)
class TrackedLab:
    name: str
    names: frozenset[str]  # folded name and aliases, the user's and the catalog's
    orgs: tuple[Org, ...]  # catalog entries the lab stands for (empty when unknown to the catalog)


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """An alert to queue: one per event, kind, lab and channel."""

    id: str
    kind: AlertKind
    lab: str
    channel: str
    related: tuple[int, ...] = ()  # an exodus alert's events


FOLLOW_UPS: dict[str, AlertKind] = {"loss": "loss_confirmed", "gain": "gain_confirmed"}


def tracked_labs(labs: Iterable[LabSettings], catalog: Catalog) -> tuple[TrackedLab, ...]:
    found = []
    for lab in labs:
        orgs: dict[str, Org] = {}
        for name in (lab.name, *lab.aliases):
            org = catalog.resolve(name)
            if org is not None:
                orgs.setdefault(org.id, org)
        names = {fold(lab.name), *(fold(a) for a in lab.aliases)}
        for org in orgs.values():
            names |= {fold(org.name), *(fold(a) for a in org.aliases)}
        found.append(TrackedLab(lab.name, frozenset(n for n in names if n), tuple(orgs.values())))
    return tuple(found)


def lab_matches(lab: TrackedLab, org_name: str | None, parent: str | None, catalog: Catalog) -> bool:
    """Does an event side (an organisation and its parent company) belong to this lab?"""
    if not org_name and not parent:
        return False
    org = catalog.resolve(org_name) if org_name else None
    if org is None and parent:
        # An organisation the catalog does not know: judge it by its name, then by its company.
        if org_name and fold(org_name) in lab.names:
            return True
        org = catalog.resolve(parent)
        if org is None:
            return fold(parent) in lab.names
    if org is None:
        return bool(org_name) and fold(org_name or "") in lab.names
    if lab.orgs:
        return any(catalog.covers(mine, org) for mine in lab.orgs)
    return fold(org.name) in lab.names or any(fold(a) in lab.names for a in org.aliases)


def alert_id(event_id: int, kind: str, lab: str, channel: str) -> str:
    """The idempotency key: stable for the same event, kind, lab and channel, on every retry."""
    digest = hashlib.sha256(f"{event_id}\x1f{kind}\x1f{lab}\x1f{channel}".encode()).hexdigest()
    return f"msg_{digest[:26]}"


def newest_report(event: Event) -> datetime | None:
    dates = [s.published for s in event.sources if s.published is not None]
    return max(dates) if dates else None


def plan_alerts(
    event: Event,
    labs: Sequence[TrackedLab],
    settings: AlertSettings,
    channels: Sequence[str],
    catalog: Catalog,
    now: datetime,
) -> list[AlertPlan]:
    """Every alert this event deserves now; the outbox drops the ones already queued."""
    if event.confidence < settings.min_confidence:
        return []
    if event.status == "rumoured" and not settings.rumoured:
        return []
    newest = newest_report(event)
    if newest is not None and newest < now - timedelta(seconds=settings.max_age):
        return []  # old news from a backlog: stored, not alerted
    plans: list[AlertPlan] = []
    for lab in labs:
        kinds: list[AlertKind] = []
        if "loss" in settings.on and lab_matches(lab, event.from_org, event.from_parent, catalog):
            kinds.append("loss")
        if "gain" in settings.on and lab_matches(lab, event.to_org, event.to_parent, catalog):
            kinds.append("gain")
        if "loss" in kinds and "gain" in kinds:
            kinds = []  # a move inside the lab is neither
        for kind in kinds:
            plans.extend(AlertPlan(alert_id(event.id, kind, lab.name, ch), kind, lab.name, ch) for ch in channels)
    return plans


def follow_up_plans(plans: Sequence[AlertPlan], before: Status | None, event: Event,
                    settings: AlertSettings) -> list[AlertPlan]:
    """The follow-ups due now: the event was alerted while less than confirmed, and is confirmed now.

    ``before`` is the event's status before the report being processed
    (None for a new event, whose first alert already says "confirmed").
    Each follow-up has its own idempotency key, so it is sent once, beside
    the first alert and never instead of it.
    """
    if not settings.follow_up or before is None or event.status != "confirmed":
        return []
    if STATUS_RANK[before] >= STATUS_RANK["confirmed"]:
        return []
    return [
        AlertPlan(alert_id(event.id, FOLLOW_UPS[p.kind], p.lab, p.channel), FOLLOW_UPS[p.kind], p.lab, p.channel)
        for p in plans
        if p.kind in FOLLOW_UPS
    ]
