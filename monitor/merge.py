"""Merging: the same move reported by several articles, feeds or languages is one event.

Pure functions. Two reports are the same event when they name the same
person (normalised, see ``people``) and their organisations do not
disagree: each side (from, to) is either unknown in one report or the same
company in both ("Tongyi Lab" and "Alibaba" agree: one is a unit of the
other). The merged event keeps the most specific names, the strongest
status and a confidence that grows with independent sources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.people import fold, person_keys
from monitor.records import STATUS_RANK, Event, Move, Status

if TYPE_CHECKING:
    from monitor.catalog import Catalog


def org_identity(name: str | None, parent: str | None, catalog: Catalog) -> str | None:
    """The company an organisation name stands for: a catalog root id, else the folded name."""
    for candidate in (name, parent):
        if candidate:
            org = catalog.resolve(candidate)
            if org is not None:
                return "catalog:" + catalog.root(org).id
    if parent:
        return fold(parent)
    return fold(name) if name else None


def org_unit(name: str | None, catalog: Catalog) -> str | None:
    """The exact organisation a name stands for (a unit stays a unit): for groups of staff."""
    if not name:
        return None
    org = catalog.resolve(name)
    return "catalog:" + org.id if org is not None else fold(name)


def _specificity(name: str | None, catalog: Catalog) -> int:
    """How precisely a name places someone: a catalog unit beats its company, any name beats none."""
    if not name:
        return 0
    org = catalog.resolve(name)
    if org is None:
        return 2
    return 1 + len(catalog.ancestors(org))


def sides_agree(event: Event, move: Move, catalog: Catalog) -> bool:
    for ours, ours_parent, theirs, theirs_parent in (
        (event.from_org, event.from_parent, move.from_org, move.from_parent),
        (event.to_org, event.to_parent, move.to_org, move.to_parent),
    ):
        a = org_identity(ours, ours_parent, catalog)
        b = org_identity(theirs, theirs_parent, catalog)
        if a is not None and b is not None and a != b:
            return False
    return True


def is_same_event(event: Event, move: Move, catalog: Catalog) -> bool:
    if event.person is None or move.person is None:
        # Unnamed groups meet only when both sides are known and equal.
        if event.person is not None or move.person is not None:
            return False
        # A team moving from 01.AI to Tongyi Lab is not the one moving from 01.AI to Alibaba Cloud.
        return org_unit(event.from_org, catalog) == org_unit(move.from_org, catalog) and org_unit(
            event.to_org, catalog
        ) == org_unit(move.to_org, catalog)
    if not person_keys(event.person, event.person_aliases) & person_keys(move.person, move.person_aliases):
        return False
    return sides_agree(event, move, catalog)


def find_match(events: list[Event], move: Move, catalog: Catalog) -> Event | None:
    for event in events:
        if is_same_event(event, move, catalog):
            return event
    return None


def _pick(ours: str | None, theirs: str | None, catalog: Catalog) -> str | None:
    return theirs if _specificity(theirs, catalog) > _specificity(ours, catalog) else ours


def _stronger(a: Status, b: Status) -> Status:
    return a if STATUS_RANK[a] >= STATUS_RANK[b] else b


def combined_confidence(confidences: Iterable[float]) -> float:
    """Independent reports strengthen each other, never past 0.99; one report keeps its own figure."""
    doubt = 1.0
    for confidence in confidences:
        doubt *= 1 - max(0.0, min(1.0, confidence))
    return round(min(0.99, 1 - doubt), 3)


def strongest_status(statuses: Iterable[Status]) -> Status:
    found: Status = "rumoured"
    for status in statuses:
        found = _stronger(found, status)
    return found


def new_event(move: Move, now: datetime) -> Event:
    return Event(
        id=0,
        person=move.person,
        from_org=move.from_org,
        to_org=move.to_org,
        role=move.role,
        confidence=round(move.confidence, 3),
        status=move.status,
        first_seen=now,
        from_parent=move.from_parent,
        to_parent=move.to_parent,
        person_aliases=move.person_aliases,
    )


def merge(event: Event, move: Move, catalog: Catalog) -> Event:
    """The event as it stands once this report is added to it."""
    from_org = _pick(event.from_org, move.from_org, catalog)
    to_org = _pick(event.to_org, move.to_org, catalog)
    aliases = tuple(dict.fromkeys((*event.person_aliases, *move.person_aliases)))
    person = event.person or move.person
    if move.person and person and move.person != person and move.person not in aliases:
        aliases = (*aliases, move.person)
    return replace(
        event,
        person=person,
        person_aliases=aliases,
        from_org=from_org,
        from_parent=event.from_parent if from_org == event.from_org else move.from_parent or event.from_parent,
        to_org=to_org,
        to_parent=event.to_parent if to_org == event.to_org else move.to_parent or event.to_parent,
        role=event.role or move.role,
        status=_stronger(event.status, move.status),
        confidence=combined_confidence((event.confidence, move.confidence)),
    )
