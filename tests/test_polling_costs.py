"""What keeps a 304 cheap and a big cycle bounded: grouped bookkeeping, the poll gate, no read per quiet poll.

A 304 changes no event or alert, so its feed row joins one open
transaction that commits about once a second (``Store.grouped``); anything
that does change events commits on its own, at once. These tests use a real
SQLite file, a second connection to see what is durable, and the real
pipeline against a FeedServer on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.schema import Settings
from monitor.gate import Gate
from monitor.pipeline import QuietFeeds, poll_feed, resync_feeds, sync_feeds
from storage import feeds as feeds_db
from storage import open_store
from tests.conftest import eventually
from tests.support.alerts import harness, run
from tests.support.feed_server import FeedServer, Reply

NOW = datetime(2025, 8, 10, 9, 0, tzinfo=UTC)
FEED = "http://a.example/feed.xml"
RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Lab news</title><link>http://example.com/</link>'
       b"<description>d</description><item><title>Week 1</title><guid>week-1</guid>"
       b"<description>Nothing about people.</description></item></channel></rss>")


def one_feed(url: str, db: Path, name: str | None = None) -> Settings:
    """Settings for one feed served on 127.0.0.1, polled every minute, stored in ``db``."""
    return Settings.model_validate({"storage": {"path": str(db)},
                                    "polling": {"interval": "1m", "allow_private": ["127.0.0.1"]},
                                    "feeds": [{"url": url, "name": name}]})


@pytest.fixture
def lab_feed(tmp_path: Path, feed_server: FeedServer) -> tuple[str, Path, Settings]:
    """One feed served on 127.0.0.1 (an RSS file with one entry), its database and its settings."""
    url = feed_server.serve("/lab.xml", RSS)
    db = tmp_path / "tw.db"
    return url, db, one_feed(url, db)


@asynccontextmanager
async def synced(settings: Settings) -> AsyncIterator[Any]:
    """The test harness on ``settings``, its feeds already in the database."""
    async with harness(settings) as h:
        await h.rt.run(sync_feeds, h.rt)
        yield h


def durable_status(db: Path, url: str) -> int | None:
    """The feed's last status as another connection sees it: only what is committed."""
    with sqlite3.connect(db) as other:
        row = other.execute("SELECT last_status FROM feeds WHERE url = ?", (url,)).fetchone()
    return row[0] if row else None


def test_grouped_writes_wait_for_their_commit_and_a_transaction_commits_them_first(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    store = open_store(db)
    feeds_db.sync_feeds(store, [(FEED, None), ("http://b.example/f", None)], NOW)
    feed = feeds_db.get_feed(store, FEED)
    assert feed is not None

    def polled(status: int) -> None:
        feeds_db.record_fetched(store, feed.id, status=status, etag='"1"', last_modified=None, body_hash=None,
                                now=NOW, next_poll=NOW + timedelta(minutes=15))

    with store.grouped() as opened:
        polled(304)
    assert opened, "the first grouped write opens the group"
    with store.grouped() as opened:
        polled(304)
    assert not opened, "later ones join it"
    assert feeds_db.get_feed(store, FEED).last_status == 304, "the same connection reads its own bookkeeping"  # type: ignore[union-attr]
    assert durable_status(db, FEED) is None, "not durable before the group commits"

    store.commit_group()
    assert durable_status(db, FEED) == 304

    with store.grouped():
        polled(200)
    with store.transaction():  # an event's transaction: commits the group first, then itself
        store.execute("UPDATE feeds SET name = 'B' WHERE url = 'http://b.example/f'")
    assert durable_status(db, FEED) == 200
    with sqlite3.connect(db) as other:
        assert other.execute("SELECT name FROM feeds WHERE url = 'http://b.example/f'").fetchone() == ("B",)

    with store.grouped():
        polled(304)
    store.close()  # closing commits what is left
    assert durable_status(db, FEED) == 304


def test_a_failed_grouped_write_leaves_the_others_in_the_group(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    store = open_store(db)
    feeds_db.sync_feeds(store, [(FEED, None), ("http://b.example/f", None)], NOW)
    with store.grouped():
        store.execute("UPDATE feeds SET last_status = 304 WHERE url = ?", (FEED,))
    with pytest.raises(Exception, match="UNIQUE"), store.grouped():
        store.execute("UPDATE feeds SET url = ? WHERE url = 'http://b.example/f'", (FEED,))
    store.commit_group()
    assert durable_status(db, FEED) == 304
    store.close()


def test_the_gate_admits_in_order_and_never_more_than_its_slots() -> None:
    async def scenario() -> tuple[list[int], int]:
        gate = Gate(3)
        order: list[int] = []
        inside = peak = 0

        async def task(n: int) -> None:
            nonlocal inside, peak
            async with gate:
                order.append(n)
                inside += 1
                peak = max(peak, inside)
                await asyncio.sleep(0.001)
                inside -= 1

        await asyncio.gather(*(task(n) for n in range(200)))
        return order, peak

    order, peak = asyncio.run(scenario())
    assert peak == 3
    assert order == list(range(200)), "first come, first served"


def test_a_cancelled_waiter_does_not_lose_a_slot() -> None:
    async def scenario() -> int:
        gate = Gate(1)
        release = asyncio.Event()

        async def holder() -> None:
            async with gate:
                await release.wait()

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiters = [asyncio.create_task(holder()) for _ in range(3)]
        await asyncio.sleep(0)
        waiters[0].cancel()
        release.set()
        await asyncio.gather(first, *waiters, return_exceptions=True)
        async with gate:  # the slot came back: this does not hang
            return gate.waiting

    assert asyncio.run(asyncio.wait_for(scenario(), 5)) == 0


def test_a_304_poll_returns_before_its_bookkeeping_is_durable_and_it_becomes_durable_soon(
    lab_feed: tuple[str, Path, Settings]
) -> None:
    url, db, settings = lab_feed

    async def scenario() -> None:
        async with synced(settings) as h:
            first = await poll_feed(h.rt, url)
            assert (first.status, first.new_entries) == (200, 1)
            assert durable_status(db, url) == 200, "a poll that stores entries commits at once"
            second = await poll_feed(h.rt, url)
            assert second.status == 304
            assert second.next_poll is not None and first.next_poll is not None, "the daemon reschedules from these"
            await asyncio.to_thread(eventually, lambda: durable_status(db, url) == 304, 30)
            third = await poll_feed(h.rt, url)  # reads its feed after the grouped write: sends the ETag again
            assert third.status == 304

    run(scenario())


def _feed_reads(store: Any) -> list[str]:
    """Every statement that reads the feeds table from now on, as SQLite runs them."""
    seen: list[str] = []
    store.conn.set_trace_callback(lambda sql: seen.append(sql) if sql.lstrip().startswith("SELECT * FROM feeds")
                                  else None)
    return seen


def test_a_feed_answering_304_again_and_again_is_polled_without_reading_its_row(
    lab_feed: tuple[str, Path, Settings], feed_server: FeedServer
) -> None:
    url, _, settings = lab_feed

    async def scenario() -> None:
        async with synced(settings) as h:
            reads = _feed_reads(h.rt.store)
            assert (await poll_feed(h.rt, url)).status == 200
            assert (await poll_feed(h.rt, url)).status == 304
            assert len(reads) == 2, "the 200 and the first 304 read the row"
            for _ in range(3):
                assert (await poll_feed(h.rt, url)).status == 304
            assert len(reads) == 2, "later 304s start from the row the last one left"
            etags = [seen.headers.get("If-None-Match") for seen in feed_server.requests_to("/lab.xml")]
            assert etags[0] is None and len(set(etags[1:])) == 1 and etags[1], "every 304 sent the ETag"
            row = await h.rt.run(feeds_db.get_feed, h.rt.store, url)
            assert row is not None and row.last_status == 304, "gathered bookkeeping is written before a read"
            assert h.rt.quiet_feeds.take(url)[0] == row, "the row kept is the row the write left"

    run(scenario())


def test_bookkeeping_still_gathered_when_the_runtime_closes_is_durable(
    lab_feed: tuple[str, Path, Settings]
) -> None:
    url, db, settings = lab_feed

    async def scenario() -> None:
        async with synced(settings) as h:
            assert (await poll_feed(h.rt, url)).status == 200
            assert (await poll_feed(h.rt, url)).status == 304
            assert durable_status(db, url) == 200, "the 304 is only gathered so far"

    run(scenario())
    assert durable_status(db, url) == 304, "closing wrote and committed it"


def test_a_new_etag_on_a_304_an_error_or_a_config_change_are_seen_by_the_next_poll(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.script("/lab.xml", [
        Reply(200, RSS, {"ETag": '"1"'}),
        Reply(304, headers={"ETag": '"2"'}),  # the server changed its validator without a new body
        Reply(304, headers={"ETag": '"2"'}),
        Reply(503),
        Reply(304, headers={"ETag": '"2"'}),
    ])
    settings = one_feed(url, tmp_path / "tw.db", name="Lab")

    async def scenario() -> None:
        async with synced(settings) as h:
            statuses = [(await poll_feed(h.rt, url)).status for _ in range(5)]
            assert statuses == [200, 304, 304, 503, 304]
            sent = [seen.headers.get("If-None-Match") for seen in feed_server.requests_to("/lab.xml")]
            assert sent == [None, '"1"', '"2"', '"2"', '"2"']
            row = await h.rt.run(feeds_db.get_feed, h.rt.store, url)
            assert row is not None and (row.error_count, row.etag) == (0, '"2"')
            assert url in h.rt.quiet_feeds
            h.rt.settings = Settings.model_validate({**settings.model_dump(mode="json"),
                                                     "feeds": [{"url": url, "name": "Lab, renamed"}]})
            await resync_feeds(h.rt)
            assert len(h.rt.quiet_feeds) == 0, "a config change makes every poll read its row afresh"

    run(scenario())


def test_a_row_read_before_a_config_change_is_not_kept_after_it() -> None:
    quiet = QuietFeeds()
    row = feeds_db.FeedState(1, FEED, "Lab", True, '"1"', None, None, None, 304, None, 0, None, 1, False)
    _, generation = quiet.take(FEED)
    quiet.forget_all()  # the config changed while the poll was in flight
    quiet.keep(FEED, row, generation)
    assert FEED not in quiet
    _, generation = quiet.take(FEED)
    quiet.keep(FEED, row, generation)
    assert quiet.take(FEED)[0] is row and FEED not in quiet, "taken once, then read again"
