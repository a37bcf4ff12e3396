"""Which addresses talentwatch may connect to, enforced where the socket is opened.

Feed URLs, redirect targets, article links and webhook URLs are chosen by
strangers or typed by hand; none of them may become a way into the machine's
own network (loopback, private ranges, link-local and the cloud metadata
service, carrier-grade NAT) unless ``polling.allow_private`` says so.

Checking a URL's host before the request is not enough: a name can resolve
to a public address for the check and to ``127.0.0.1`` a moment later, when
the HTTP library resolves it again to connect (DNS rebinding), and URL
parsers disagree on odd spellings. So the check also runs at the one place
every connection passes through, on the numeric address actually connected
to:

- for httpx's own pool (httpcore), ``GuardedBackend`` resolves the name
  once, keeps only the allowed addresses and connects to those numbers;
- for the aiohttp pool, ``GuardedResolver`` does the same for names and
  ``AddressPolicy.socket_for`` (aiohttp's socket factory) refuses any other
  address, numeric hosts included, before a packet is sent.

A refused connection raises ``RefusedAddress`` (an ``OSError``, so every
layer treats it as a failed connection); ``refusal_in`` finds it again in
an exception chain so the caller can say exactly why.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Lookup = Callable[[str, int], Awaitable[list[IPAddress]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Cloud metadata services outside the ranges above (169.254.169.254 and fd00:ec2::254 are covered).
_METADATA = frozenset({ipaddress.ip_address("192.0.0.192"), ipaddress.ip_address("100.100.100.200")})
_IETF = ipaddress.ip_network("192.0.0.0/24")  # protocol assignments: never a feed server
_NAMED_MEMORY = 1_024  # addresses remembered for host names allowed by name


class RefusedAddress(OSError):
    """A connection the policy does not allow; the message says which address and why."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EACCES, message)

    def __str__(self) -> str:
        return str(self.strerror)


def non_public_kind(address: IPAddress) -> str | None:
    """Why an address must not be fetched ("private", "loopback", ...), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):  # an IPv4 address carried inside an IPv6 one
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return non_public_kind(embedded)
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),  # includes 169.254.169.254, the cloud metadata service
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("carrier-grade NAT", address in _CGNAT),
        ("cloud metadata", address in _METADATA),
        ("reserved", address.is_reserved or address in _IETF),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)


def parse_address(text: str) -> IPAddress | None:
    """A numeric address in its standard spelling (brackets and IPv6 zone dropped), else None."""
    text = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


async def system_lookup(host: str, port: int) -> list[IPAddress]:
    """The operating system's resolver, which also reads ``127.1`` and ``0x7f000001`` as numbers."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = (parse_address(str(info[4][0])) for info in infos)
    return list(dict.fromkeys(a for a in found if a is not None))


class AddressPolicy:
    """``polling.allow_private`` as a decision: True (allow all), False, or a list.

    A list holds host names, addresses and networks ("feeds.lan",
    "127.0.0.1", "10.0.0.0/8"). Addresses that an allowed host name resolves
    to are remembered, so that the socket-level check, which sees only
    numbers, lets them through too. ``lookup`` replaces the system resolver
    (tests use it to play a name that changes its answer).
    """

    def __init__(self, allow: bool | Sequence[str] = False, *, lookup: Lookup | None = None) -> None:
        self.lookup = lookup or system_lookup
        self.allow_all = False
        self.hosts: frozenset[str] = frozenset()
        self.networks: tuple[IPNetwork, ...] = ()
        self._named: dict[IPAddress, None] = {}
        self.update(allow)

    def update(self, allow: bool | Sequence[str]) -> None:
        """Apply a reloaded ``allow_private``; connections opened after this follow it."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in () if isinstance(allow, bool) else allow:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        self.allow_all = allow is True
        self.hosts, self.networks = frozenset(hosts), tuple(networks)
        self._named.clear()

    def refusal(self, address: IPAddress, host: str | None = None) -> str | None:
        """Why connecting to ``address`` (found for ``host``) is refused, or None if it is allowed."""
        if self.allow_all or (host is not None and _name(host) in self.hosts):
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in self.networks) or address in self._named:
            return None
        kind = non_public_kind(address)
        return f"refused: {address} is a {kind} address" if kind else None

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` stands for (itself when numeric); ``socket.gaierror`` if none."""
        literal = parse_address(host)
        if literal is not None:
            return [literal]
        found = await self.lookup(host.rstrip(".") or host, port)
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
        return found

    async def allowed_addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of ``host`` that may be connected to; ``RefusedAddress`` if none may."""
        found = await self.resolve(host, port)
        allowed = [a for a in found if self.refusal(a, host) is None]
        if not allowed:
            raise RefusedAddress(self.refusal(found[0], host) or f"refused: {host}")
        if _name(host) in self.hosts and parse_address(host) is None:
            for address in allowed:
                self._named[address] = None
            while len(self._named) > _NAMED_MEMORY:
                del self._named[next(iter(self._named))]
        return allowed

    def socket_for(self, addr_info: tuple[Any, ...]) -> socket.socket:
        """aiohttp's socket factory: a socket only for an allowed address, checked as a number."""
        family, type_, proto, _canonname, sockaddr = addr_info
        address = parse_address(str(sockaddr[0]))
        reason = f"refused: unreadable address {sockaddr[0]!r}" if address is None else self.refusal(address)
        if reason:
            raise RefusedAddress(reason)
        return socket.socket(family=family, type=type_, proto=proto)


def _name(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def refusal_in(exc: BaseException | None) -> RefusedAddress | None:
    """The ``RefusedAddress`` behind an HTTP library's connection error, if that is what it was."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, RefusedAddress):
            return exc
        for attr in ("os_error", "__cause__", "__context__"):
            inner = getattr(exc, attr, None)
            if isinstance(inner, RefusedAddress):
                return inner
        exc = exc.__cause__ or exc.__context__
    return None


# ── httpx / httpcore ─────────────────────────────────────────────────────────


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to the allowed addresses of a host.

    The name is resolved here, once; the numbers that passed are what the
    socket connects to, so nothing can resolve differently in between. TLS
    still verifies the certificate against the host name (httpcore passes it
    as ``server_hostname``).
    """

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.policy.allowed_addresses(host, port)
        except RefusedAddress as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("refused: Unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over ``GuardedBackend``: the same pool, pinned to checked addresses."""

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits | None = None,
                 verify: ssl.SSLContext | bool = True) -> None:
        limits = limits or httpx.Limits()
        super().__init__(limits=limits, verify=verify, trust_env=False)
        context = httpx.create_ssl_context(verify=verify, trust_env=False)
        # httpx 0.28 has no ``network_backend`` argument: build its pool again with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(policy),
        )


# ── aiohttp ──────────────────────────────────────────────────────────────────


def guarded_resolver(policy: AddressPolicy) -> Any:
    """An aiohttp resolver that returns only a host's allowed addresses (built lazily: aiohttp is optional)."""
    from aiohttp.abc import AbstractResolver, ResolveResult

    class GuardedResolver(AbstractResolver):
        async def resolve(self, host: str, port: int = 0,
                          family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
            addresses = await policy.allowed_addresses(host, port)
            return [
                ResolveResult(hostname=host, host=str(a), port=port,
                              family=socket.AF_INET6 if a.version == 6 else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV)
                for a in addresses
                if family in (socket.AF_UNSPEC, socket.AF_INET6 if a.version == 6 else socket.AF_INET)
            ]

        async def close(self) -> None:
            return None

    return GuardedResolver()

