"""One feed's trip through the pipeline: fetch, parse, store, classify, merge, plan alerts.

This module wires the pure stages to the two edges (network, database).
Parsing and classifying run in worker processes (``monitor.parse_pool``),
on every core; all database work runs on one worker thread, in order, so
the event loop stays free for fetching and the SQLite connection is only
ever used from one thread. A feed's entries, the events they change and the
alerts those cause are written in one transaction.

A poll also keeps the feed's health: a failure streak or a long silence
can queue a feed health alert (``monitor.feedhealth``), in the same
transaction as the poll's outcome. A poll that brings nothing new (304, or
the same bytes) changes no event or alert: its bookkeeping is grouped with
other feeds' into one commit a second (``monitor.bookkeeping``), which is
most of what makes a 304 cheap.

Polls in flight are bounded (``Runtime.polls``): a fetched body waits for a
parser process while holding its slot, so when parsing falls behind,
fetching waits instead of piling bodies up in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from monitor import feedhealth, fulltext, merge
from monitor.bookkeeping import GroupedBookkeeping
from monitor.classify import Engine, default_engine
from monitor.errors import FetchError, ParseError, PermanentFetchError
from monitor.gate import Gate
from monitor.people import person_keys
from monitor.planning import queue_alerts
from monitor.records import Classification, FeedForUpdate, FeedHealth, FetchedFeed, Source
from monitor.rules import TrackedLab, tracked_labs
from monitor.schedule import next_poll
from storage import Store
from storage import entries as entries_db
from storage import events as events_db
from storage import feeds as feeds_db
from storage import outbox as outbox_db
from storage import pages as pages_db

if TYPE_CHECKING:
    from config.schema import FeedSettings, Settings
    from monitor.catalog import Catalog
    from monitor.fetch import Fetcher
    from monitor.parse import ParsePool
    from monitor.parse_pool import ParsedBatch
    from storage.entries import StoredEntry
    from storage.feeds import FeedState

log = logging.getLogger("talentwatch")
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    url: str
    status: int | None
    new_entries: int = 0
    events: int = 0
    alerts: int = 0
    error: str | None = None
    next_poll: datetime | None = None  # as stored: the interval, or later (backoff, Retry-After, max-age)
    gone: bool = False  # HTTP 410: no longer polled


@dataclass
class Runtime:
    """What a cycle needs, built once per loaded config and swapped whole on reload."""

    settings: Settings
    store: Store
    catalog: Catalog
    engine: Engine
    fetcher: Fetcher
    labs: tuple[TrackedLab, ...] = ()
    clock: Callable[[], datetime] = utcnow
    worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="db"))
    parser: ParsePool | None = None  # worker processes for feedparser; None parses on the worker thread
    page_slots: asyncio.Semaphore | None = None  # article pages fetched at once (``monitor.fulltext``)

    def __post_init__(self) -> None:
        self.labs = tracked_labs(self.settings.labs, self.catalog)
        self.bookkeeping = GroupedBookkeeping(self.worker, self.store)
        self.polls = Gate(poll_slots(self.settings, self.parser))
        self._intervals: tuple[Settings, dict[str, float]] | None = None
        self.quiet_feeds = QuietFeeds()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run database or CPU work on the single worker thread, after the bookkeeping gathered so far."""
        self.bookkeeping.flush()
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    def channel_keys(self) -> list[str]:
        return [channel.key for channel in self.settings.channels]

    def interval_of(self, url: str) -> float:
        """The feed's interval, from a table rebuilt when the settings change (every poll asks)."""
        settings = self.settings
        if self._intervals is None or self._intervals[0] is not settings:
            default = settings.polling.interval
            self._intervals = (settings, {f.url: f.interval or default for f in settings.feeds})
        return self._intervals[1].get(url, settings.polling.interval)


class QuietFeeds:
    """Feed rows as the last quiet poll left them (``_record_unchanged``), by polled URL; event loop only.

    The next poll of a feed that answers 304 cycle after cycle then needs
    nothing from the database thread. Any other outcome drops the feed's row
    (its next poll reads it), and a config change drops them all
    (``resync_feeds``); a poll that took or read its row before that change
    does not bring it back.
    """

    def __init__(self) -> None:
        self._rows: dict[str, FeedState] = {}
        self._generation = 0

    def take(self, url: str) -> tuple[FeedState | None, int]:
        """The kept row, if any (it is no longer kept), and the generation to hand back to ``keep``."""
        return self._rows.pop(url, None), self._generation

    def keep(self, url: str, row: FeedState, generation: int) -> None:
        if generation == self._generation:
            self._rows[url] = row

    def forget_all(self) -> None:
        self._generation += 1
        self._rows = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, url: object) -> bool:
        return url in self._rows


def poll_slots(settings: Settings, parser: ParsePool | None) -> int:
    """Polls in flight at once: every fetch slot, plus a short queue for each parser process."""
    return settings.polling.concurrency + 2 * (parser.workers if parser is not None else 1)


def sync_feeds(rt: Runtime, feeds: Sequence[FeedSettings] | None = None) -> None:
    chosen = rt.settings.feeds if feeds is None else feeds
    feeds_db.sync_feeds(rt.store, [(f.url, f.name) for f in chosen], rt.clock())


async def resync_feeds(rt: Runtime) -> None:
    """``sync_feeds`` after a config change; names and active flags may have changed, so the rows
    kept by quiet polls are forgotten (on the event loop, where they are kept)."""
    await rt.run(sync_feeds, rt)
    rt.quiet_feeds.forget_all()


async def poll_feed(rt: Runtime, url: str) -> PollOutcome:
    """Poll one feed now; a failure is recorded against the feed and returned, never raised."""
    async with rt.polls:
        return await _poll_feed(rt, url)


async def _poll_feed(rt: Runtime, url: str) -> PollOutcome:
    feed, generation = rt.quiet_feeds.take(url)
    if feed is None:
        feed = await rt.run(feeds_db.get_feed, rt.store, url)
    if feed is None or feed.gone:
        return PollOutcome(url, None, error="not polled: unknown or gone", gone=feed is not None)
    interval = rt.interval_of(url)
    try:
        fetched = await rt.fetcher.fetch(FeedForUpdate(feed.url, feed.etag, feed.last_modified))
    except FetchError as exc:
        return await rt.run(_record_fetch_error, rt, feed, exc, interval)

    now = rt.clock()
    if fetched.permanent_url and fetched.permanent_url != feed.url:
        moved = await rt.run(_follow_redirect, rt, feed, fetched.permanent_url)
        if moved:
            log.info("feed moved permanently: %s -> %s", feed.url, fetched.permanent_url)
    if fetched.not_modified or fetched.content is None:
        log.debug("feed not modified: %s", feed.url)
        return await _record_unchanged(rt, url, generation, feed, fetched, None, interval)

    body_hash = hashlib.sha256(fetched.content).hexdigest()
    if body_hash == feed.body_hash:  # same bytes as last time: nothing to parse
        return await _record_unchanged(rt, url, generation, feed, fetched, body_hash, interval)

    try:
        batch = await _parse(rt, feed, fetched)
    except ParseError as exc:
        return await rt.run(_record_fetch_error, rt, feed, exc, interval)
    batch, pages = await fulltext.enrich(rt, batch)  # candidates read in full, before anything is stored

    def store_all() -> PollOutcome:
        # One transaction per feed: its entries, their events and the alerts those cause commit
        # together, so a crash leaves either all of the feed's news or none of it.
        with rt.store.transaction():
            known = entries_db.known_hashes(rt.store, feed.id)
            pages_db.save_pages(rt.store, pages)
            stored = entries_db.store_entries(rt.store, feed.id, batch.feed.entries, now, known)
            when = _record_ok(rt, feed, fetched.status, fetched.etag, fetched.last_modified, body_hash,
                              interval, fetched.max_age, len(stored))
            events, alerts = process_entries(rt, stored, feed.name or batch.feed.title or feed.url,
                                             batch.classified)
        return PollOutcome(feed.url, fetched.status, len(stored), events, alerts, next_poll=when)

    outcome = await rt.run(store_all)
    if outcome.new_entries:
        log.info("feed %s: %d new or changed entries, %d events, %d alerts queued",
                 feed.url, outcome.new_entries, outcome.events, outcome.alerts)
    return outcome


async def _parse(rt: Runtime, feed: FeedState, fetched: FetchedFeed) -> ParsedBatch:
    """Parse a fetched body and classify its fresh entries, in a worker process when there are workers.

    The engine runs in the workers only when it is the built-in one, which
    every worker loads for itself; any other engine classifies on the
    database thread, in ``process_entries``.
    """
    from monitor.parse import parse_feed
    from monitor.parse_pool import ParsedBatch, parse_and_classify

    content = fetched.content or b""
    if rt.parser is None:
        parsed = await rt.run(lambda: parse_feed(content, url=fetched.url, content_type=fetched.content_type))
        return ParsedBatch(parsed)
    classify = rt.engine is default_engine()
    known = await rt.run(entries_db.known_hashes, rt.store, feed.id) if classify else {}
    return await rt.parser.run(partial(parse_and_classify, content, fetched.url, fetched.content_type, known,
                                       classify, rt.settings.classify.fulltext))


def _record_ok(
    rt: Runtime,
    feed: FeedState,
    status: int,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    interval: float,
    max_age: float | None,
    new_entries: int,
) -> datetime:
    """A successful poll, in one transaction with the feed health alert it may raise; returns the next poll."""
    now = rt.clock()
    when = next_poll(now, interval, max_age=max_age)
    with rt.store.transaction():
        feeds_db.record_fetched(
            rt.store, feed.id, status=status, etag=etag, last_modified=last_modified, body_hash=body_hash, now=now,
            next_poll=when, new_entries=new_entries,
        )
        if new_entries == 0:
            _queue_feed_alerts(rt, _silent_alerts(rt, feed, status, now), now)
    return when


async def _record_unchanged(rt: Runtime, url: str, generation: int, feed: FeedState, fetched: FetchedFeed,
                            body_hash: str | None, interval: float) -> PollOutcome:
    """A poll that brought nothing new: its bookkeeping joins the grouped commit, unless it raises an alert.

    The feed's row as the write will leave it is kept for the next poll of ``url`` (``QuietFeeds``,
    under the ``generation`` its row came from), unless the feed moved: then the next poll reads
    where it went.
    """
    now = rt.clock()
    if _silent_alerts(rt, feed, fetched.status, now):  # an alert is never grouped: it commits with its cause
        when = await rt.run(_record_ok, rt, feed, fetched.status, fetched.etag, fetched.last_modified, body_hash,
                            interval, fetched.max_age, 0)
        return PollOutcome(feed.url, fetched.status, next_poll=when)
    when = next_poll(now, interval, max_age=fetched.max_age)
    fields = feeds_db.Fetched(status=fetched.status, etag=fetched.etag, last_modified=fetched.last_modified,
                              body_hash=body_hash, now=now, next_poll=when)
    rt.bookkeeping.submit(partial(feeds_db.record_fetched, rt.store, feed.id, **fields))
    if not fetched.permanent_url:
        rt.quiet_feeds.keep(url, feeds_db.after_fetched(feed, **fields), generation)
    return PollOutcome(feed.url, fetched.status, next_poll=when)


def _silent_alerts(rt: Runtime, feed: FeedState, status: int, now: datetime) -> list[feedhealth.FeedAlertPlan]:
    """The feed health alerts a poll without new entries raises (none unless the feed has been silent long)."""
    if rt.settings.alerts.feed_health is None:
        return []
    since = feed.last_new_entry or feed.added or now
    health = FeedHealth(feed.url, feed.name, "silent", since, last_status=status)
    return feedhealth.silent(feed.id, health, rt.settings.alerts.feed_health, rt.channel_keys(), now)


def _record_fetch_error(rt: Runtime, feed: FeedState, exc: FetchError | ParseError, interval: float) -> PollOutcome:
    now = rt.clock()
    status = getattr(exc, "status", None)
    message = str(exc) or type(exc).__name__
    with rt.store.transaction():
        if isinstance(exc, PermanentFetchError) and status == 410:
            feeds_db.mark_gone(rt.store, feed.id, now=now)
            log.warning("feed gone (HTTP 410), no longer polled: %s", feed.url)
            return PollOutcome(feed.url, status, error=message, gone=True)
        retry_after = getattr(exc, "retry_after", None)
        failures = feed.error_count + 1
        when = next_poll(now, interval, error_count=failures, retry_after=retry_after)
        feeds_db.record_error(rt.store, feed.id, status=status, error=message, now=now, next_poll=when)
        health = FeedHealth(feed.url, feed.name, "failing", feed.failing_since or now, failures=failures,
                            last_error=message, last_status=status)
        _queue_feed_alerts(rt, feedhealth.failing(feed.id, health, rt.settings.alerts.feed_health,
                                                  rt.channel_keys()), now)
    log.warning("feed error (%d in a row): %s: %s", failures, feed.url, message)
    return PollOutcome(feed.url, status, error=message, next_poll=when)


def _queue_feed_alerts(rt: Runtime, plans: Sequence[feedhealth.FeedAlertPlan], now: datetime) -> int:
    """Queue feed health alerts inside the caller's transaction; a repeat of the same spell is a no-op."""
    queued = 0
    for plan in plans:
        health = plan.health
        if outbox_db.enqueue_feed_alert(rt.store, alert_id=plan.id, feed_id=plan.feed_id,
                                        name=health.name or health.url, channel=plan.channel, now=now,
                                        detail=feedhealth.to_detail(health)):
            queued += 1
            log.warning("alert queued: feed_health %s (%s since %s) on %s", health.url, health.problem,
                        health.since.strftime("%Y-%m-%d %H:%M"), plan.channel)
    return queued


def _follow_redirect(rt: Runtime, feed: FeedState, new_url: str) -> bool:
    return feeds_db.move_url(rt.store, feed.id, new_url)


def process_entries(rt: Runtime, stored: Sequence[StoredEntry], feed_name: str,
                    classified: Mapping[str, Classification] | None = None) -> tuple[int, int]:
    """Fold entries' moves into events and queue the alerts they cause, in the caller's transaction.

    ``classified`` holds what the parser processes already found, by entry
    key; an entry missing from it is classified here.
    """
    events = alerts = 0
    done = classified or {}
    quiet: list[tuple[int, str]] = []  # new entries that tell no move: only marked as read, all at once
    for item in stored:
        result = done.get(item.entry.key) or rt.engine.classify(item.article())
        if item.new and not result.personnel_change:
            quiet.append((item.id, result.lang))
            continue
        e, a = apply_classification(rt, item, result, feed_name)
        events += e
        alerts += a
    if quiet:
        with rt.store.transaction():
            entries_db.mark_many_classified(rt.store, quiet)
    return events, alerts


def apply_classification(rt: Runtime, item: StoredEntry, result: Classification, feed_name: str) -> tuple[int, int]:
    """Store one entry's moves and queue the alerts they cause, in one transaction."""
    now = rt.clock()
    touched = alerts = 0
    channels = rt.channel_keys()
    with rt.store.transaction():
        # A changed or re-classified entry speaks afresh: what it said before no longer counts.
        earlier = [] if item.new else events_db.detach_entry(rt.store, item.id)
        if result.personnel_change:
            for move in result.moves:
                keys = person_keys(move.person, move.person_aliases)
                candidates = (events_db.events_with_keys(rt.store, keys) if keys
                              else events_db.group_events(rt.store))
                match = merge.find_match(candidates, move, rt.catalog)
                event = merge.new_event(move, now) if match is None else merge.merge(match, move, rt.catalog)
                event_id = events_db.save_event(rt.store, event, keys, now)
                source = Source(
                    url=item.entry.link,
                    title=item.entry.title,
                    feed=feed_name,
                    published=item.entry.published,
                    evidence=move.evidence,
                )
                events_db.add_source(rt.store, event_id, item.id, source, confidence=move.confidence,
                                     status=move.status, now=now)
                events_db.settle(rt.store, event_id, merge.combined_confidence, merge.strongest_status)
                touched += 1
                current = events_db.load_event(rt.store, event_id)
                before = match.status if match is not None else None
                alerts += queue_alerts(rt.store, current, before, rt.labs, rt.settings.alerts, channels,
                                       rt.catalog, now)
        events_db.drop_unsupported(rt.store, earlier)
        entries_db.mark_classified(rt.store, item.id, result.lang)
    return touched, alerts


def classify_leftovers(rt: Runtime) -> tuple[int, int]:
    """Entries stored but never classified (a crash between the two steps): finish them."""
    events = alerts = 0
    while batch := entries_db.unclassified(rt.store, 500):
        for item in batch:
            name = entries_db.feed_name_of(rt.store, item.id) or ""
            article = item.article()
            result = fulltext.cached_reading(rt.store, rt.engine, article, rt.engine.classify(article),
                                             rt.settings.classify.fulltext)
            e, a = apply_classification(rt, item, result, name)
            events += e
            alerts += a
    return events, alerts
