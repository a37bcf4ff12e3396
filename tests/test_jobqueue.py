"""Feed polls due all at once: at most ``limit`` run as tasks, the rest wait in order; other jobs never wait."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.jobqueue import QueueingExecutor


async def _until(check: Callable[[], bool]) -> None:
    """``eventually`` for a check that the event loop itself must make true."""
    while not check():
        await asyncio.sleep(0.05)


def test_due_feed_polls_past_the_limit_wait_in_order_without_tasks() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        running: list[str] = []
        started: list[str] = []
        most = 0
        other_ran = asyncio.Event()

        async def poll(url: str) -> None:
            nonlocal most
            started.append(url)
            running.append(url)
            most = max(most, len(running))
            await release.wait()
            running.remove(url)

        async def deliver() -> None:
            other_ran.set()

        executor = QueueingExecutor(limit=3)
        scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": executor})
        now = datetime.now(UTC)
        urls = [f"http://example.com/{i:03d}.xml" for i in range(50)]  # due together: APScheduler goes by id
        for url in urls:
            scheduler.add_job(poll, IntervalTrigger(seconds=3600), args=[url], id="feed:" + url, max_instances=1,
                              coalesce=True, misfire_grace_time=3600, next_run_time=now)
        scheduler.start()
        try:
            await asyncio.wait_for(_until(lambda: executor.waiting == len(urls) - 3), 30)
            tasks = len(asyncio.all_tasks())
            assert tasks < 10, tasks  # 47 polls wait as queue entries, not as tasks
            scheduler.add_job(deliver, id="deliver", next_run_time=datetime.now(UTC))
            await asyncio.wait_for(other_ran.wait(), 30)  # not queued behind the polls
            release.set()
            await asyncio.wait_for(_until(lambda: len(started) == len(urls) and not running), 30)
        finally:
            scheduler.shutdown(wait=False)
        assert started == urls  # in the order they fell due
        assert most == 3
        assert executor.waiting == 0

    asyncio.run(scenario())


def test_shutdown_drops_the_polls_still_waiting() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()

        async def poll(url: str) -> None:
            await gate.wait()

        executor = QueueingExecutor(limit=1)
        scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": executor})
        for i in range(5):
            scheduler.add_job(poll, args=[str(i)], id=f"feed:{i}", next_run_time=datetime.now(UTC))
        scheduler.start()
        await asyncio.wait_for(_until(lambda: executor.waiting == 4), 30)
        scheduler.shutdown(wait=False)  # carried out by the event loop
        await asyncio.wait_for(_until(lambda: executor.waiting == 0), 30)

    asyncio.run(scenario())
