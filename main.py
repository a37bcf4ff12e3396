#!/usr/bin/env python3
"""talentwatch: watches news feeds for AI personnel moves and alerts when a tracked lab loses people.

This file only reads the command line; the work is done in ``monitor``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config" / "talentwatch.toml"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-format", default="text", choices=["text", "json"], help="json for log shippers")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the config file (TOML)")
        return sub

    with_config("run", "run the daemon until SIGTERM or SIGINT")
    with_config("once", "one full cycle: poll, classify, alert, deliver")

    check = commands.add_parser("check-config", help="validate a config file: exit 0, or 2 with every error")
    check.add_argument("path", type=Path)

    status = with_config("status", "feed health, config state and the alert backlog")
    status.add_argument("--json", action="store_true")

    events = with_config("events", "the moves found so far")
    events.add_argument("--lab", help="only moves from or to this lab (name or alias)")
    events.add_argument("--since", help="only events first seen within this long, e.g. 30d, 12h")
    events.add_argument("--limit", type=int, default=None)
    fmt = events.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")

    backup = with_config("backup", "write a consistent copy of the database while the daemon runs")
    backup.add_argument("path", type=Path, help="where to write the copy")

    reclassify = with_config("reclassify", "run the current engine again over stored entries")
    reclassify.add_argument("--since", help="only entries first seen within this long, e.g. 30d")

    classify = commands.add_parser("classify", help="classify articles: JSONL in, predictions JSONL out")
    classify.add_argument("--input", type=Path, required=True)
    classify.add_argument("--output", type=Path, required=True)
    classify.add_argument("--config", type=Path, default=None, help="not needed: the built-in catalog serves")
    classify.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                          help="progress bar on stderr (default: when stderr is a terminal)")

    feeds = with_config("feeds", "edit the feed list in the config file: add, remove, import or export OPML")
    feed_commands = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    add = feed_commands.add_parser("add", help="add a feed to the config file")
    add.add_argument("url")
    add.add_argument("--name", help="how the feed is shown in alerts and status")
    add.add_argument("--interval", help="its own polling interval, e.g. 5m")
    remove = feed_commands.add_parser("remove", help="remove a feed (by URL or name) from the config file")
    remove.add_argument("url")
    opml_in = feed_commands.add_parser("import", help="add every feed of an OPML file")
    opml_in.add_argument("file", type=Path)
    opml_out = feed_commands.add_parser("export", help="write the feeds as OPML")
    opml_out.add_argument("--output", type=Path, help="a file (default: standard output)")

    alerts = with_config("alerts", "alert outbox: list, retry dead letters, send a test alert")
    alert_commands = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    listing = alert_commands.add_parser("list", help="alerts in the outbox")
    listing.add_argument("--state", choices=["pending", "delivered", "dead"])
    listing.add_argument("--json", action="store_true")
    retry = alert_commands.add_parser("retry", help="queue a dead-lettered alert again")
    retry.add_argument("id")
    test = alert_commands.add_parser("test", help="send a clearly marked test alert to each channel")
    test.add_argument("--channel", help="only this channel (its name or key)")
    return parser


def _exit_quietly(signum: int, _frame: object) -> None:
    """SIGTERM before the daemon installs its own handler (during start-up) is still a clean stop."""
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_quietly)
    args = build_parser().parse_args(argv)
    from monitor import commands
    from monitor.logs import setup_logging

    setup_logging(args.log_level, args.log_format)
    return commands.dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
