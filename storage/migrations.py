"""Schema migrations, applied in order at start-up; ``PRAGMA user_version`` counts them.

A migration is never edited once released: add a new one. ``tests/test_storage``
checks that a fresh database equals one migrated step by step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db.table("feeds").create(
        {
            "id": int,
            "url": str,
            "name": str,
            "active": int,  # 0 once removed from the config; rows are kept for history
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "last_polled": str,
            "last_status": int,
            "last_error": str,
            "error_count": int,
            "next_poll": str,
            "entry_count": int,
            "gone": int,  # 1 after HTTP 410: not polled again
            "added": str,
        },
        pk="id",
        not_null={"url", "active", "error_count", "entry_count", "gone"},
        defaults={"active": 1, "error_count": 0, "entry_count": 0, "gone": 0},
    )
    db.table("feeds").create_index(["url"], unique=True)

    db.table("entries").create(
        {
            "id": int,
            "feed_id": int,
            "key": str,
            "link": str,
            "title": str,
            "summary": str,
            "published": str,
            "content_hash": str,
            "first_seen": str,
            "updated": str,
            "classified": int,
            "lang": str,
        },
        pk="id",
        foreign_keys=[("feed_id", "feeds", "id")],
        not_null={"feed_id", "key", "title", "summary", "content_hash", "first_seen", "classified"},
        defaults={"classified": 0},
    )
    db.table("entries").create_index(["feed_id", "key"], unique=True)
    db.table("entries").create_index(["classified"])

    db.table("events").create(
        {
            "id": int,
            "person": str,
            "person_aliases": str,  # JSON list
            "from_org": str,
            "from_parent": str,
            "to_org": str,
            "to_parent": str,
            "role": str,
            "confidence": float,
            "status": str,
            "first_seen": str,
            "updated": str,
        },
        pk="id",
        not_null={"confidence", "status", "first_seen", "updated"},
    )
    db.table("events").create_index(["first_seen"])

    # Normalised spellings of an event's person, so a new report finds its event.
    db.table("event_keys").create(
        {"event_id": int, "key": str},
        pk=("event_id", "key"),
        foreign_keys=[("event_id", "events", "id")],
    )
    db.table("event_keys").create_index(["key"])

    db.table("event_sources").create(
        {
            "id": int,
            "event_id": int,
            "entry_id": int,
            "url": str,
            "title": str,
            "feed": str,
            "published": str,
            "evidence": str,
            "confidence": float,
            "status": str,
            "seen": str,
        },
        pk="id",
        foreign_keys=[("event_id", "events", "id"), ("entry_id", "entries", "id")],
        not_null={"event_id", "entry_id", "title", "seen"},
    )
    db.table("event_sources").create_index(["event_id", "entry_id"], unique=True)
    db.table("event_sources").create_index(["entry_id"])

    db.table("outbox").create(
        {
            "id": str,  # the idempotency key: event x channel x kind x lab
            "event_id": int,
            "kind": str,
            "lab": str,
            "channel": str,
            "state": str,  # pending | delivered | dead
            "attempts": int,
            "next_attempt": str,
            "last_error": str,
            "created": str,
            "delivered": str,
        },
        pk="id",
        foreign_keys=[("event_id", "events", "id")],
        not_null={"event_id", "kind", "lab", "channel", "state", "attempts", "created"},
        defaults={"state": "pending", "attempts": 0},
    )
    db.table("outbox").create_index(["state", "next_attempt"])

    # Small facts the daemon shares with `status`: config state, last cycle.
    db.table("state").create({"key": str, "value": str, "updated": str}, pk="key")


def _v2(db: sqlite_utils.Database) -> None:
    """Exodus alerts list the lab's recent losses; digests group a channel's alerts into one message."""
    db.table("outbox").add_column("related", str)  # JSON list of event ids an exodus alert names
    db.table("outbox").add_column("digest", str)  # the digest message that carries this alert, once its period closed
    db.table("outbox").create_index(["channel", "delivered"])
    db.table("outbox").create_index(["lab", "kind", "created"])
    db.table("outbox").create_index(["digest"])


def _v3(db: sqlite_utils.Database) -> None:
    """Remember the URL a feed row stands for in the config, apart from the URL it is fetched from.

    A permanent redirect changes where a feed is fetched (``url``), while the
    config file still names the old URL; without this the row would no longer
    match its config entry, and the feed would silently stop being polled.
    """
    db.execute("ALTER TABLE feeds ADD COLUMN configured_url TEXT")
    db.execute("UPDATE feeds SET configured_url = url")
    db.table("feeds").create_index(["configured_url"])


def _v4(db: sqlite_utils.Database) -> None:
    """Feed health alerts: an outbox row may speak of a feed instead of an event.

    ``event_id`` becomes optional and ``feed_id`` names the feed; ``detail``
    keeps what the alert says (failing or silent, since when), fixed when it
    is queued. A feed remembers when its current failure streak began and
    when it last brought new entries, which is what the alerts key on, so a
    streak alerts once and a recovered feed can alert again later.
    """
    db.table("outbox").transform(not_null={"event_id": False})
    db.table("outbox").add_column("feed_id", int, fk="feeds", fk_col="id")
    db.table("outbox").add_column("detail", str)  # JSON: a feed health alert's problem and figures
    db.table("feeds").add_column("failing_since", str)  # the first failure of the current streak
    db.table("feeds").add_column("last_new_entry", str)  # the last poll that stored new or changed entries
    db.execute("UPDATE feeds SET failing_since = last_polled WHERE error_count > 0")
    db.execute("UPDATE feeds SET last_new_entry = (SELECT max(updated) FROM entries WHERE entries.feed_id = feeds.id)")


def _v5(db: sqlite_utils.Database) -> None:
    """Article pages read for their full text, by canonical link, so no page is fetched twice.

    A failed fetch is kept too (``text`` empty, ``error`` says why), so a
    broken page is tried again only after a while rather than on every poll.
    """
    db.table("pages").create(
        {"url": str, "text": str, "error": str, "fetched": str},
        pk="url",
        not_null={"fetched"},
    )


def _v6(db: sqlite_utils.Database) -> None:
    """Person keys made again from each event's name and aliases, the way ``monitor.people`` makes them now.

    Chinese names are read by their surname readings (曾 Zeng, not Ceng;
    欧阳 Ouyang as one surname) and one character at a time. Events stored
    before would otherwise not meet a new report of the same person. Keys
    are only added: the old ones stay, so nothing that matched before stops
    matching.
    """
    from monitor.people import person_keys

    rows = db.execute("SELECT id, person, person_aliases FROM events WHERE person IS NOT NULL").fetchall()
    for event_id, person, aliases in rows:
        try:
            spellings = [a for a in json.loads(aliases or "[]") if isinstance(a, str)]
        except ValueError:
            spellings = []
        db.conn.executemany("INSERT OR IGNORE INTO event_keys (event_id, key) VALUES (?, ?)",
                            [(event_id, key) for key in sorted(person_keys(person, spellings))])


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2, _v3, _v4, _v5, _v6)


def migrate(db: sqlite_utils.Database, migrations: Sequence[Callable[[sqlite_utils.Database], None]]) -> int:
    """Apply the migrations the database has not seen; returns the resulting version."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    for number, step in enumerate(migrations, start=1):
        if number > version:
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
            version = number
    return version
