"""What each command of ``main.py`` does; printing lives here and in ``report``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import ConfigError, TalentwatchError

if TYPE_CHECKING:
    from config.schema import Settings

log = logging.getLogger("talentwatch")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def dispatch(args: argparse.Namespace) -> int:
    handler = {
        "run": cmd_run,
        "once": cmd_once,
        "check-config": cmd_check_config,
        "status": cmd_status,
        "events": cmd_events,
        "classify": cmd_classify,
        "reclassify": cmd_reclassify,
        "backup": cmd_backup,
        "alerts": cmd_alerts,
        "feeds": cmd_feeds,
    }[args.command]
    try:
        return handler(args)
    except ConfigError as exc:
        _print_config_error(exc)
        return EXIT_CONFIG
    except TalentwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_OK


def _print_config_error(exc: ConfigError) -> None:
    print(f"{exc.path}: {len(exc.problems)} problem(s):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {exc.path}: {problem}", file=sys.stderr)


def _settings(path: Path) -> Settings:
    from config.loader import load_config

    return load_config(path)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args.config)  # a bad file fails fast, before anything starts
    from monitor.daemon import Daemon

    return asyncio.run(Daemon(args.config.resolve(), settings).run())


def cmd_once(args: argparse.Namespace) -> int:
    settings = _settings(args.config)
    from monitor.daemon import run_once

    report = asyncio.run(run_once(settings))
    log.info(
        "cycle done: %(feeds)d feeds (%(errors)d with errors), %(new_entries)d new entries, %(events)d events, "
        "%(alerts_queued)d alerts queued, %(delivered)d delivered, %(retrying)d to retry, %(dead)d dead",
        report,
    )
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    from config.summary import config_warnings, summarize

    settings = _settings(args.path)
    print(summarize(settings))
    for warning in config_warnings(settings):
        print(f"warning: {warning}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Status must work when the file was just broken by an edit: that is when it is needed most."""
    from config.hints import database_path_hint
    from monitor.report import status_report, status_text
    from storage import open_store

    problem: ConfigError | None = None
    try:
        database = _settings(args.config).storage.path
    except ConfigError as exc:
        problem = exc
        database = database_path_hint(args.config)
    if not database.exists():
        if problem is not None:
            raise problem
        print(f"no database yet at {database}: the daemon has not run", file=sys.stderr)
        return EXIT_FAILED
    store = open_store(database)
    try:
        report = status_report(store, database, problem)
    finally:
        store.close()
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else status_text(report))
    return EXIT_OK if problem is None else EXIT_CONFIG


def cmd_events(args: argparse.Namespace) -> int:
    from config.durations import parse_duration
    from monitor.report import events_csv, events_json, events_text, select_events
    from storage import open_store

    settings = _settings(args.config)
    since = None
    if args.since:
        try:
            since = timedelta(seconds=parse_duration(args.since))
        except ValueError as exc:
            print(f"error: --since: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    store = open_store(settings.storage.path)
    try:
        events = select_events(store, settings, lab=args.lab, since=since, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print(events_json(events))
    elif args.csv:
        sys.stdout.write(events_csv(events))
    else:
        print(events_text(events))
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    from storage import open_store
    from storage.backup import backup

    settings = _settings(args.config)
    store = open_store(settings.storage.path)
    try:
        size = backup(store, args.path)
    finally:
        store.close()
    print(f"backed up {settings.storage.path} to {args.path} ({size / 1024:.0f} KiB)")
    return EXIT_OK


def cmd_reclassify(args: argparse.Namespace) -> int:
    from config.durations import parse_duration
    from monitor.pipeline import utcnow
    from monitor.reclassify import reclassify

    settings = _settings(args.config)
    since = utcnow() - timedelta(seconds=parse_duration(args.since)) if args.since else None
    report = asyncio.run(reclassify(settings, since))
    print(f"reclassified {report.entries} entries: events {report.events_before} -> {report.events_after}, "
          f"{report.alerts_queued} new alerts queued")
    return EXIT_OK


def cmd_classify(args: argparse.Namespace) -> int:
    from monitor.classify.jsonl import classify_file

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    count = classify_file(args.input, args.output, progress=progress)
    log.info("classified %d articles into %s", count, args.output)
    return EXIT_OK

def cmd_alerts(args: argparse.Namespace) -> int:
    from monitor.report import alerts_text
    from storage import open_store
    from storage import outbox as outbox_db

    settings = _settings(args.config)
    if args.alerts_command == "test":
        from monitor.alert_test import send_test_alerts

        results = asyncio.run(send_test_alerts(settings, only=args.channel))
        if not results:
            print("no channel configured" if not args.channel else f"no channel named {args.channel!r}")
            return EXIT_FAILED
        for key, error in results.items():
            print(f"{key}: {'ok' if error is None else 'FAILED: ' + error}")
        return EXIT_OK if all(e is None for e in results.values()) else EXIT_FAILED

    store = open_store(settings.storage.path)
    try:
        if args.alerts_command == "retry":
            from monitor.pipeline import utcnow

            if outbox_db.requeue(store, args.id, utcnow()):
                print(f"{args.id}: queued again")
                return EXIT_OK
            print(f"{args.id}: no dead-lettered alert with that id", file=sys.stderr)
            return EXIT_FAILED
        rows = outbox_db.list_alerts(store, state=args.state)
        if args.json:
            print(json.dumps([_alert_json(r) for r in rows], indent=2, ensure_ascii=False))
        else:
            print(alerts_text(rows))
        return EXIT_OK
    finally:
        store.close()

def _alert_json(row: object) -> dict[str, object]:
    from dataclasses import asdict

    out = asdict(row)  # type: ignore[call-overload]
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in out.items()}

def cmd_feeds(args: argparse.Namespace) -> int:
    """Edit the feed list in the config file; the running daemon applies the edit like any other."""
    from monitor import feedlist

    path: Path = args.config
    if args.feeds_command == "export":
        data = feedlist.export_opml(_settings(path))
        if args.output is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            args.output.write_bytes(data)
            print(f"wrote {data.count(b'<outline ')} feeds to {args.output}", file=sys.stderr)
        return EXIT_OK
    if args.feeds_command == "add":
        change = feedlist.add_feeds(path, [feedlist.NewFeed(args.url, args.name, args.interval)])
    elif args.feeds_command == "remove":
        change = feedlist.remove_feed(path, args.url)
    else:
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            print(f"error: {args.file}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAILED
        change = feedlist.import_opml(path, data)
    for url in change.added:
        print(f"added: {url}")
    for url in change.removed:
        print(f"removed: {url}")
    for url, reason in change.skipped:
        print(f"skipped: {url}: {reason}", file=sys.stderr)
    if args.feeds_command == "import":
        print(f"{len(change.added)} feeds added, {len(change.skipped)} skipped, to {path}")
        return EXIT_OK
    if change.added or change.removed:
        return EXIT_OK
    reason = change.skipped[0][1] if change.skipped else ""
    if reason == "already in the config":
        return EXIT_OK
    return EXIT_FAILED if reason == "not in the config" else EXIT_CONFIG
