"""``alerts test``, ``alerts list`` and ``alerts retry`` as users run them: subprocesses, real receivers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.conftest import RunCli
from tests.support.feed_server import FeedServer
from tests.support.receivers import SmtpReceiver, WebhookReceiver, closed_port


def departures_feed(*people: str, when: datetime | None = None) -> bytes:
    """An RSS feed with one clear departure from OpenAI per person."""
    published = format_datetime(when or datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    items = "".join(
        f"<item><title>{p} leaves OpenAI for Anthropic</title><link>http://example.com/news/{i}</link>"
        f"<guid>news-{i}</guid><pubDate>{published}</pubDate>"
        f"<description>{p}, a researcher at OpenAI, has left the company to join Anthropic.</description></item>"
        for i, p in enumerate(people)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>AI moves</title>'
            f"<link>http://example.com/</link><description>d</description>{items}</channel></rss>").encode()


def write_config(tmp_path: Path, *, feed: str | None = None, hook_url: str | None = None,
                 smtp_port: int | None = None, hook_extra: str = "", polling: str = "1m") -> Path:
    parts = [f'[storage]\npath = "tw.db"\n\n[polling]\ninterval = "{polling}"\nallow_private = ["127.0.0.1"]\n']
    if feed:
        parts.append(f'[[feeds]]\nurl = "{feed}"\nname = "AI moves"\n')
    parts.append('[[labs]]\nname = "OpenAI"\n\n[alerts]\nmin_confidence = 0.5\n')
    if smtp_port:
        parts.append(f'[[alerts.email]]\nname = "mail"\nto = ["analyst@example.com"]\nfrom = "tw@example.com"\n'
                     f'host = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\ntimeout = "5s"\n')
    if hook_url:
        parts.append(f'[[alerts.webhook]]\nname = "hook"\nurl = "{hook_url}"\ntimeout = "5s"\n{hook_extra}\n')
    config = tmp_path / "talentwatch.toml"
    config.write_text("\n".join(parts), "utf-8")
    return config


def test_alerts_test_sends_a_marked_alert_to_each_channel_and_reports_each_result(
    tmp_path: Path, run_cli: RunCli, smtp_receiver: SmtpReceiver, webhook_receiver: WebhookReceiver
) -> None:
    config = write_config(tmp_path, hook_url=webhook_receiver.url, smtp_port=smtp_receiver.port)
    result = run_cli("alerts", "--config", str(config), "test")
    assert result.returncode == 0, result.stderr
    assert "mail: ok" in result.stdout and "hook: ok" in result.stdout
    [request] = webhook_receiver.requests
    assert request.json["type"] == "talent.test"
    [mail] = smtp_receiver.received.snapshot()
    assert str(mail.message["Subject"]).startswith("talentwatch test:")

    only = run_cli("alerts", "--config", str(config), "test", "--channel", "hook")
    assert only.returncode == 0 and "mail" not in only.stdout
    assert len(webhook_receiver.requests) == 2 and len(smtp_receiver.received.snapshot()) == 1


def test_alerts_test_reports_a_channel_that_is_down_and_exits_1(
    tmp_path: Path, run_cli: RunCli, webhook_receiver: WebhookReceiver
) -> None:
    config = write_config(tmp_path, hook_url=webhook_receiver.url, smtp_port=closed_port())
    result = run_cli("alerts", "--config", str(config), "test")
    assert result.returncode == 1
    assert "hook: ok" in result.stdout
    assert "mail: FAILED: email mail: connection refused" in result.stdout
    missing = run_cli("alerts", "--config", str(config), "test", "--channel", "nowhere")
    assert missing.returncode == 1 and "no channel named 'nowhere'" in missing.stdout


def test_alerts_list_by_state_and_retry_of_a_dead_letter(
    tmp_path: Path, run_cli: RunCli, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    feed = feed_server.serve("/moves.xml", departures_feed("Alice Martin"))
    config = write_config(tmp_path, feed=feed, hook_url=webhook_receiver.url)
    webhook_receiver.script(404, then=200)  # the receiver was not ready: a permanent refusal

    run_cli("once", "--config", str(config), check=True)
    dead = run_cli("alerts", "--config", str(config), "list", "--state", "dead", check=True).stdout
    assert "dead" in dead and "loss" in dead and "HTTP 404" in dead
    alert_id = dead.split()[0]
    assert run_cli("alerts", "--config", str(config), "list", "--state", "pending", check=True).stdout.strip() \
        == "no alerts"
    status = json.loads(run_cli("status", "--config", str(config), "--json", check=True).stdout)
    assert status["outbox"]["dead"] == 1 and status["dead_letters"][0]["id"] == alert_id

    retried = run_cli("alerts", "--config", str(config), "retry", alert_id)
    assert retried.returncode == 0 and "queued again" in retried.stdout
    again = run_cli("alerts", "--config", str(config), "retry", alert_id)
    assert again.returncode == 1, "only a dead letter can be queued again"
    pending = json.loads(run_cli("alerts", "--config", str(config), "list", "--state", "pending", "--json",
                                 check=True).stdout)
    assert [row["id"] for row in pending] == [alert_id]

    run_cli("once", "--config", str(config), check=True)
    delivered = json.loads(run_cli("alerts", "--config", str(config), "list", "--state", "delivered", "--json",
                                   check=True).stdout)
    assert [(row["id"], row["attempts"]) for row in delivered] == [(alert_id, 2)]
    ids = [r.headers["webhook-id"] for r in webhook_receiver.requests]
    assert ids == [alert_id, alert_id]
