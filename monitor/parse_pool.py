"""The work a parser process does for one fetched feed: parse it, and classify what is new.

Classification costs milliseconds an entry and parsing tens of them a feed;
both are pure, so both run in the worker processes (``monitor.parse.ParsePool``),
on every core, and the database thread is left with storing, merging and
queueing alerts. The engine is the process's ``default_engine()``, loaded
once per worker on its first feed and kept for the next ones.

Only entries that are new or changed are classified: the caller passes the
content hashes it already stores for the feed. An entry the worker could not
classify (the engine raised) is left out, and the database thread classifies
it itself, as it would without workers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.parse import parse_feed
from monitor.records import Article, Classification, FeedEntry, ParsedFeed

log = logging.getLogger("talentwatch")


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """A parsed feed and the classifications of its new or changed entries, by entry key.

    ``candidates`` are the keys of those worth reading in full (``monitor.fulltext``).
    """

    feed: ParsedFeed
    classified: Mapping[str, Classification] = field(default_factory=dict)
    candidates: frozenset[str] = frozenset()


def article_of(entry: FeedEntry, article_id: str) -> Article:
    return Article(id=article_id, title=entry.title, summary=entry.summary, url=entry.link, published=entry.published)


def fresh_entries(parsed: ParsedFeed, known: Mapping[str, str]) -> list[FeedEntry]:
    """The entries whose key is unknown or whose content changed since stored."""
    return [entry for entry in parsed.entries if known.get(entry.key) != entry.content_hash]


def parse_and_classify(content: bytes, url: str, content_type: str | None, known: Mapping[str, str],
                       classify: bool, fulltext: bool = False) -> ParsedBatch:
    """Parse the feed and, when ``classify``, classify its fresh entries with this process's engine.

    With ``fulltext``, also tell which of them are candidates for reading their page.
    """
    parsed = parse_feed(content, url=url, content_type=content_type)
    if not classify:
        return ParsedBatch(parsed)
    from monitor.classify import default_engine
    from monitor.classify.candidates import is_candidate

    engine = default_engine()
    results: dict[str, Classification] = {}
    candidates: set[str] = set()
    for entry in fresh_entries(parsed, known):
        try:
            article = article_of(entry, entry.key)
            results[entry.key] = engine.classify(article)
            if fulltext and entry.link and is_candidate(engine, article, results[entry.key]):
                candidates.add(entry.key)
        except Exception:  # the database thread tries again and reports it where it always did
            log.debug("classification failed in the parser process: %s", entry.key, exc_info=True)
    return ParsedBatch(parsed, results, frozenset(candidates))
