"""Article pages read for their full text: a cache keyed by canonical link.

A page is fetched at most once for its text; a failed fetch is kept with
its error so that it is tried again only after ``RETRY_FAILED`` (the
caller decides, from ``fetched``), never on every poll.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Store, from_iso, iso

_CHUNK = 500  # SQLite's host-parameter limit is far above this; it keeps one statement small


@dataclass(frozen=True, slots=True)
class CachedPage:
    """One page as read: its text, or the error that kept it from being read."""

    url: str
    text: str | None
    error: str | None
    fetched: datetime


def get_pages(store: Store, urls: Iterable[str]) -> dict[str, CachedPage]:
    """The cached pages among ``urls`` (canonical links), by link."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, CachedPage] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for row in store.rows(f"SELECT url, text, error, fetched FROM pages WHERE url IN ({marks})", chunk):
            fetched = from_iso(row["fetched"])
            if fetched is not None:
                found[str(row["url"])] = CachedPage(str(row["url"]), row["text"] or None, row["error"], fetched)
    return found


def get_page(store: Store, url: str) -> CachedPage | None:
    return get_pages(store, [url]).get(url)


def save_pages(store: Store, pages: Sequence[CachedPage]) -> None:
    """Insert or replace pages, in the caller's transaction when there is one."""
    with store.transaction():
        for page in pages:
            store.execute(
                "INSERT INTO pages (url, text, error, fetched) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET text = excluded.text, error = excluded.error, "
                "fetched = excluded.fetched",
                (page.url, page.text, page.error, iso(page.fetched)),
            )


def page_count(store: Store) -> int:
    row = store.one("SELECT count(*) AS n FROM pages")
    return int(row["n"]) if row else 0
