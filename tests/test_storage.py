"""The database: a real SQLite file, migrations, and the queries the pipeline relies on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from monitor.records import Event, FeedEntry, Source
from storage import Store, open_store
from storage import entries as entries_db
from storage import events as events_db
from storage import feeds as feeds_db
from storage import outbox as outbox_db
from storage.migrations import MIGRATIONS, migrate

NOW = datetime(2025, 8, 10, 9, 0, tzinfo=UTC)
FEED = "http://example.com/feed.xml"


def schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "tw.db")


@pytest.fixture
def event_id(store: Store) -> int:
    feeds_db.sync_feeds(store, [(FEED, "Example")], NOW)
    feed = feeds_db.get_feed(store, FEED)
    assert feed is not None
    entry = FeedEntry(key="a", title="A", summary="s", content_hash="h")
    [stored] = entries_db.store_entries(store, feed.id, [entry], NOW)
    event = Event(id=0, person="Yan Zhijie", from_org="Alibaba Tongyi Lab", to_org="JD.com Explore Academy",
                  role="head of the speech lab", confidence=0.8, status="reported", first_seen=NOW,
                  from_parent="Alibaba", to_parent="JD.com", person_aliases=("鄢志杰",))
    new_id = events_db.save_event(store, event, {"yan zhijie"}, NOW)
    source = Source(url="http://example.com/a", title="A", evidence="He joined JD.com.")
    events_db.add_source(store, new_id, stored.id, source, confidence=0.8, status="reported", now=NOW)
    return new_id


def test_a_fresh_database_equals_one_migrated_step_by_step(tmp_path: Path) -> None:
    open_store(tmp_path / "fresh.db").close()
    stepwise = sqlite_utils.Database(tmp_path / "stepwise.db")
    for done in range(1, len(MIGRATIONS) + 1):
        assert migrate(stepwise, MIGRATIONS[:done]) == done
    stepwise.close()
    assert schema(tmp_path / "fresh.db") == schema(tmp_path / "stepwise.db")


def test_the_database_runs_in_wal_mode_with_foreign_keys_and_full_sync(store: Store) -> None:
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.schema_version == len(MIGRATIONS)


def test_reopening_does_not_migrate_twice(tmp_path: Path) -> None:
    open_store(tmp_path / "tw.db").close()
    assert open_store(tmp_path / "tw.db").schema_version == len(MIGRATIONS)


def test_storage_says_which_entries_are_new_or_changed(store: Store) -> None:
    feeds_db.sync_feeds(store, [(FEED, "Example")], NOW)
    feed = feeds_db.get_feed(store, FEED)
    assert feed is not None
    a = FeedEntry(key="a", title="A", summary="first", content_hash="h1")
    b = FeedEntry(key="b", title="B", summary="second", content_hash="h2")

    assert [s.entry.key for s in entries_db.store_entries(store, feed.id, [a, b], NOW)] == ["a", "b"]
    assert entries_db.store_entries(store, feed.id, [a, b], NOW) == []
    changed = FeedEntry(key="a", title="A", summary="first, corrected", content_hash="h3")
    fresh = entries_db.store_entries(store, feed.id, [changed, b], NOW)
    assert [s.entry.summary for s in fresh] == ["first, corrected"]


def test_removed_feeds_are_kept_but_inactive(store: Store) -> None:
    feeds_db.sync_feeds(store, [("http://a.example/f", None), ("http://b.example/f", None)], NOW)
    feeds_db.sync_feeds(store, [("http://b.example/f", "B")], NOW)
    assert [f.url for f in feeds_db.list_feeds(store)] == ["http://b.example/f"]
    assert len(feeds_db.list_feeds(store, active_only=False)) == 2


def test_a_transaction_that_fails_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.execute("INSERT INTO feeds (url) VALUES ('http://a.example/f')")
        raise RuntimeError("crash between writes")
    assert feeds_db.list_feeds(store, active_only=False) == []


def test_events_round_trip_with_their_sources_and_person_keys(store: Store, event_id: int) -> None:
    [found] = events_db.events_with_keys(store, {"yan zhijie"})
    assert found.id == event_id
    assert found.person_aliases == ("鄢志杰",)
    assert found.sources[0].evidence == "He joined JD.com."
    assert events_db.events_with_keys(store, {"bo liefeng"}) == []


def test_the_outbox_queues_an_alert_once_and_tracks_its_delivery(store: Store, event_id: int) -> None:
    def queue() -> bool:
        return outbox_db.enqueue(store, alert_id="msg_1", event_id=event_id, kind="loss", lab="Tongyi",
                                 channel="hook", now=NOW)

    assert queue()
    assert not queue()
    assert [r.id for r in outbox_db.due(store, NOW)] == ["msg_1"]

    later = NOW + timedelta(minutes=5)
    outbox_db.mark_failed(store, "msg_1", error="HTTP 500", next_attempt=later)
    assert outbox_db.due(store, NOW) == []
    assert [r.attempts for r in outbox_db.due(store, later)] == [1]

    outbox_db.mark_delivered(store, "msg_1", later)
    assert outbox_db.due(store, later + timedelta(days=1)) == []
    assert outbox_db.counts(store) == {"pending": 0, "delivered": 1, "dead": 0}


def test_a_dead_letter_can_be_queued_again(store: Store, event_id: int) -> None:
    outbox_db.enqueue(store, alert_id="msg_2", event_id=event_id, kind="loss", lab="L", channel="c", now=NOW)
    outbox_db.mark_failed(store, "msg_2", error="HTTP 400", next_attempt=None)
    assert [r.state for r in outbox_db.list_alerts(store, state="dead")] == ["dead"]
    assert outbox_db.requeue(store, "msg_2", NOW)
    assert not outbox_db.requeue(store, "msg_2", NOW)


def test_a_backup_is_a_consistent_copy_taken_while_the_database_is_open(store: Store, event_id: int,
                                                                          tmp_path: Path) -> None:
    from storage.backup import backup

    target = tmp_path / "copies" / "tw-backup.db"
    assert backup(store, target) > 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT person FROM events").fetchall() == [("Yan Zhijie",)]
    assert not target.with_name("tw-backup.db.partial").exists()


def test_a_backup_onto_the_database_itself_is_refused(store: Store) -> None:
    from monitor.errors import StorageError
    from storage.backup import backup

    assert store.path is not None
    with pytest.raises(StorageError, match="onto itself"):
        backup(store, store.path)
