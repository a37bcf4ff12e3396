"""Fetched bytes to a ``ParsedFeed``: pure, and strict about what leaves it.

feedparser does the RSS/Atom/RDF work (encodings, dates, broken XML); JSON
Feed, which it does not read, is parsed here from ``json``. feedparser's
dicts never leave this module: every entry comes out as a ``FeedEntry``
with a stable key, plain text and an http(s) link or none.

Three defences sit in front of feedparser:

- the bytes are handed over as a stream, never as ``bytes`` or ``str``,
  because feedparser treats a string as a URL or a file name to open;
- a DOCTYPE internal subset is cut out first, so entity-expansion bombs
  never reach the XML parser;
- any exception it raises becomes a ``ParseError`` with a one-line reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import json
import multiprocessing
import os
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import feedparser

from monitor.errors import ParseError
from monitor.records import FeedEntry, ParsedFeed
from monitor.text import MAX_TEXT, clean_text, html_to_text, http_link, one_line, plain_text

T = TypeVar("T")
MAX_KEY = 2_048
MAX_GUNZIPPED = 15 * 2**20
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # before any web feed: a placeholder date, not a real one

_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_SUBSET_END = re.compile(rb"\]\s*>")
_ELEMENT = re.compile(rb"<[A-Za-z_]")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
_CHAR_REF = re.compile(rb"&#([xX][0-9a-fA-F]{1,16}|[0-9]{1,20});")
_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(?:\.\d+)?/?$")


def parse_feed(content: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS, Atom, RDF or JSON feed; raise ``ParseError`` for anything else."""
    if not content or not content.strip():
        raise ParseError("empty body")
    if content[:2] == b"\x1f\x8b":  # a .xml.gz served without Content-Encoding
        content = _gunzip(content)
    prolog = _PROLOG.match(content)
    start = content[prolog.end() if prolog else 0 :][:64]
    if start[:1] in (b"{", b"["):
        return _parse_json_feed(content, url=url)
    if _HTML_START.match(start):
        raise ParseError("an HTML page, not a feed")
    return _parse_xml_feed(defuse_char_refs(strip_doctype_subset(content)), url=url, content_type=content_type)


def strip_doctype_subset(content: bytes) -> bytes:
    """Remove a ``<!DOCTYPE x [ ... ]>`` internal subset from the prolog.

    Only a DOCTYPE before the first element is touched: the same characters
    inside an article's CDATA are text, not a declaration.
    """
    found = _DOCTYPE_SUBSET.search(content)
    if found is None or _ELEMENT.search(content, 0, found.start()):
        return content
    end = _SUBSET_END.search(content, found.end())
    return content[: found.start()] + (content[end.end() :] if end else b"")


def defuse_char_refs(content: bytes) -> bytes:
    """Character references to what is not a character (lone surrogates, NUL, past U+10FFFF) become U+FFFD.

    feedparser raises on ``&#xD800;`` instead of flagging the feed, which would
    cost the whole feed for one bad title; the replacement character keeps
    the rest and shows where something was.
    """
    if b"&#" not in content:
        return content

    def fix(match: re.Match[bytes]) -> bytes:
        digits = match.group(1)
        value = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF or (value < 32 and value not in (9, 10, 13)):
            return b"&#xFFFD;"
        return match.group(0)

    return _CHAR_REF.sub(fix, content)


def _gunzip(content: bytes) -> bytes:
    """Decompress at most ``MAX_GUNZIPPED`` bytes, so a gzip bomb stops at the cap."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(content, MAX_GUNZIPPED + 1)
    except zlib.error as exc:
        raise ParseError(f"broken gzip data: {exc}") from exc
    if len(out) > MAX_GUNZIPPED:
        raise ParseError(f"gzip body larger than {MAX_GUNZIPPED // 2**20} MiB once decompressed")
    if not out.strip():
        raise ParseError("empty body once decompressed")
    return out


# ── RSS, Atom, RDF ───────────────────────────────────────────────────────────


def _parse_xml_feed(content: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
    # No content-location: feedparser would resolve relative guids against it, and a key
    # must not change when the feed moves. Links are resolved against ``url`` below instead.
    headers = {"content-type": content_type} if content_type else {}
    try:
        parsed = feedparser.parse(
            io.BytesIO(content),
            sanitize_html=False,
            resolve_relative_uris=False,
            response_headers=headers,
        )
    except Exception as exc:  # feedparser raises whatever its parsers raise: translate all of it
        raise ParseError(f"feedparser failed: {type(exc).__name__}: {_first_line(exc)}") from exc
    feed: Mapping[str, Any] = _get(parsed, "feed") or {}
    raw_entries: list[Mapping[str, Any]] = list(_get(parsed, "entries") or [])
    title = _title(feed) or None
    if not raw_entries and not title:
        if _get(parsed, "bozo"):
            raise ParseError(f"not a feed: {_first_line(_get(parsed, 'bozo_exception'))}")
        if not _get(parsed, "version"):
            raise ParseError("not a feed: no RSS, Atom or RDF root element")
    entries = _unique(e for raw in raw_entries if (e := _xml_entry(raw, url)) is not None)
    return ParsedFeed(title=title, entries=entries, link=http_link(_str(_get(feed, "link")), url))


def _xml_entry(raw: Mapping[str, Any], base: str) -> FeedEntry | None:
    title = _title(raw)
    summary = html_to_text(_richest_body(raw))
    link = http_link(_str(_get(raw, "feedburner_origlink")) or _str(_get(raw, "link")), base)
    if not (title or summary or link):
        return None  # an empty <item/>: nothing to store or classify
    published = _struct_time(_get(raw, "published_parsed")) or _struct_time(_get(raw, "updated_parsed"))
    return _entry(_str(_get(raw, "id")), title, summary, link, published)


def _title(node: Mapping[str, Any]) -> str:
    text = _str(_get(node, "title"))
    if "html" in str(_get(_get(node, "title_detail"), "type")):
        return one_line(text)
    # Plain titles are often entity-escaped twice ("&amp;#8217;"): decode what is left. Markup that
    # appears then (or was typed as text) goes through the sanitiser too: a title is never HTML to us.
    return one_line(html.unescape(text) if _ENTITY.search(text) else text)


def _richest_body(raw: Mapping[str, Any]) -> str:
    """The longest of summary and content bodies: content:encoded is usually the full text."""
    bodies = [_str(_get(raw, "summary"))]
    bodies += [_str(_get(part, "value")) for part in _get(raw, "content") or ()]
    return max(bodies, key=len)


def _struct_time(value: Any) -> datetime | None:
    try:
        year, month, day, hour, minute, second = (int(part) for part in value[:6])
        when = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return when if when >= _EARLIEST else None


# ── JSON Feed ────────────────────────────────────────────────────────────────


def _parse_json_feed(content: bytes, *, url: str) -> ParsedFeed:
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {_first_line(exc)}") from exc
    if not isinstance(doc, dict) or not _JSON_FEED_VERSION.match(_str(doc.get("version"))):
        raise ParseError("JSON that is not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed without an items list")
    entries = _unique(e for item in items if isinstance(item, dict) and (e := _json_entry(item, url)))
    title = one_line(_str(doc.get("title"))) or None
    return ParsedFeed(title=title, entries=entries, link=http_link(_str(doc.get("home_page_url")), url))


def _json_entry(item: Mapping[str, Any], base: str) -> FeedEntry | None:
    title = one_line(_str(item.get("title")))
    body = _str(item.get("content_html"))
    text = _str(item.get("content_text")) or _str(item.get("summary"))
    summary = html_to_text(body) if len(body) >= len(text) else plain_text(text)
    link = http_link(_str(item.get("url")), base) or http_link(_str(item.get("external_url")), base)
    if not (title or summary or link):
        return None
    ident = item.get("id")
    key = str(ident) if isinstance(ident, str | int) and not isinstance(ident, bool) else ""
    published = _iso_date(item.get("date_published")) or _iso_date(item.get("date_modified"))
    return _entry(key, title, summary, link, published)


def _iso_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when if when >= _EARLIEST else None


# ── identity ─────────────────────────────────────────────────────────────────


def _entry(guid: str, title: str, summary: str, link: str | None, published: datetime | None) -> FeedEntry:
    """Build the record with its identity: guid, else canonical link, else a content hash."""
    summary = summary[:MAX_TEXT]
    key = " ".join(clean_text(guid).split())[:MAX_KEY] or link or _sha256(title, summary)
    return FeedEntry(
        key=key,
        title=title,
        summary=summary,
        link=link,
        published=published,
        content_hash=_sha256(title, summary, link or ""),
    )


def _sha256(*parts: str) -> str:
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()


def _unique(entries: Iterable[FeedEntry]) -> tuple[FeedEntry, ...]:
    """First entry per key: a feed repeating an item must not store it twice."""
    seen: dict[str, FeedEntry] = {}
    for entry in entries:
        seen.setdefault(entry.key, entry)
    return tuple(seen.values())


def _get(node: Any, key: str) -> Any:
    """Stored keys only: feedparser's own ``get`` maps missing keys to others and warns."""
    return dict.get(node, key) if isinstance(node, dict) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _first_line(exc: object) -> str:
    text = str(exc).strip() if exc is not None else ""
    return text.splitlines()[0][:200] if text else type(exc).__name__


# ── off the event loop, on every core ────────────────────────────────────────


class ParsePool:
    """Runs ``parse_feed`` in worker processes, so parsing uses every core and never stalls fetching.

    feedparser is pure Python and dominates the CPU of a cycle; threads would
    share one core through the GIL. Workers are spawned on the first parse,
    so a cycle with only 304s never starts them (``once``, ``reclassify``);
    the daemon forks its own at start-up instead, to share its memory
    (``monitor.parse_pool.ForkedParsePool``). A worker that dies (a pathological feed, the OOM killer)
    costs that one feed a ``ParseError``; the pool is rebuilt for the next.
    ``workers=0`` parses in the calling thread instead.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    async def parse(self, content: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
        return await self.run(partial(parse_feed, content, url=url, content_type=content_type))

    async def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` (picklable: a module-level function, or a ``partial`` of one) in a worker."""
        loop = asyncio.get_running_loop()
        if self.workers <= 0:
            return await loop.run_in_executor(None, job)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        pool = self._pool
        try:
            return await loop.run_in_executor(pool, job)
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise ParseError("the parser process died on this feed") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
