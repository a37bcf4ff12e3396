"""Driving the alert path in-process: a real SQLite file, real receivers, an injected clock.

``Harness`` reports moves as if a feed had carried them (real entries, real
events, the pipeline's own ``apply_classification``), then runs delivery
rounds at whatever time the test sets, so backoff, digests and windows are
tested without sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from config.schema import Settings
from monitor.app import delivery_client, open_runtime
from monitor.deliver import DeliveryReport, deliver_due
from monitor.pipeline import Runtime, apply_classification
from monitor.records import Classification, FeedEntry, Move, Status
from storage import entries as entries_db
from storage import feeds as feeds_db
from storage import outbox as outbox_db

START = datetime(2025, 8, 10, 9, 0, tzinfo=UTC)
FEED = "http://127.0.0.1:9/news.xml"


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def settings_for(tmp_path: Path, **sections: Any) -> Settings:
    """Settings with OpenAI and Alibaba Tongyi Lab tracked; ``alerts=`` etc. as the file would hold them."""
    data: dict[str, Any] = {
        "storage": {"path": str(tmp_path / "tw.db")},
        "labs": [{"name": "OpenAI"}, {"name": "Alibaba Tongyi Lab", "aliases": ["Tongyi Lab"]}],
    }
    data.update(sections)
    return Settings.model_validate(data)


@dataclass
class Harness:
    rt: Runtime
    client: httpx.AsyncClient
    clock: Clock
    _keys: itertools.count[int] = field(default_factory=itertools.count)

    def report(self, person: str, from_org: str = "OpenAI", to_org: str = "Anthropic", *,
               status: Status = "reported", title: str | None = None, confidence: float = 0.9) -> int:
        """A new article reporting one move: returns how many alerts it queued."""
        now = self.clock()
        key = next(self._keys)
        entry = FeedEntry(key=f"entry-{key}", title=title or f"{person} leaves {from_org} for {to_org}",
                          summary=f"{person} has left {from_org} and joined {to_org}.",
                          link=f"https://news.example.com/{key}", published=now, content_hash=f"h{key}")
        store = self.rt.store
        with store.transaction():
            feeds_db.sync_feeds(store, [(FEED, "Example News")], now)
            feed = feeds_db.get_feed(store, FEED)
            assert feed is not None
            stored = entries_db.store_entries(store, feed.id, [entry], now)
        move = Move(person=person, from_org=from_org, to_org=to_org, status=status, confidence=confidence,
                    evidence=f"{person} has left {from_org}.")
        result = Classification(stored[0].article().id, "en", True, (move,))
        return apply_classification(self.rt, stored[0], result, "Example News")[1]

    async def deliver(self) -> DeliveryReport:
        return await deliver_due(self.rt, self.client)

    def outbox(self, state: str | None = None) -> list[outbox_db.OutboxRow]:
        return outbox_db.list_alerts(self.rt.store, state=state)


@asynccontextmanager
async def harness(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Harness]:
    clock = clock or Clock()
    async with open_runtime(settings, clock=clock) as rt, delivery_client(["127.0.0.1"]) as client:
        yield Harness(rt, client, clock)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
