"""The long-running daemon: APScheduler polls each feed at its interval, alerts go out,
config edits apply while it runs, SIGTERM ends it cleanly.

Choices made on purpose:
- one job per feed with ``max_instances=1`` (a slow feed never overlaps
  itself) and ``coalesce=True`` (after a pause, one catch-up poll, not a
  burst); the misfire grace time is the feed's own interval, because
  APScheduler's default of one second silently drops a late poll;
- a feed that errs or asks to be left alone (Retry-After, max-age) has its
  next run pushed back, never forward;
- the config file is watched by content hash; a bad edit is reported (log
  and ``status``) and the last good config keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from config.loader import load_config
from monitor import sdnotify
from monitor.app import delivery_client, fork_parsers, make_fetcher, open_runtime
from monitor.deliver import deliver_due
from monitor.digest import trigger_of
from monitor.errors import ConfigError, StorageError
from monitor.jobqueue import QueueingExecutor
from monitor.netguard import AddressPolicy
from monitor.pipeline import Runtime, classify_leftovers, poll_feed, resync_feeds, sync_feeds, utcnow
from monitor.polltrigger import PollTrigger
from storage import feeds as feeds_db
from storage import state as state_db

if TYPE_CHECKING:
    import httpx

    from config.schema import Settings

log = logging.getLogger("talentwatch")

DELIVERY_EVERY = 5.0
CONFIG_CHECK_EVERY = 2.0


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Daemon:
    def __init__(self, config_path: Path, settings: Settings, *, shutdown_timeout: float = 10.0) -> None:
        self.config_path = config_path
        self.settings = settings
        self.shutdown_timeout = shutdown_timeout
        self.config_digest = file_digest(config_path)
        self.stopping = asyncio.Event()
        self.inflight: set[asyncio.Task[Any]] = set()
        # Feed polls past the poll slots wait as queue entries, not as tasks (``monitor.jobqueue``).
        self.executor = QueueingExecutor(limit=1)
        self.scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": self.executor})
        self.rt: Runtime | None = None
        self.client: httpx.AsyncClient | None = None
        self.webhook_policy = AddressPolicy(settings.polling.allow_private)  # follows config reloads

    # ── life cycle ───────────────────────────────────────────────────────────

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, sig)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload(forced=True)))

        async with open_runtime(self.settings) as rt, delivery_client(self.webhook_policy) as client:
            self.rt, self.client = rt, client
            fork_parsers(rt)
            self.executor.limit = rt.polls.slots
            await resync_feeds(rt)
            await rt.run(self._record_config, None)
            await rt.run(state_db.put, rt.store, "daemon", {"pid": os.getpid(), "started": _iso(utcnow())},
                         utcnow())
            leftovers = await rt.run(classify_leftovers, rt)
            if leftovers[0]:
                log.info("classified %d entries left from an earlier run", leftovers[0])
            await self._schedule_feeds()
            self.scheduler.add_job(self._guarded(self._deliver), IntervalTrigger(seconds=DELIVERY_EVERY),
                                   id="deliver", max_instances=1, coalesce=True, misfire_grace_time=60,
                                   next_run_time=utcnow())
            self.scheduler.add_job(self._guarded(self._watch_config), IntervalTrigger(seconds=CONFIG_CHECK_EVERY),
                                   id="config", max_instances=1, coalesce=True, misfire_grace_time=60)
            self._schedule_digests()
            self.scheduler.start()
            log.info("talentwatch running: %d feeds, %d labs, %d channels, database %s",
                     len(self.settings.feeds), len(self.settings.labs), len(self.settings.channels),
                     self.settings.storage.path)
            _log_warnings(self.settings)
            self._start_watchdog()
            sdnotify.notify(f"READY=1\nSTATUS=polling {len(self.settings.feeds)} feeds")
            await self.stopping.wait()
            sdnotify.notify("STOPPING=1")
            await self._shutdown()
        log.info("talentwatch stopped")
        return 0

    def _start_watchdog(self) -> None:
        """Ping systemd's watchdog from the event loop itself, so a stalled loop gets the daemon restarted."""
        every = sdnotify.watchdog_interval()
        if every is not None:
            self.scheduler.add_job(sdnotify.notify, IntervalTrigger(seconds=every), args=["WATCHDOG=1"],
                                   id="watchdog", max_instances=1, coalesce=True, misfire_grace_time=None,
                                   next_run_time=utcnow())

    def stop(self, sig: signal.Signals | None = None) -> None:
        if not self.stopping.is_set():
            log.info("stopping (%s)", sig.name if sig else "requested")
            self.stopping.set()

    async def _shutdown(self) -> None:
        # Pause first: shutting APScheduler down would cancel running jobs at once, and
        # in-flight polls get up to ``shutdown_timeout`` to finish and commit.
        self.scheduler.pause()
        if self.inflight:
            _done, pending = await asyncio.wait(set(self.inflight), timeout=self.shutdown_timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)
                log.warning("cancelled %d unfinished jobs at shutdown", len(pending))
        self.scheduler.shutdown(wait=False)

    def _guarded(self, job: Any) -> Any:
        """Wrap a job so that shutdown can wait for it, and so an error is logged, never lost."""

        async def run(*args: Any) -> None:
            if self.stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self.inflight.add(task)
            try:
                await job(*args)
            except asyncio.CancelledError:
                if self.stopping.is_set():
                    return  # cancelled by shutdown after its grace time: already logged there
                raise
            except StorageError as exc:  # a full disk or a long lock: one clear line, the next run retries
                log.error("%s: %s (will try again)", getattr(job, "__name__", "job"), exc)
            except Exception:
                log.exception("job failed: %s", getattr(job, "__name__", job))
            finally:
                self.inflight.discard(task)

        return run

    # ── feeds ────────────────────────────────────────────────────────────────

    async def _schedule_feeds(self) -> None:
        assert self.rt is not None
        states = {f.configured_url or f.url: f for f in await self.rt.run(feeds_db.list_feeds, self.rt.store)}
        wanted = {feed.url for feed in self.settings.feeds}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("feed:") and job.id[5:] not in wanted:
                job.remove()
                log.info("feed removed: %s", job.id[5:])
        now = utcnow()
        for feed in self.settings.feeds:
            interval = feed.interval or self.settings.polling.interval
            trigger = PollTrigger(seconds=interval, jitter=min(interval * 0.1, 60.0))
            job_id = "feed:" + feed.url
            existing = self.scheduler.get_job(job_id)
            if existing is not None:
                if existing.trigger.interval.total_seconds() != interval:
                    existing.reschedule(trigger)
                    log.info("feed interval changed: %s every %ss", feed.url, interval)
                continue
            state = states.get(feed.url)
            first = now
            if state is not None and state.next_poll is not None and state.next_poll > now:
                first = state.next_poll  # a restart keeps the politeness earned before
            self.scheduler.add_job(self._guarded(self._poll), trigger, args=[feed.url], id=job_id,
                                   max_instances=1, coalesce=True, misfire_grace_time=max(int(interval), 1),
                                   next_run_time=first)

    async def _poll(self, url: str) -> None:
        assert self.rt is not None
        outcome = await poll_feed(self.rt, url)  # says what it stored: no second trip to the database
        job = self.scheduler.get_job("feed:" + url)
        if job is None:
            return
        if outcome.gone:
            job.remove()
            return
        # Back off (errors, Retry-After, max-age) only past the trigger's own jitter: a plain poll's
        # next run is already about an interval away, and rescheduling every job every time costs.
        slack = timedelta(seconds=getattr(job.trigger, "jitter", None) or 0)
        if (outcome.next_poll is not None and job.next_run_time is not None
                and outcome.next_poll > job.next_run_time + slack):
            job.modify(next_run_time=outcome.next_poll)
        if outcome.alerts:
            await self._deliver()

    async def _deliver(self) -> None:
        assert self.rt is not None and self.client is not None
        await deliver_due(self.rt, self.client)

    # ── digests ──────────────────────────────────────────────────────────────

    def _schedule_digests(self) -> None:
        """One cron job per digest channel: when it fires, the period closes and its digest goes out.

        The delivery round also closes any period that ended while the daemon
        was stopped, so a missed 09:00 is sent at the next start, once.
        """
        wanted = {c.key: c for c in self.settings.channels if c.digest}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:") and job.id[7:] not in wanted:
                job.remove()
        for key, channel in wanted.items():
            job_id = "digest:" + key
            trigger = trigger_of(channel)
            existing = self.scheduler.get_job(job_id)
            if existing is not None:
                if str(existing.trigger) != str(trigger) or existing.trigger.timezone != trigger.timezone:
                    existing.reschedule(trigger)
                continue
            self.scheduler.add_job(self._guarded(self._deliver), trigger, id=job_id, max_instances=1,
                                   coalesce=True, misfire_grace_time=3600)

    # ── config ───────────────────────────────────────────────────────────────

    async def _watch_config(self) -> None:
        digest = file_digest(self.config_path)
        if digest is not None and digest != self.config_digest and not _being_written(self.config_path):
            await self.reload()

    async def reload(self, *, forced: bool = False) -> bool:
        assert self.rt is not None
        digest = file_digest(self.config_path)
        if not forced and digest == self.config_digest:
            return False
        self.config_digest = digest
        try:
            if _blank(self.config_path):  # valid TOML, but a file cut to nothing, not a wish to stop everything
                raise ConfigError(str(self.config_path), ["the file is empty; the last good config stays"])
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("config not applied, still running the last good one: %s", exc)
            await self.rt.run(self._record_config, exc)
            return False
        old = self.settings
        if new.storage.path != old.storage.path:
            log.warning("storage.path changed: takes effect after a restart (still using %s)", old.storage.path)
            new = new.model_copy(update={"storage": old.storage})
        self.settings = new
        self.rt.settings = new
        from monitor.rules import tracked_labs

        self.rt.labs = tracked_labs(new.labs, self.rt.catalog)
        self.webhook_policy.update(new.polling.allow_private)
        if new.polling != old.polling:
            previous = self.rt.fetcher
            self.rt.fetcher = make_fetcher(new.polling)
            asyncio.get_running_loop().call_later(self.shutdown_timeout, _close_later, previous)
        await resync_feeds(self.rt)
        await self._schedule_feeds()
        self._schedule_digests()
        await self.rt.run(self._record_config, None)
        log.info("config reloaded: %d feeds, %d labs, %d channels", len(new.feeds), len(new.labs),
                 len(new.channels))
        sdnotify.notify(f"STATUS=polling {len(new.feeds)} feeds")
        _log_warnings(new)
        return True

    def _record_config(self, error: ConfigError | None) -> None:
        assert self.rt is not None
        now = utcnow()
        value: dict[str, Any] = {"path": str(self.config_path), "checked": _iso(now)}
        if error is None:
            value |= {"ok": True, "applied": _iso(now)}
        else:
            previous = state_db.get(self.rt.store, "config", {}) or {}
            value |= {"ok": False, "applied": previous.get("applied"), "errors": error.problems}
        state_db.put(self.rt.store, "config", value, now)


def _log_warnings(settings: Settings) -> None:
    """What ``check-config`` warns about (a polling interval under a minute, ...), said in the log too."""
    from config.summary import config_warnings

    for warning in config_warnings(settings):
        log.warning("config: %s", warning)


def _being_written(path: Path, settle: float = 1.0) -> bool:
    """Modified within ``settle`` seconds: an editor may be half-way through saving, so look again later."""
    try:
        return time.time() - path.stat().st_mtime < settle
    except OSError:
        return False


def _blank(path: Path) -> bool:
    try:
        return not path.read_bytes().strip()
    except OSError:
        return False  # a missing file is load_config's to report


def _close_later(fetcher: Any) -> None:
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().create_task(fetcher.aclose())


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def run_once(settings: Settings) -> dict[str, Any]:
    """One full cycle: poll every feed, classify, queue alerts, deliver what is due."""
    async with open_runtime(settings) as rt, delivery_client(settings.polling.allow_private) as client:
        fork_parsers(rt)
        await rt.run(sync_feeds, rt)
        await rt.run(classify_leftovers, rt)
        urls = [f.configured_url or f.url for f in await rt.run(feeds_db.list_feeds, rt.store) if not f.gone]
        outcomes = await asyncio.gather(*(poll_feed(rt, url) for url in urls))
        report = await deliver_due(rt, client)
        await rt.run(state_db.put, rt.store, "last_cycle", {"at": _iso(utcnow()), "feeds": len(urls)}, utcnow())
    return {
        "feeds": len(outcomes),
        "errors": sum(1 for o in outcomes if o.error),
        "new_entries": sum(o.new_entries for o in outcomes),
        "events": sum(o.events for o in outcomes),
        "alerts_queued": sum(o.alerts for o in outcomes),
        "delivered": report.delivered,
        "retrying": report.retrying,
        "dead": report.dead,
    }


