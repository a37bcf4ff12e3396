"""Where the database is, read from a config file that may be broken.

``status`` is most needed right after a bad edit, when the file no longer
loads; the daemon keeps running on its last good config, so ``status`` reads
what it can of the file to find the database the daemon writes to.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from config.schema import DEFAULT_DB_PATH

_STORAGE_PATH = re.compile(r"^\s*\[storage\][^\[]*?^\s*path\s*=\s*[\"']([^\"']+)[\"']", re.M | re.S)


def database_path_hint(config_path: Path) -> Path:
    """The database a config file names, tolerating a file that does not load."""
    raw: str | None = None
    try:
        text = config_path.read_text("utf-8", errors="replace")
    except OSError:
        text = ""
    try:
        storage = tomllib.loads(text).get("storage", {})
        if isinstance(storage, dict) and isinstance(storage.get("path"), str):
            raw = storage["path"]
    except tomllib.TOMLDecodeError:
        found = _STORAGE_PATH.search(text)
        raw = found.group(1) if found else None
    path = Path(raw).expanduser() if raw else DEFAULT_DB_PATH
    return path if path.is_absolute() else (config_path.parent / path).resolve()
