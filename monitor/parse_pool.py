"""The work a parser process does for one fetched feed: parse it, and classify what is new.

Classification costs milliseconds an entry and parsing tens of them a feed;
both are pure, so both run in the worker processes (``monitor.parse.ParsePool``),
on every core, and the database thread is left with storing, merging and
queueing alerts. The engine is the process's ``default_engine()``, loaded
once per worker on its first feed and kept for the next ones.

Only entries that are new or changed are classified: the caller passes the
content hashes it already stores for the feed. An entry the worker could not
classify (the engine raised) is left out, and the database thread classifies
it itself, as it would without workers.

``ForkedParsePool`` is the daemon's pool: its processes are forked from the
daemon once the engine, the catalog and feedparser are loaded, and after
``gc.freeze()``, so they share those pages with the daemon copy-on-write
instead of each loading its own copy (spawned processes re-import
everything: about 100 MB each at 10,000 feeds, against about 15 MB of
their own when forked). They are started at start-up, while the daemon has one
thread, because a fork copies only the forking thread and a lock another
thread held would stay held in the child. A pool rebuilt after a worker
died is forked again; what the workers run takes no lock a daemon thread
may hold (logging's locks are re-made in the child by the logging module).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from monitor.parse import ParsePool, parse_feed
from monitor.records import Article, Classification, FeedEntry, ParsedFeed

log = logging.getLogger("talentwatch")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """A parsed feed and the classifications of its new or changed entries, by entry key.

    ``candidates`` are the keys of those worth reading in full (``monitor.fulltext``).
    """

    feed: ParsedFeed
    classified: Mapping[str, Classification] = field(default_factory=dict)
    candidates: frozenset[str] = frozenset()


def article_of(entry: FeedEntry, article_id: str) -> Article:
    return Article(id=article_id, title=entry.title, summary=entry.summary, url=entry.link, published=entry.published)


def fresh_entries(parsed: ParsedFeed, known: Mapping[str, str]) -> list[FeedEntry]:
    """The entries whose key is unknown or whose content changed since stored."""
    return [entry for entry in parsed.entries if known.get(entry.key) != entry.content_hash]


def parse_and_classify(content: bytes, url: str, content_type: str | None, known: Mapping[str, str],
                       classify: bool, fulltext: bool = False) -> ParsedBatch:
    """Parse the feed and, when ``classify``, classify its fresh entries with this process's engine.

    With ``fulltext``, also tell which of them are candidates for reading their page.
    """
    parsed = parse_feed(content, url=url, content_type=content_type)
    if not classify:
        return ParsedBatch(parsed)
    from monitor.classify import default_engine
    from monitor.classify.candidates import is_candidate

    engine = default_engine()
    results: dict[str, Classification] = {}
    candidates: set[str] = set()
    for entry in fresh_entries(parsed, known):
        try:
            article = article_of(entry, entry.key)
            results[entry.key] = engine.classify(article)
            if fulltext and entry.link and is_candidate(engine, article, results[entry.key]):
                candidates.add(entry.key)
        except Exception:  # the database thread tries again and reports it where it always did
            log.debug("classification failed in the parser process: %s", entry.key, exc_info=True)
    return ParsedBatch(parsed, results, frozenset(candidates))


class ForkedParsePool(ParsePool):
    """Parser processes that share the daemon's loaded code and data (see the module's docstring).

    Call ``start()`` once the engine is loaded and before any thread is
    started; ``run`` then behaves as ``ParsePool.run``, forking a new pool
    when a worker died. Where fork is not available it is a spawning pool.
    """

    def start(self) -> None:
        """Fork the workers now, with everything loaded so far shared with them."""
        if self.workers <= 0 or self._pool is not None:
            return
        self._pool = self._new_pool()
        # Forked on the first submit: wait for one job per worker so that all exist before this returns.
        for future in [self._pool.submit(os.getpid) for _ in range(self.workers)]:
            future.result()

    async def run(self, job: Callable[[], T]) -> T:
        if self._pool is None and self.workers > 0:
            self._pool = self._new_pool()
        return await super().run(job)

    def _new_pool(self) -> ProcessPoolExecutor:
        if "fork" not in multiprocessing.get_all_start_methods():
            return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        # Objects alive now are never moved by the collector again: a collection in the daemon or a
        # worker would otherwise write to their headers and turn shared pages into private copies.
        gc.collect()
        gc.freeze()
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_forked_worker)


def _forked_worker() -> None:
    """A forked worker starts with the daemon's signal set-up: give it a plain process's.

    The daemon's event loop writes signal numbers to a wake-up socket; a worker
    inheriting it would wake the daemon's loop with its own signals. SIGTERM
    and SIGHUP end a worker, as they would a spawned one; SIGINT raises
    KeyboardInterrupt.
    """
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=_end_with, args=(os.getppid(),), name="parent-watch", daemon=True).start()


def _end_with(parent: int, every: float = 1.0) -> None:
    """End this worker once its daemon is gone, even a daemon killed outright (SIGKILL, the OOM killer).

    A forked worker inherits the write end of its own job queue, so it would
    never see the queue close and would wait for work forever: an orphan
    holding its memory. A spawned worker has no such copy and ends by itself.
    """
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)
