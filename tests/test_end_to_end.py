"""Feeds in, one alert per departure out: the whole product, run as a user runs it.

A real HTTP server serves a feed telling the Tongyi Lab story in English and
in Indonesian; a real SMTP server and a real webhook receiver take the
alerts; ``main.py once`` runs as a subprocess on a real SQLite file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.notify.webhook import verify
from tests.conftest import DATA, RunCli
from tests.support.feed_server import FeedServer
from tests.support.receivers import SmtpReceiver, WebhookReceiver

SECRET = "whsec_dGFsZW50d2F0Y2gtdGVzdC1zZWNyZXQ="
ENGLISH = "http://example.com/asia-ai/2025/08/tongyi-lab-departures"
INDONESIAN = "http://example.com/asia-ai/id/2025/08/tongyi-kehilangan-pakar"


def seed_feed(published: datetime) -> bytes:
    template = (DATA / "e2e" / "tongyi-talent.xml").read_text("utf-8")
    return template.replace("{published}", format_datetime(published, usegmt=True)).encode()


def write_config(tmp_path: Path, feed_url: str, smtp: SmtpReceiver, hook: WebhookReceiver) -> Path:
    config = tmp_path / "talentwatch.toml"
    config.write_text(
        f"""
[storage]
path = "talentwatch.db"

[polling]
interval = "1m"
allow_private = ["127.0.0.1"]

[[feeds]]
url = "{feed_url}"
name = "Asia AI Desk"

[[labs]]
name = "Alibaba Tongyi Lab"
aliases = ["Tongyi Lab", "Tongyi"]

[alerts]
min_confidence = 0.5

[[alerts.email]]
to = ["analyst@example.com"]
from = "talentwatch@example.com"
host = "127.0.0.1"
port = {smtp.port}
starttls = false

[[alerts.webhook]]
url = "{hook.url}"
secret = "{SECRET}"
""",
        "utf-8",
    )
    return config


@pytest.fixture
def seeded(
    tmp_path: Path, feed_server: FeedServer, smtp_receiver: SmtpReceiver, webhook_receiver: WebhookReceiver
) -> Callable[[timedelta], Path]:
    """Serve the seed story published ``age`` ago and write a config that polls it; returns the config."""

    def make(age: timedelta = timedelta(hours=2)) -> Path:
        feed_url = feed_server.serve("/asia-ai.xml", seed_feed(datetime.now(UTC) - age))
        return write_config(tmp_path, feed_url, smtp_receiver, webhook_receiver)

    return make


def test_one_alert_per_departure_on_each_channel_with_both_sources(
    tmp_path: Path, seeded: Callable[..., Path], run_cli: RunCli, feed_server: FeedServer,
    smtp_receiver: SmtpReceiver, webhook_receiver: WebhookReceiver,
) -> None:
    config = seeded()

    first = run_cli("once", "--config", str(config))
    assert first.returncode == 0, first.stderr

    hooks = webhook_receiver.requests
    mails = smtp_receiver.received.snapshot()
    people = sorted(h.json["event"]["person"] for h in hooks)
    assert people == ["Bo Liefeng", "Yan Zhijie"], first.stderr
    assert len(mails) == 2
    for hook in hooks:
        body = hook.json
        assert body["type"] == "talent.loss"
        assert body["lab"] == "Alibaba Tongyi Lab"
        assert body["id"] == hook.headers["webhook-id"]
        assert verify(SECRET, hook.headers["webhook-id"], hook.headers["webhook-timestamp"], hook.body,
                      hook.headers["webhook-signature"])
        assert {s["url"] for s in body["event"]["sources"]} == {ENGLISH, INDONESIAN}
    to_orgs = {h.json["event"]["person"]: h.json["event"]["to_org"] for h in hooks}
    assert "JD" in to_orgs["Yan Zhijie"]
    assert "Hunyuan" in to_orgs["Bo Liefeng"] or "Tencent" in to_orgs["Bo Liefeng"]

    subjects = sorted(str(m.message["Subject"]) for m in mails)
    assert "Bo Liefeng" in subjects[0] and "Yan Zhijie" in subjects[1]
    for mail in mails:
        text = mail.message.get_body(preferencelist=("plain",)).get_content()
        assert ENGLISH in text and INDONESIAN in text
    assert not any("Li Xiangang" in str(m.message["Subject"]) for m in mails)

    second = run_cli("once", "--config", str(config))
    assert second.returncode == 0, second.stderr
    assert len(webhook_receiver.requests) == 2
    assert len(smtp_receiver.received.snapshot()) == 2
    assert feed_server.requests_to("/asia-ai.xml")[-1].headers.get("If-None-Match")

    with sqlite3.connect(tmp_path / "talentwatch.db") as db:
        states = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        joined = db.execute("SELECT from_org, to_org FROM events WHERE person = 'Li Xiangang'").fetchall()
    assert states == {"delivered": 4}
    assert joined and "01" in (joined[0][0] or ""), "the joiner is stored as a gain for Tongyi, not a loss"


def test_events_command_lists_the_departures_as_json_and_csv(seeded: Callable[..., Path], run_cli: RunCli) -> None:
    config = seeded()
    run_cli("once", "--config", str(config), check=True)

    listed = run_cli("events", "--config", str(config), "--lab", "Tongyi Lab", "--since", "30d", "--json",
                     check=True)
    events = json.loads(listed.stdout)
    assert {"Yan Zhijie", "Bo Liefeng", "Li Xiangang"} <= {e["person"] for e in events}

    as_csv = run_cli("events", "--config", str(config), "--csv", check=True)
    assert as_csv.stdout.splitlines()[0].startswith("id,first_seen,person")
    assert "Yan Zhijie" in as_csv.stdout

    status = run_cli("status", "--config", str(config), "--json", check=True)
    report = json.loads(status.stdout)
    assert report["outbox"]["delivered"] == 4
    assert report["feeds"][0]["last_status"] == 200


def test_old_news_is_stored_but_not_alerted(
    tmp_path: Path, seeded: Callable[..., Path], run_cli: RunCli, smtp_receiver: SmtpReceiver,
    webhook_receiver: WebhookReceiver,
) -> None:
    config = seeded(timedelta(days=60))
    run_cli("once", "--config", str(config), check=True)
    assert webhook_receiver.requests == []
    assert smtp_receiver.received.snapshot() == []
    with sqlite3.connect(tmp_path / "talentwatch.db") as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] >= 2


def test_reclassifying_stored_entries_sends_nothing_already_sent(
    tmp_path: Path, seeded: Callable[..., Path], run_cli: RunCli, webhook_receiver: WebhookReceiver
) -> None:
    config = seeded()
    run_cli("once", "--config", str(config), check=True)
    sent = len(webhook_receiver.requests)
    with sqlite3.connect(tmp_path / "talentwatch.db") as db:
        before = db.execute("SELECT id, person, confidence FROM events ORDER BY id").fetchall()

    result = run_cli("reclassify", "--config", str(config), "--since", "30d", check=True)
    assert "reclassified 3 entries" in result.stdout
    run_cli("once", "--config", str(config), check=True)

    assert len(webhook_receiver.requests) == sent
    with sqlite3.connect(tmp_path / "talentwatch.db") as db:
        after = db.execute("SELECT id, person, confidence FROM events ORDER BY id").fetchall()
    assert after == before, "the same engine over the same entries changes nothing"
