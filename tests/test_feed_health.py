"""Feed health alerts: a feed failing poll after poll, or silent for long, alerts once per spell.

The polling tests run the real pipeline (``poll_feed``) against a FeedServer
on 127.0.0.1, a real SQLite file and a real webhook receiver, with an
injected clock; rendering is checked for every channel format.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from config.schema import EmailChannel, FeedHealthSettings, Settings
from config.summary import summarize
from monitor import feedhealth
from monitor.notify.render import discord_body, email_message, headline, slack_body, subject, webhook_body
from monitor.pipeline import poll_feed, sync_feeds
from monitor.records import Alert, Event, FeedHealth
from storage import outbox as outbox_db
from tests.support.alerts import Clock, harness, run
from tests.support.feed_server import FeedServer, Reply
from tests.support.receivers import WebhookReceiver

SINCE = datetime(2025, 8, 1, 6, 0, tzinfo=UTC)
RSS = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Lab news</title><link>http://example.com/</link>'
       "<description>d</description>{items}</channel></rss>")
ITEM = "<item><title>Week {n}</title><guid>week-{n}</guid><description>Nothing about people.</description></item>"


def rss(*weeks: int) -> bytes:
    return RSS.format(items="".join(ITEM.format(n=n) for n in weeks)).encode()


def settings_with(tmp_path: Path, url: str, receiver: WebhookReceiver, health: dict[str, Any] | None) -> Settings:
    alerts: dict[str, Any] = {"webhook": [{"name": "ops", "url": receiver.url}]}
    if health is not None:
        alerts["feed_health"] = health
    return Settings.model_validate({
        "storage": {"path": str(tmp_path / "tw.db")},
        "polling": {"interval": "1m", "allow_private": ["127.0.0.1"]},
        "feeds": [{"url": url, "name": "Lab news"}],
        "alerts": alerts,
    })


def feed_alerts(store: Any) -> list[outbox_db.OutboxRow]:
    return [row for row in outbox_db.list_alerts(store) if row.kind == "feed_health"]


# ── the rules, pure ──────────────────────────────────────────────────────────


def failing(failures: int, since: datetime = SINCE) -> FeedHealth:
    return FeedHealth("https://example.com/a.xml", "A", "failing", since, failures=failures, last_error="HTTP 500")


def test_failing_alerts_from_the_nth_failure_on_with_one_key_per_streak() -> None:
    settings = FeedHealthSettings(failures=3)
    assert feedhealth.failing(1, failing(2), settings, ["ops"]) == []
    [third] = feedhealth.failing(1, failing(3), settings, ["ops"])
    [fourth] = feedhealth.failing(1, failing(4), settings, ["ops"])
    assert third.id == fourth.id, "the same streak keeps its key, so the outbox queues it once"
    [later] = feedhealth.failing(1, failing(3, SINCE + timedelta(days=2)), settings, ["ops"])
    assert later.id != third.id, "a new streak is a new alert"
    assert len(feedhealth.failing(1, failing(3), settings, ["ops", "mail"])) == 2


def test_checks_are_off_without_the_section_or_when_set_off() -> None:
    assert feedhealth.failing(1, failing(50), None, ["ops"]) == []
    assert feedhealth.failing(1, failing(50), FeedHealthSettings(failures=0), ["ops"]) == []
    quiet = FeedHealth("https://example.com/a.xml", None, "silent", SINCE)
    later = SINCE + timedelta(days=30)
    assert feedhealth.silent(1, quiet, FeedHealthSettings.model_validate({"silent": "off"}), ["ops"], later) == []
    assert feedhealth.silent(1, quiet, FeedHealthSettings(), ["ops"], SINCE + timedelta(days=13)) == []
    assert len(feedhealth.silent(1, quiet, FeedHealthSettings(), ["ops"], SINCE + timedelta(days=14))) == 1


def test_config_keys_validate_and_show_in_the_summary(tmp_path: Path) -> None:
    settings = Settings.model_validate({"storage": {"path": str(tmp_path / "x.db")},
                                        "alerts": {"feed_health": {"failures": 5, "silent": "3d"}}})
    assert settings.alerts.feed_health == FeedHealthSettings(failures=5, silent=3 * 86400.0)
    assert "feed health alert after 5 failed polls in a row or 3d without new entries" in summarize(settings)
    assert Settings.model_validate({}).alerts.feed_health is None, "off by default"
    with pytest.raises(ValidationError):
        FeedHealthSettings.model_validate({"failures": -1})
    with pytest.raises(ValidationError):
        FeedHealthSettings.model_validate({"silent": "soon"})


# ── polling a real server ────────────────────────────────────────────────────


def test_a_feed_answering_500_raises_one_alert_after_n_polls_and_again_after_recovering(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    url = feed_server.script("/broken.xml", [Reply(500, b"oops")])
    settings = settings_with(tmp_path, url, webhook_receiver, {"failures": 3})

    async def scenario() -> None:
        async with harness(settings) as h:
            await h.rt.run(sync_feeds, h.rt)
            for _ in range(2):
                assert (await poll_feed(h.rt, url)).error
            assert feed_alerts(h.rt.store) == []
            for _ in range(3):
                await poll_feed(h.rt, url)
                h.clock.advance(minutes=5)
            [row] = feed_alerts(h.rt.store)
            assert (row.lab, row.channel, row.state) == ("Lab news", "ops", "pending")
            assert (await h.deliver()).delivered == 1
            assert (await h.deliver()).delivered == 0

            # The feed recovers, then fails again: a new streak, a new alert.
            feed_server.serve("/broken.xml", rss(1))
            assert (await poll_feed(h.rt, url)).error is None
            feed_server.script("/broken.xml", [Reply(503)])
            h.clock.advance(hours=1)
            for _ in range(3):
                await poll_feed(h.rt, url)
            assert len(feed_alerts(h.rt.store)) == 2
            assert (await h.deliver()).delivered == 1

    run(scenario())
    bodies = [r.json for r in webhook_receiver.requests]
    assert [b["type"] for b in bodies] == ["talent.feed_health", "talent.feed_health"]
    first, second = bodies
    assert first["problem"] == "failing"
    assert first["feed"]["url"] == url and first["feed"]["name"] == "Lab news"
    assert first["feed"]["failures"] == 3 and first["feed"]["last_status"] == 500
    assert second["feed"]["last_status"] == 503 and second["id"] != first["id"]


def test_without_the_section_a_failing_feed_alerts_nothing(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    url = feed_server.script("/broken.xml", [Reply(500)])
    settings = settings_with(tmp_path, url, webhook_receiver, None)

    async def scenario() -> None:
        async with harness(settings) as h:
            await h.rt.run(sync_feeds, h.rt)
            for _ in range(12):
                await poll_feed(h.rt, url)
            assert feed_alerts(h.rt.store) == []

    run(scenario())


def test_a_silent_feed_alerts_once_per_silence(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    url = feed_server.serve("/quiet.xml", rss(1, 2))
    settings = settings_with(tmp_path, url, webhook_receiver, {"failures": 0, "silent": "14d"})

    async def scenario() -> None:
        async with harness(settings, Clock()) as h:
            await h.rt.run(sync_feeds, h.rt)
            assert (await poll_feed(h.rt, url)).new_entries == 2
            h.clock.advance(days=13)
            assert (await poll_feed(h.rt, url)).status == 304
            assert feed_alerts(h.rt.store) == []
            h.clock.advance(days=2)
            await poll_feed(h.rt, url)
            await poll_feed(h.rt, url)
            [row] = feed_alerts(h.rt.store)
            detail = json.loads(row.detail or "{}")
            assert detail["problem"] == "silent"

            # New entries end the silence; a later one alerts again.
            feed_server.serve("/quiet.xml", rss(1, 2, 3))
            assert (await poll_feed(h.rt, url)).new_entries == 1
            assert len(feed_alerts(h.rt.store)) == 1
            h.clock.advance(days=15)
            await poll_feed(h.rt, url)
            assert len(feed_alerts(h.rt.store)) == 2
            assert (await h.deliver()).delivered == 2

    run(scenario())
    bodies = [r.json for r in webhook_receiver.requests]
    assert {b["type"] for b in bodies} == {"talent.feed_health"}
    assert {b["problem"] for b in bodies} == {"silent"}


# ── rendering ────────────────────────────────────────────────────────────────

CHANNEL = EmailChannel.model_validate({"to": ["ops@example.com"], "from": "tw@example.com", "host": "127.0.0.1"})


def health_alert(problem: str = "failing", url: str = "https://news.example.com/ai.xml",
                 name: str | None = "AI <news>") -> Alert:
    feed = FeedHealth(url, name, problem, SINCE, failures=10 if problem == "failing" else 0,  # type: ignore[arg-type]
                      last_error="HTTP 500 Internal Server Error" if problem == "failing" else None,
                      last_status=500 if problem == "failing" else 304)
    stand_in = Event(0, None, None, None, None, 0.0, "reported", SINCE)
    return Alert("msg_feedhealth", "feed_health", name or url, "ops", stand_in, SINCE + timedelta(days=1),
                 feed=feed)


def parts(alert: Alert) -> tuple[EmailMessage, str, str]:
    msg = email_message(alert, CHANNEL)
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and html is not None
    return parsed, text.get_content(), html.get_content()


def test_a_failing_feed_reads_well_in_every_format() -> None:
    alert = health_alert()
    assert headline(alert) == "Feed failing: AI <news> (10 polls in a row)"
    assert subject(alert) == "talentwatch feed health: Feed failing: AI <news> (10 polls in a row)"
    msg, text, html = parts(alert)
    assert msg["X-Talentwatch-Kind"] == "feed_health"
    assert "has failed 10 polls in a row, since 2025-08-01 06:00 UTC" in text
    assert "HTTP 500 Internal Server Error" in text and "https://news.example.com/ai.xml" in text
    assert "AI &lt;news&gt;" in html and "<news>" not in html
    assert '<a href="https://news.example.com/ai.xml">' in html
    body = webhook_body(alert)
    assert body["type"] == "talent.feed_health" and body["problem"] == "failing"
    assert body["feed"] == {"url": "https://news.example.com/ai.xml", "name": "AI <news>",
                            "since": "2025-08-01T06:00:00Z", "failures": 10,
                            "last_error": "HTTP 500 Internal Server Error", "last_status": 500}
    slack = json.dumps(slack_body(alert))
    assert "Feed failing: AI &lt;news&gt;" in slack and "<https://news.example.com/ai.xml|" in slack
    discord = discord_body(alert)
    assert discord["embeds"][0]["title"].startswith("Feed failing")
    assert "(https://news.example.com/ai.xml)" in discord["embeds"][0]["description"]


def test_a_silent_feed_and_a_hostile_address_render_safely() -> None:
    alert = health_alert("silent", url="javascript:alert(1)", name=None)
    assert headline(alert) == "Feed silent: javascript:alert(1), no new entries since 2025-08-01 06:00 UTC"
    _, text, html = parts(alert)
    assert "no new entries since 2025-08-01 06:00 UTC" in text
    assert 'href="javascript' not in html
    assert "<javascript:" not in json.dumps(slack_body(alert)), "shown as text, never linked"
    assert "](javascript:" not in json.dumps(discord_body(alert))


def test_a_digest_can_carry_a_feed_health_alert() -> None:
    item = health_alert()
    digest = Alert("msg_digest", "digest", item.lab, "ops", item.event, item.created, items=(item,))
    _, text, _ = parts(digest)
    assert "Feed failing: AI <news> (10 polls in a row)" in text
    body = webhook_body(digest)
    assert body["alerts"][0]["type"] == "talent.feed_health"
