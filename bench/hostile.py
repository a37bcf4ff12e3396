"""Load with hostile feeds: N feeds of which a tenth attack us; the rest must be polled, every alert sent.

    .venv/bin/python -m bench.hostile [--feeds 1000] [--cycles 2]

Serves N feeds on 127.0.0.1: nine in ten are ordinary feeds, each reporting
one departure from a tracked lab; one in ten is an attack from
``tests.support.hostile_server`` (gzip bombs, drips, endless bodies,
redirect loops, huge headers, lying lengths, entity bombs, ...). Runs
``main.py once`` ``--cycles`` times and prints per cycle: wall time, feeds
in error, alerts delivered, and the peak RSS of the talentwatch process.
The same shape, scaled down, runs in the test suite (tests/test_hostile_load.py).
"""

from __future__ import annotations

import argparse
import logging
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.hostile_server import FAILING, HostileServer, rss  # noqa: E402
from tests.support.receivers import WebhookReceiver  # noqa: E402

ATTACKS = sorted(FAILING)


@dataclass(frozen=True)
class Cycle:
    seconds: float
    feeds_in_error: int
    good_in_error: int
    delivered: int
    peak_rss_mib: float


def departure(n: int) -> bytes:
    person = f"Person{n} Surname{n}"
    return rss(f"{person} leaves OpenAI for Anthropic".encode(),
               f"{person}, a researcher at OpenAI, has left the company to join Anthropic.".encode(),
               guid=f"move-{n}".encode())


def serve(server: HostileServer, feeds: int) -> tuple[list[str], list[str]]:
    """Register the feeds on ``server``; returns (good URLs, hostile URLs)."""
    good: list[str] = []
    hostile: list[str] = []
    for n in range(feeds):
        if n % 10 == 9:
            hostile.append(server.url(ATTACKS[(n // 10) % len(ATTACKS)] + f"?n={n}"))
        else:
            body = departure(n)
            server.routes[f"/good/{n}.xml"] = lambda c, body=body: c.reply(200, body)
            good.append(server.url(f"/good/{n}.xml"))
    return good, hostile


def write_config(folder: Path, urls: list[str], hook: str, *, timeout: str = "5s") -> Path:
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in urls)
    config = folder / "talentwatch.toml"
    config.write_text(
        f'[storage]\npath = "tw.db"\n\n[polling]\ntimeout = "{timeout}"\nmax_bytes = 2097152\nconcurrency = 64\n'
        f'per_host = 64\nallow_private = ["127.0.0.1"]\n\n{feeds}\n[[labs]]\nname = "OpenAI"\n\n'
        f'[[alerts.webhook]]\nname = "hook"\nurl = "{hook}"\ntimeout = "10s"\n', "utf-8")
    return config


def run_cycle(config: Path, good: list[str]) -> Cycle:
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "once", "--config", str(config)],
                            capture_output=True, text=True, cwd=ROOT, timeout=1800)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"once failed ({result.returncode}):\n{result.stderr[-3000:]}")
    with sqlite3.connect(config.parent / "tw.db") as conn:
        errors = dict(conn.execute("SELECT configured_url, last_error FROM feeds WHERE last_error IS NOT NULL"))
        delivered = conn.execute("SELECT count(*) FROM outbox WHERE state = 'delivered'").fetchone()[0]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Cycle(seconds, len(errors), sum(1 for url in good if url in errors), int(delivered), peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per webhook request otherwise
    server = HostileServer().start()
    hook = WebhookReceiver().start()
    try:
        good, hostile = serve(server, args.feeds)
        with tempfile.TemporaryDirectory() as folder:
            config = write_config(Path(folder), good + hostile, hook.url)
            print(f"{args.feeds} feeds: {len(good)} ordinary, {len(hostile)} hostile")
            for n in range(args.cycles):
                cycle = run_cycle(config, good)
                print(f"cycle {n + 1}: {cycle.seconds:.1f}s, {cycle.feeds_in_error} feeds in error "
                      f"({cycle.good_in_error} of them ordinary), {cycle.delivered} alerts delivered "
                      f"(of {len(good)}), peak RSS {cycle.peak_rss_mib:.0f} MiB")
            ids = [r.headers["webhook-id"] for r in hook.requests]
            print(f"webhook: {len(ids)} requests, {len(set(ids))} distinct alerts")
    finally:
        server.stop()
        hook.stop()


if __name__ == "__main__":
    main()
