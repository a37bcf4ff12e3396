"""The daemon polling real feeds for a while: intervals, 304s, Retry-After, 301, caps, `feeds add`, SIGTERM.

Each test starts ``main.py run`` as a subprocess against a FeedServer on
127.0.0.1 and reads what happened from the server's request log, the
SQLite file and the daemon's own log.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, ROOT, RunCli, cli_env, eventually
from tests.support.feed_server import FeedServer, Reply

pytestmark = pytest.mark.slow

ITEM = """<item><title>{title}</title><link>http://example.com/{slug}</link><guid>{slug}</guid>
<description>Notes of the week, nothing about people.</description></item>"""


def feed(title: str, *slugs: str) -> bytes:
    items = "".join(ITEM.format(title=f"{title} {slug}", slug=slug) for slug in slugs)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>http://example.com/</link><description>d</description>{items}</channel></rss>").encode()


def write_config(path: Path, db: Path, feeds: list[str], *, interval: str = "1s", extra: str = "") -> None:
    blocks = "".join(f'\n[[feeds]]\nurl = "{url}"\n' for url in feeds)
    path.write_text(f'# a test config\n[storage]\npath = "{db}"\n\n[polling]\ninterval = "{interval}"\n'
                    f'allow_private = ["127.0.0.1"]\n{extra}\n{blocks}', "utf-8")


class Daemon:
    def __init__(self, tmp_path: Path) -> None:
        self.config = tmp_path / "talentwatch.toml"
        self.db = tmp_path / "tw.db"
        self.log_path = tmp_path / "daemon.log"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Daemon:
        log = self.log_path.open("w")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", "--config", str(self.config)],
                                     stdout=log, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=cli_env())
        log.close()
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def feeds(self) -> list[dict[str, Any]]:
        if not self.db.exists():
            return []
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            try:
                return [dict(r) for r in conn.execute("SELECT * FROM feeds ORDER BY id")]
            except sqlite3.OperationalError:
                return []

    def feed(self, configured: str) -> dict[str, Any]:
        return next((f for f in self.feeds() if configured in (f.get("configured_url"), f["url"])), {})

    def entries(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    found = Daemon(tmp_path)
    try:
        yield found
    finally:
        if found.proc is not None and found.proc.poll() is None:
            found.proc.kill()
            found.proc.wait(10)


def until(check: Callable[[], object], timeout: float = 60.0) -> Any:
    return eventually(check, timeout=timeout)


def test_new_entries_arrive_after_the_interval_with_304s_between_and_feeds_add_is_picked_up(
    daemon: Daemon, feed_server: FeedServer, run_cli: RunCli
) -> None:
    corpus = CORPUS / "arstechnica-2025-11-lecun-rss2.xml"
    feed_server.serve("/corpus.xml", corpus)
    feed_server.serve("/live.xml", feed("Live", "one"), etag='"v1"')
    write_config(daemon.config, daemon.db, [feed_server.url("/corpus.xml"), feed_server.url("/live.xml")],
                 interval="2s")
    daemon.start()

    until(lambda: daemon.feed(feed_server.url("/corpus.xml")).get("entry_count", 0) > 0)
    until(lambda: daemon.feed(feed_server.url("/live.xml")).get("entry_count") == 1)
    # The second poll sends the validators and the server answers 304: nothing is parsed or stored.
    until(lambda: [r for r in feed_server.requests_to("/live.xml") if r.headers.get("If-None-Match") == '"v1"'])
    until(lambda: daemon.feed(feed_server.url("/live.xml")).get("last_status") == 304)
    assert daemon.feed(feed_server.url("/live.xml"))["entry_count"] == 1

    # The feed gains an entry: it is stored at the next poll, one interval later.
    feed_server.serve("/live.xml", feed("Live", "one", "two"), etag='"v2"')
    until(lambda: daemon.feed(feed_server.url("/live.xml")).get("entry_count") == 2)

    # `feeds add` edits the file; the running daemon polls the new feed within seconds.
    feed_server.serve("/added.xml", feed("Added", "a1", "a2", "a3"))
    added = run_cli("feeds", "--config", str(daemon.config), "add", feed_server.url("/added.xml"), "--name", "Added")
    assert added.returncode == 0, added.stderr
    until(lambda: daemon.feed(feed_server.url("/added.xml")).get("entry_count") == 3, timeout=30)
    assert daemon.feed(feed_server.url("/added.xml"))["name"] == "Added"
    # and `feeds remove` stops it
    assert run_cli("feeds", "--config", str(daemon.config), "remove", "Added").returncode == 0
    until(lambda: "feed removed: " + feed_server.url("/added.xml") in daemon.log, timeout=30)

    assert daemon.stop() == 0
    log = daemon.log
    assert "config: polling.interval: 2s is impolite for public feeds" in log
    assert "# a test config" in daemon.config.read_text("utf-8")


def test_retry_after_a_301_and_a_body_over_the_cap_each_stay_with_their_feed(
    daemon: Daemon, feed_server: FeedServer, run_cli: RunCli
) -> None:
    feed_server.serve("/steady.xml", feed("Steady", "s1"))
    feed_server.script("/busy.xml", [Reply(503, b"busy", {"Retry-After": "3600"}), Reply(200, feed("Busy", "b1"))])
    feed_server.redirect("/old.xml", "/new.xml", status=301)
    feed_server.serve("/new.xml", feed("Moved", "m1", "m2"))
    feed_server.serve("/big.xml", feed("Big", *(f"x{i}" for i in range(2000))))
    urls = [feed_server.url(p) for p in ("/steady.xml", "/busy.xml", "/old.xml", "/big.xml")]
    write_config(daemon.config, daemon.db, urls, interval="1s", extra="max_bytes = 100000")
    daemon.start()

    # 301: the stored URL changes, the log says so, and the feed keeps being polled at its new address.
    until(lambda: daemon.feed(urls[2]).get("url") == feed_server.url("/new.xml"))
    polled = len(feed_server.requests_to("/new.xml"))
    until(lambda: len(feed_server.requests_to("/new.xml")) > polled + 1)
    assert daemon.feed(urls[2])["entry_count"] == 2
    assert f"feed moved permanently: {urls[2]} -> {feed_server.url('/new.xml')}" in daemon.log

    # A body over max_bytes is refused with a clear error, recorded on that feed alone.
    big = until(lambda: daemon.feed(urls[3]).get("last_error"))
    assert "body larger than 100000 bytes" in big

    # Retry-After: 3600 on a 503: the feed is not asked again for an hour, while the others go on.
    busy = until(lambda: daemon.feed(urls[1]).get("error_count"))
    assert busy == 1
    steady_polls = len(feed_server.requests_to("/steady.xml"))
    until(lambda: len(feed_server.requests_to("/steady.xml")) >= steady_polls + 3)
    assert len(feed_server.requests_to("/busy.xml")) == 1
    next_poll = datetime.fromisoformat(daemon.feed(urls[1])["next_poll"].replace("Z", "+00:00"))
    assert next_poll > datetime.now(UTC) + timedelta(minutes=50)

    report = json.loads(run_cli("status", "--config", str(daemon.config), "--json").stdout)
    by_url = {f["configured_url"]: f for f in report["feeds"]}
    assert by_url[urls[1]]["last_status"] == 503 and by_url[urls[1]]["last_error"] == "HTTP 503 Service Unavailable"
    assert "body larger than" in by_url[urls[3]]["last_error"]
    assert by_url[urls[0]]["error_count"] == 0
    assert daemon.stop() == 0


def test_sigterm_during_a_fetch_exits_0_within_the_shutdown_bound(daemon: Daemon, feed_server: FeedServer) -> None:
    feed_server.serve("/quick.xml", feed("Quick", "q1"))
    # 60 bytes, one every half second: the fetch is still running when SIGTERM comes.
    feed_server.script("/slow.xml", [Reply(200, feed("Slow", "z")[:60], drip=0.5)])
    write_config(daemon.config, daemon.db, [feed_server.url("/quick.xml"), feed_server.url("/slow.xml")],
                 interval="1h", extra='timeout = "5m"')
    daemon.start()
    until(lambda: daemon.feed(feed_server.url("/quick.xml")).get("entry_count") == 1)
    until(lambda: feed_server.requests_to("/slow.xml"))
    assert daemon.proc is not None
    started = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(60) == 0
    waited = time.monotonic() - started
    assert waited < 25, f"shutdown took {waited:.0f}s; the bound is 10s plus start-up slack"
    log = daemon.log
    assert "cancelled 1 unfinished jobs at shutdown" in log
    assert "stopped" in log
    # the database is consistent and readable after the cancelled poll
    with sqlite3.connect(daemon.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
