"""talentwatch's configuration: the schema of ``talentwatch.toml``, its loader and its summary.

``config`` imports only ``monitor.records`` and ``monitor.errors`` from the
rest of talentwatch, so every other package can depend on it freely.
"""

from pathlib import Path

from config.durations import format_duration, parse_duration
from config.loader import key_path, load_config, parse_config
from config.schema import (
    AlertSettings,
    Channel,
    EmailChannel,
    FeedSettings,
    LabSettings,
    PollingSettings,
    Settings,
    StorageSettings,
    WebhookChannel,
)
from config.summary import config_warnings, summarize

DEFAULT_CONFIG = Path(__file__).with_name("talentwatch.toml")

__all__ = [
    "DEFAULT_CONFIG",
    "AlertSettings",
    "Channel",
    "EmailChannel",
    "FeedSettings",
    "LabSettings",
    "PollingSettings",
    "Settings",
    "StorageSettings",
    "WebhookChannel",
    "config_warnings",
    "format_duration",
    "key_path",
    "load_config",
    "parse_config",
    "parse_duration",
    "summarize",
]
