"""The daemon's parser processes: forked from it at start-up, and a signal to one of them is its own business."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.daemon import children
from tests.conftest import ROOT, cli_env, eventually
from tests.support.feed_server import FeedServer
from tests.test_daemon import config_text, entries_of, simple_feed

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextmanager
def daemon_with_one_feed(tmp_path: Path, feed_server: FeedServer) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``main.py run`` as a subprocess over one served feed, once it has stored the feed's entry."""
    feed_server.serve("/first.xml", simple_feed("First", "first"))
    config = tmp_path / "talentwatch.toml"
    db = tmp_path / "tw.db"
    config.write_text(config_text(db, [feed_server.url("/first.xml")]), "utf-8")
    with (tmp_path / "daemon.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", "--config", str(config)],
                                stdout=log, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=cli_env())
        try:
            eventually(lambda: entries_of(db) >= 1)
            yield proc, db
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def test_parser_processes_are_forked_and_a_signal_to_one_leaves_the_daemon_running(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with daemon_with_one_feed(tmp_path, feed_server) as (proc, db):
        command = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        parsers = [pid for pid in children(proc.pid) if Path(f"/proc/{pid}/cmdline").read_bytes() == command]
        assert parsers, "the parser processes are forked from the daemon (a spawned one runs its own command)"

        # A forked worker must not pass its signals on to the daemon's event loop.
        victim = parsers[0]
        assert proc.poll() is None
        os.kill(victim, signal.SIGTERM)
        eventually(lambda: not _alive(victim))

        # Still running, and still parsing: a changed feed is parsed by a pool forked again.
        feed_server.serve("/first.xml", simple_feed("First again", "again"))
        eventually(lambda: entries_of(db) >= 2)
        assert proc.poll() is None

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_a_killed_daemon_leaves_no_parser_process_behind(tmp_path: Path, feed_server: FeedServer) -> None:
    with daemon_with_one_feed(tmp_path, feed_server) as (proc, _db):
        parsers = children(proc.pid)
        assert parsers
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        eventually(lambda: not any(_alive(pid) for pid in parsers))
