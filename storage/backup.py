"""A consistent copy of the live database, taken while the daemon keeps writing.

SQLite's online backup API copies page by page and restarts if a writer
changes a page it has copied, so the copy is always a database as it was at
one moment; copying the file (and its WAL) by hand is not.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.errors import StorageError
from storage.db import Store


def backup(store: Store, target: Path) -> int:
    """Write a consistent copy to ``target`` (replaced if it exists); returns its size in bytes."""
    target = target.expanduser()
    if store.path is not None and target.resolve() == store.path.resolve():
        raise StorageError(f"refusing to back up {target} onto itself")
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        with sqlite3.connect(partial) as copy:
            store.conn.backup(copy, pages=1024)
            ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise StorageError(f"the copy failed its integrity check: {ok}")
        partial.replace(target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"cannot back up to {target}: {exc}") from exc
    return target.stat().st_size
