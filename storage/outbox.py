"""The alert outbox: the source of truth for what must be, and what was, delivered.

A row is written in the same transaction as the event change that causes it;
its id is the idempotency key, so inserting it twice is a no-op and a
receiver sees the same id on every retry.
"""

from __future__ import annotations

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


def _row(r: dict[str, object]) -> OutboxRow:
    return OutboxRow(
        id=str(r["id"]),
        event_id=int(r["event_id"]),  # type: ignore[call-overload]
        kind=str(r["kind"]),
        lab=str(r["lab"]),
        channel=str(r["channel"]),
        state=str(r["state"]),
        attempts=int(r["attempts"]),  # type: ignore[call-overload]
        next_attempt=from_iso(r["next_attempt"]),  # type: ignore[arg-type]
        last_error=r["last_error"],  # type: ignore[arg-type]
        created=from_iso(r["created"]),  # type: ignore[arg-type]
        delivered=from_iso(r["delivered"]),  # type: ignore[arg-type]
    )


def enqueue(store: Store, *, alert_id: str, event_id: int, kind: str, lab: str, channel: str,
            now: datetime) -> bool:
    """Queue an alert; False when this alert (same idempotency key) exists already."""
    cur = store.execute(
        "INSERT OR IGNORE INTO outbox (id, event_id, kind, lab, channel, state, attempts, next_attempt, created) "
        "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        (alert_id, event_id, kind, lab, channel, iso(now), iso(now)),
    )
    return cur.rowcount > 0


def due(store: Store, now: datetime, *, channels: set[str] | None = None, limit: int = 100) -> list[OutboxRow]:
    rows = [
        _row(r)
        for r in store.rows(
            "SELECT * FROM outbox WHERE state = 'pending' AND (next_attempt IS NULL OR next_attempt <= ?) "
            "ORDER BY created, id LIMIT ?",
            (iso(now), limit),
        )
    ]
    return [r for r in rows if channels is None or r.channel in channels]


def mark_delivered(store: Store, alert_id: str, now: datetime) -> None:
    store.execute(
        "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered = ?, last_error = NULL "
        "WHERE id = ?",
        (iso(now), alert_id),
    )


def mark_failed(store: Store, alert_id: str, *, error: str, next_attempt: datetime | None) -> None:
    """A failed try: scheduled again at ``next_attempt``, or dead-lettered when None."""
    state = "pending" if next_attempt is not None else "dead"
    store.execute(
        "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt = ? WHERE id = ?",
        (state, error, iso(next_attempt), alert_id),
    )


def requeue(store: Store, alert_id: str, now: datetime) -> bool:
    cur = store.execute(
        "UPDATE outbox SET state = 'pending', next_attempt = ?, last_error = NULL WHERE id = ? AND state = 'dead'",
        (iso(now), alert_id),
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
