"""Logging as a daemon should: one line per notable thing, levels, text or JSON, no secrets.

Log lines never carry CR/LF or control characters from feed text, so one
event is always one line for journald and log shippers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{stamp} {record.levelname:<7} {_clean(record.getMessage())}"
        if record.exc_info:
            line += " | " + _clean(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _clean(record.getMessage()),
        }
        if record.exc_info:
            body["error"] = _clean(self.formatException(record.exc_info))
        return json.dumps(body, ensure_ascii=False)


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "jieba", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
