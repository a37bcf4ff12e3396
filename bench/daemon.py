"""The daemon as users run it (``main.py run``, a subprocess) over N served feeds: cost of a cycle, memory.

This is the measurement behind the polling targets, because it includes
everything a 304 costs in real life: the scheduler's job, the fetch, the
database thread, the grouped commit, logging, and the daemon's own timers
(config watch, delivery). It reports:

- the first cycle (every feed answers 200, is parsed in the parser
  processes, classified and stored): wall time and CPU seconds, daemon plus
  its parser processes;
- steady state (every feed answers 304, each at its own interval): CPU per
  304 over a window of whole intervals, the daemon's timers included;
- the peak resident memory (VmHWM) of the daemon and of each child process,
  and, at the end, each one's RSS, PSS and private memory (smaps_rollup):
  forked parser processes share the daemon's pages, so their RSS counts
  those pages twice and the sum of PSS is the honest total;
- the floor for that steady state: bare aiohttp sending the same
  conditional GETs at the same pace, one feed at a time as the scheduler
  does. Paced requests cost more than a burst, in user and kernel time
  alike: on 127.0.0.1 the kernel charges the sender for waking the idle
  server, so the split of user and system CPU is reported too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.feeds import FeedFarm

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU of the process and its live children (parser processes are not reaped while it runs)."""
    user = system = 0.0
    for p in [pid, *children(pid)]:
        try:
            fields = _stat(p)
            user += int(fields[11]) / TICK
            system += int(fields[12]) / TICK
        except (OSError, IndexError, ValueError):
            pass
    return user, system


async def _paced_aiohttp(urls: list[str], etags: dict[str, str], interval: float) -> None:
    """Conditional GETs of every URL spread evenly over ``interval``, as a scheduler with jitter sends them."""
    import aiohttp

    async with aiohttp.ClientSession() as session:

        async def get(url: str) -> None:
            async with session.get(url, headers={"If-None-Match": etags.get(url, "")}) as response:
                await response.read()
                if response.status == 200:
                    etags[url] = response.headers.get("ETag", "")

        tasks = []
        for url in urls:
            tasks.append(asyncio.create_task(get(url)))
            await asyncio.sleep(interval / len(urls))
        await asyncio.gather(*tasks)


def paced_floor(urls: list[str], interval: float) -> dict[str, float]:
    """Bare aiohttp at the daemon's pace: the CPU a 304 costs with nothing but the HTTP client."""
    etags: dict[str, str] = {}
    asyncio.run(_paced_aiohttp(urls, etags, interval / 4))  # learn the ETags
    before, wall0 = os.times(), time.perf_counter()
    asyncio.run(_paced_aiohttp(urls, etags, interval))
    after, wall = os.times(), time.perf_counter() - wall0
    user, system = after.user - before.user, after.system - before.system
    n = len(urls)
    return {"window_s": round(wall, 1), "requests": n, "cpu_ms_per_304": round((user + system) / n * 1000, 3),
            "user_ms": round(user / n * 1000, 3), "system_ms": round(system / n * 1000, 3)}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def smaps_mb(pid: int) -> dict[str, float]:
    """Now, from /proc/PID/smaps_rollup: resident, proportional (shared pages split among their sharers)
    and private (unique to the process) memory. Forked parser processes share the daemon's pages, so
    their RSS counts those pages again; the sum of PSS is what the daemon and its workers cost together.
    """
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    except OSError:
        return {}
    kb = {name: int(value.split()[0]) for name, value in (line.split(":", 1) for line in lines)}
    return {"rss": round(kb.get("Rss", 0) / 1024, 1), "pss": round(kb.get("Pss", 0) / 1024, 1),
            "private": round((kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024, 1)}


def _role(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return "resource tracker" if b"resource_tracker" in command else "parser process"


def _polled(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM feeds WHERE last_polled IS NOT NULL").fetchone()[0])
    except sqlite3.Error:
        return 0


def _wait(condition: Any, timeout: float, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"the daemon exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def bench_daemon(feeds: int, *, interval: float, concurrency: int, latency: float, items: tuple[int, int],
                 windows: int = 2) -> dict[str, Any]:
    """Run the daemon over ``feeds`` feeds; measure its first cycle, then ``windows`` intervals of 304s."""
    out: dict[str, Any] = {"feeds": feeds, "items_per_feed": f"{items[0]}-{items[1]}", "interval_s": interval,
                           "concurrency": concurrency, "latency_s": latency}
    with FeedFarm(feeds, latency, items) as farm, tempfile.TemporaryDirectory() as folder:
        out["mean_feed_kb"] = round(farm.mean_size / 1024, 1)
        config = Path(folder) / "talentwatch.toml"
        db = Path(folder) / "tw.db"
        config.write_text(
            f'[storage]\npath = "{db.name}"\n[polling]\ninterval = "{interval:g}s"\nconcurrency = {concurrency}\n'
            f'per_host = {concurrency}\nallow_private = true\ntimeout = "60s"\n'
            # The served items link to pages nobody serves: no full-text reads (feed readers make none).
            '[classify]\nfulltext = false\n'
            '[[labs]]\nname = "OpenAI"\n[[labs]]\nname = "Alibaba"\n[[labs]]\nname = "Google DeepMind"\n'
            + "".join(f'[[feeds]]\nurl = "{url}"\n' for url in farm.urls()), "utf-8")
        log = (Path(folder) / "daemon.log").open("wb")
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--log-level", "warning", "run",
                                    "--config", str(config)], stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        try:
            _wait(lambda: _polled(db) >= feeds, 3600, "the first cycle", process)
            first_wall = time.perf_counter() - started
            first_cpu = sum(cpu_seconds(process.pid))
            out["first cycle (all 200, daemon start included)"] = {
                "wall_s": round(first_wall, 1), "cpu_s": round(first_cpu, 1),
                "cpu_ms_per_feed": round(first_cpu / feeds * 1000, 1), "served_200": farm.served()[0]}
            print(f"  first cycle: {out['first cycle (all 200, daemon start included)']}", flush=True)
            # Steady state: from the first 304 on, whole intervals of polls.
            _wait(lambda: farm.served()[1] > 0, interval * 2 + 60, "the first 304", process)
            (user0, system0), served0, wall0 = cpu_seconds(process.pid), farm.served()[1], time.perf_counter()
            time.sleep(interval * windows)
            user, system = cpu_seconds(process.pid)
            user, system = user - user0, system - system0
            served, wall = max(farm.served()[1] - served0, 1), time.perf_counter() - wall0
            out["steady state (all 304)"] = {
                "window_s": round(wall, 1), "polls_304": served, "cpu_s": round(user + system, 2),
                "cpu_ms_per_304": round((user + system) / served * 1000, 3),
                "user_ms": round(user / served * 1000, 3), "system_ms": round(system / served * 1000, 3),
                "core_share_pct": round((user + system) / wall * 100, 1)}
            print(f"  steady state: {out['steady state (all 304)']}", flush=True)
            pids = {process.pid: "daemon", **{pid: f"{pid} ({_role(pid)})" for pid in children(process.pid)}}
            peaks = {name: round(peak_rss_mb(pid)) for pid, name in pids.items()}
            now = {name: smaps_mb(pid) for pid, name in pids.items()}
            out["peak_rss_mb"] = {"daemon": peaks.pop("daemon"), "children": peaks,
                                  "sum of peaks": round(sum(peak_rss_mb(pid) for pid in pids))}
            out["memory_now_mb (rss, pss, private)"] = {
                **now, "total pss": round(sum(m.get("pss", 0.0) for m in now.values()), 1)}
            print(f"  memory: {out['peak_rss_mb']} {out['memory_now_mb (rss, pss, private)']}", flush=True)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                out["exit_code"] = process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                out["exit_code"] = "killed"
            log.close()
        out["floor: bare aiohttp at the same pace"] = paced_floor(farm.urls(), interval)
        print(f"  floor: {out['floor: bare aiohttp at the same pace']}", flush=True)
        errors = [line for line in (Path(folder) / "daemon.log").read_text("utf-8", "replace").splitlines()
                  if "ERROR" in line or "Traceback" in line]
        out["log_errors"] = errors[:5]
    return out
