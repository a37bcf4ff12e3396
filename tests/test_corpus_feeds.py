"""Every feed of the shared corpus parses or is refused clearly; some are fetched over HTTP too."""

from __future__ import annotations

import asyncio
import csv
import gzip
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.fetch import Fetcher
from monitor.parse import parse_feed
from monitor.records import FeedForUpdate, ParsedFeed
from tests.support.feed_server import FeedServer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"  # shared/ sits beside the checkout
MANIFEST = CORPUS / "MANIFEST.tsv"

pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason="the shared feed corpus is not beside the checkout")


def manifest() -> dict[str, dict[str, str]]:
    if not MANIFEST.is_file():
        return {}
    with MANIFEST.open(encoding="utf-8", newline="") as rows:
        return {row["filename"]: row for row in csv.DictReader(rows, delimiter="\t")}


FILES = sorted(manifest())


def check_parsed(parsed: ParsedFeed) -> None:
    keys = [entry.key for entry in parsed.entries]
    assert all(keys)
    assert len(set(keys)) == len(keys)
    for entry in parsed.entries:
        for text in (entry.key, entry.title, entry.summary, entry.link or ""):
            text.encode("utf-8")  # no lone surrogates
            assert "\x00" not in text
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is not None


@pytest.mark.parametrize("name", FILES)
def test_corpus_feed_parses_or_is_refused_clearly(name: str) -> None:
    try:
        parsed = parse_feed((CORPUS / name).read_bytes(), url=f"https://feeds.example.com/{name}")
    except ParseError as refused:
        message = str(refused)
        assert message and "\n" not in message
        return
    assert parsed.entries, f"{name}: a feed without entries"
    check_parsed(parsed)


def test_the_whole_corpus_parses() -> None:
    """Today every corpus file is a usable feed; a regression shows here by name."""
    refused = {}
    for name in FILES:
        try:
            parse_feed((CORPUS / name).read_bytes(), url=f"https://feeds.example.com/{name}")
        except ParseError as exc:
            refused[name] = str(exc)
    assert refused == {}


def test_entry_counts_follow_the_manifest_less_empty_items() -> None:
    for name, row in manifest().items():
        parsed = parse_feed((CORPUS / name).read_bytes(), url=f"https://feeds.example.com/{name}")
        # Empty <item/>s (phantom or junk entries) are dropped; nothing else is.
        assert 0.5 * int(row["approx_entries"]) <= len(parsed.entries) <= int(row["approx_entries"]), name


def test_google_alerts_links_are_unwrapped() -> None:
    parsed = parse_feed((CORPUS / "google-alerts-atom.xml").read_bytes(), url="https://www.google.com/alerts/feeds/1")
    assert parsed.entries
    assert not any("google.com/url" in (entry.link or "") for entry in parsed.entries)
    assert "<b>" not in parsed.entries[0].title


def test_relative_entry_links_are_resolved_against_the_feed_url() -> None:
    parsed = parse_feed((CORPUS / "intertwingly-xmlbase-atom.atom").read_bytes(), url="http://intertwingly.net/blog/index.atom")
    assert parsed.entries[0].link is not None
    assert parsed.entries[0].link.startswith("http://intertwingly.net/blog/2012/")


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("acnnewswire-gb2312-rss2.xml", "中国银联"),
        ("coolloud-org-tw-big5-rdf.xml", "苦勞網"),
        ("ibash-ru-windows-1251-rss2.xml", "Цитата"),
        ("golem-de-iso-8859-1-rss2.xml", "Golem.de"),
        ("jn-pt-iso-8859-1-rss2.rss", "Notícias"),
    ],
)
def test_odd_encodings_survive_fetch_and_parse(feed_server: FeedServer, name: str, needle: str) -> None:
    raw = (CORPUS / name).read_bytes()
    url = feed_server.serve(f"/{name}", raw, content_type="application/xml", gzip=True)
    parsed = asyncio.run(fetch_and_parse(url))
    check_parsed(parsed)
    text = (parsed.title or "") + "".join(entry.title for entry in parsed.entries)
    assert needle in text


def test_a_gzipped_file_served_as_is_is_fetched_and_parsed(feed_server: FeedServer) -> None:
    raw = (CORPUS / "nshipster-gzipped-invalid-chars.xml").read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    as_encoding = feed_server.serve("/encoded.xml", raw, headers={"Content-Encoding": "gzip"})
    as_file = feed_server.serve("/file.xml.gz", raw, content_type="application/gzip")
    for url in (as_encoding, as_file):
        parsed = asyncio.run(fetch_and_parse(url))
        assert len(parsed.entries) == 25
        check_parsed(parsed)
    assert len(gzip.decompress(raw)) > len(raw)


async def fetch_and_parse(url: str) -> ParsedFeed:
    async with Fetcher(allow_private=["127.0.0.1"]) as fetcher:
        fetched = await fetcher.fetch(FeedForUpdate(url))
    assert fetched.content is not None
    return parse_feed(fetched.content, url=fetched.url, content_type=fetched.content_type)
