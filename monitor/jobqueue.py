"""An APScheduler executor that keeps feed polls past a limit as queue entries, not as waiting tasks.

When thousands of feeds fall due at once (the first start, a restart after
a pause), APScheduler's asyncio executor starts a task for every one of
them at once, and all but a few hundred then wait for a poll slot. A waiting
task with its coroutine frames costs about 4.7 kB: 47 MB at 10,000 feeds,
the largest part of the daemon's peak memory. Here a due feed poll past
``limit`` waits as a ``(job, run_times)`` pair in a FIFO queue instead, and
starts when a running poll ends, so the order and the throughput are those
of the poll gate (``monitor.gate``) it would have waited at.

A queued poll counts as running for APScheduler (``max_instances=1`` still
keeps a feed from being queued twice). Other jobs (delivery, the config
watch, digests) are never queued: they must not wait behind a cycle of polls.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.base import run_coroutine_job
from apscheduler.job import Job
from apscheduler.util import iscoroutinefunction_partial


def is_feed_poll(job: Job) -> bool:
    return str(job.id).startswith("feed:")


class QueueingExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """At most ``limit`` queued-kind jobs run as tasks; the others wait in order."""

    def __init__(self, limit: int, queued: Callable[[Job], bool] = is_feed_poll) -> None:
        super().__init__()
        self.limit = max(1, limit)
        self._queued = queued
        self._waiting: deque[tuple[Job, list[datetime]]] = deque()
        self._running = 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if not (self._queued(job) and iscoroutinefunction_partial(job.func)):
            super()._do_submit_job(job, run_times)
        elif self._running >= self.limit:
            self._waiting.append((job, run_times))
        else:
            self._start(job, run_times)

    def _start(self, job: Job, run_times: list[datetime]) -> None:
        task = self._eventloop.create_task(run_coroutine_job(job, job._jobstore_alias, run_times,
                                                             self._logger.name))
        self._running += 1
        self._pending_futures.add(task)
        task.add_done_callback(partial(self._finished, job.id))

    def _finished(self, job_id: str, task: asyncio.Task[Any]) -> None:
        self._pending_futures.discard(task)
        self._running -= 1
        try:
            events = task.result()
        except BaseException:  # as AsyncIOExecutor reports it, cancellation included
            self._run_job_error(job_id, *sys.exc_info()[1:])
        else:
            self._run_job_success(job_id, events)
        while self._waiting and self._running < self.limit:
            self._start(*self._waiting.popleft())

    def shutdown(self, wait: bool = True) -> None:
        self._waiting.clear()
        super().shutdown(wait)
