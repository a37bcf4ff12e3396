"""Feed entries: storage says which are new or changed, and only those are classified."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.records import Article, FeedEntry
from storage.db import Store, from_iso, iso


@dataclass(frozen=True, slots=True)
class StoredEntry:
    id: int
    feed_id: int
    entry: FeedEntry
    new: bool = False  # inserted just now: nothing can be attached to it yet

    def article(self) -> Article:
        return Article(
            id=str(self.id),
            title=self.entry.title,
            summary=self.entry.summary,
            url=self.entry.link,
            published=self.entry.published,
        )


def known_hashes(store: Store, feed_id: int) -> dict[str, str]:
    """The stored entries of a feed, key to content hash: what a new fetch is compared with."""
    cur = store.execute("SELECT key, content_hash FROM entries WHERE feed_id = ?", (feed_id,))
    return {str(key): str(digest) for key, digest in cur.fetchall()}


def store_entries(store: Store, feed_id: int, entries: Sequence[FeedEntry], now: datetime,
                  known: Mapping[str, str] | None = None) -> list[StoredEntry]:
    """Insert new entries and update changed ones; return just those (the work to classify).

    ``known`` (from ``known_hashes``, read in the same transaction or with
    the feed's polls serialised) saves a lookup per entry.
    """
    fresh: list[StoredEntry] = []
    stamp = iso(now)
    for entry in entries:
        if known is not None and known.get(entry.key) == entry.content_hash:
            continue
        row = None if known is not None and entry.key not in known else store.one(
            "SELECT id, content_hash FROM entries WHERE feed_id = ? AND key = ?", (feed_id, entry.key))
        if row is None:
            cur = store.execute(
                "INSERT INTO entries (feed_id, key, link, title, summary, published, content_hash, "
                "first_seen, updated, classified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (feed_id, entry.key, entry.link, entry.title, entry.summary, iso(entry.published),
                 entry.content_hash, stamp, stamp),
            )
            fresh.append(StoredEntry(int(cur.lastrowid or 0), feed_id, entry, new=True))
        elif row["content_hash"] != entry.content_hash:
            store.execute(
                "UPDATE entries SET link = ?, title = ?, summary = ?, published = ?, content_hash = ?, "
                "updated = ?, classified = 0 WHERE id = ?",
                (entry.link, entry.title, entry.summary, iso(entry.published), entry.content_hash, stamp,
                 row["id"]),
            )
            fresh.append(StoredEntry(int(row["id"]), feed_id, entry))
    return fresh


def _stored(row: dict[str, object]) -> StoredEntry:
    return StoredEntry(
        id=int(row["id"]),  # type: ignore[call-overload]
        feed_id=int(row["feed_id"]),  # type: ignore[call-overload]
        entry=FeedEntry(
            key=str(row["key"]),
            title=str(row["title"]),
            summary=str(row["summary"]),
            link=row["link"],  # type: ignore[arg-type]
            published=from_iso(row["published"]),  # type: ignore[arg-type]
            content_hash=str(row["content_hash"]),
        ),
    )


def unclassified(store: Store, limit: int = 1000) -> list[StoredEntry]:
    """Entries stored but not yet classified: left over by a crash, or marked by reclassify."""
    return [_stored(r) for r in store.rows("SELECT * FROM entries WHERE classified = 0 ORDER BY id LIMIT ?",
                                           (limit,))]


def mark_classified(store: Store, entry_id: int, lang: str) -> None:
    store.execute(_MARK_CLASSIFIED, (lang, entry_id))


def mark_many_classified(store: Store, entries: Sequence[tuple[int, str]]) -> None:
    """``mark_classified`` for many (entry id, language) pairs in one statement: most entries tell no move."""
    store.executemany(_MARK_CLASSIFIED, [(lang, entry_id) for entry_id, lang in entries])


_MARK_CLASSIFIED = "UPDATE entries SET classified = 1, lang = ? WHERE id = ?"


def feed_name_of(store: Store, entry_id: int) -> str | None:
    row = store.one(
        "SELECT COALESCE(f.name, f.url) AS name FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE e.id = ?",
        (entry_id,),
    )
    return str(row["name"]) if row else None


def entry_count(store: Store) -> int:
    return int(store.execute("SELECT count(*) FROM entries").fetchone()[0])


def mark_for_reclassification(store: Store, since: datetime | None = None) -> int:
    """Queue stored entries (all, or those first seen since a moment) to be classified again."""
    if since is None:
        cur = store.execute("UPDATE entries SET classified = 0")
    else:
        cur = store.execute("UPDATE entries SET classified = 0 WHERE first_seen >= ?", (iso(since),))
    return cur.rowcount
