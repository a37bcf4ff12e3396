"""The daemon as a real subprocess: killed between the outbox write and the delivery, and digests on a cron.

The crash test holds the receiver's answer to the first request, so the
SIGKILL lands after the alert was written and sent but before it was
marked delivered; after the restart the receiver sees the same
``webhook-id`` again, and nothing else.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug import Request, Response

from tests.conftest import ROOT, cli_env, eventually
from tests.support.feed_server import FeedServer
from tests.support.receivers import WebhookReceiver
from tests.test_alerts_cli import departures_feed, write_config

pytestmark = pytest.mark.slow


class HoldingReceiver(WebhookReceiver):
    """Records the first request, then holds its answer until ``release()``."""

    def __init__(self) -> None:
        super().__init__()
        self.release_event = threading.Event()
        self.holding = True

    def _handle(self, request: Request) -> Response:
        response = super()._handle(request)
        if self.holding:
            self.holding = False
            self.release_event.wait(60)
        return response

    def release(self) -> None:
        self.release_event.set()


@contextmanager
def daemon(config: Path, log: Path) -> Iterator[subprocess.Popen[str]]:
    env = cli_env() | {"TALENTWATCH_ALERT_RETRY_BASE": "0.5"}
    with log.open("a") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", "--config", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def outbox(db: Path) -> list[tuple[str, str, str | None]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT id, state, digest FROM outbox ORDER BY rowid").fetchall()
        except sqlite3.OperationalError:
            return []


def test_a_sigkill_between_outbox_write_and_delivery_loses_nothing_and_repeats_the_same_id(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    receiver = HoldingReceiver().start()
    try:
        feed = feed_server.serve("/moves.xml", departures_feed("Alice Martin"))
        config = write_config(tmp_path, feed=feed, hook_url=receiver.url)
        db, log = tmp_path / "tw.db", tmp_path / "daemon.log"

        with daemon(config, log) as first:
            receiver.wait_for(1, timeout=60)  # sent, and its answer held
            assert [row[1] for row in outbox(db)] == ["pending"]
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        receiver.release()
        assert [row[1] for row in outbox(db)] == ["pending"], "written before the crash, not marked delivered"

        receiver.script(500, 500, then=200)  # and the receiver stumbles after the restart
        with daemon(config, log) as second:
            eventually(lambda: [row[1] for row in outbox(db)] == ["delivered"], timeout=60)
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0
        requests = receiver.requests
        assert [r.status for r in requests] == [200, 500, 500, 200]
        assert {r.headers["webhook-id"] for r in requests} == {outbox(db)[0][0]}, "exactly one delivery id"
        assert len(outbox(db)) == 1
    finally:
        receiver.release()
        receiver.stop()


def test_a_digest_on_a_cron_schedule_sends_one_message_for_two_alerts(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    feed = feed_server.serve("/moves.xml", departures_feed("Alice Martin", "Bob Keller"))
    config = write_config(tmp_path, feed=feed, hook_url=webhook_receiver.url,
                          hook_extra='digest = "*/2 * * * * *"')  # every two seconds, seconds first
    db, log = tmp_path / "tw.db", tmp_path / "daemon.log"
    with daemon(config, log) as proc:
        eventually(lambda: len(outbox(db)) == 2 and all(row[1] == "delivered" for row in outbox(db)), timeout=60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    [request] = webhook_receiver.requests
    body = request.json
    assert body["type"] == "talent.digest" and body["count"] == 2
    assert {a["event"]["person"] for a in body["alerts"]} == {"Alice Martin", "Bob Keller"}
    assert {row[2] for row in outbox(db)} == {request.headers["webhook-id"]}
