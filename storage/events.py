"""Events (one per person and move) and the sources that reported them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

from monitor.records import Event, Source, Status
from storage.db import Store, from_iso, iso

_EVENT_FIELDS = ("person", "from_org", "from_parent", "to_org", "to_parent", "role", "confidence", "status")


def _sources(store: Store, event_id: int) -> tuple[Source, ...]:
    rows = store.rows(
        "SELECT url, title, feed, published, evidence FROM event_sources WHERE event_id = ? ORDER BY seen, id",
        (event_id,),
    )
    return tuple(
        Source(url=r["url"], title=r["title"], feed=r["feed"], published=from_iso(r["published"]),
               evidence=r["evidence"] or "")
        for r in rows
    )


def _event(store: Store, row: dict[str, object]) -> Event:
    status: Status = row["status"]  # type: ignore[assignment]
    return Event(
        id=int(row["id"]),  # type: ignore[call-overload]
        person=row["person"],  # type: ignore[arg-type]
        from_org=row["from_org"],  # type: ignore[arg-type]
        to_org=row["to_org"],  # type: ignore[arg-type]
        role=row["role"],  # type: ignore[arg-type]
        confidence=float(row["confidence"]),  # type: ignore[arg-type]
        status=status,
        first_seen=from_iso(row["first_seen"]),  # type: ignore[arg-type]
        from_parent=row["from_parent"],  # type: ignore[arg-type]
        to_parent=row["to_parent"],  # type: ignore[arg-type]
        person_aliases=tuple(json.loads(str(row["person_aliases"] or "[]"))),
        sources=_sources(store, int(row["id"])),  # type: ignore[call-overload]
    )


def load_event(store: Store, event_id: int) -> Event:
    row = store.one("SELECT * FROM events WHERE id = ?", (event_id,))
    if row is None:
        raise KeyError(event_id)
    return _event(store, row)


def events_with_keys(store: Store, keys: Iterable[str]) -> list[Event]:
    """Events whose person has any of these normalised spellings: the merge candidates."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    rows = store.rows(
        f"SELECT * FROM events WHERE id IN (SELECT event_id FROM event_keys WHERE key IN ({marks})) ORDER BY id",
        wanted,
    )
    return [_event(store, r) for r in rows]


def save_event(store: Store, event: Event, keys: Iterable[str], now: datetime) -> int:
    """Insert (id 0) or update an event and its person keys; returns its id."""
    values = (
        event.person,
        event.from_org,
        event.from_parent,
        event.to_org,
        event.to_parent,
        event.role,
        event.confidence,
        event.status,
    )
    aliases = json.dumps(list(event.person_aliases), ensure_ascii=False)
    if event.id == 0:
        cur = store.execute(
            f"INSERT INTO events ({', '.join(_EVENT_FIELDS)}, person_aliases, first_seen, updated) "
            f"VALUES ({', '.join('?' * len(_EVENT_FIELDS))}, ?, ?, ?)",
            (*values, aliases, iso(event.first_seen), iso(now)),
        )
        event_id = int(cur.lastrowid or 0)
    else:
        event_id = event.id
        store.execute(
            f"UPDATE events SET {', '.join(f'{f} = ?' for f in _EVENT_FIELDS)}, person_aliases = ?, updated = ? "
            "WHERE id = ?",
            (*values, aliases, iso(now), event_id),
        )
    for key in set(keys):
        store.execute("INSERT OR IGNORE INTO event_keys (event_id, key) VALUES (?, ?)", (event_id, key))
    return event_id


def add_source(
    store: Store, event_id: int, entry_id: int, source: Source, *, confidence: float, status: str, now: datetime
) -> bool:
    """Attach an article to an event; False if that article was already attached."""
    if source.url and store.one(
        "SELECT 1 FROM event_sources WHERE event_id = ? AND url = ? AND entry_id != ?",
        (event_id, source.url, entry_id),
    ):
        return False  # the same article reached us through a second feed
    cur = store.execute(
        "INSERT INTO event_sources (event_id, entry_id, url, title, feed, published, evidence, confidence, "
        "status, seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(event_id, entry_id) DO UPDATE SET evidence = excluded.evidence, "
        "confidence = excluded.confidence, status = excluded.status, title = excluded.title",
        (event_id, entry_id, source.url, source.title, source.feed, iso(source.published), source.evidence,
         confidence, status, iso(now)),
    )
    return cur.rowcount > 0


def list_events(store: Store, *, since: datetime | None = None, limit: int | None = None) -> list[Event]:
    sql = "SELECT * FROM events"
    params: list[object] = []
    if since is not None:
        sql += " WHERE first_seen >= ?"
        params.append(iso(since))
    sql += " ORDER BY first_seen DESC, id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [_event(store, r) for r in store.rows(sql, params)]


def event_count(store: Store) -> int:
    return int(store.execute("SELECT count(*) FROM events").fetchone()[0])


def group_events(store: Store, limit: int = 200) -> list[Event]:
    """Recent events about unnamed groups of staff: the merge candidates for another group move."""
    rows = store.rows("SELECT * FROM events WHERE person IS NULL ORDER BY id DESC LIMIT ?", (limit,))
    return [_event(store, r) for r in rows]


def detach_entry(store: Store, entry_id: int) -> list[int]:
    """Forget what an entry reported (it changed, or is classified again); returns the events it touched."""
    touched = [int(r["event_id"]) for r in store.rows(
        "SELECT DISTINCT event_id FROM event_sources WHERE entry_id = ?", (entry_id,))]
    store.execute("DELETE FROM event_sources WHERE entry_id = ?", (entry_id,))
    return touched


def drop_unsupported(store: Store, event_ids: Iterable[int]) -> int:
    """Events no article supports any more go, unless an alert was made for them (history stays true)."""
    dropped = 0
    for event_id in event_ids:
        if store.one("SELECT 1 FROM event_sources WHERE event_id = ?", (event_id,)) is not None:
            continue
        if store.one("SELECT 1 FROM outbox WHERE event_id = ?", (event_id,)) is not None:
            continue
        store.execute("DELETE FROM event_keys WHERE event_id = ?", (event_id,))
        store.execute("DELETE FROM events WHERE id = ?", (event_id,))
        dropped += 1
    return dropped


def settle(
    store: Store,
    event_id: int,
    combine: Callable[[Iterable[float]], float],
    strongest: Callable[[Iterable[Status]], Status],
) -> None:
    """Derive an event's confidence and status from its sources, so re-reading an article never inflates them."""
    rows = store.rows("SELECT confidence, status FROM event_sources WHERE event_id = ?", (event_id,))
    if not rows:
        return
    confidence = combine(float(r["confidence"] or 0.0) for r in rows)
    status = strongest(r["status"] or "reported" for r in rows)
    store.execute("UPDATE events SET confidence = ?, status = ? WHERE id = ?", (confidence, status, event_id))
