"""A hostile HTTP server and a canary listener, for tests that a feed server cannot hurt us.

``HostileServer`` speaks raw HTTP/1.1 over sockets (no framework to tidy
its answers up), one thread per connection, and answers each path with one
attack: stacked gzip bombs, a body that never ends, a slow drip, redirect
loops and redirects into private addresses, huge headers, a Content-Length
that lies, an entity-expansion DOCTYPE, lone surrogates, empty and wrong
bodies, invalid UTF-8 and NULs. Large bodies are generated when a test
asks for them and never written to disk.

``Canary`` listens on an address the tests do not allow (127.0.0.2, or
every local address at once) and counts connections: any connection at all
means an address check was bypassed.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from functools import cache

import pytest

HOST = "127.0.0.1"
CANARY_HOST = "127.0.0.2"

GOOD_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Good news</title>'
    b"<link>http://example.com/</link><description>d</description>"
    b"<item><title>Weekly notes</title><link>http://example.com/good/1</link><guid>good-1</guid>"
    b"<description>Nothing about people this week.</description></item></channel></rss>"
)


def rss(title: bytes, body: bytes = b"A quiet week.", *, guid: bytes = b"x-1", prolog: bytes = b"") -> bytes:
    """A one-item RSS feed with raw bytes in its title and description."""
    return (prolog + b'<rss version="2.0"><channel><title>T</title><link>http://example.com/</link>'
            b"<description>d</description><item><title>" + title + b"</title><link>http://example.com/a</link>"
            b"<guid>" + guid + b"</guid><description>" + body + b"</description></item></channel></rss>")


@cache
def stacked_gzip_bomb(layers: int = 3, gib: int = 4) -> bytes:
    """``gib`` GiB of zeros once every layer of ``Content-Encoding: gzip, gzip, ...`` is undone.

    The innermost layer is one 64 MiB gzip member repeated (gzip members
    concatenate), so it is built in seconds and the outer layers shrink it
    to a few kilobytes.
    """
    member = gzip.compress(b"\0" * 64 * 2**20, compresslevel=9)
    data = member * (gib * 16)
    for _ in range(layers - 1):
        data = gzip.compress(data, compresslevel=9)
    return data


@cache
def deflate_bomb(mib: int = 256) -> bytes:
    compressor = zlib.compressobj(9)
    chunk = b"\0" * 2**20
    return b"".join(compressor.compress(chunk) for _ in range(mib)) + compressor.flush()


def quadratic_entities(size: int = 50_000, refs: int = 5_000) -> bytes:
    """The quadratic-blowup DOCTYPE: one big entity referenced many times (~``size * refs`` bytes expanded)."""
    entity = b"A" * size
    return rss(b"&a;" * refs, b"&a;" * refs,
               prolog=b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + entity + b'">]>')


def billion_laughs() -> bytes:
    levels = [b'<!ENTITY l0 "lol">'] + [
        b"<!ENTITY l%d \"" % i + (b"&l%d;" % (i - 1)) * 10 + b'">' for i in range(1, 10)
    ]
    return rss(b"&l9;", prolog=b'<?xml version="1.0"?><!DOCTYPE rss [' + b"".join(levels) + b"]>")


Handler = Callable[["_Conn"], None]


class _Conn:
    """One accepted connection: the request line and headers read, and raw writes."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock = sock
        self.stopping = stopping
        self.method = self.path = ""
        self.headers: dict[str, str] = {}

    def read_request(self) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk or len(data) > 1 << 20:
                return False
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        parts = head[0].split(" ")
        self.method, self.path = parts[0], parts[1] if len(parts) > 1 else "/"
        for line in head[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        return True

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              *, length: int | None = None) -> None:
        """A whole response; ``length`` overrides the Content-Length (to lie about it)."""
        fields = {"Content-Type": "application/rss+xml; charset=utf-8", **(headers or {})}
        fields.setdefault("Content-Length", str(len(body) if length is None else length))
        fields.setdefault("Connection", "close")
        head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        self.send(head.encode("latin-1") + body)


class HostileServer:
    """Raw HTTP on 127.0.0.1: each path one attack (see ``routes``), every request logged."""

    def __init__(self, canary_port: int | None = None) -> None:
        self.canary_port = canary_port
        self.sock = socket.create_server((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.log: list[str] = []
        self.routes: dict[str, Handler] = self._routes()
        self._threads: list[threading.Thread] = []

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def start(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.sock.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        conn = _Conn(client, self.stopping)
        try:
            client.settimeout(30)
            if conn.read_request():
                self.log.append(conn.path)
                handler = self.routes.get(conn.path.split("?", 1)[0])
                if handler is None:
                    conn.reply(404, b"not found", {"Content-Type": "text/plain"})
                else:
                    handler(conn)
        except OSError:
            pass  # the client gave up on us, as it should
        finally:
            with contextlib.suppress(OSError):
                client.close()

    # ── the attacks ──────────────────────────────────────────────────────────

    def _routes(self) -> dict[str, Handler]:
        canary = f"http://{CANARY_HOST}:{self.canary_port or 9}/feed.xml"
        spelled = f"http://0x7f000002:{self.canary_port or 9}/feed.xml"
        routes: dict[str, Handler] = {
            "/good.xml": lambda c: c.reply(200, GOOD_FEED),
            "/gzip-bomb.xml": lambda c: c.reply(200, stacked_gzip_bomb(),
                                                {"Content-Encoding": "gzip, gzip, gzip"}),
            "/deflate-bomb.xml": lambda c: c.reply(200, deflate_bomb(), {"Content-Encoding": "deflate"}),
            "/gzip-file-bomb.xml": lambda c: c.reply(200, gzip.compress(b"\0" * 64 * 2**20),
                                                     {"Content-Type": "application/x-gzip"}),
            "/endless.xml": self._endless,
            "/drip.xml": self._drip,
            "/redirect-loop.xml": lambda c: c.reply(302, headers={"Location": "/redirect-loop.xml"}),
            "/redirect-private.xml": lambda c: c.reply(302, headers={"Location": canary}),
            "/redirect-spelled.xml": lambda c: c.reply(301, headers={"Location": spelled}),
            "/redirect-metadata.xml": lambda c: c.reply(
                302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
            "/redirect-file.xml": lambda c: c.reply(302, headers={"Location": "file:///etc/passwd"}),
            "/huge-headers.xml": lambda c: c.reply(200, GOOD_FEED, {f"X-Pad-{i}": "p" * 1000 for i in range(2000)}),
            "/huge-header-line.xml": lambda c: c.reply(200, GOOD_FEED, {"X-Pad": "p" * 2**20}),
            "/short-length.xml": lambda c: c.reply(200, GOOD_FEED[:100], length=100_000),
            "/long-length.xml": lambda c: c.reply(200, GOOD_FEED, length=50),
            "/quadratic.xml": lambda c: c.reply(200, quadratic_entities()),
            "/laughs.xml": lambda c: c.reply(200, billion_laughs()),
            "/surrogate.xml": lambda c: c.reply(200, rss(b"Lone &#xD800; surrogate &#55296; here")),
            "/empty.xml": lambda c: c.reply(200, b""),
            "/blank.xml": lambda c: c.reply(200, b" \r\n\t "),
            "/html.xml": lambda c: c.reply(200, b"<!DOCTYPE html><html><head><title>Login</title></head>"
                                                b"<body>Please sign in</body></html>", {"Content-Type": "text/html"}),
            "/json.xml": lambda c: c.reply(200, b'{"error": "rate limited", "items": 3}',
                                           {"Content-Type": "application/json"}),
            "/invalid-utf8.xml": lambda c: c.reply(200, rss(b"Bad \xff\xfe bytes \xc3\x28 here",
                                                            b"\xed\xa0\x80 encoded surrogate", guid=b"u-\xff")),
            "/nul.xml": lambda c: c.reply(200, rss(b"NUL \x00 in\x00 title", b"body\x00with\x00nuls")),
            "/binary.xml": lambda c: c.reply(200, bytes(range(256)) * 64),
            "/not-http.xml": lambda c: c.send(b"SSH-2.0-OpenSSH_9.6\r\n" + b"\0" * 4096),
            "/close.xml": lambda c: None,
            "/status-999.xml": lambda c: c.reply(999, GOOD_FEED),
        }
        return routes

    def _endless(self, conn: _Conn) -> None:
        """A 200 with no length that never ends: feed-looking bytes until the client hangs up."""
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n"
                  b'<rss version="2.0"><channel><title>endless</title>')
        chunk = b"<item><title>again</title></item>" * 2000
        while not self.stopping.is_set():
            conn.send(chunk)

    def _drip(self, conn: _Conn) -> None:
        """One byte every half second, forever: only a total deadline stops this."""
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n")
        for byte in iter(lambda: b"<", None):
            if self.stopping.is_set():
                return
            conn.send(byte)
            time.sleep(0.5)


# Paths of feeds that must end as a per-feed error, and the words the error must contain.
FAILING = {
    "/gzip-bomb.xml": "decompressed",
    "/deflate-bomb.xml": "decompressed",
    "/gzip-file-bomb.xml": "",
    "/endless.xml": "larger than",
    "/drip.xml": "no complete answer",
    "/redirect-loop.xml": "too many redirects",
    "/redirect-private.xml": "refused",
    "/redirect-spelled.xml": "refused",
    "/redirect-metadata.xml": "refused",
    "/redirect-file.xml": "refused",
    "/huge-headers.xml": "",
    "/huge-header-line.xml": "",
    "/short-length.xml": "",
    "/empty.xml": "empty body",
    "/blank.xml": "empty body",
    "/html.xml": "HTML page",
    "/json.xml": "JSON",
    "/binary.xml": "",
    "/not-http.xml": "",
    "/close.xml": "",
    "/status-999.xml": "",
}
# Paths whose feed may parse (safely, with clean text) or fail: either is fine, nothing may escape.
SURVIVABLE = ["/long-length.xml", "/quadratic.xml", "/laughs.xml", "/surrogate.xml", "/invalid-utf8.xml", "/nul.xml"]


class Canary:
    """A listener that must never be connected to; ``hits`` counts the connections it got."""

    def __init__(self, host: str = CANARY_HOST, port: int = 0, *, family: int = socket.AF_INET) -> None:
        if family == socket.AF_INET6:
            self.sock = socket.create_server((host, port), family=family, dualstack_ipv6=True)
        else:
            self.sock = socket.create_server((host, port), family=family)
        self.port = self.sock.getsockname()[1]
        self.hits: list[tuple[str, int]] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, peer = self.sock.accept()
            except OSError:
                return
            self.hits.append(peer[:2])
            client.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    """One canary on 127.0.0.2 for the whole run; checked empty after every test that uses it."""
    listener = Canary()
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture
def hostile_server(canary: Canary) -> Iterator[HostileServer]:
    server = HostileServer(canary.port).start()
    try:
        yield server
    finally:
        server.stop()
        assert not canary.hits, f"the canary on {CANARY_HOST} was connected to: {canary.hits}"
