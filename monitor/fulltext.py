"""Full text for candidate entries: fetch the article page, extract its text, read it again.

When a headline and summary name a move but not both of its sides, the
article page usually says the rest. For those entries only (the candidate
rule lives in ``monitor.classify.candidates``) a poll fetches the page
through the same fetcher as feeds (address checks, deadline, byte caps),
extracts the main text with trafilatura, and classifies the entry again
with that text after its summary, keeping what it adds.

Bounded everywhere: at most ``classify.fulltext_max_pages`` pages fetched
per feed and poll, ``PAGE_CONCURRENCY`` at once over all feeds, pages over
``PAGE_MAX_BYTES`` not read, ``PAGE_TEXT_CHARS`` of text kept. Nothing here
raises: a page that cannot be had or read leaves the summary's reading in
place. Every page read, or failed, is cached in SQLite by canonical link
(``storage.pages``): a page is fetched once, and a failed one is tried again
only after ``RETRY_FAILED``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from configparser import ConfigParser
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.classify import Engine
from monitor.classify.candidates import PAGE_TEXT_CHARS, classify_with_text, is_candidate
from monitor.errors import FetchError
from monitor.records import Article, Classification
from storage import pages as pages_db
from storage.pages import CachedPage

if TYPE_CHECKING:
    from monitor.parse_pool import ParsedBatch
    from monitor.pipeline import Runtime
    from storage import Store

log = logging.getLogger("talentwatch")

PAGE_MAX_BYTES = 2 * 2**20  # an article page is tens to hundreds of KiB; more is not an article
PAGE_CONCURRENCY = 8  # pages fetched at once, all feeds together
MAX_TREE_SIZE = 60_000  # HTML elements trafilatura will look at
RETRY_FAILED = timedelta(days=1)
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref|ref_src)$", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True, slots=True)
class PageReading:
    """What reading one candidate's page gave: its text (or why none) and the entry's new reading."""

    text: str | None
    error: str | None
    result: Classification


def canonical_url(url: str | None) -> str | None:
    """The key a page is cached under: scheme and host lower-cased, no fragment, no tracking query.

    Only http(s) links are pages; anything else is None.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def extract_text(html: bytes, url: str | None = None) -> str | None:
    """The article's main text, at most ``PAGE_TEXT_CHARS`` cut at a paragraph; None if there is none.

    Never raises: a page trafilatura cannot read is simply no text.
    """
    if not html or len(html) > PAGE_MAX_BYTES:
        return None
    try:
        import trafilatura

        text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False,
                                   favor_precision=True, config=_trafilatura_config())
    except Exception:
        log.debug("full text: extraction failed for %s", url, exc_info=True)
        return None
    return _first_paragraphs(text or "") or None


@functools.cache
def _trafilatura_config() -> ConfigParser:
    """trafilatura's defaults, with a bound on the elements it looks at and no timer of its own."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def _first_paragraphs(text: str, limit: int = PAGE_TEXT_CHARS) -> str:
    """Whole paragraphs up to ``limit`` characters; a first paragraph longer than that is cut."""
    kept: list[str] = []
    size = 0
    for paragraph in _BLANK_LINES.split(text.replace("\r", "")):
        for line in paragraph.split("\n"):
            line = " ".join(line.split())
            if not line:
                continue
            if size + len(line) > limit:
                if not kept:
                    kept.append(line[:limit])
                return "\n\n".join(kept)
            kept.append(line)
            size += len(line) + 2
    return "\n\n".join(kept)


def read_page(html: bytes | None, text: str | None, article: Article, before: Classification) -> PageReading:
    """Extract a page (or take the cached ``text``) and classify the entry again with it.

    Runs in a parser process with that process's built-in engine; pure apart
    from that, and never raises.
    """
    from monitor.classify import default_engine

    if text is None:
        text = extract_text(html or b"", article.url)
        if text is None:
            return PageReading(None, "no article text found on the page", before)
    try:
        result = classify_with_text(default_engine(), article, text, before)
    except Exception:  # the engine never raises, but a page must never cost the entry its reading
        log.debug("full text: classification failed for %s", article.url, exc_info=True)
        result = before
    return PageReading(text, None, result)


def cached_reading(store: Store, engine: Engine, article: Article, result: Classification,
                   enabled: bool) -> Classification:
    """Reclassifying a stored entry: use its page's cached text, if it is a candidate and one was read.

    Never fetches: reclassification stays offline and as fast as the engine.
    """
    if not enabled or not hasattr(engine, "move_cue"):
        return result
    key = canonical_url(article.url)
    if key is None or not is_candidate(engine, article, result):
        return result
    page = pages_db.get_page(store, key)
    if page is None or not page.text:
        return result
    return classify_with_text(engine, article, page.text, result)


async def enrich(rt: Runtime, batch: ParsedBatch) -> tuple[ParsedBatch, list[CachedPage]]:
    """Read the pages of a batch's candidates; the batch with richer readings, and the pages to cache.

    Pages already cached are read from the cache (not counted against the
    per-feed limit); a failure cached less than ``RETRY_FAILED`` ago is not
    tried again; at most ``fulltext_max_pages`` are fetched.
    """
    settings = rt.settings.classify
    if not settings.fulltext or not batch.candidates:
        return batch, []
    wanted: dict[str, tuple[str, Article, Classification]] = {}  # canonical link -> (entry key, article, reading)
    for entry in batch.feed.entries:
        key = canonical_url(entry.link)
        before = batch.classified.get(entry.key)
        if entry.key in batch.candidates and key is not None and before is not None and key not in wanted:
            article = Article(id=entry.key, title=entry.title, summary=entry.summary, url=entry.link,
                              published=entry.published)
            wanted[key] = (entry.key, article, before)
    if not wanted:
        return batch, []
    cached = await rt.run(pages_db.get_pages, rt.store, list(wanted))
    now = rt.clock()
    jobs = []
    fetches = 0
    for url, (entry_key, article, before) in wanted.items():
        page = cached.get(url)
        if page is not None and page.text:
            jobs.append(_read(rt, url, entry_key, article, before, cached_text=page.text))
        elif page is not None and now - page.fetched < RETRY_FAILED:
            continue
        elif fetches < settings.fulltext_max_pages:
            fetches += 1
            jobs.append(_read(rt, url, entry_key, article, before))
    done = await asyncio.gather(*jobs)
    classified = dict(batch.classified)
    fresh: list[CachedPage] = []
    for url, entry_key, reading, fetched in done:
        classified[entry_key] = reading.result
        if fetched:
            fresh.append(CachedPage(url, reading.text, reading.error, now))
    return replace(batch, classified=classified), fresh


async def _read(rt: Runtime, url: str, entry_key: str, article: Article, before: Classification,
                cached_text: str | None = None) -> tuple[str, str, PageReading, bool]:
    """One candidate's page, fetched (unless cached) and read; never raises."""
    html: bytes | None = None
    if cached_text is None:
        try:
            async with _slots(rt):
                html = await rt.fetcher.fetch_page(article.url or url)
        except FetchError as exc:
            log.info("full text: page not fetched: %s: %s", url, exc)
            return url, entry_key, PageReading(None, str(exc) or type(exc).__name__, before), True
        if len(html) > PAGE_MAX_BYTES:
            error = f"page larger than {PAGE_MAX_BYTES // 2**20} MiB"
            log.info("full text: page not read: %s: %s", url, error)
            return url, entry_key, PageReading(None, error, before), True
    job = partial(read_page, html, cached_text, article, before)
    try:
        reading = await (rt.parser.run(job) if rt.parser is not None else asyncio.to_thread(job))
    except Exception as exc:  # a worker that died on this page: the summary's reading stands
        log.info("full text: page not read: %s: %s", url, exc)
        reading = PageReading(None, f"not read: {exc}", before)
    return url, entry_key, reading, cached_text is None


def _slots(rt: Runtime) -> asyncio.Semaphore:
    """The runtime's page slots, made on first use (inside the running loop)."""
    if rt.page_slots is None:
        rt.page_slots = asyncio.Semaphore(PAGE_CONCURRENCY)
    return rt.page_slots

