"""A polling cycle over N realistic feeds with 100 ms latency each, next to bare fetch loops.

Measured in one run, against the same local server:
- bare loops that only download every body: aiohttp (the floor), one
  httpx client, eight sharded httpx clients, httpx over the aiohttp transport;
- talentwatch's ``Fetcher`` in each of its layouts (address checks, caps, decoding);
- the CPU a 304 costs in a burst: bare aiohttp, httpx's client over the
  aiohttp transport, and the ``Fetcher``;
- talentwatch's full cycle (every feed's ``poll_feed`` at once, as
  ``run_once`` does): a first one where every feed answers 200 and is
  parsed, classified and stored, then three where every feed answers 304
  (the spread says how noisy the machine is). CPU counts the parser
  processes too, and is split between them and the main process. With
  ``trace_memory``, the largest Python heap seen during the first cycle is
  broken down by the lines that allocated it.
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from bench.feeds import ITEMS, FeedFarm

Loop = Callable[[list[str], int], Coroutine[Any, Any, int]]


async def _gather_bounded(urls: list[str], concurrency: int, get: Callable[[str], Awaitable[int]]) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def one(url: str) -> int:
        async with gate:
            return await get(url)

    return sum(await asyncio.gather(*(one(u) for u in urls)))


async def loop_aiohttp(urls: list[str], concurrency: int) -> int:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def get(url: str) -> int:
            async with session.get(url) as response:
                return len(await response.read())

        return await _gather_bounded(urls, concurrency, get)


def _httpx_client(concurrency: int, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, transport=transport, trust_env=False)


async def loop_httpx(urls: list[str], concurrency: int) -> int:
    async with _httpx_client(concurrency) as client:

        async def get(url: str) -> int:
            return len((await client.get(url)).content)

        return await _gather_bounded(urls, concurrency, get)


async def loop_httpx_sharded(urls: list[str], concurrency: int, shards: int = 8) -> int:
    clients = [_httpx_client(max(1, concurrency // shards)) for _ in range(shards)]
    try:

        async def get(url: str) -> int:
            return len((await clients[hash(url) % shards].get(url)).content)

        return await _gather_bounded(urls, concurrency, get)
    finally:
        for client in clients:
            await client.aclose()


async def loop_httpx_aiohttp(urls: list[str], concurrency: int) -> int:
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(max_connections=concurrency)
    async with _httpx_client(concurrency, AiohttpTransport(limits=limits, trust_env=False)) as client:

        async def get(url: str) -> int:
            return len((await client.get(url)).content)

        return await _gather_bounded(urls, concurrency, get)


def fetcher_loop(layout: str) -> Loop:
    async def run(urls: list[str], concurrency: int) -> int:
        from monitor.fetch import Fetcher
        from monitor.records import FeedForUpdate

        async with Fetcher(concurrency=concurrency, per_host=concurrency, allow_private=True,
                           layout=layout) as fetcher:  # type: ignore[arg-type]

            async def get(url: str) -> int:
                return len((await fetcher.fetch(FeedForUpdate(url))).content or b"")

            return sum(await asyncio.gather(*(get(u) for u in urls)))

    return run


LOOPS: dict[str, Loop] = {
    "bare aiohttp": loop_aiohttp,
    "bare httpx, one client": loop_httpx,
    "bare httpx, 8 sharded clients": loop_httpx_sharded,
    "bare httpx over aiohttp transport": loop_httpx_aiohttp,
    "Fetcher layout=single": fetcher_loop("single"),
    "Fetcher layout=sharded": fetcher_loop("sharded"),
    "Fetcher layout=aiohttp": fetcher_loop("aiohttp"),
}


async def conditional_loops(urls: list[str], concurrency: int, rounds: int = 3) -> dict[str, float]:
    """CPU milliseconds per 304 in a burst: bare aiohttp, httpx's client over the aiohttp transport, the Fetcher.

    Best of ``rounds`` bursts each, in this process only (no parsing, no
    database): what the HTTP stack and the Fetcher's guards cost a 304.
    """
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    from monitor.fetch import Fetcher
    from monitor.records import FeedForUpdate

    async def best(get: Callable[[str, str], Awaitable[int]]) -> float:
        gate = asyncio.Semaphore(concurrency)

        async def one(url: str) -> int:
            async with gate:
                return await get(url, etags[url])

        fastest = float("inf")
        for _ in range(rounds):
            cpu0 = _cpu()
            statuses = await asyncio.gather(*(one(u) for u in urls))
            assert set(statuses) == {304}, set(statuses)
            fastest = min(fastest, (_cpu() - cpu0) / len(urls) * 1000)
        return round(fastest, 3)

    out: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        etags = {}
        for url in urls:
            async with session.get(url) as response:
                await response.read()
                etags[url] = response.headers["ETag"]

        async def bare(url: str, etag: str) -> int:
            async with session.get(url, headers={"If-None-Match": etag}) as response:
                await response.read()
                return response.status

        out["bare aiohttp"] = await best(bare)
    async with _httpx_client(concurrency, AiohttpTransport(trust_env=False)) as client:

        async def over_transport(url: str, etag: str) -> int:
            return (await client.get(url, headers={"If-None-Match": etag})).status_code

        out["httpx client over aiohttp transport"] = await best(over_transport)
    async with Fetcher(concurrency=concurrency, per_host=concurrency, allow_private=True) as fetcher:

        async def ours(url: str, etag: str) -> int:
            return (await fetcher.fetch(FeedForUpdate(url, etag))).status

        out["Fetcher (address checks, caps, decoding)"] = await best(ours)
    return out


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def time_loop(loop: Loop, urls: list[str], concurrency: int) -> dict[str, float]:
    cpu0, wall0 = _cpu(), time.perf_counter()
    size = asyncio.run(loop(urls, concurrency))
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    return {"wall_s": round(wall, 2), "responses_per_s": round(len(urls) / wall), "cpu_s": round(cpu, 2),
            "mb": round(size / 2**20)}


def talentwatch_cycles(urls: list[str], concurrency: int, trace_memory: bool = False) -> list[dict[str, Any]]:
    """Cycles of one runtime on a fresh database, as the daemon runs them: all 200, then all 304 (three times).

    The first parses (in the parser processes), classifies, merges and stores
    every entry; the second costs only the conditional GETs and their bookkeeping.
    """
    from config.loader import load_config
    from monitor.app import fork_parsers, open_runtime
    from monitor.pipeline import poll_feed, sync_feeds

    async def cycles(settings: Any) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        async with open_runtime(settings) as rt:
            fork_parsers(rt)  # as the daemon and ``once`` do: the parsers start with the engine loaded
            await rt.run(sync_feeds, rt)
            for n in range(4):
                sampler = asyncio.create_task(_sample_heap()) if trace_memory and n == 0 else None
                cpu0, own0, wall0 = _cpu_with_parsers(rt), _cpu(), time.perf_counter()
                outcomes = await asyncio.gather(*(poll_feed(rt, url) for url in urls))
                await rt.run(rt.store.commit_group)  # the grouped bookkeeping is part of the cycle's cost
                wall, cpu = time.perf_counter() - wall0, _cpu_with_parsers(rt) - cpu0
                own = _cpu() - own0
                results.append({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                                "cpu_main_process_s": round(own, 2), "cpu_parser_processes_s": round(cpu - own, 2),
                                "cpu_ms_per_feed": round(cpu / len(urls) * 1000, 2),
                                "errors": sum(1 for o in outcomes if o.error),
                                "new_entries": sum(o.new_entries for o in outcomes),
                                "events": sum(o.events for o in outcomes)})
                if sampler is not None:
                    sampler.cancel()
                    results[0]["python_heap_at_peak"] = _heap_top()
                if n == 0:
                    results[0]["parser_processes_peak_rss_mb"] = _parser_rss(rt)
        return results

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "talentwatch.toml"
        feeds = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in urls)
        config.write_text(
            f'[storage]\npath = "tw.db"\n[polling]\nconcurrency = {concurrency}\nper_host = {concurrency}\n'
            f'allow_private = true\ntimeout = "60s"\n'
            # The served items link to pages nobody serves: no full-text reads (feed readers make none).
            '[classify]\nfulltext = false\n'
            f'[[labs]]\nname = "OpenAI"\n[[labs]]\nname = "Alibaba"\n[[labs]]\nname = "Google DeepMind"\n{feeds}',
            "utf-8")
        return asyncio.run(cycles(load_config(config)))


_largest: list[Any] = []  # the snapshot with the most traced bytes, with its size


async def _sample_heap(every: float = 1.0) -> None:
    import tracemalloc

    tracemalloc.start(1)
    _largest.clear()
    try:
        while True:
            await asyncio.sleep(every)
            size = tracemalloc.get_traced_memory()[0]
            if not _largest or size > _largest[1]:
                _largest[:] = [tracemalloc.take_snapshot(), size]
    finally:
        tracemalloc.stop()


def _heap_top(lines: int = 8) -> dict[str, float]:
    if not _largest:
        return {}
    snapshot, size = _largest
    top = {"total": round(size / 2**20, 1)}
    for stat in snapshot.statistics("lineno")[:lines]:
        frame = stat.traceback[0]
        top[f"{Path(frame.filename).name}:{frame.lineno}"] = round(stat.size / 2**20, 1)
    return top


def _parser_rss(rt: Any) -> list[int]:
    """Peak resident MB of each live parser process."""
    found = []
    pool = getattr(rt.parser, "_pool", None)
    for pid in list(getattr(pool, "_processes", {}) or {}):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found += [round(int(line.split()[1]) / 1024) for line in status.splitlines() if line.startswith("VmHWM:")]
    return found


def _cpu_with_parsers(rt: Any) -> float:
    """This process's CPU plus the live parser processes' (they are not reaped, so RUSAGE_CHILDREN misses them)."""
    total = _cpu()
    pool = getattr(rt.parser, "_pool", None)
    for pid in list(getattr(pool, "_processes", {}) or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def bench_polling(feeds: int, concurrency: int, latency: float, loops: bool = True,
                  items: tuple[int, int] = ITEMS, trace_memory: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"feeds": feeds, "concurrency": concurrency, "latency_s": latency,
                           "latency_floor_s": round(feeds / concurrency * latency, 2)}
    with FeedFarm(feeds, latency, items) as farm:
        urls = farm.urls()
        out["mean_feed_kb"] = round(farm.mean_size / 1024, 1)
        if loops:
            for name, loop in LOOPS.items():
                out[name] = time_loop(loop, urls, concurrency)
                print(f"  {name}: {out[name]}", flush=True)
            out["cpu ms per 304 in a burst"] = asyncio.run(conditional_loops(urls, concurrency))
            print(f"  cpu ms per 304 in a burst: {out['cpu ms per 304 in a burst']}", flush=True)
        first, *again = talentwatch_cycles(urls, concurrency, trace_memory)
        out["talentwatch first cycle (all 200)"] = first
        out["talentwatch cycles of 304s"] = again
        print(f"  talentwatch first cycle (all 200): {first}", flush=True)
        for cycle in again:
            print(f"  talentwatch cycle of 304s: {cycle}", flush=True)
        bare = [out[name]["wall_s"] for name in LOOPS if name in out and name.startswith("bare")]
        fastest = min(bare, default=0.0)
        if fastest:
            out["304 cycle / fastest bare loop (best of three)"] = round(min(c["wall_s"] for c in again) / fastest, 2)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["peak_rss_mb"] = {"main process": round(own), "largest child (server or parser)": round(kids)}
    return out
