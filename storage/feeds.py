"""Feeds and their health: validators for conditional GET, errors, next poll."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypedDict

from storage.db import Store, from_iso, iso


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed as the database knows it: what to send next time and how it has been doing."""

    id: int
    url: str
    name: str | None
    active: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_polled: datetime | None
    last_status: int | None
    last_error: str | None
    error_count: int
    next_poll: datetime | None
    entry_count: int
    gone: bool
    configured_url: str | None = None  # the URL in the config; ``url`` differs after a permanent redirect
    added: datetime | None = None
    failing_since: datetime | None = None  # the first failure of the current streak
    last_new_entry: datetime | None = None  # the last poll that stored new or changed entries


def _state(row: dict[str, object]) -> FeedState:
    return FeedState(
        id=int(row["id"]),  # type: ignore[call-overload]
        url=str(row["url"]),
        name=row["name"] if row["name"] is None else str(row["name"]),
        active=bool(row["active"]),
        etag=row["etag"],  # type: ignore[arg-type]
        last_modified=row["last_modified"],  # type: ignore[arg-type]
        body_hash=row["body_hash"],  # type: ignore[arg-type]
        last_polled=from_iso(row["last_polled"]),  # type: ignore[arg-type]
        last_status=row["last_status"],  # type: ignore[arg-type]
        last_error=row["last_error"],  # type: ignore[arg-type]
        error_count=int(row["error_count"]),  # type: ignore[call-overload]
        next_poll=from_iso(row["next_poll"]),  # type: ignore[arg-type]
        entry_count=int(row["entry_count"]),  # type: ignore[call-overload]
        gone=bool(row["gone"]),
        configured_url=row.get("configured_url"),  # type: ignore[arg-type]
        added=from_iso(row.get("added")),  # type: ignore[arg-type]
        failing_since=from_iso(row.get("failing_since")),  # type: ignore[arg-type]
        last_new_entry=from_iso(row.get("last_new_entry")),  # type: ignore[arg-type]
    )


def sync_feeds(store: Store, feeds: Sequence[tuple[str, str | None]], now: datetime) -> None:
    """Make the active feeds exactly the configured ones, keeping history of removed ones.

    A configured URL matches the row it was configured as first, then the row
    fetched from that URL, so a feed that moved (301) keeps its row and history.
    """
    urls = [url for url, _ in feeds]
    with store.transaction():
        for url, name in feeds:
            row = store.one("SELECT id FROM feeds WHERE configured_url = ?", (url,)) or store.one(
                "SELECT id FROM feeds WHERE url = ?", (url,))
            if row is not None:
                store.execute("UPDATE feeds SET name = ?, active = 1, configured_url = ? WHERE id = ?",
                              (name, url, row["id"]))
            else:
                store.execute("INSERT INTO feeds (url, configured_url, name, active, added) VALUES (?, ?, ?, 1, ?)",
                              (url, url, name, iso(now)))
        placeholders = ",".join("?" * len(urls))
        store.execute(f"UPDATE feeds SET active = 0 WHERE COALESCE(configured_url, url) NOT IN ({placeholders})", urls)


def get_feed(store: Store, url: str) -> FeedState | None:
    """The feed configured as ``url``, else the one now fetched from ``url``.

    One statement (both columns are indexed): every poll starts here, a 304 included.
    """
    row = store.one("SELECT * FROM feeds WHERE configured_url = ?1 OR url = ?1 "
                    "ORDER BY configured_url IS ?1 DESC LIMIT 1", (url,))
    return _state(row) if row else None



def list_feeds(store: Store, *, active_only: bool = True) -> list[FeedState]:
    where = "WHERE active = 1" if active_only else ""
    return [_state(r) for r in store.rows(f"SELECT * FROM feeds {where} ORDER BY id")]


def record_fetched(
    store: Store,
    feed_id: int,
    *,
    status: int,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    now: datetime,
    next_poll: datetime,
    new_entries: int = 0,
) -> None:
    """A successful poll (200 or 304): validators kept, the error streak ended."""
    stamp = iso(now)
    store.execute(
        "UPDATE feeds SET last_status = ?, etag = ?, last_modified = ?, body_hash = COALESCE(?, body_hash), "
        "last_polled = ?, last_error = NULL, error_count = 0, failing_since = NULL, next_poll = ?, "
        "entry_count = entry_count + ?, last_new_entry = CASE WHEN ? > 0 THEN ? ELSE last_new_entry END "
        "WHERE id = ?",
        (status, etag, last_modified, body_hash, stamp, iso(next_poll), new_entries, new_entries, stamp, feed_id),
    )


class Fetched(TypedDict):
    """What a poll that stored no entry writes to its feed's row (``record_fetched``, ``after_fetched``)."""

    status: int
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    now: datetime
    next_poll: datetime


def after_fetched(feed: FeedState, *, status: int, etag: str | None, last_modified: str | None,
                  body_hash: str | None, now: datetime, next_poll: datetime) -> FeedState:
    """The row as ``record_fetched`` leaves it after a poll that stored no entry: no read needed to know it."""
    return replace(feed, last_status=status, etag=etag, last_modified=last_modified,
                   body_hash=body_hash or feed.body_hash, last_polled=now, last_error=None, error_count=0,
                   failing_since=None, next_poll=next_poll)


def record_error(
    store: Store, feed_id: int, *, status: int | None, error: str, now: datetime, next_poll: datetime
) -> None:
    """A failed poll: one more in the streak, which began at its first failure."""
    stamp = iso(now)
    store.execute(
        "UPDATE feeds SET last_status = ?, last_error = ?, error_count = error_count + 1, "
        "failing_since = COALESCE(failing_since, ?), last_polled = ?, next_poll = ? WHERE id = ?",
        (status, error, stamp, stamp, iso(next_poll), feed_id),
    )


def mark_gone(store: Store, feed_id: int, *, now: datetime) -> None:
    store.execute(
        "UPDATE feeds SET gone = 1, last_status = 410, last_error = 'HTTP 410 Gone: no longer polled', "
        "last_polled = ?, next_poll = NULL WHERE id = ?",
        (iso(now), feed_id),
    )


def move_url(store: Store, feed_id: int, new_url: str) -> bool:
    """Follow a permanent redirect; False when another feed already has that URL."""
    if store.one("SELECT id FROM feeds WHERE url = ?", (new_url,)):
        return False
    store.execute("UPDATE feeds SET url = ? WHERE id = ?", (new_url, feed_id))
    return True
