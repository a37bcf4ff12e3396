"""The daemon as users run it: a real subprocess, polled feeds, config edits while it runs, SIGTERM."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, RunCli, cli_env, eventually
from tests.support.feed_server import FeedServer

pytestmark = pytest.mark.slow

FEED_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{title}</title><link>http://example.com/</link><description>d</description>
<item><title>{title}: weekly notes</title><link>http://example.com/{slug}/1</link><guid>{slug}-1</guid>
<description>Nothing about people this week.</description></item>
</channel></rss>"""


def simple_feed(title: str, slug: str) -> bytes:
    return FEED_TEMPLATE.format(title=title, slug=slug).encode()


def config_text(db: Path, feeds: list[str], interval: str = "2s") -> str:
    blocks = "\n".join(f'[[feeds]]\nurl = "{url}"\n' for url in feeds)
    return f"""
[storage]
path = "{db}"

[polling]
interval = "{interval}"
allow_private = ["127.0.0.1"]

{blocks}
[[labs]]
name = "Alibaba Tongyi Lab"
"""


@pytest.fixture
def daemon(tmp_path: Path, feed_server: FeedServer) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    feed_server.serve("/first.xml", simple_feed("First", "first"))
    config = tmp_path / "talentwatch.toml"
    db = tmp_path / "tw.db"
    config.write_text(config_text(db, [feed_server.url("/first.xml")]), "utf-8")
    log = (tmp_path / "daemon.log").open("w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", "--config", str(config)],
                            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=cli_env())
    try:
        yield proc, config, db
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


def entries_of(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_daemon_polls_reloads_its_config_and_stops_on_sigterm(
    daemon: tuple[subprocess.Popen[str], Path, Path], feed_server: FeedServer, run_cli: RunCli, tmp_path: Path
) -> None:
    proc, config, db = daemon

    eventually(lambda: entries_of(db) >= 1)
    second_poll = eventually(lambda: [r for r in feed_server.requests_to("/first.xml")
                                      if r.headers.get("If-None-Match")])
    assert second_poll, "the second poll is a conditional GET"

    # A valid edit adding a feed takes effect without a restart.
    feed_server.serve("/second.xml", simple_feed("Second", "second"))
    config.write_text(config_text(db, [feed_server.url("/first.xml"), feed_server.url("/second.xml")]), "utf-8")
    eventually(lambda: feed_server.requests_to("/second.xml"))
    eventually(lambda: entries_of(db) >= 2)

    # An invalid edit is reported, and the last good config keeps running.
    good = config.read_text("utf-8")
    config.write_text(good + "\n[alerts\nmin_confidence = ", "utf-8")  # an edit saved half-way

    log = tmp_path / "daemon.log"
    # The daemon waits for the file to settle, so its refusal comes a moment after the edit.
    eventually(lambda: "config not applied" in log.read_text())
    report = json.loads(run_cli("status", "--config", str(config), "--json").stdout)
    assert report["config"]["ok"] is False and report["feeds"]
    polled = len(feed_server.requests_to("/second.xml"))
    eventually(lambda: len(feed_server.requests_to("/second.xml")) > polled)
    assert proc.poll() is None

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert "stopped" in log.read_text()


def test_an_invalid_config_at_start_exits_2_naming_the_file_and_key(tmp_path: Path, run_cli: RunCli) -> None:
    config = tmp_path / "talentwatch.toml"
    config.write_text('[polling]\ninterval = "5x"\n[[feeds]]\nurl = "ftp://example.com/feed"\n', "utf-8")
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert "polling.interval" in result.stderr
    assert "feeds[0].url" in result.stderr


def test_check_config_accepts_the_example_config(run_cli: RunCli) -> None:
    result = run_cli("check-config", str(ROOT / "config" / "talentwatch.toml"))
    assert result.returncode == 0, result.stderr
    assert "feeds" in result.stdout


