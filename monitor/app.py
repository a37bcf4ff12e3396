"""Building a runtime from settings: the database, the fetcher, the catalog and the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from monitor.pipeline import Runtime, utcnow
from storage import open_store

if TYPE_CHECKING:
    from config.schema import PollingSettings, Settings
    from monitor.fetch import Fetcher
    from monitor.netguard import AddressPolicy

USER_AGENT = "talentwatch/0.1 (feed monitor; +https://github.com/talentwatch/talentwatch)"


def make_fetcher(polling: PollingSettings) -> Fetcher:
    from monitor.fetch import Fetcher

    return Fetcher(
        timeout=polling.timeout,
        max_bytes=polling.max_bytes,
        concurrency=polling.concurrency,
        per_host=polling.per_host,
        allow_private=polling.allow_private,
        user_agent=USER_AGENT,
    )


def delivery_client(allow_private: AddressPolicy | bool | Sequence[str]) -> httpx.AsyncClient:
    """The client for webhooks: no redirects followed (a receiver that moves must be reconfigured).

    Webhook URLs obey ``polling.allow_private`` like feeds do, checked on the
    address each connection is opened to; pass an ``AddressPolicy`` to change
    it later (config reload) without rebuilding the client. No proxy from the
    environment: it would connect on our behalf, past the check.
    """
    from monitor.netguard import AddressPolicy, GuardedTransport

    policy = allow_private if isinstance(allow_private, AddressPolicy) else AddressPolicy(allow_private)
    return httpx.AsyncClient(follow_redirects=False, headers={"user-agent": USER_AGENT},
                             timeout=httpx.Timeout(30.0), trust_env=False, transport=GuardedTransport(policy))


@asynccontextmanager
async def open_runtime(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> AsyncIterator[Runtime]:
    from monitor.catalog import default_catalog
    from monitor.classify import default_engine

    store = open_store(settings.storage.path)
    fetcher = make_fetcher(settings.polling)
    from monitor.parse import ParsePool

    rt = Runtime(settings, store, default_catalog(), default_engine(), fetcher, clock=clock, parser=ParsePool())
    try:
        yield rt
    finally:
        await rt.fetcher.aclose()
        if rt.parser is not None:
            rt.parser.close()
        rt.bookkeeping.flush()  # gathered feed bookkeeping: written before the thread stops, committed on close
        rt.worker.shutdown(wait=True)
        store.close()


def fork_parsers(rt: Runtime) -> None:
    """Parser processes forked now, before the caller starts a thread: they share its loaded engine.

    ``monitor.parse_pool.ForkedParsePool`` says why; spawned parsers would
    each load their own copy of everything (about 100 MB and a second or two
    of CPU apiece). The daemon and ``once`` call this first thing in their
    runtime, while the process still has one thread.
    """
    from monitor.parse_pool import ForkedParsePool

    if rt.parser is not None and rt.parser.workers > 0 and not isinstance(rt.parser, ForkedParsePool):
        rt.parser.close()
        rt.parser = ForkedParsePool(rt.parser.workers)
        rt.parser.start()
