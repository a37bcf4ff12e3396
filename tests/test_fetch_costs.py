"""What the cheaper fetch path must still do: polite headers, no cookies, checks remembered only when passed."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from monitor.errors import PermanentFetchError
from monitor.fetch import AddressGuard, Fetcher
from monitor.netguard import IPAddress
from monitor.records import FeedForUpdate
from tests.support.feed_server import FeedServer

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
LAYOUTS = ["aiohttp", "sharded", "single"]


class CountingLookup:
    """A name server for one test: every name is ``address``; it counts the questions."""

    def __init__(self, address: str) -> None:
        self.address = ipaddress.ip_address(address)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [self.address]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_poll_sends_the_same_polite_headers_and_no_cookie(feed_server: FeedServer, layout: str) -> None:
    url = feed_server.serve("/feed.xml", FEED, etag='"v1"', headers={"Set-Cookie": "track=1; Path=/"})

    async def twice() -> list[int]:
        async with Fetcher(allow_private=["127.0.0.1"], layout=layout) as fetcher:  # type: ignore[arg-type]
            first = await fetcher.fetch(FeedForUpdate(url))
            second = await fetcher.fetch(FeedForUpdate(url, etag=first.etag))
            return [first.status, second.status]

    assert asyncio.run(twice()) == [200, 304]
    first, second = feed_server.requests_to("/feed.xml")
    for seen in (first, second):
        headers = {k.lower(): v for k, v in seen.headers.items()}
        assert headers["user-agent"].startswith("talentwatch/")
        assert "gzip" in headers["accept-encoding"] and "br" in headers["accept-encoding"]
        assert "application/rss+xml" in headers["accept"]
        assert headers["host"].startswith("127.0.0.1:")
        assert "cookie" not in headers  # a feed's cookies never follow us to its next poll
    assert {k.lower(): v for k, v in second.headers.items()}["if-none-match"] == '"v1"'


def test_a_host_that_passed_is_not_resolved_again_for_every_poll(feed_server: FeedServer) -> None:
    names = CountingLookup("127.0.0.1")
    url = feed_server.serve("/feed.xml", FEED).replace("127.0.0.1", "feeds.test")

    async def three() -> None:
        async with Fetcher(allow_private=["feeds.test"], lookup=names) as fetcher:
            for _ in range(3):
                assert (await fetcher.fetch(FeedForUpdate(url))).content == FEED

    asyncio.run(three())
    # Once for the early check and once by the connection pool to connect, then neither again.
    assert names.asked == ["feeds.test", "feeds.test"]


def test_a_refused_host_is_checked_again_every_time_and_never_connected_to() -> None:
    names = CountingLookup("127.0.0.2")

    async def three() -> list[str]:
        errors = []
        async with Fetcher(allow_private=False, lookup=names) as fetcher:
            for _ in range(3):
                with pytest.raises(PermanentFetchError, match=r"refused: 127\.0\.0\.2 is a loopback address") as err:
                    await fetcher.fetch(FeedForUpdate("http://trap.test:9/feed.xml"))
                errors.append(str(err.value))
        return errors

    assert len(asyncio.run(three())) == 3
    assert names.asked == ["trap.test"] * 3


def test_a_change_of_policy_forgets_the_hosts_that_passed() -> None:
    names = CountingLookup("127.0.0.1")
    guard = AddressGuard(["feeds.test"], lookup=names)

    async def check() -> str:
        return await guard.check("http://feeds.test/feed.xml")

    assert asyncio.run(check()) == "feeds.test"
    assert asyncio.run(check()) == "feeds.test"
    assert names.asked == ["feeds.test"]
    guard.update(False)
    with pytest.raises(PermanentFetchError, match="loopback"):
        asyncio.run(check())
    assert names.asked == ["feeds.test", "feeds.test"]


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/feed.xml", "only http and https"),
    ("http:///feed.xml", "without a host"),
    ("http://example.com:99999/feed.xml", "invalid URL"),
])
def test_a_bad_url_is_refused_every_time_it_is_asked(url: str, message: str) -> None:
    guard = AddressGuard(True)
    for _ in range(2):  # the parsed-URL cache keeps answers, never errors
        with pytest.raises(PermanentFetchError, match=message):
            asyncio.run(guard.check(url))
