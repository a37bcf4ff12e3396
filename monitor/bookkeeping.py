"""Feed bookkeeping that may wait a second: the writes of a 304, grouped into one commit.

A feed answering 304 (or the same bytes as last time) changes no entry,
event or alert; all it leaves is its row's "polled fine at ..., next poll at
...". Committing that alone, with ``synchronous=FULL``, would cost a disk
flush and a round trip to the database thread for every feed of every cycle.
Instead the pipeline hands it to the database thread without waiting, the
writes join one open transaction (``Store.grouped``), and it is committed
about once a second, before any other transaction, and when the store
closes. The database thread runs its work in order, so the feed's next read
sees its last write; a crash loses at most the last second of bookkeeping,
which the next poll writes again.
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


class GroupedBookkeeping:
    """Hands grouped writes to the database thread and owes their commit; used from the event loop only."""

    def __init__(self, worker: Executor, store: Store, every: float = COMMIT_EVERY) -> None:
        self.worker = worker
        self.store = store
        self.every = every
        self._timer: asyncio.TimerHandle | None = None

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        """Run ``write(*args)`` on the database thread inside the open group; do not wait for it."""
        self.worker.submit(self._grouped, write, args).add_done_callback(_report)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.every, self._commit)

    def _grouped(self, write: Callable[..., Any], args: tuple[Any, ...]) -> None:
        with self.store.grouped():
            write(*args)

    def _commit(self) -> None:
        self._timer = None
        with contextlib.suppress(RuntimeError):  # the worker has shut down: closing the store commits the rest
            self.worker.submit(self.store.commit_group).add_done_callback(_report)


def _report(done: Future[Any]) -> None:
    exc = done.exception()
    if exc is not None:
        log.warning("feed bookkeeping not saved (the next poll saves it again): %s", exc)
