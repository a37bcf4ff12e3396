"""What ``status``, ``events`` and ``alerts list`` show: built from storage, printed as text, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from config.schema import LabSettings
from monitor.notify.render import event_body
from monitor.pipeline import utcnow
from monitor.rules import lab_matches, tracked_labs
from storage import entries as entries_db
from storage import events as events_db
from storage import feeds as feeds_db
from storage import outbox as outbox_db
from storage import state as state_db

if TYPE_CHECKING:
    from pathlib import Path

    from config.schema import Settings
    from monitor.errors import ConfigError
    from monitor.records import Event
    from storage import Store
    from storage.outbox import OutboxRow


def _when(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def status_report(store: Store, database: Path, problem: ConfigError | None = None) -> dict[str, Any]:
    """Everything ``status`` shows; ``problem`` is what is wrong with the config file now, if anything."""
    feeds = []
    for feed in feeds_db.list_feeds(store):
        row = asdict(feed)
        for key in ("last_polled", "next_poll", "added", "failing_since", "last_new_entry"):
            row[key] = _when(row[key])
        row.pop("body_hash", None)
        feeds.append(row)
    config = dict(state_db.get(store, "config", None) or {"ok": True, "note": "the daemon has not run yet"})
    if problem is not None:
        config |= {"ok": False, "path": problem.path, "errors": problem.problems}
    return {
        "config": config,
        "database": str(database),
        "daemon": state_db.get(store, "daemon"),
        "last_cycle": state_db.get(store, "last_cycle"),
        "feeds": feeds,
        "entries": entries_db.entry_count(store),
        "events": events_db.event_count(store),
        "outbox": outbox_db.counts(store),
        "dead_letters": [asdict(r) | {"created": _when(r.created), "next_attempt": None, "delivered": None}
                         for r in outbox_db.list_alerts(store, state="dead", limit=20)],
    }


def status_text(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [f"config:   {config.get('path')} — " + ("ok" if config.get("ok") else "NOT APPLIED, last good one runs")]
    for problem in config.get("errors") or []:
        lines.append(f"          {problem}")
    lines.append(f"database: {report['database']}")
    outbox = report["outbox"]
    lines.append(f"stored:   {report['entries']} entries, {report['events']} events")
    lines.append(f"alerts:   {outbox['pending']} pending, {outbox['delivered']} delivered, {outbox['dead']} dead")
    for dead in report["dead_letters"]:
        lines.append(f"          dead {dead['id']} on {dead['channel']}: {dead['last_error']}")
    lines.append(f"feeds:    {len(report['feeds'])}")
    for feed in report["feeds"]:
        health = "gone" if feed["gone"] else ("ok" if not feed["error_count"] else f"{feed['error_count']} errors")
        lines.append(
            f"  [{health}] {feed['name'] or feed['url']}\n"
            f"      {feed['url']}\n"
            f"      last poll {feed['last_polled'] or 'never'} (HTTP {feed['last_status'] or '-'}), "
            f"{feed['entry_count']} entries, next poll {feed['next_poll'] or 'soon'}"
            + (f"\n      last error: {feed['last_error']}" if feed["last_error"] else "")
        )
    return "\n".join(lines)


def select_events(
    store: Store, settings: Settings, *, lab: str | None, since: timedelta | None, limit: int | None
) -> list[Event]:
    from monitor.catalog import default_catalog

    events = events_db.list_events(store, since=utcnow() - since if since else None, limit=None if lab else limit)
    if lab:
        catalog = default_catalog()
        chosen = [c for c in settings.labs if lab.casefold() in (n.casefold() for n in (c.name, *c.aliases))]
        tracked = tracked_labs(chosen or [LabSettings(name=lab)], catalog)[0]
        events = [e for e in events if lab_matches(tracked, e.from_org, e.from_parent, catalog)
                  or lab_matches(tracked, e.to_org, e.to_parent, catalog)]
        events = events[:limit] if limit else events
    return events


def events_json(events: list[Event]) -> str:
    return json.dumps([event_body(e) for e in events], indent=2, ensure_ascii=False)


CSV_FIELDS = ("id", "first_seen", "person", "from_org", "from_parent", "to_org", "to_parent", "role", "status",
              "confidence", "sources", "urls")


def events_csv(events: list[Event]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for e in events:
        writer.writerow([e.id, _when(e.first_seen), e.person or "", e.from_org or "", e.from_parent or "",
                         e.to_org or "", e.to_parent or "", e.role or "", e.status, e.confidence, len(e.sources),
                         " ".join(s.url for s in e.sources if s.url)])
    return out.getvalue()


def events_text(events: list[Event]) -> str:
    if not events:
        return "no events"
    lines = []
    for e in events:
        lines.append(f"{_when(e.first_seen)}  {e.person or '(a group)'}: {e.from_org or '?'} -> {e.to_org or '?'}"
                     + (f"  [{e.role}]" if e.role else "")
                     + f"  {e.status}, {e.confidence:.2f}, {len(e.sources)} source(s)")
    return "\n".join(lines)


def alerts_text(rows: list[OutboxRow]) -> str:
    if not rows:
        return "no alerts"
    return "\n".join(
        f"{r.id}  {r.state:<9} {r.kind:<5} {r.lab} on {r.channel}, {r.attempts} tries"
        + (f", next {_when(r.next_attempt)}" if r.state == "pending" and r.next_attempt else "")
        + (f": {r.last_error}" if r.last_error else "")
        for r in rows
    )


