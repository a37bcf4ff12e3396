"""The alert outbox: the source of truth for what must be, and what was, delivered.

A row is written in the same transaction as the event change that causes it;
its id is the idempotency key, so inserting it twice is a no-op and a
receiver sees the same id on every retry.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Store, from_iso, iso


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: str
    event_id: int
    kind: str
    lab: str
    channel: str
    state: str
    attempts: int
    next_attempt: datetime | None
    last_error: str | None
    created: datetime
    delivered: datetime | None
    related: tuple[int, ...] = ()  # an exodus alert's events
    digest: str | None = None  # the digest message carrying this alert, once its period closed
    feed_id: int | None = None  # a feed health alert's feed (its ``event_id`` is 0)
    detail: str | None = None  # a feed health alert's content, JSON


def _row(r: dict[str, object]) -> OutboxRow:
    return OutboxRow(
        id=str(r["id"]),
        event_id=int(r["event_id"] or 0),  # type: ignore[call-overload]
        kind=str(r["kind"]),
        lab=str(r["lab"]),
        channel=str(r["channel"]),
        state=str(r["state"]),
        attempts=int(r["attempts"]),  # type: ignore[call-overload]
        next_attempt=from_iso(r["next_attempt"]),  # type: ignore[arg-type]
        last_error=r["last_error"],  # type: ignore[arg-type]
        created=from_iso(r["created"]),  # type: ignore[arg-type]
        delivered=from_iso(r["delivered"]),  # type: ignore[arg-type]
        related=tuple(json.loads(str(r.get("related") or "[]"))),
        digest=r.get("digest"),  # type: ignore[arg-type]
        feed_id=r.get("feed_id"),  # type: ignore[arg-type]
        detail=r.get("detail"),  # type: ignore[arg-type]
    )


def enqueue(store: Store, *, alert_id: str, event_id: int, kind: str, lab: str, channel: str,
            now: datetime, related: Sequence[int] = ()) -> bool:
    """Queue an alert; False when this alert (same idempotency key) exists already."""
    cur = store.execute(
        "INSERT OR IGNORE INTO outbox (id, event_id, kind, lab, channel, state, attempts, next_attempt, created, "
        "related) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
        (alert_id, event_id, kind, lab, channel, iso(now), iso(now), json.dumps(list(related)) if related else None),
    )
    return cur.rowcount > 0


def enqueue_feed_alert(store: Store, *, alert_id: str, feed_id: int, name: str, channel: str, now: datetime,
                       detail: dict[str, object]) -> bool:
    """Queue a feed health alert (no event; ``lab`` holds the feed's name); False when queued already."""
    cur = store.execute(
        "INSERT OR IGNORE INTO outbox (id, event_id, feed_id, kind, lab, channel, state, attempts, next_attempt, "
        "created, detail) VALUES (?, NULL, ?, 'feed_health', ?, ?, 'pending', 0, ?, ?, ?)",
        (alert_id, feed_id, name, channel, iso(now), iso(now), json.dumps(detail)),
    )
    return cur.rowcount > 0


def has_alert(store: Store, *, event_id: int, kind: str, lab: str) -> bool:
    """Whether this event already alerted this lab with this kind, on any channel."""
    return store.one("SELECT 1 FROM outbox WHERE event_id = ? AND kind = ? AND lab = ? LIMIT 1",
                     (event_id, kind, lab)) is not None


def recent_events(store: Store, *, lab: str, kind: str, since: datetime) -> list[int]:
    """The events that alerted ``lab`` with ``kind`` since ``since``, oldest first (exodus counting)."""
    rows = store.rows(
        "SELECT event_id, min(created) AS first FROM outbox WHERE lab = ? AND kind = ? AND created >= ? "
        "GROUP BY event_id ORDER BY first, event_id",
        (lab, kind, iso(since)),
    )
    return [int(r["event_id"]) for r in rows]


def due(store: Store, now: datetime, *, channels: set[str] | None = None, held: Collection[str] = (),
        limit: int = 100) -> list[OutboxRow]:
    """Pending alerts whose time has come; on ``held`` (digest) channels, only those a digest closed."""
    marks = ",".join("?" * len(held))
    hold = f"AND NOT (digest IS NULL AND channel IN ({marks})) " if held else ""
    rows = [
        _row(r)
        for r in store.rows(
            "SELECT * FROM outbox WHERE state = 'pending' AND (next_attempt IS NULL OR next_attempt <= ?) "
            f"{hold}ORDER BY created, rowid LIMIT ?",
            (iso(now), *held, limit),
        )
    ]
    return [r for r in rows if channels is None or r.channel in channels]


def close_digest(store: Store, *, channel: str, digest_id: str, upto: datetime) -> int:
    """Put every waiting alert of ``channel`` queued up to ``upto`` into one digest; returns how many."""
    cur = store.execute(
        "UPDATE outbox SET digest = ? WHERE channel = ? AND state = 'pending' AND digest IS NULL AND created <= ?",
        (digest_id, channel, iso(upto)),
    )
    return cur.rowcount


def sent_since(store: Store, channel: str, since: datetime) -> int:
    """Messages delivered on ``channel`` since ``since``; a digest counts once (rate limiting)."""
    row = store.one(
        "SELECT count(DISTINCT coalesce(digest, id)) AS n FROM outbox WHERE channel = ? AND delivered >= ?",
        (channel, iso(since)),
    )
    return int(row["n"]) if row else 0


def mark_delivered(store: Store, alert_id: str | Sequence[str], now: datetime) -> None:
    """One alert delivered, or every alert a digest carried."""
    for one in [alert_id] if isinstance(alert_id, str) else alert_id:
        store.execute(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered = ?, last_error = NULL "
            "WHERE id = ?",
            (iso(now), one),
        )


def mark_failed(store: Store, alert_id: str | Sequence[str], *, error: str, next_attempt: datetime | None) -> None:
    """A failed try: scheduled again at ``next_attempt``, or dead-lettered when None."""
    state = "pending" if next_attempt is not None else "dead"
    for one in [alert_id] if isinstance(alert_id, str) else alert_id:
        store.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt = ? WHERE id = ?",
            (state, error, iso(next_attempt), one),
        )


def requeue(store: Store, alert_id: str, now: datetime) -> bool:
    """Queue a dead letter again; a digest goes back whole (by any of its alerts' ids or its own)."""
    with store.transaction():
        row = store.one("SELECT digest FROM outbox WHERE id = ? AND state = 'dead'", (alert_id,))
        digest = row["digest"] if row else alert_id
        cur = store.execute(
            "UPDATE outbox SET state = 'pending', next_attempt = ?, last_error = NULL "
            "WHERE state = 'dead' AND (id = ? OR digest = ?)",
            (iso(now), alert_id, digest),
        )
    return cur.rowcount > 0


def list_alerts(store: Store, *, state: str | None = None, limit: int = 200) -> list[OutboxRow]:
    if state:
        rows = store.rows("SELECT * FROM outbox WHERE state = ? ORDER BY created DESC LIMIT ?", (state, limit))
    else:
        rows = store.rows("SELECT * FROM outbox ORDER BY created DESC LIMIT ?", (limit,))
    return [_row(r) for r in rows]


def counts(store: Store) -> dict[str, int]:
    found = {"pending": 0, "delivered": 0, "dead": 0}
    for r in store.rows("SELECT state, count(*) AS n FROM outbox GROUP BY state"):
        found[str(r["state"])] = int(r["n"])
    return found


def state_of(store: Store, alert_id: str) -> str | None:
    row = store.one("SELECT state FROM outbox WHERE id = ?", (alert_id,))
    return str(row["state"]) if row else None


def oldest_sent_since(store: Store, channel: str, since: datetime) -> datetime | None:
    """The earliest delivery on ``channel`` since ``since``: when it leaves the window, room opens."""
    row = store.one("SELECT min(delivered) AS first FROM outbox WHERE channel = ? AND delivered >= ?",
                    (channel, iso(since)))
    return from_iso(row["first"]) if row else None


def postpone(store: Store, alert_ids: Sequence[str], until: datetime) -> None:
    """Hold pending alerts back until ``until`` without counting a try (a rate limit, not a failure)."""
    for one in alert_ids:
        store.execute("UPDATE outbox SET next_attempt = ? WHERE id = ? AND state = 'pending'", (iso(until), one))
