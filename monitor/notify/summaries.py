"""Rendering the alerts that speak of several events, or of none: an exodus, a digest, a feed's health.

An exodus alert names the lab and every loss within the window; a digest
carries a period's alerts for one channel; a feed health alert names a feed
that keeps failing or has gone silent. Both reuse the single-alert
pieces of ``render`` (the same escaping, caps and templates), so what a
user reads in a digest is what the single alert would have said.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.notify import render
from monitor.notify.text import human_date, iso_z, one_line, safe_url, truncate
from monitor.records import Alert, Event, FeedHealth


def _person(event: Event) -> dict[str, Any]:
    sources = [render._source_view(s) for s in event.sources]
    return {
        "person": one_line(event.person, render.NAME_MAX) or "Staff",
        "from_org": one_line(event.from_org, render.NAME_MAX),
        "to_org": one_line(event.to_org, render.NAME_MAX),
        "role": one_line(event.role, render.NAME_MAX),
        "status": event.status,
        "confidence_pct": round(max(0.0, min(1.0, event.confidence)) * 100),
        "first_seen": human_date(event.first_seen),
        "sources": sources,
        "link": next((s for s in sources if s["url"]), None),
    }


def _exodus_events(alert: Alert) -> tuple[Event, ...]:
    return alert.related or (alert.event,)


def _feed_view(feed: FeedHealth) -> dict[str, Any]:
    url = safe_url(feed.url)
    return {
        "feed_name": one_line(feed.name, render.NAME_MAX) or one_line(feed.url, render.URL_MAX),
        "feed_url": url if url is not None and len(url) <= render.URL_MAX else None,
        "feed_address": one_line(feed.url, render.URL_MAX),
        "problem": feed.problem,
        "since": human_date(feed.since),
        "failures": feed.failures,
        "last_error": one_line(feed.last_error, render.EVIDENCE_MAX),
        "last_status": feed.last_status,
    }


def view(alert: Alert, *, templates: Path | None = None) -> dict[str, Any]:
    """What the templates see: the single-alert fields, plus ``people`` (exodus), ``items`` (digest)
    or the feed's figures (feed health)."""
    out = render._view(alert)
    if alert.feed is not None:
        out |= _feed_view(alert.feed)
        out["link"] = {"url": out["feed_url"]} if out["feed_url"] else None
    elif alert.kind == "exodus":
        events = _exodus_events(alert)
        out |= {
            "count": len(events),
            "since": human_date(min(e.first_seen for e in events)),
            "people": [_person(e) for e in events],
        }
    else:
        items = []
        for item in alert.items:
            one = view(item, templates=templates) if item.kind in render.SUMMARY_KINDS else render._view(item)
            one["headline"] = render.headline(item, templates=templates)
            one["link"] = one.get("link") or next((s for s in one["sources"] if s["url"]), None)
            items.append(one)
        out |= {"count": len(items), "items": items}
    out["headline"] = one_line(render._render("headline.txt.j2", out, templates), render.SUBJECT_MAX - 20)
    return out


# ── webhook "json" ───────────────────────────────────────────────────────────


def webhook_body(alert: Alert) -> dict[str, Any]:
    """``talent.exodus``: the lab and its losses; ``talent.digest``: each alert's own body, ids included."""
    common = {"type": f"talent.{alert.kind}", "id": alert.id, "lab": alert.lab, "channel": alert.channel,
              "created": iso_z(alert.created)}
    if alert.feed is not None:
        feed = alert.feed
        del common["lab"]
        return common | {"problem": feed.problem, "feed": {
            "url": feed.url, "name": feed.name, "since": iso_z(feed.since), "failures": feed.failures,
            "last_error": feed.last_error, "last_status": feed.last_status}}
    if alert.kind == "exodus":
        events = _exodus_events(alert)
        return common | {
            "count": len(events),
            "since": iso_z(min(e.first_seen for e in events)),
            "event": render.event_body(alert.event),
            "events": [render.event_body(e) for e in events],
        }
    return common | {"count": len(alert.items), "alerts": [render.webhook_body(item) for item in alert.items]}


# ── chat ─────────────────────────────────────────────────────────────────────


def _lines(view_: dict[str, Any], link: Any) -> list[str]:
    """One line per person (exodus) or per alert (digest), each linked to its first safe source."""
    lines = []
    if view_["kind"] == "feed_health":
        lines.append(link(view_["feed_address"], view_["link"]))
        if view_["last_error"]:
            lines.append(link(f"last error: {view_['last_error']}", None))
    elif view_["kind"] == "exodus":
        for p in view_["people"]:
            where = f" for {p['to_org']}" if p["to_org"] else ""
            role = f" ({p['role']})" if p["role"] else ""
            lines.append(link(f"{p['person']}{role}{where}", p["link"]))
    else:
        for item in view_["items"]:
            lines.append(link(item["headline"], item["link"]))
    return lines


def slack_body(alert: Alert, *, templates: Path | None = None) -> dict[str, Any]:
    v = view(alert, templates=templates)
    title = render._slack_escape(v["headline"])

    def link(text: str, source: dict[str, Any] | None) -> str:
        label = render._slack_escape(truncate(text, 200))
        return f"• <{render._slack_url(source['url'])}|{label}>" if source else f"• {label}"

    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": render._listing(_lines(v, link), render.SLACK_TEXT_MAX)}},
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": f"talentwatch · {render._slack_escape(v['alert_id'])}"}]},
    ]
    return {"text": title, "blocks": blocks, "unfurl_links": False}


def discord_body(alert: Alert, *, templates: Path | None = None) -> dict[str, Any]:
    v = view(alert, templates=templates)
    title = v["headline"]

    def link(text: str, source: dict[str, Any] | None) -> str:
        label = render._discord_escape(truncate(text, 200))
        return f"• [{label}]({render._discord_url(source['url'])})" if source else f"• {label}"

    embed = {
        "title": truncate(title, 256),
        "description": render._listing(_lines(v, link), render.DISCORD_DESCRIPTION_MAX),
        "color": render._COLOURS.get(alert.kind, 0x7F8C8D),
        "footer": {"text": truncate(f"talentwatch · {v['alert_id']}", 200)},
        "timestamp": iso_z(alert.created),
    }
    return {"content": truncate(render._discord_escape(title), 2000), "embeds": [embed],
            "allowed_mentions": {"parse": []}}
