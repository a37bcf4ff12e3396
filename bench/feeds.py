"""Realistic feeds served on 127.0.0.1 with added latency, for the polling benchmark.

Each feed has 30-50 items (~75 KB) built from the real headlines and
summaries of the shared feed corpus, with an ETag so a second cycle is all 304s. The
server runs in its own process (aiohttp), so its CPU is not counted as the
client's and it does not share the client's event loop. It counts the 200s
and 304s it sends, so a benchmark of the daemon can tell when a cycle is done.
Fewer items a feed (``items``) make a first cycle of many thousands of feeds
affordable when what is measured is the 304s or the memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
# Pads each item to a realistic size. It names no move of its own ("hiring" here once sent every item down the
# engine's costliest path), so what the items are about stays what the corpus headlines and summaries are about.
FILLER = ("The lab said the work continues, and people familiar with the matter described the team's plans "
          "for the coming year, including new models, products and partnerships with universities. ")


ITEMS = (30, 50)


def make_feed(index: int, texts: list[tuple[str, str]], now: datetime, items_range: tuple[int, int] = ITEMS) -> bytes:
    """One RSS feed of 30-50 items (``items_range``), ~75 KB, the same bytes for the same index."""
    rng = random.Random(index)
    items = []
    for n in range(rng.randint(*items_range)):
        title, summary = texts[rng.randrange(len(texts))]
        body = summary + " " + FILLER * rng.randint(6, 12)
        when = format_datetime(now - timedelta(hours=n * 3 + rng.random()), usegmt=True)
        items.append(
            f"<item><title>{escape(title)}</title><link>https://news{index}.example/{n}</link>"
            f"<guid>https://news{index}.example/{n}</guid><pubDate>{when}</pubDate>"
            f"<description>{escape('<p>' + escape(body) + '</p>')}</description></item>"
        )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News {index}</title>'
            f"<link>https://news{index}.example/</link><description>AI news</description>"
            + "".join(items) + "</channel></rss>").encode()


def corpus_texts() -> list[tuple[str, str]]:
    """Headlines and summaries of the real feeds in the shared corpus: mostly not about people, as news is."""
    from monitor.errors import ParseError
    from monitor.parse import parse_feed

    texts = []
    for path in sorted((SHARED / "corpus" / "feeds").iterdir()):
        try:
            parsed = parse_feed(path.read_bytes(), url="http://example.com/")
        except (ParseError, OSError):
            continue
        texts += [(e.title, e.summary[:1500]) for e in parsed.entries if e.title]
    return texts


def _serve(count: int, latency: float, items: tuple[int, int], counts: Any, ready: Any, stop: Any) -> None:
    from aiohttp import web

    now = datetime.now(UTC)
    texts = corpus_texts()
    bodies = [make_feed(i, texts, now, items) for i in range(count)]
    etags = ['"' + hashlib.sha256(b).hexdigest()[:16] + '"' for b in bodies]

    async def handle(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(latency)
        index = int(request.match_info["index"])
        if request.headers.get("If-None-Match") == etags[index]:
            counts[1] += 1
            return web.Response(status=304, headers={"ETag": etags[index]})
        counts[0] += 1
        return web.Response(body=bodies[index], headers={"ETag": etags[index]},
                            content_type="application/rss+xml")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{index}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.put((port, sum(len(b) for b in bodies) / len(bodies)))
        while not stop.is_set():
            await asyncio.sleep(0.2)
        await runner.cleanup()

    asyncio.run(main())


class FeedFarm:
    """``count`` feeds at ``http://127.0.0.1:PORT/feed/N.xml``, each answered after ``latency`` seconds."""

    def __init__(self, count: int, latency: float = 0.1, items: tuple[int, int] = ITEMS) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready = context.Queue()
        self._stop = context.Event()
        self._counts = context.Array("q", 2, lock=False)  # 200s, 304s; only the server writes
        self._process = context.Process(target=_serve, args=(count, latency, items, self._counts, self._ready,
                                                             self._stop), daemon=True)
        self.count = count
        self.port = 0
        self.mean_size = 0.0

    def __enter__(self) -> FeedFarm:
        self._process.start()
        self.port, self.mean_size = self._ready.get(timeout=120)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def served(self) -> tuple[int, int]:
        """How many 200s and 304s the server has sent so far."""
        return int(self._counts[0]), int(self._counts[1])

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port}/feed/{i}.xml" for i in range(self.count)]
