"""The network edge: polite, bounded HTTP fetches of feeds and article pages.

Feeds are untrusted servers, so every fetch is bounded three ways: a total
deadline for the whole exchange (a server dripping a byte at a time is cut
off), a cap on the bytes read from the wire, and the same cap on the bytes
they decode to. Content-Encoding is decoded here, layer by layer, in small
bounded steps, instead of by httpx: its decoders inflate a whole network
chunk at once, and a stacked ``gzip, gzip`` bomb would be decoded whole
before any cap could be checked.

Redirects are followed by hand so that every hop's address is checked:
a feed URL must not be a way to reach the machine's own network (loopback,
private ranges, cloud metadata) unless the config allows it.

Failures come out as ``TransientFetchError`` (try later) or
``PermanentFetchError`` (will not get better), each with a one-line message.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache, partial
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import brotli
import httpx

from monitor.errors import FetchError, PermanentFetchError, TransientFetchError
from monitor.netguard import AddressPolicy, GuardedTransport, Lookup, guarded_resolver, refusal_in
from monitor.netguard import non_public_kind as non_public_kind  # re-exported: callers check addresses too
from monitor.records import FeedForUpdate, FetchedFeed

MAX_REDIRECTS = 5
_STEP = 64 * 1024  # the most one decoding step may produce
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True)
class _Reply:
    url: str
    status: int
    content: bytes | None
    headers: httpx.Headers
    permanent_url: str | None


Layout = Literal["aiohttp", "sharded", "single"]
SHARDS = 8


class Fetcher:
    """Fetches feeds and pages through shared, long-lived HTTP/1.1 connection pools.

    Use as ``async with Fetcher() as fetcher:``; ``aclose`` ends the pools.

    ``layout`` picks the connection pool under the httpx API, by measurement
    (``make bench``): httpx's own pool collapses under many concurrent
    requests (httpcore's pool, encode/httpx#3215), so the default is the
    aiohttp transport; ``sharded`` spreads feeds over several small httpx
    pools; ``single`` is one httpx pool, kept for comparison. Requests are
    ``httpx.Request`` objects sent straight to the pool's transport, without
    ``httpx.AsyncClient``: this class already does what the client would
    (redirects, hop by hop; fixed headers; no cookies), and the client's
    per-request work cost more CPU than the rest of a 304.
    """

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        max_bytes: int = 15 * 2**20,
        concurrency: int = 32,
        per_host: int = 4,
        allow_private: bool | Sequence[str] = False,
        user_agent: str = "talentwatch/0.1 (+https://github.com/talentwatch)",
        layout: Layout = "aiohttp",
        lookup: Lookup | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.per_host = per_host
        self.layout = layout
        self._guard = AddressGuard(allow_private, lookup=lookup)
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}
        shards = SHARDS if layout == "sharded" else 1
        size = max(1, -(-concurrency // shards))
        self._transports = [_transport(layout, size, self._guard) for _ in range(shards)]
        # What httpx.AsyncClient would merge into every request, merged once: a feed's cookies are
        # never kept (there is no jar), and redirects are followed here, hop by hop.
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate, br"}
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}

    def _transport_for(self, url: str) -> httpx.AsyncBaseTransport:
        if len(self._transports) == 1:
            return self._transports[0]
        return self._transports[zlib.crc32(url.encode("utf-8", "surrogatepass")) % len(self._transports)]

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for transport in self._transports:
            await transport.aclose()

    async def fetch(self, feed: FeedForUpdate) -> FetchedFeed:
        """One conditional GET of a feed; ``url`` in the result is where the body came from."""
        headers = {"Accept": _FEED_ACCEPT}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        reply = await self._exchange(feed.url, headers)
        etag = reply.headers.get("etag")
        last_modified = reply.headers.get("last-modified")
        if reply.status == 304:  # validators may be omitted on a 304: keep the ones we sent
            etag, last_modified = etag or feed.etag, last_modified or feed.last_modified
        return FetchedFeed(
            url=reply.url,
            status=reply.status,
            content=reply.content,
            etag=etag,
            last_modified=last_modified,
            content_type=reply.headers.get("content-type"),
            permanent_url=reply.permanent_url,
            max_age=max_age(reply.headers),
        )

    async def fetch_page(self, url: str) -> bytes:
        """An article page, under the same address checks, caps and deadline as a feed."""
        reply = await self._exchange(url, {"Accept": _PAGE_ACCEPT})
        return reply.content or b""

    # ── the exchange ─────────────────────────────────────────────────────────

    async def _exchange(self, url: str, headers: dict[str, str]) -> _Reply:
        async with self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._follow(url, headers)
            except TimeoutError as exc:
                raise TransientFetchError(f"no complete answer within {self.timeout:g}s") from exc
            except FetchError:
                raise
            except httpx.TimeoutException as exc:
                if refused := refusal_in(exc):  # the address connected to is not allowed
                    raise PermanentFetchError(str(refused)) from exc
                if _really_refused(exc):  # the aiohttp transport maps some refusals to ConnectTimeout
                    raise TransientFetchError(f"connection failed: {_one_line(exc.__cause__ or exc)}") from exc
                raise TransientFetchError(f"timed out: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                if refused := refusal_in(exc):  # the address connected to is not allowed
                    raise PermanentFetchError(str(refused)) from exc
                raise TransientFetchError(f"connection failed: {_one_line(exc)}") from exc
            except Exception as exc:  # the aiohttp transport lets its own errors through (a bad status line,
                # too many headers, data past Content-Length): a broken server is this feed's error, never ours
                if refused := refusal_in(exc):
                    raise PermanentFetchError(str(refused)) from exc
                reason = getattr(exc, "message", None) or exc
                raise TransientFetchError(f"broken response: {_one_line(reason)}") from exc

    async def _follow(self, url: str, headers: dict[str, str]) -> _Reply:
        permanent = True
        for _hop in range(MAX_REDIRECTS + 1):
            host = await self._guard.check(url)
            async with self._host_slot(host):
                # httpx's request and response, sent straight through the transport: AsyncClient.send
                # (header and cookie merging, auth, its redirect loop, hooks) cost more CPU than a 304.
                request = httpx.Request("GET", _parsed_url(url), headers=self._headers | headers,
                                        extensions=self._extensions)
                response = await self._transport_for(url).handle_async_request(request)
                try:
                    status = response.status_code
                    location = response.headers.get("location")
                    if status in _REDIRECTS and location:
                        permanent = permanent and status in _PERMANENT_REDIRECTS
                        url = urljoin(url, location.strip())
                        continue
                    _raise_for_status(response)
                    content = None if status == 304 else await self._read(response)
                finally:
                    await response.aclose()
            moved = url if permanent and _hop > 0 else None
            return _Reply(url, status, content, response.headers, moved)
        raise PermanentFetchError(f"too many redirects (more than {MAX_REDIRECTS})")

    async def _read(self, response: httpx.Response) -> bytes:
        """The decoded body, refused as soon as either side of the decoding passes the cap."""
        limit = f"body larger than {_size(self.max_bytes)}"
        encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",")]
        decoders = [_decoder(e) for e in reversed(encodings) if e and e != "identity"]
        parts: list[bytes] = []
        raw = decoded = 0
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > self.max_bytes:
                raise PermanentFetchError(limit, status=response.status_code)
            for piece in _decode(chunk, decoders):
                decoded += len(piece)
                if decoded > self.max_bytes:
                    raise PermanentFetchError(limit + " once decompressed", status=response.status_code)
                parts.append(piece)
        for piece in _decode(b"", decoders, final=True):
            decoded += len(piece)
            if decoded > self.max_bytes:
                raise PermanentFetchError(limit + " once decompressed", status=response.status_code)
            parts.append(piece)
        return b"".join(parts)

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        """At most ``per_host`` requests to one host at once; idle hosts are forgotten."""
        semaphore, users = self._hosts.setdefault(host, (asyncio.Semaphore(self.per_host), [0]))
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._hosts[host]


def _transport(layout: Layout, connections: int, policy: AddressPolicy) -> httpx.AsyncBaseTransport:
    """One connection pool behind the httpx API: HTTP/1.1, no proxy from the environment (it would
    connect on our behalf, past the address checks), every connection pinned to an allowed address."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    if layout == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport(limits=limits, trust_env=False, client=partial(_aiohttp_session, connections, policy))
    return GuardedTransport(policy, limits=limits)


@lru_cache(maxsize=16_384)
def _parsed_url(url: str) -> httpx.URL:
    """A feed's URL parsed once, not at every poll: httpx's URL parser is a large part of a 304's cost."""
    return httpx.URL(url)


def _aiohttp_session(connections: int, policy: AddressPolicy) -> Any:
    """aiohttp's session as the transport needs it: no cookies kept between feeds, no proxy from the
    environment, names resolved to allowed addresses only and every socket checked by its address."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0, ttl_dns_cache=300,
                                     resolver=guarded_resolver(policy), socket_factory=policy.socket_for)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)


def _really_refused(exc: httpx.TimeoutException) -> bool:
    cause = exc.__cause__
    return cause is not None and not isinstance(cause, TimeoutError) and "timeout" not in type(cause).__name__.lower()


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return
    message = f"HTTP {status} {_reason(response)}".rstrip()
    if status in (408, 425, 429) or status >= 500:
        raise TransientFetchError(message, status=status, retry_after=retry_after(response.headers))
    if status in _REDIRECTS:
        message += " without a Location header"
    raise PermanentFetchError(message, status=status)


def _reason(response: httpx.Response) -> str:
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason_phrase


# ── addresses ────────────────────────────────────────────────────────────────


CHECK_TTL = 300.0  # seconds a host that passed the early check is not checked again
CHECKED_HOSTS = 4_096


class AddressGuard(AddressPolicy):
    """The address policy plus an early check of each URL, so a refusal names the URL's own problem.

    The same policy is enforced again on the address each connection is
    actually opened to (``monitor.netguard``), which is what stops DNS
    rebinding; this first check gives the clearer message and refuses a
    name when any of its addresses is not allowed.

    A host that passed is remembered for ``CHECK_TTL`` seconds (aiohttp keeps
    its own answers as long): many feeds share a host, and resolving it again
    for every poll cost a thread hop per 304. A refusal is never remembered,
    and a change of policy forgets everything.
    """

    def __init__(self, allow: bool | Sequence[str] = False, *, lookup: Lookup | None = None) -> None:
        self._passed: dict[tuple[str, int], float] = {}  # (host, port) -> until when it counts as checked
        super().__init__(allow, lookup=lookup)

    def update(self, allow: bool | Sequence[str]) -> None:
        super().update(allow)
        self._passed.clear()

    async def check(self, url: str) -> str:
        """The URL's host once it passed; raises ``PermanentFetchError`` otherwise."""
        host, port = _host_and_port(url)
        now = time.monotonic()
        if self._passed.get((host, port), 0.0) > now:
            return host
        try:
            addresses = await self.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise TransientFetchError(f"cannot resolve {host}: {_one_line(exc)}") from exc
        for address in addresses:
            reason = self.refusal(address, host)
            if reason:
                raise PermanentFetchError(reason)
        if len(self._passed) >= CHECKED_HOSTS:
            self._passed.clear()
        self._passed[host, port] = now + CHECK_TTL
        return host


@lru_cache(maxsize=16_384)
def _host_and_port(url: str) -> tuple[str, int]:
    """An http(s) URL's host and port; ``PermanentFetchError`` (not cached) for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise PermanentFetchError(f"invalid URL: {url[:200]}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise PermanentFetchError(f"refused: only http and https URLs, not {parts.scheme or 'none'!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise PermanentFetchError(f"invalid URL without a host: {url[:200]}")
    return host, port


# ── headers ──────────────────────────────────────────────────────────────────


def retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    return _seconds_until(value, now)


def max_age(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """How long the server says the body stays fresh: Cache-Control max-age, else Expires."""
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().strip('"').isdigit():
            return float(value.strip().strip('"'))
    expires = headers.get("expires")
    return _seconds_until(expires, now) if expires else None


def _seconds_until(http_date: str, now: float | None) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# ── bounded decoding ─────────────────────────────────────────────────────────


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def flush(self) -> Iterator[bytes]: ...


class _Inflate:
    """gzip (possibly multi-member) or deflate (zlib-wrapped or raw), in bounded steps."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
        self.inflater = zlib.decompressobj(self.wbits)
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self.inflater.eof:  # the next gzip member, or trailing garbage we ignore
                data = self.inflater.unused_data + data
                if not self.gzip or data[:2] != b"\x1f\x8b":
                    return
                self.inflater = zlib.decompressobj(self.wbits)
            try:
                out = self.inflater.decompress(data, _STEP)
            except zlib.error as exc:
                if self.gzip or self.started:
                    raise TransientFetchError(f"broken compressed body: {exc}") from exc
                self.wbits = -zlib.MAX_WBITS  # raw deflate, as some servers send it
                self.inflater = zlib.decompressobj(self.wbits)
                continue
            self.started = True
            data = self.inflater.unconsumed_tail
            if out:
                yield out

    def flush(self) -> Iterator[bytes]:
        out = self.inflater.flush()
        if out:
            yield out


class _Brotli:
    def __init__(self) -> None:
        self.decompressor = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self.decompressor.process(data, output_buffer_limit=_STEP)
            while True:
                if out:
                    yield out
                if self.decompressor.can_accept_more_data():
                    return
                out = self.decompressor.process(b"", output_buffer_limit=_STEP)
        except brotli.error as exc:
            raise TransientFetchError(f"broken compressed body: {exc}") from exc

    def flush(self) -> Iterator[bytes]:
        return iter(())


def _decoder(encoding: str) -> _Decoder:
    if encoding in ("gzip", "x-gzip"):
        return _Inflate(gzip=True)
    if encoding == "deflate":
        return _Inflate(gzip=False)
    if encoding == "br":
        return _Brotli()
    raise PermanentFetchError(f"unsupported Content-Encoding: {encoding[:40]}")


def _decode(data: bytes, decoders: list[_Decoder], *, final: bool = False) -> Iterator[bytes]:
    """Run ``data`` through the decoders lazily: nothing is inflated before it is asked for."""
    if not decoders:
        if data:
            yield data
        return
    first, rest = decoders[0], decoders[1:]
    for piece in first.feed(data):
        yield from _decode(piece, rest)
    if final:
        for piece in first.flush():
            yield from _decode(piece, rest)
        yield from _decode(b"", rest, final=True)


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
