"""``reclassify``: run the current engine over stored entries after a lexicon or catalog change.

Entries are queued again and classified as on arrival. A move still found
merges into its event, which keeps its id, so its alerts keep their
idempotency keys and nothing already alerted is sent again; an event that
no article supports any more is dropped unless an alert was made for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.app import open_runtime
from monitor.pipeline import classify_leftovers
from storage import entries as entries_db
from storage import events as events_db

if TYPE_CHECKING:
    from config.schema import Settings


@dataclass(frozen=True, slots=True)
class ReclassifyReport:
    entries: int
    events_before: int
    events_after: int
    alerts_queued: int


async def reclassify(settings: Settings, since: datetime | None = None) -> ReclassifyReport:
    async with open_runtime(settings) as rt:

        def work() -> ReclassifyReport:
            before = events_db.event_count(rt.store)
            with rt.store.transaction():
                queued = entries_db.mark_for_reclassification(rt.store, since)
            _, alerts = classify_leftovers(rt)
            return ReclassifyReport(queued, before, events_db.event_count(rt.store), alerts)

        return await rt.run(work)
