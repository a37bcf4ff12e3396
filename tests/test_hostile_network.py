"""No request reaches an address that is not allowed, however it is spelled or re-resolved.

Every test here runs against a canary listening on 127.0.0.2 (never
allowed) and, where the spelling could land anywhere on the machine, on
every local address at once: a single connection to a canary fails the test.
The tests' own servers on 127.0.0.1 are allowed and keep working.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from monitor.app import delivery_client
from monitor.errors import PermanentFetchError, TransientDeliveryError
from monitor.fetch import Fetcher
from monitor.netguard import AddressPolicy, IPAddress, non_public_kind
from monitor.notify.webhook import send_webhook
from monitor.records import FeedForUpdate
from tests.support.feed_server import FeedServer
from tests.support.hostile_server import CANARY_HOST, Canary, HostileServer
from tests.support.receivers import WebhookReceiver, seed_alert

LOCAL = ["127.0.0.1"]
LAYOUTS = ["aiohttp", "sharded", "single"]
FEED = b'<rss version="2.0"><channel><title>t</title><item><title>a</title><guid>1</guid></item></channel></rss>'


@pytest.fixture
def wildcard() -> Iterator[Canary]:
    """A canary on every local address (IPv4 and IPv6) at one port: any loopback spelling lands here."""
    listener = Canary("::", family=socket.AF_INET6)
    try:
        yield listener
    finally:
        listener.close()
        assert not listener.hits, f"connected to: {listener.hits}"


def fetch(url: str, allow: bool | Sequence[str] = LOCAL, **options: Any) -> Any:
    async def go() -> Any:
        async with Fetcher(allow_private=allow, timeout=10, **options) as fetcher:
            return await fetcher.fetch(FeedForUpdate(url))

    return asyncio.run(go())


def fetch_page(url: str, allow: bool | Sequence[str] = LOCAL, **options: Any) -> bytes:
    async def go() -> bytes:
        async with Fetcher(allow_private=allow, timeout=10, **options) as fetcher:
            return await fetcher.fetch_page(url)

    return asyncio.run(go())


SPELLINGS = [
    "127.0.0.1", "127.1", "127.0.1", "0x7f000001", "0x7f.0.0.1", "2130706433", "017700000001", "0177.0.0.1",
    "127.000.000.001", "localhost", "localhost.", "LOCALHOST", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]", "0.0.0.0", "0", "[::]", "127.0.0.2", "127.255.255.254",
]  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_of_this_machine_is_refused_when_nothing_is_allowed(
    host: str, layout: str, wildcard: Canary
) -> None:
    with pytest.raises(PermanentFetchError, match=r"refused|invalid URL"):
        fetch(f"http://{host}:{wildcard.port}/feed.xml", allow=False, layout=layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("host", ["127.0.0.2", "127.0.2", "0x7f000002", "2130706434", "[::ffff:127.0.0.2]",
                                  "[::ffff:7f00:2]", "0177.0.0.2"])
def test_allowing_one_loopback_address_does_not_allow_its_neighbour(host: str, layout: str, canary: Canary) -> None:
    with pytest.raises(PermanentFetchError, match=r"refused|invalid URL"):
        fetch(f"http://{host}:{canary.port}/feed.xml", allow=LOCAL, layout=layout)
    assert not canary.hits


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_allowed_test_server_still_works_on_every_layout(feed_server: FeedServer, layout: str) -> None:
    url = feed_server.serve("/ok.xml", FEED)
    assert fetch(url, layout=layout).content == FEED


@pytest.mark.parametrize("address", ["10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                     "fe80::1", "fc00::1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::",
                                     "224.0.0.1", "0.0.0.0", "::", "fd00:ec2::254", "192.0.0.192"])
def test_private_link_local_cgnat_and_metadata_kinds_are_never_public(address: str) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) is not None
    assert AddressPolicy(False).refusal(ipaddress.ip_address(address)) is not None


def test_public_addresses_pass_and_mapped_forms_follow_the_allow_list() -> None:
    policy = AddressPolicy(["127.0.0.1", "10.0.0.0/8"])
    assert policy.refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("10.9.9.9")) is None
    assert policy.refusal(ipaddress.ip_address("127.0.0.2")) == "refused: 127.0.0.2 is a loopback address"


class Rebinding:
    """A name server that answers ``first`` once, then ``then`` for ever (DNS rebinding)."""

    def __init__(self, first: str, then: str) -> None:
        self.answers = [ipaddress.ip_address(first)]
        self.then = ipaddress.ip_address(then)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [self.answers.pop(0) if self.answers else self.then]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("first", ["93.184.216.34", "127.0.0.1"])
def test_a_name_that_rebinds_to_a_refused_address_after_the_check_is_refused_at_connect(
    feed_server: FeedServer, canary: Canary, layout: str, first: str
) -> None:
    """The first answer passes the URL check; the connection must use the second and refuse it."""
    # The canary listens on the feed server's port, so a connection that slipped through would land on it.
    trap = Canary(CANARY_HOST, int(feed_server.base.rsplit(":", 1)[1]))
    try:
        resolver = Rebinding(first, CANARY_HOST)
        with pytest.raises(PermanentFetchError, match=f"refused: {CANARY_HOST} is a loopback address"):
            fetch(f"http://rebind.example:{trap.port}/feed.xml", layout=layout, lookup=resolver)
        assert len(resolver.asked) >= 2  # checked, then resolved again to connect
        assert not trap.hits
    finally:
        trap.close()


def test_a_host_allowed_by_name_connects_to_what_it_resolves_to(feed_server: FeedServer) -> None:
    url = feed_server.serve("/named.xml", FEED).replace("127.0.0.1", "feeds.lan")

    async def lan(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    for layout in LAYOUTS:
        assert fetch(url, allow=["feeds.lan"], layout=layout, lookup=lan).content == FEED
        with pytest.raises(PermanentFetchError, match="refused"):
            fetch(url, allow=["other.lan"], layout=layout, lookup=lan)


@pytest.mark.parametrize("path", ["/redirect-private.xml", "/redirect-spelled.xml", "/redirect-metadata.xml",
                                  "/redirect-file.xml"])
def test_a_redirect_into_a_refused_address_is_refused_at_that_hop(hostile_server: HostileServer, path: str) -> None:
    with pytest.raises(PermanentFetchError, match="refused"):
        fetch(hostile_server.url(path))


@pytest.mark.parametrize("host", ["127.0.0.2", "0x7f000002", "[::ffff:127.0.0.2]"])
def test_article_pages_obey_the_same_rules(host: str, canary: Canary, feed_server: FeedServer) -> None:
    with pytest.raises(PermanentFetchError, match="refused"):
        fetch_page(f"http://{host}:{canary.port}/article")
    assert fetch_page(feed_server.serve("/article", b"<p>hello</p>", content_type="text/html")) == b"<p>hello</p>"


# ── webhooks ─────────────────────────────────────────────────────────────────


def post(url: str, allow: bool | Sequence[str] | AddressPolicy = LOCAL) -> None:
    from config.schema import WebhookChannel

    channel = WebhookChannel.model_validate({"url": url, "name": "hook", "timeout": "5s"})

    async def go() -> None:
        async with delivery_client(allow) as client:
            await send_webhook(client, channel, seed_alert())

    asyncio.run(go())


@pytest.mark.parametrize("host", ["127.0.0.2", "0x7f000002", "2130706434", "[::ffff:127.0.0.2]", "127.0.2"])
def test_a_webhook_to_a_refused_address_is_never_connected(host: str, canary: Canary) -> None:
    with pytest.raises(TransientDeliveryError, match=r"refused: 127\.0\.0\.2 is a loopback address"):
        post(f"http://{host}:{canary.port}/hook")
    assert not canary.hits


def test_webhooks_follow_allow_private_and_its_reload(webhook_receiver: WebhookReceiver, canary: Canary) -> None:
    post(webhook_receiver.url)  # 127.0.0.1 is allowed
    assert len(webhook_receiver.received.snapshot()) == 1
    policy = AddressPolicy(False)
    with pytest.raises(TransientDeliveryError, match="refused"):
        post(webhook_receiver.url, policy)
    policy.update(["127.0.0.0/8"])  # what a config reload does
    post(webhook_receiver.url, policy)
    assert len(webhook_receiver.received.snapshot()) == 2


def test_a_webhook_name_that_rebinds_is_refused_at_connect(canary: Canary) -> None:
    from config.schema import WebhookChannel

    channel = WebhookChannel.model_validate({"url": f"http://hooks.example:{canary.port}/h", "timeout": "5s"})
    policy = AddressPolicy(LOCAL, lookup=Rebinding("93.184.216.34", CANARY_HOST))
    policy.lookup = Rebinding(CANARY_HOST, CANARY_HOST)

    async def go() -> None:
        async with delivery_client(policy) as client:
            await send_webhook(client, channel, seed_alert())

    with pytest.raises(TransientDeliveryError, match="refused"):
        asyncio.run(go())
    assert not canary.hits


def test_no_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, canary: Canary,
                                                 feed_server: FeedServer) -> None:
    """A proxy would connect on our behalf, past every check: the environment's is ignored."""
    proxy = f"http://{CANARY_HOST}:{canary.port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    url = feed_server.serve("/p.xml", FEED)
    for layout in LAYOUTS:
        assert fetch(url, layout=layout).content == FEED
    client = delivery_client(LOCAL)
    assert isinstance(client, httpx.AsyncClient)
    asyncio.run(client.aclose())
    assert not canary.hits


def test_the_socket_factory_refuses_a_refused_address_whatever_the_url_said() -> None:
    """aiohttp hands numeric hosts straight to the socket factory: the last check is on the number."""
    from monitor.netguard import RefusedAddress

    policy = AddressPolicy(LOCAL)
    with pytest.raises(RefusedAddress, match=r"127\.0\.0\.2 is a loopback"):
        policy.socket_for((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", 80)))
    with pytest.raises(RefusedAddress, match="link-local"):
        policy.socket_for((socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%lo", 80, 0, 1)))
    policy.socket_for((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))).close()
    policy.socket_for((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))).close()
