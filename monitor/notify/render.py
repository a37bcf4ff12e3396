"""Turning an Alert into what each channel sends: pure, no I/O besides reading templates.

Every sender renders here and only transmits, so what a user receives can be
tested without a network and stays the same on every retry: nothing below
looks at the clock, and the Message-ID and webhook ``id`` derive from
``alert.id``. Article text is untrusted and goes through ``monitor.notify.text``
before it reaches a header, a link or a chat payload.
"""

from __future__ import annotations

import email.policy
import hashlib
from collections.abc import Callable
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from monitor.notify.text import human_date, iso_z, one_line, safe_url, truncate
from monitor.records import Alert, Event, Source

if TYPE_CHECKING:
    from config.schema import EmailChannel

TEMPLATES = Path(__file__).parent / "templates"

# Caps on untrusted fields: generous for real headlines, small enough that one
# runaway feed cannot produce a megabyte email or a payload Slack rejects.
SUBJECT_MAX = 200
NAME_MAX = 200
TITLE_MAX = 300
EVIDENCE_MAX = 1000
URL_MAX = 2000
# Wider than the default 78 so a subject is never folded as a whole onto a
# continuation line, which readers then show with a leading space; a capped
# subject always fits, and RFC 5322's hard limit is 998.
EMAIL_POLICY = email.policy.default.clone(max_line_length=250)

_KIND_LABELS = {"loss": "loss", "gain": "gain", "test": "test alert", "loss_confirmed": "loss, now confirmed",
                "gain_confirmed": "gain, now confirmed", "exodus": "exodus", "digest": "digest",
                "feed_health": "feed health"}
# Alerts about several events, or about a feed rather than an event, render in ``monitor.notify.summaries``.
SUMMARY_KINDS = frozenset({"exodus", "digest", "feed_health"})


# ── shared view of an alert ──────────────────────────────────────────────────


def _source_view(source: Source) -> dict[str, Any]:
    url = safe_url(source.url)
    if url is not None and len(url) > URL_MAX:
        url = None
    return {
        "title": one_line(source.title, TITLE_MAX),
        "url": url,
        # An unsafe address is still shown, as inert text, so readers can judge it.
        "link_text": "" if url else one_line(source.url, 200),
        "feed": one_line(source.feed, NAME_MAX),
        "published": human_date(source.published),
        "evidence": one_line(source.evidence, EVIDENCE_MAX),
    }


def _view(alert: Alert) -> dict[str, Any]:
    event = alert.event
    lab = one_line(alert.lab, NAME_MAX)
    headline_org = event.to_org if alert.kind in ("gain", "gain_confirmed") else event.from_org
    return {
        "alert_id": one_line(alert.id, 200),
        "kind": alert.kind,
        "kind_label": _KIND_LABELS.get(alert.kind, alert.kind),
        "lab": lab,
        "lab_named": bool(headline_org) and lab.casefold() in one_line(headline_org).casefold(),
        "person": one_line(event.person, NAME_MAX),
        "from_org": one_line(event.from_org, NAME_MAX),
        "to_org": one_line(event.to_org, NAME_MAX),
        "from_parent": one_line(event.from_parent, NAME_MAX),
        "to_parent": one_line(event.to_parent, NAME_MAX),
        "role": one_line(event.role, NAME_MAX),
        "status": event.status,
        "confidence_pct": round(max(0.0, min(1.0, event.confidence)) * 100),
        "first_seen": human_date(event.first_seen),
        "sources": [_source_view(s) for s in event.sources],
    }


@lru_cache(maxsize=8)
def _environment(templates: Path | None) -> jinja2.Environment:
    """A user's template folder, when given, overrides the shipped defaults file by file."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(TEMPLATES)]
    if templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(templates))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, view: dict[str, Any], templates: Path | None) -> str:
    return _environment(templates).get_template(name).render(view)


def headline(alert: Alert, *, templates: Path | None = None) -> str:
    """One line naming who moved and the tracked lab: "Yan Zhijie left Alibaba Tongyi Lab for …"."""
    if alert.kind in SUMMARY_KINDS:
        from monitor.notify import summaries

        return str(summaries.view(alert, templates=templates)["headline"])
    return one_line(_render("headline.txt.j2", _view(alert), templates), SUBJECT_MAX - 20)


def subject(alert: Alert, *, templates: Path | None = None) -> str:
    """The email subject: always one line, never longer than ``SUBJECT_MAX``."""
    if alert.kind in SUMMARY_KINDS:
        from monitor.notify import summaries

        view = summaries.view(alert, templates=templates)
    else:
        view = _view(alert)
        view["headline"] = headline(alert, templates=templates)
    return one_line(_render("subject.txt.j2", view, templates), SUBJECT_MAX)


# ── webhook "json" ───────────────────────────────────────────────────────────


def event_body(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "person": event.person,
        "person_aliases": list(event.person_aliases),
        "from_org": event.from_org,
        "to_org": event.to_org,
        "from_parent": event.from_parent,
        "to_parent": event.to_parent,
        "role": event.role,
        "confidence": event.confidence,
        "status": event.status,
        "first_seen": iso_z(event.first_seen),
        "sources": [
            {
                "url": s.url,
                "title": s.title,
                "feed": s.feed,
                "published": iso_z(s.published),
                "evidence": s.evidence,
            }
            for s in event.sources
        ],
    }


def webhook_body(alert: Alert, *, templates: Path | None = None) -> dict[str, Any]:
    """The contract body of DESIGN.md ("Webhook request"), with a few added fields.

    Values go out as stored: JSON escaping makes them safe to carry, and a
    receiver doing its own processing wants the original text, not ours.
    """
    if alert.kind in SUMMARY_KINDS:
        from monitor.notify import summaries

        return summaries.webhook_body(alert)
    return {
        "type": f"talent.{alert.kind}",
        "id": alert.id,
        "lab": alert.lab,
        "channel": alert.channel,
        "created": iso_z(alert.created),
        "event": event_body(alert.event),
    }


# ── Slack ────────────────────────────────────────────────────────────────────

SLACK_TEXT_MAX = 3000  # a section block's text; the top-level text allows more, notifications show less


def _slack_escape(text: str) -> str:
    """Slack's three control characters; escaping them also stops forged <!channel> pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def _listing(lines: list[str], limit: int) -> str:
    """Join source lines until ``limit``, then say how many were left out."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        more = f"…and {len(lines) - i} more"
        if used + len(line) + 1 > limit - len(more) - 1:
            out.append(more)
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def _chat_title(alert: Alert, templates: Path | None) -> str:
    title = headline(alert, templates=templates)
    return f"[test] {title}" if alert.kind == "test" else title


def _chat_sources(
    view: dict[str, Any], escape: Callable[[str], str], link_to: Callable[[str, str], str]
) -> list[str]:
    """One bullet per source for a chat service: linked title, feed and date, the evidence quoted."""
    lines = []
    for s in view["sources"]:
        label = escape(truncate(s["title"] or "(untitled)", 150))
        link = link_to(label, s["url"]) if s["url"] else label
        meta = ", ".join(x for x in (s["feed"], s["published"]) if x)
        evidence = f"\n> {escape(truncate(s['evidence'], 300))}" if s["evidence"] else ""
        lines.append(f"• {link}{f' ({escape(meta)})' if meta else ''}{evidence}")
    return lines


def slack_body(alert: Alert, *, templates: Path | None = None) -> dict[str, Any]:
    """A Slack incoming-webhook message: plain ``text`` for notifications, blocks for the channel."""
    if alert.kind in SUMMARY_KINDS:
        from monitor.notify import summaries

        return summaries.slack_body(alert, templates=templates)
    view = _view(alert)
    title = _chat_title(alert, templates)
    lines = _chat_sources(view, _slack_escape, lambda label, url: f"<{_slack_url(url)}|{label}>")
    fields = [
        ("Lab", view["lab"]),
        ("Role", view["role"] or "not stated"),
        ("Status", f"{view['status']}, confidence {view['confidence_pct']}%"),
        ("First seen", view["first_seen"]),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack_escape(title)}*"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{_slack_escape(truncate(value, 1900))}"}
                for name, value in fields
            ],
        },
    ]
    if lines:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _listing(lines, SLACK_TEXT_MAX)}}
        )
    footer = {"type": "mrkdwn", "text": f"talentwatch · {_slack_escape(view['alert_id'])}"}
    blocks.append({"type": "context", "elements": [footer]})
    return {"text": _slack_escape(title), "blocks": blocks, "unfurl_links": False}


# ── Discord ──────────────────────────────────────────────────────────────────

_DISCORD_SPECIAL = "\\*_~`|>[]()<"
_COLOURS = {"loss": 0xC0392B, "gain": 0x27AE60, "test": 0x7F8C8D, "loss_confirmed": 0xC0392B,
            "gain_confirmed": 0x27AE60, "exodus": 0x8E1B10, "digest": 0x2C3E50, "feed_health": 0xE67E22}
DISCORD_DESCRIPTION_MAX = 3500  # of 4096; keeps the embed's total under Discord's 6000


def _discord_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _DISCORD_SPECIAL else ch for ch in text)


def _discord_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def discord_body(alert: Alert, *, templates: Path | None = None) -> dict[str, Any]:
    """A Discord webhook message: short ``content`` and one embed, with mentions disabled.

    ``allowed_mentions`` is empty so an article saying "@everyone" pings nobody.
    """
    if alert.kind in SUMMARY_KINDS:
        from monitor.notify import summaries

        return summaries.discord_body(alert, templates=templates)
    view = _view(alert)
    title = _chat_title(alert, templates)
    lines = _chat_sources(view, _discord_escape, lambda label, url: f"[{label}]({_discord_url(url)})")
    fields = [
        ("Lab", view["lab"]),
        ("From", view["from_org"] or "not stated"),
        ("To", view["to_org"] or "not stated"),
        ("Role", view["role"] or "not stated"),
        ("Status", f"{view['status']}, confidence {view['confidence_pct']}%"),
    ]
    embed: dict[str, Any] = {
        "title": truncate(title, 256),
        "description": _listing(lines, DISCORD_DESCRIPTION_MAX),
        "color": _COLOURS.get(alert.kind, 0x7F8C8D),
        "fields": [{"name": name, "value": truncate(value, 200), "inline": True} for name, value in fields],
        "footer": {"text": truncate(f"talentwatch · {view['alert_id']}", 200)},
    }
    first_url = next((s["url"] for s in view["sources"] if s["url"]), None)
    if first_url:
        embed["url"] = first_url
    embed["timestamp"] = iso_z(alert.event.first_seen)
    return {
        "content": truncate(_discord_escape(title), 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


# ── email ────────────────────────────────────────────────────────────────────


def message_id(alert: Alert, domain: str = "talentwatch.invalid") -> str:
    """A Message-ID that is the same for every retry of one alert, so mail systems drop repeats."""
    digest = hashlib.sha256(alert.id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"<alert.{digest}@{domain}>"


def _domain_of(sender: str) -> str:
    """The sender's domain, when it is a plain one, names our Message-IDs as RFC 5322 asks."""
    domain = parseaddr(one_line(sender))[1].rpartition("@")[2]
    ok = domain and all(ch.isascii() and (ch.isalnum() or ch in ".-") for ch in domain)
    return domain.lower() if ok else "talentwatch.invalid"


def email_message(alert: Alert, channel: EmailChannel, *, templates: Path | None = None) -> EmailMessage:
    """A complete multipart/alternative message (text and HTML) ready for smtplib.

    ``Date`` is the alert's creation time, not the sending time, so the
    message is the same bytes on every retry.
    """
    if alert.kind in SUMMARY_KINDS:
        from monitor.notify import summaries

        view = summaries.view(alert, templates=templates)
        return _email(alert, channel, view, templates, f"email_{alert.kind}")
    view = _view(alert)
    view["headline"] = headline(alert, templates=templates)
    return _email(alert, channel, view, templates, "email")


def _email(alert: Alert, channel: EmailChannel, view: dict[str, Any], templates: Path | None,
           stem: str) -> EmailMessage:
    """The message around a rendered view: headers from the alert, parts from ``{stem}.txt.j2``/``.html.j2``."""
    msg = EmailMessage(policy=EMAIL_POLICY)
    msg["Subject"] = one_line(_render("subject.txt.j2", view, templates), SUBJECT_MAX)
    msg["From"] = one_line(channel.sender)
    msg["To"] = ", ".join(one_line(addr) for addr in channel.to)
    created = alert.created if alert.created.tzinfo else alert.created.replace(tzinfo=UTC)
    msg["Date"] = format_datetime(created)
    msg["Message-ID"] = message_id(alert, _domain_of(channel.sender))
    msg["X-Talentwatch-Alert"] = one_line(alert.id, 200)
    msg["X-Talentwatch-Kind"] = alert.kind
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_render(f"{stem}.txt.j2", view, templates))
    msg.add_alternative(_render(f"{stem}.html.j2", view, templates), subtype="html")
    return msg

