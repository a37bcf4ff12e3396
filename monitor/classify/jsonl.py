"""Classify a JSON Lines file of articles (eval/FORMAT.md) into a file of predictions.

Streams line by line, so a file of any size runs in constant memory; the
``gold`` field, when present, is never read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from monitor.classify import Engine, default_engine
from monitor.records import Article, Classification


def classify_file(input: Path, output: Path, *, progress: bool = False, engine: Engine | None = None) -> int:
    """Write one prediction line per article of ``input`` to ``output``; return the count."""
    engine = engine or default_engine()
    count = 0
    with open(input, encoding="utf-8") as src, open(output, "w", encoding="utf-8") as dst:
        for row in _rows(src, progress, Path(input)):
            article = _article(row, count)
            result = engine.classify(article)
            dst.write(json.dumps(prediction(result), ensure_ascii=False) + "\n")
            count += 1
    return count


def prediction(result: Classification) -> dict[str, Any]:
    """The prediction line of FORMAT.md for one classification."""
    return {
        "id": result.article_id,
        "personnel_change": result.personnel_change,
        "events": [
            {
                "person": m.person,
                "person_aliases": list(m.person_aliases),
                "from_org": m.from_org,
                "from_parent": m.from_parent,
                "to_org": m.to_org,
                "to_parent": m.to_parent,
                "role": m.role,
                "status": m.status,
                "confidence": m.confidence,
                "evidence": m.evidence,
            }
            for m in result.moves
        ],
    }


def _rows(src: TextIO, progress: bool, path: Path) -> Iterator[dict[str, Any]]:
    lines: Iterator[str] = src
    if progress:
        lines = _progress(src, path)
    for line in lines:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            yield row


def _progress(src: TextIO, path: Path) -> Iterator[str]:
    """Lines of ``src`` with a progress bar on stderr (tqdm when installed, else a counter)."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        yield from _counter(src)
        return
    with tqdm(src, desc=f"classify {path.name}", unit=" articles", file=sys.stderr) as bar:
        yield from bar


def _counter(src: TextIO) -> Iterator[str]:
    for n, line in enumerate(src, 1):
        if n % 1000 == 0:
            print(f"\r{n} articles", end="", file=sys.stderr)
        yield line
    print(file=sys.stderr)


def _article(row: dict[str, Any], n: int) -> Article:
    published = None
    raw = row.get("published")
    if isinstance(raw, str) and raw:
        try:
            published = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if published.tzinfo is None:
                published = published.replace(tzinfo=UTC)
        except ValueError:
            published = None
    return Article(
        id=str(row.get("id", n)),
        title=str(row.get("title") or ""),
        summary=str(row.get("summary") or ""),
        url=row.get("url") if isinstance(row.get("url"), str) else None,
        published=published,
        lang=row.get("lang") if isinstance(row.get("lang"), str) else None,
    )
