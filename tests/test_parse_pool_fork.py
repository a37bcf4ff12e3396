"""The daemon's parser processes: forked with the engine loaded, sharing its pages, rebuilt after a death."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from monitor.classify import default_engine
from monitor.errors import ParseError
from monitor.parse_pool import ForkedParsePool, parse_and_classify

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Alibaba speech lead Yan Zhijie joins JD.com</title><link>http://example.com/a</link>
<description>Yan Zhijie has left Alibaba's Tongyi Lab to join JD.com's Explore Academy.</description></item>
</channel></rss>"""


def _job() -> partial[object]:
    return partial(parse_and_classify, FEED, "http://example.com/feed.xml", "application/rss+xml", {}, True)


def _rollup(pid: int) -> dict[str, int]:
    """kB figures of /proc/PID/smaps_rollup: Rss, Pss, Private_Clean, Private_Dirty..."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        out[name] = int(value.split()[0])
    return out


@pytest.fixture
def pool() -> Iterator[ForkedParsePool]:
    default_engine()  # loaded before the fork, as the daemon does
    parser = ForkedParsePool(2)
    parser.start()
    yield parser
    parser.close()


def _workers(parser: ForkedParsePool) -> list[int]:
    assert parser._pool is not None
    return [p.pid for p in parser._pool._processes.values()]  # type: ignore[attr-defined]


def test_forked_workers_parse_and_classify_like_the_parent(pool: ForkedParsePool) -> None:
    assert len(_workers(pool)) == 2  # started by start(), before any feed
    batch = asyncio.run(pool.run(_job()))
    [entry] = batch.feed.entries
    assert batch.classified[entry.key].moves[0].person == "Yan Zhijie"
    assert batch == _job()()


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux /proc smaps_rollup")
def test_forked_workers_share_the_loaded_engine_with_the_parent(pool: ForkedParsePool) -> None:
    asyncio.run(pool.run(_job()))
    for pid in _workers(pool):
        figures = _rollup(pid)
        private = figures["Private_Clean"] + figures["Private_Dirty"]
        # A spawned worker's pages are nearly all its own; a forked one's mostly the parent's.
        assert private < figures["Rss"] * 0.5, figures


def test_a_worker_that_dies_costs_one_feed_and_the_pool_is_forked_again(pool: ForkedParsePool) -> None:
    async def scenario() -> None:
        victim = _workers(pool)[0]
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(ParseError):
            for _ in range(20):  # the pool notices the death on the next job it runs
                await pool.run(_job())
                await asyncio.sleep(0.2)
        batch = await pool.run(_job())
        assert batch.classified
        assert victim not in _workers(pool)

    asyncio.run(scenario())
