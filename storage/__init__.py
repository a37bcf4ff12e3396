"""SQLite storage: the schema, its migrations and every query talentwatch runs.

Nothing outside this package writes SQL. It imports only the shared records
and errors from ``monitor``.
"""

from storage.db import Store, open_store

__all__ = ["Store", "open_store"]
