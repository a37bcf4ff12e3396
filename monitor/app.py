"""Building a runtime from settings: the database, the fetcher, the catalog and the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from monitor.pipeline import Runtime, utcnow
from storage import open_store

if TYPE_CHECKING:
    from config.schema import PollingSettings, Settings
    from monitor.fetch import Fetcher

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


def delivery_client() -> httpx.AsyncClient:
    """The client for webhooks: no redirects followed (a receiver that moves must be reconfigured)."""
    return httpx.AsyncClient(follow_redirects=False, headers={"user-agent": USER_AGENT},
                             timeout=httpx.Timeout(30.0))


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
        rt.worker.shutdown(wait=True)
        store.close()
