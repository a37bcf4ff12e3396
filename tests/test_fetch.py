"""Fetching against a real HTTP server on 127.0.0.1: validators, redirects, errors, caps."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import tracemalloc
import zlib
from collections.abc import Coroutine
from email.utils import formatdate
from typing import Any, TypeVar

import httpx
import pytest

from monitor.errors import PermanentFetchError, TransientFetchError
from monitor.fetch import Fetcher, max_age, non_public_kind, retry_after
from monitor.records import FeedForUpdate, FetchedFeed
from tests.support.feed_server import FeedServer, Reply

T = TypeVar("T")
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
LOCAL = ["127.0.0.1"]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None, **options: Any) -> FetchedFeed:
    options.setdefault("allow_private", LOCAL)
    async with Fetcher(**options) as fetcher:
        return await fetcher.fetch(FeedForUpdate(url, etag=etag, last_modified=last_modified))


def gzip_bomb(mebibytes: int, layers: int = 1) -> bytes:
    """Zeros compressed ``layers`` times, built without holding the plain bytes."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(2**20)
    data = b"".join(deflater.compress(zeros) for _ in range(mebibytes)) + deflater.flush()
    for _ in range(layers - 1):
        data = gzip.compress(data)
    return data


# ── success and conditional GET ──────────────────────────────────────────────


def test_a_feed_comes_back_with_its_validators_and_freshness(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", FEED, etag='"v1"', headers={"Cache-Control": "public, max-age=600"})
    fetched = run(fetch(url))
    assert fetched.status == 200
    assert fetched.content == FEED
    assert fetched.etag == '"v1"'
    assert fetched.last_modified == formatdate(1_700_000_000, usegmt=True)
    assert fetched.content_type == "application/rss+xml; charset=utf-8"
    assert fetched.max_age == 600
    assert fetched.permanent_url is None
    assert "talentwatch" in feed_server.requests_to("/feed.xml")[0].headers["User-Agent"]


def test_second_fetch_with_the_etag_is_a_304_without_a_body(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", FEED, etag='"v1"')
    first = run(fetch(url))
    second = run(fetch(url, etag=first.etag, last_modified=first.last_modified))
    assert second.not_modified
    assert second.content is None
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    seen = feed_server.requests_to("/feed.xml")[1].headers
    assert seen["If-None-Match"] == '"v1"'
    assert seen["If-Modified-Since"] == first.last_modified


def test_a_gzipped_response_is_decoded(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", FEED * 50, gzip=True)
    assert run(fetch(url)).content == FEED * 50
    assert "gzip" in feed_server.requests_to("/feed.xml")[0].headers["Accept-Encoding"]


# ── redirects ────────────────────────────────────────────────────────────────


def test_a_chain_of_permanent_redirects_sets_the_permanent_url(feed_server: FeedServer) -> None:
    final = feed_server.serve("/new.xml", FEED)
    feed_server.redirect("/moved.xml", "/new.xml", status=308)
    start = feed_server.redirect("/old.xml", "/moved.xml", status=301)
    fetched = run(fetch(start))
    assert fetched.content == FEED
    assert fetched.permanent_url == final
    assert fetched.url == final


def test_a_temporary_redirect_on_the_way_leaves_the_url_alone(feed_server: FeedServer) -> None:
    feed_server.serve("/new.xml", FEED)
    feed_server.redirect("/moved.xml", "/new.xml", status=302)
    start = feed_server.redirect("/old.xml", "/moved.xml", status=301)
    fetched = run(fetch(start))
    assert fetched.content == FEED
    assert fetched.permanent_url is None


def test_a_redirect_loop_is_a_permanent_error(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b", status=302)
    url = feed_server.redirect("/b", "/a", status=302)
    with pytest.raises(PermanentFetchError, match="too many redirects"):
        run(fetch(url))
    assert len(feed_server.log) == 6


def test_a_redirect_to_a_private_address_is_refused_at_that_hop(feed_server: FeedServer) -> None:
    url = feed_server.redirect("/feed.xml", "http://10.0.0.5/feed.xml", status=302)
    with pytest.raises(PermanentFetchError, match=r"refused: 10\.0\.0\.5 is a private address"):
        run(fetch(url))


def test_a_redirect_to_another_scheme_is_refused(feed_server: FeedServer) -> None:
    url = feed_server.redirect("/feed.xml", "file:///etc/passwd", status=301)
    with pytest.raises(PermanentFetchError, match="only http and https"):
        run(fetch(url))


# ── HTTP errors ──────────────────────────────────────────────────────────────


def test_404_is_permanent_and_says_so(feed_server: FeedServer) -> None:
    with pytest.raises(PermanentFetchError) as caught:
        run(fetch(feed_server.url("/missing.xml")))
    assert caught.value.status == 404
    assert str(caught.value) == "HTTP 404 Not Found"


def test_410_is_permanent(feed_server: FeedServer) -> None:
    url = feed_server.script("/gone.xml", [Reply(410)])
    with pytest.raises(PermanentFetchError, match="HTTP 410 Gone"):
        run(fetch(url))


def test_503_with_retry_after_is_transient_then_the_feed_comes_back(feed_server: FeedServer) -> None:
    url = feed_server.script("/busy.xml", [Reply(503, headers={"Retry-After": "120"}), Reply(200, FEED)])
    with pytest.raises(TransientFetchError) as caught:
        run(fetch(url))
    assert caught.value.status == 503
    assert caught.value.retry_after == 120
    assert str(caught.value) == "HTTP 503 Service Unavailable"
    assert run(fetch(url)).content == FEED


def test_429_with_an_http_date_retry_after(feed_server: FeedServer) -> None:
    url = feed_server.script("/slow-down.xml", [Reply(429, headers={"Retry-After": "Wed, 21 Oct 2065 07:28:00 GMT"})])
    with pytest.raises(TransientFetchError, match="HTTP 429 Too Many Requests") as caught:
        run(fetch(url))
    assert caught.value.retry_after is not None and caught.value.retry_after > 10 * 365 * 86400


def test_a_closed_port_is_a_transient_connection_error(feed_server: FeedServer) -> None:
    url = feed_server.url("/feed.xml")
    feed_server.stop()
    with pytest.raises(TransientFetchError, match="connection failed"):
        run(fetch(url))


# ── caps and deadline ────────────────────────────────────────────────────────


def test_a_body_over_the_cap_is_refused(feed_server: FeedServer) -> None:
    url = feed_server.serve("/big.xml", b"x" * 200_000)
    with pytest.raises(PermanentFetchError, match="body larger than 100000 bytes"):
        run(fetch(url, max_bytes=100_000))


def test_a_body_under_the_cap_passes(feed_server: FeedServer) -> None:
    url = feed_server.serve("/small.xml", b"x" * 99_000)
    assert run(fetch(url, max_bytes=100_000)).content == b"x" * 99_000


def test_a_gzip_bomb_stops_at_the_cap(feed_server: FeedServer) -> None:
    url = feed_server.script("/bomb.xml", [Reply(200, gzip_bomb(64), {"Content-Encoding": "gzip"})])
    with pytest.raises(PermanentFetchError, match="body larger than 1 MiB once decompressed"):
        run(fetch(url, max_bytes=2**20))


def test_a_stacked_gzip_bomb_stops_at_the_cap_without_being_decoded_whole(feed_server: FeedServer) -> None:
    bomb = gzip_bomb(128, layers=2)  # 600 bytes on the wire, 128 MiB decoded
    url = feed_server.script("/bomb.xml", [Reply(200, bomb, {"Content-Encoding": "gzip, gzip"})])
    tracemalloc.start()
    try:
        with pytest.raises(PermanentFetchError, match="once decompressed"):
            run(fetch(url, max_bytes=2**20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20


def test_a_server_dripping_bytes_is_stopped_by_the_deadline(feed_server: FeedServer) -> None:
    url = feed_server.script("/drip.xml", [Reply(200, FEED[:40], {"Content-Length": "40"}, drip=0.25)])
    with pytest.raises(TransientFetchError, match="no complete answer within 1s"):
        run(fetch(url, timeout=1.0))


# ── addresses ────────────────────────────────────────────────────────────────


def test_loopback_is_refused_unless_allowed(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", FEED)
    with pytest.raises(PermanentFetchError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        run(fetch(url, allow_private=False))
    assert feed_server.log == []
    assert run(fetch(url, allow_private=["127.0.0.0/8"])).content == FEED
    assert run(fetch(url, allow_private=True)).content == FEED


def test_a_host_name_can_be_allowed_by_name(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", FEED).replace("127.0.0.1", "localhost")
    with pytest.raises(PermanentFetchError, match="refused"):
        run(fetch(url, allow_private=False))
    assert run(fetch(url, allow_private=["localhost"])).content == FEED


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(PermanentFetchError, match="only http and https"):
        run(fetch("ftp://example.com/feed.xml"))


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.100.100.200", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:10.1.2.3", "private"),
        ("fd00:ec2::254", "private"),
        ("240.0.0.1", "reserved"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) == kind


# ── fetch_page ───────────────────────────────────────────────────────────────


def test_fetch_page_returns_the_page_under_the_same_rules(feed_server: FeedServer) -> None:
    url = feed_server.serve("/story.html", b"<html><p>Hello</p></html>", content_type="text/html")

    async def get(allow: bool | list[str]) -> bytes:
        async with Fetcher(allow_private=allow) as fetcher:
            return await fetcher.fetch_page(url)

    assert run(get(LOCAL)) == b"<html><p>Hello</p></html>"
    assert feed_server.requests_to("/story.html")[0].headers["Accept"].startswith("text/html")
    with pytest.raises(PermanentFetchError, match="refused"):
        run(get(False))


# ── header parsing ───────────────────────────────────────────────────────────


def test_retry_after_reads_seconds_and_dates() -> None:
    now = 1_700_000_000.0
    assert retry_after(httpx.Headers({"Retry-After": "30"}), now=now) == 30
    assert retry_after(httpx.Headers({"Retry-After": formatdate(now + 90, usegmt=True)}), now=now) == 90
    assert retry_after(httpx.Headers({"Retry-After": formatdate(now - 90, usegmt=True)}), now=now) == 0
    assert retry_after(httpx.Headers({"Retry-After": "soon"}), now=now) is None
    assert retry_after(httpx.Headers(), now=now) is None


def test_max_age_prefers_cache_control_over_expires() -> None:
    now = 1_700_000_000.0
    expires = formatdate(now + 300, usegmt=True)
    assert max_age(httpx.Headers({"Cache-Control": "max-age=60", "Expires": expires}), now=now) == 60
    assert max_age(httpx.Headers({"Expires": expires}), now=now) == 300
    assert max_age(httpx.Headers({"Cache-Control": "no-cache"}), now=now) is None


@pytest.mark.parametrize("layout", ["aiohttp", "sharded", "single"])
def test_every_client_layout_fetches_decodes_and_asks_conditionally(feed_server: FeedServer, layout: str) -> None:
    url = feed_server.serve("/feed.xml", FEED * 20, etag='"v1"', gzip=True)
    first = run(fetch(url, layout=layout))
    assert first.content == FEED * 20
    second = run(fetch(url, etag=first.etag, layout=layout))
    assert second.not_modified and second.content is None
    assert feed_server.requests_to("/feed.xml")[1].headers["If-None-Match"] == '"v1"'
    # and no cookie a feed sets is sent to the next one
    cookie = feed_server.serve("/cookie.xml", FEED, headers={"Set-Cookie": "track=1; Path=/"})

    async def twice() -> None:
        async with Fetcher(allow_private=LOCAL, layout=layout) as fetcher:  # type: ignore[arg-type]
            await fetcher.fetch(FeedForUpdate(cookie))
            await fetcher.fetch(FeedForUpdate(url))

    run(twice())
    assert "Cookie" not in feed_server.requests_to("/feed.xml")[-1].headers
