"""Opening the database: pragmas, transactions and migrations.

sqlite-utils gives us schema creation and dict rows; writes go through
``Store.transaction()``, which takes the write lock up front (``BEGIN
IMMEDIATE``) so two processes never deadlock upgrading a read lock, and so an
event and the alerts it causes are committed together or not at all.

Feed bookkeeping that changes no event or alert (a 304's "polled fine, next
poll at ...") may instead go through ``Store.grouped()``: many feeds' updates
share one open transaction, committed by ``commit_group()`` (the pipeline
calls it about once a second), before any ``transaction()``, and on close.
A crash loses at most that last second of bookkeeping, which the next poll
writes again; an event or alert never waits in a group.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.errors import StorageError
from storage.migrations import MIGRATIONS, migrate

BUSY_TIMEOUT_MS = 30_000
FULL_BELOW = 2**20  # free bytes under which a write error is reported as a full disk


class Store:
    """One connection to the talentwatch database, used from one thread at a time."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.path = path
        self._group = False  # an open transaction of grouped bookkeeping, committed later

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate write transaction; rolled back on any exception."""
        if self._group:  # grouped bookkeeping first, so this transaction commits on its own, now
            self.commit_group()
        if self.conn.in_transaction:  # nested: join the outer one
            yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot start a write transaction: {explain(exc, self.path)}") from exc
        try:
            yield self.conn
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StorageError(f"cannot commit: {explain(exc, self.path)}") from exc

    @contextmanager
    def grouped(self) -> Iterator[bool]:
        """Writes that may wait for ``commit_group()``: they join the open group, or open one.

        Yields True when this call opened the group, so that the caller knows
        a commit is owed. A failed statement is undone by SQLite on its own and
        leaves the group open for the others; within a ``transaction()``
        the writes simply join it.
        """
        if self.conn.in_transaction:
            yield False
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot start a write transaction: {explain(exc, self.path)}") from exc
        self._group = True
        try:
            yield True
        finally:
            if not self.conn.in_transaction:  # SQLite gave up the transaction itself (full disk, I/O error)
                self._group = False

    def commit_group(self) -> None:
        """Make the grouped bookkeeping durable; nothing to do when no group is open."""
        if not self._group:
            return
        self._group = False
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StorageError(f"cannot commit: {explain(exc, self.path)}") from exc

    def _rollback(self) -> None:
        """Undo what is left: SQLite may already have rolled back by itself (a full disk, an I/O error),
        and a second error here must not hide the first."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"{explain(exc, self.path)} (in: {sql.split()[0]} ...)") from exc

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        try:
            return self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StorageError(f"{explain(exc, self.path)} (in: {sql.split()[0]} ...)") from exc

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        # Grouped bookkeeping is worth keeping but not worth failing a shutdown over: the next poll redoes it.
        with contextlib.suppress(StorageError):
            self.commit_group()
        self.conn.close()


def open_store(path: Path | str, *, migrate_schema: bool = True) -> Store:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
    target = Path(path)
    memory = str(path) == ":memory:"
    if not memory:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the folder for {target}: {exc}") from exc
    try:
        conn = sqlite3.connect(
            ":memory:" if memory else target,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not memory:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {target}: {explain(exc, None if memory else target)}") from exc
    store = Store(conn, None if memory else target)
    if migrate_schema:
        with store.transaction():
            migrate(store.db, MIGRATIONS)
    return store


def explain(exc: sqlite3.Error, path: Path | None) -> str:
    """SQLite's message, plus what it often means: SQLite says "disk I/O error" when the disk is full."""
    message = str(exc)
    if path is None:
        return message
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return message
    if free < FULL_BELOW:
        message += f"; the disk is full ({free // 1024} KiB free on {path.parent})"
    return message


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """Timestamps are stored as ISO 8601 UTC text, which sorts and compares as time."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
