"""``make bench``: how fast talentwatch classifies and parses, and how much memory it takes.

Figures are printed, not asserted: a shared machine makes timed tests flaky,
so targets are read here by people.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_classify(repeat: int) -> dict[str, float]:
    """The development set: every entry is about people, the costliest kind to read."""
    from monitor.classify import default_engine
    from monitor.records import Article

    rows = [json.loads(line) for line in (SHARED / "eval" / "dev.jsonl").read_text("utf-8").splitlines() if line]
    articles = [Article(id=r["id"], title=r["title"], summary=r["summary"]) for r in rows]
    started = time.perf_counter()
    default_engine().classify(articles[0])
    return {"load_s": round(time.perf_counter() - started, 2), **_classify_rate(articles, repeat)}


def bench_classify_feeds(repeat: int) -> dict[str, float]:
    """Every entry of the shared corpus of real feeds: news as it comes, mostly not about people."""
    from monitor.errors import ParseError
    from monitor.parse import parse_feed
    from monitor.records import Article

    articles = []
    for path in sorted(p for p in (SHARED / "corpus" / "feeds").iterdir() if p.name != "MANIFEST.tsv"):
        try:
            entries = parse_feed(path.read_bytes(), url="http://example.com/" + path.name).entries
        except ParseError:
            continue
        articles += [Article(id=e.key, title=e.title, summary=e.summary) for e in entries]
    return _classify_rate(articles, repeat)


def _classify_rate(articles: list[Any], repeat: int) -> dict[str, float]:
    from monitor.classify import default_engine

    engine = default_engine()
    total = len(articles) * repeat
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        for article in articles:
            engine.classify(article)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"entries": total, "entries_per_s": round(total / wall), "cpu_ms_per_entry": round(cpu / total * 1000, 3)}


def bench_parse() -> dict[str, float]:
    from monitor.errors import ParseError
    from monitor.parse import parse_feed

    files = sorted(p for p in (SHARED / "corpus" / "feeds").iterdir() if p.name != "MANIFEST.tsv")
    entries = errors = 0
    size = 0
    started = time.process_time()
    for path in files:
        content = path.read_bytes()
        size += len(content)
        try:
            entries += len(parse_feed(content, url="http://example.com/" + path.name).entries)
        except ParseError:
            errors += 1
    cpu = time.process_time() - started
    return {"feeds": len(files), "entries": entries, "errors": errors, "mb": round(size / 2**20, 1),
            "cpu_ms_per_feed": round(cpu / len(files) * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="passes over the development set")
    parser.add_argument("--feeds", type=int, default=1000, help="feeds served for the polling benchmark")
    parser.add_argument("--concurrency", type=int, default=128, help="fetches at once in the polling benchmark")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server waits before each answer")
    parser.add_argument("--items", type=int, nargs=2, default=[30, 50], metavar=("MIN", "MAX"),
                        help="items a served feed has (fewer make a first cycle of many feeds affordable)")
    parser.add_argument("--interval", type=float, default=30.0, help="polling interval of the daemon benchmark")
    parser.add_argument("--no-loops", action="store_true", help="skip the bare fetch loops")
    parser.add_argument("--trace-memory", action="store_true",
                        help="break the first cycle's largest Python heap down by line (slows it down)")
    parser.add_argument("--only", choices=["classify", "parse", "polling", "daemon"], help="run one benchmark")
    args = parser.parse_args(argv)
    items = (args.items[0], args.items[1])
    if args.only in (None, "classify"):
        print("classify (title + summary, one core):", bench_classify(args.repeat))
        print("classify (entries of the real feeds in the corpus, one core):",
              bench_classify_feeds(max(1, args.repeat // 30)))
    if args.only in (None, "parse"):
        print("parse (every corpus feed):", bench_parse())
    if args.only in (None, "polling"):
        from bench.polling import bench_polling

        print(f"polling ({args.feeds} feeds on 127.0.0.1, {args.latency * 1000:g} ms latency, "
              f"concurrency {args.concurrency}):", flush=True)
        print(json.dumps(bench_polling(args.feeds, args.concurrency, args.latency, items=items,
                                       loops=not args.no_loops, trace_memory=args.trace_memory), indent=1))
    if args.only == "daemon":  # minutes long: only when asked for
        from bench.daemon import bench_daemon

        print(f"daemon ({args.feeds} feeds, every {args.interval:g}s, {args.latency * 1000:g} ms latency, "
              f"concurrency {args.concurrency}):", flush=True)
        print(json.dumps(bench_daemon(args.feeds, interval=args.interval, concurrency=args.concurrency,
                                      latency=args.latency, items=items), indent=1))
    print(f"peak memory: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
