"""Feed bookkeeping that may wait a second: the writes of a 304, gathered and committed together.

A feed answering 304 (or the same bytes as last time) changes no entry,
event or alert; all it leaves is its row's "polled fine at ..., next poll at
...". Committing that alone, with ``synchronous=FULL``, would cost a disk
flush for every feed of every cycle, and handing it to the database thread
alone a thread wake-up. Instead the pipeline leaves it here, on the event
loop; about once a second the writes gathered go to the database thread as
one job, which runs them in one transaction (``Store.grouped``) and commits.

Order is kept: any other work for the database thread (``Runtime.run``)
first hands over what is gathered (``flush``), and the thread runs its work
in order, so a read or a transaction never overtakes a feed's last
bookkeeping. Closing the runtime hands over the rest. A crash loses at most
the last second of bookkeeping, which the next poll writes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from storage import Store

log = logging.getLogger("talentwatch")

COMMIT_EVERY = 1.0  # seconds grouped bookkeeping may wait before it is made durable

Write = tuple[Callable[..., Any], tuple[Any, ...]]


class GroupedBookkeeping:
    """Gathers grouped writes on the event loop and owes their commit; used from the event loop only."""

    def __init__(self, worker: Executor, store: Store, every: float = COMMIT_EVERY) -> None:
        self.worker = worker
        self.store = store
        self.every = every
        self._gathered: list[Write] = []
        self._timer: asyncio.TimerHandle | None = None

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        """Have ``write(*args)`` run on the database thread inside the open group, within a second."""
        self._gathered.append((write, args))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.every, self._commit)

    def flush(self) -> None:
        """Hand what is gathered to the database thread now, ahead of whatever is submitted next."""
        if self._gathered:
            writes, self._gathered = self._gathered, []
            with contextlib.suppress(RuntimeError):  # the worker has shut down: nothing can be written any more
                self.worker.submit(self._write, writes).add_done_callback(_report)

    def _write(self, writes: list[Write]) -> None:
        for write, args in writes:
            try:
                with self.store.grouped():
                    write(*args)
            except Exception as exc:  # one failed row leaves the others in the group (Store.grouped)
                _warn(exc)

    def _commit(self) -> None:
        self._timer = None
        self.flush()
        with contextlib.suppress(RuntimeError):  # the worker has shut down: closing the store commits the rest
            self.worker.submit(self.store.commit_group).add_done_callback(_report)


def _report(done: Future[Any]) -> None:
    exc = done.exception()
    if exc is not None:
        _warn(exc)


def _warn(exc: BaseException) -> None:
    log.warning("feed bookkeeping not saved (the next poll saves it again): %s", exc)
