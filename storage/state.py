"""Small facts the daemon leaves for `status`: the config in force, its last error, the last cycle."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Store, iso


def put(store: Store, key: str, value: Any, now: datetime) -> None:
    store.execute(
        "INSERT INTO state (key, value, updated) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        (key, json.dumps(value, ensure_ascii=False), iso(now)),
    )


def get(store: Store, key: str, default: Any = None) -> Any:
    row = store.one("SELECT value FROM state WHERE key = ?", (key,))
    return json.loads(str(row["value"])) if row else default


def all_state(store: Store) -> dict[str, Any]:
    return {str(r["key"]): json.loads(str(r["value"])) for r in store.rows("SELECT key, value FROM state")}
