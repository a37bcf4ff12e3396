"""The database under pressure: another process holding the write lock, and a full disk.

Both run ``main.py once`` as users do, against a real SQLite file; the
full-disk test needs a small filesystem of its own (a tmpfs mounted for the
test, so it runs as root and is skipped with the reason otherwise).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.support.feed_server import FeedServer
from tests.support.receivers import WebhookReceiver
from tests.test_alerts_cli import departures_feed, write_config


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        alerts = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        sent = conn.execute("SELECT count(*) FROM outbox WHERE state = 'delivered'").fetchone()[0]
    return int(entries), int(alerts), int(sent)


def test_a_write_lock_held_by_another_process_delays_the_cycle_but_loses_nothing(
    tmp_path: Path, run_cli: RunCli, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    feed = feed_server.serve("/moves.xml", departures_feed())
    config = write_config(tmp_path, feed=feed, hook_url=webhook_receiver.url)
    run_cli("once", "--config", str(config), check=True)  # creates the database, nothing to report yet
    feed_server.serve("/moves.xml", departures_feed("Alice Martin", "Bob Stone"))

    db = tmp_path / "tw.db"
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # what a backup tool or a sqlite3 shell can do
    released = threading.Event()

    def release_later() -> None:
        time.sleep(4)
        holder.execute("COMMIT")
        holder.close()
        released.set()

    threading.Thread(target=release_later, daemon=True).start()
    result = run_cli("once", "--config", str(config), timeout=120)
    assert released.is_set(), "the cycle finished while the lock was held: it cannot have written anything"
    assert result.returncode == 0, result.stderr
    assert counts(db)[1:] == (2, 2)
    assert sorted(r.json["event"]["person"] for r in webhook_receiver.requests) == ["Alice Martin", "Bob Stone"]
    assert integrity(db) == "ok"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill the filesystem, then give back ``leave`` bytes: room to open the database, not to finish."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.mark.parametrize("leave", [0, 60_000])
def test_a_full_disk_is_a_clear_error_sends_nothing_and_the_work_resumes_when_space_returns(
    leave: int, tmp_path: Path, small_disk: Path, run_cli: RunCli, feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    feed = feed_server.serve("/moves.xml", departures_feed())
    config = write_config(tmp_path, feed=feed, hook_url=webhook_receiver.url)
    text = config.read_text("utf-8").replace('path = "tw.db"', f'path = "{small_disk / "tw.db"}"')
    config.write_text(text, "utf-8")
    db = small_disk / "tw.db"
    run_cli("once", "--config", str(config), check=True)

    people = [f"Person{n} Surname{n}" for n in range(40)]
    feed_server.serve("/moves.xml", departures_feed(*people))
    filler = fill(small_disk, leave)
    full = run_cli("once", "--config", str(config), timeout=120)
    assert "disk is full" in full.stderr.lower(), full.stderr
    assert "Traceback" not in full.stderr, full.stderr
    delivered_while_full = {r.headers["webhook-id"] for r in webhook_receiver.requests}

    filler.unlink()
    again = run_cli("once", "--config", str(config), timeout=120)
    assert again.returncode == 0, again.stderr
    _entries, alerts, sent = counts(db)
    assert alerts == len(people) and sent == len(people)
    ids = [r.headers["webhook-id"] for r in webhook_receiver.requests]
    assert len(set(ids)) == len(people)
    # At least once: an alert sent while its "delivered" mark could not be written goes again, same id.
    assert len(ids) - len(set(ids)) <= len(delivered_while_full)
    assert integrity(db) == "ok"
