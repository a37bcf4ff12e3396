"""Fifty feeds, five of them hostile: the other forty-five are polled and every alert goes out once.

A scaled-down ``bench/hostile.py`` (1,000 feeds, 100 hostile), run in the
suite: a bomb, a drip or an endless body costs its own feed an error and
nothing else; the talentwatch process stays within a memory bound.
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from bench.hostile import run_cycle, serve, write_config
from tests.support.hostile_server import HostileServer
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.slow

MEMORY_BOUND_MIB = 1024


def test_fifty_feeds_five_hostile_every_ordinary_feed_polled_and_alerted(
    tmp_path: Path, hostile_server: HostileServer, webhook_receiver: WebhookReceiver
) -> None:
    good, hostile = serve(hostile_server, 50)
    assert (len(good), len(hostile)) == (45, 5)
    config = write_config(tmp_path, good + hostile, webhook_receiver.url, timeout="4s")
    cycle = run_cycle(config, good)
    assert cycle.good_in_error == 0
    assert cycle.feeds_in_error == len(hostile)
    assert cycle.delivered == len(good)
    ids = [r.headers["webhook-id"] for r in webhook_receiver.requests]
    assert len(ids) == len(set(ids)) == len(good)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 < MEMORY_BOUND_MIB
    again = run_cycle(config, good)  # a second cycle: nothing new, nothing sent twice
    assert again.good_in_error == 0 and again.delivered == len(good)
    assert len(webhook_receiver.requests) == len(good)
