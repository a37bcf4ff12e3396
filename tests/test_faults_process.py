"""The daemon killed, stopped and mis-configured at awkward moments, as a real subprocess.

SIGKILL lands during a fetch (the feed server holds its answer), right
after entries were stored (while they are classified and merged) and
during a delivery (the receiver holds its answer). After each, the
database passes ``PRAGMA integrity_check``; at the end every departure is
one event and one alert, delivered, and the only repeats are alerts that
were in flight at the kill, with their own id. SIGTERM at the same points
exits 0 within the shutdown bound.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from monitor.deliver import IN_FLIGHT_PER_CHANNEL
from tests.conftest import RunCli, eventually
from tests.support.hostile_server import HostileServer
from tests.test_alerts_cli import departures_feed, write_config
from tests.test_alerts_daemon import HoldingReceiver, daemon

pytestmark = pytest.mark.slow

PEOPLE = [f"Person{n} Surname{n}" for n in range(24)]
SHUTDOWN_BOUND = 30  # the daemon's own bound is 10 s for jobs in flight; this adds start-up and slack


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def integrity(db: Path) -> str:
    return str(query(db, "PRAGMA integrity_check")[0][0])


def holding_feed(server: HostileServer, body: bytes) -> threading.Event:
    """Serve ``body`` at /moves.xml, but hold every answer until the returned event is set."""
    release = threading.Event()

    def handle(conn: object) -> None:
        release.wait(60)
        conn.reply(200, body)  # type: ignore[attr-defined]

    server.routes["/moves.xml"] = handle
    return release


def kill(proc: subprocess.Popen[str], db: Path) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    assert integrity(db) == "ok"


def test_sigkill_during_fetch_classification_and_delivery_loses_nothing(
    tmp_path: Path, hostile_server: HostileServer
) -> None:
    receiver = HoldingReceiver().start()
    try:
        release_feed = holding_feed(hostile_server, departures_feed(*PEOPLE))
        config = write_config(tmp_path, feed=hostile_server.url("/moves.xml"), hook_url=receiver.url, polling="2s")
        db, log = tmp_path / "tw.db", tmp_path / "daemon.log"

        with daemon(config, log) as proc:  # 1. during the fetch
            eventually(lambda: "/moves.xml" in hostile_server.log)
            kill(proc, db)
        release_feed.set()
        assert query(db, "SELECT count(*) FROM entries") == [(0,)]

        with daemon(config, log) as proc:  # 2. as soon as entries are stored: classification and merge
            eventually(lambda: query(db, "SELECT count(*) FROM entries")[0][0], every=0.01)
            kill(proc, db)

        with daemon(config, log) as proc:  # 3. during a delivery (held by the receiver), if not done yet
            if len(query(db, "SELECT id FROM outbox WHERE state = 'delivered'")) < len(PEOPLE):
                receiver.wait_for(1, timeout=60)
            kill(proc, db)
        receiver.release()
        held = {r.headers["webhook-id"] for r in receiver.requests}

        with daemon(config, log) as proc:  # 4. and then it finishes the work
            eventually(lambda: query(db, "SELECT count(*) FROM outbox WHERE state = 'delivered'")
                       == [(len(PEOPLE),)], timeout=120)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(SHUTDOWN_BOUND) == 0

        assert integrity(db) == "ok"
        people = sorted(str(p) for (p,) in query(db, "SELECT person FROM events"))
        assert people == sorted(PEOPLE), "one event per departure: none lost, none doubled"
        assert query(db, "SELECT count(*) FROM outbox") == [(len(PEOPLE),)]
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        outbox_ids = {str(i) for (i,) in query(db, "SELECT id FROM outbox")}
        assert set(ids) == outbox_ids
        repeated = [i for i in set(ids) if ids.count(i) > 1]
        # Only the alert in flight on the one channel at a kill goes twice, at kill 2 or kill 3,
        # whichever caught a delivery.
        assert len(repeated) <= 2 * IN_FLIGHT_PER_CHANNEL, repeated
        assert held <= outbox_ids
    finally:
        receiver.release()
        receiver.stop()


def test_sigterm_during_a_fetch_or_a_delivery_exits_0_within_the_bound(
    tmp_path: Path, hostile_server: HostileServer
) -> None:
    receiver = HoldingReceiver().start()
    try:
        release_feed = holding_feed(hostile_server, departures_feed("Alice Martin"))
        config = write_config(tmp_path, feed=hostile_server.url("/moves.xml"), hook_url=receiver.url, polling="2s")
        db, log = tmp_path / "tw.db", tmp_path / "daemon.log"

        with daemon(config, log) as proc:  # as soon as it runs, before anything happened
            # Once its signal handlers are in place: before that (interpreter start-up and imports)
            # SIGTERM ends the process the operating system's way, with status -15.
            eventually(lambda: "talentwatch running" in log.read_text("utf-8"), every=0.05)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(SHUTDOWN_BOUND) == 0

        hostile_server.log.clear()
        with daemon(config, log) as proc:  # in the middle of a fetch that never answers
            eventually(lambda: "/moves.xml" in hostile_server.log)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(SHUTDOWN_BOUND) == 0
        release_feed.set()

        with daemon(config, log) as proc:  # in the middle of a delivery whose answer is held
            receiver.wait_for(1, timeout=60)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(SHUTDOWN_BOUND) == 0
        receiver.release()
        assert integrity(db) == "ok"
        assert query(db, "SELECT count(*) FROM outbox") == [(1,)]
    finally:
        receiver.release()
        receiver.stop()


BAD_EDITS = {
    "bad TOML": lambda good: good.replace("[[labs]]", "[[labs]"),
    "truncated": lambda good: good[: len(good) // 2],
    "wrong types": lambda good: good.replace('interval = "2s"', "interval = [1, 2]").replace(
        'name = "OpenAI"', "name = 42"),
    "empty": lambda good: "",
    "binary": lambda good: "\x00\xff garbage \x00",
}


def test_invalid_configs_written_while_running_leave_the_old_one_in_force(
    tmp_path: Path, hostile_server: HostileServer, run_cli: RunCli
) -> None:
    hostile_server.routes["/moves.xml"] = lambda c: c.reply(200, departures_feed())
    config = write_config(tmp_path, feed=hostile_server.url("/moves.xml"), polling="2s")
    good = config.read_text("utf-8")
    log = tmp_path / "daemon.log"

    def status() -> dict[str, object]:
        result = run_cli("status", "--config", str(config), "--json")
        try:
            return dict(json.loads(result.stdout))
        except ValueError:
            return {}

    with daemon(config, log) as proc:
        eventually(lambda: hostile_server.log.count("/moves.xml") >= 1)
        for name, edit in BAD_EDITS.items():
            refusals = log.read_text("utf-8", errors="replace").count("config not applied")
            config.write_text(edit(good), "utf-8", errors="surrogateescape")
            eventually(lambda n=refusals: log.read_text("utf-8", errors="replace").count("config not applied") > n,
                       timeout=60)
            shown = status().get("config")
            # Without a readable file status cannot find the database (an empty file names none): it
            # then fails saying why; otherwise it shows the refusal beside the last good one.
            if shown is not None:
                assert isinstance(shown, dict) and shown["ok"] is False and shown["errors"], (name, shown)
            else:
                broken = run_cli("status", "--config", str(config))
                assert broken.returncode != 0 and broken.stderr.strip(), name
            polled = hostile_server.log.count("/moves.xml")
            eventually(lambda n=polled: hostile_server.log.count("/moves.xml") > n)
            assert proc.poll() is None, f"the daemon died on a {name} config"
            config.write_text(good, "utf-8")
            eventually(lambda: (status().get("config") or {}).get("ok") is True, timeout=60)  # type: ignore[union-attr]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(SHUTDOWN_BOUND) == 0
    text = log.read_text("utf-8", errors="replace")
    assert text.count("config not applied") >= len(BAD_EDITS)
