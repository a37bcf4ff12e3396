"""A real HTTP server on 127.0.0.1 for feed tests, and its pytest fixtures.

Built on pytest-httpserver (werkzeug, one thread per request so a slow
response never blocks the others). It serves files or bytes at paths with
ETag / Last-Modified and answers a matching conditional request with 304,
plays scripted responses (503 then 200, redirects, gzip, a slow drip), and
logs every request with its headers.

Tests use the ``feed_server`` fixture; a daemon started as a subprocess is
simply given ``feed_server.url(path)``.
"""

from __future__ import annotations

import gzip as gzip_module
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

__all__ = ["FeedServer", "Reply", "Seen", "feed_server"]


@dataclass(frozen=True)
class Reply:
    """One scripted response. ``drip`` sends the body one byte every ``drip`` seconds."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drip: float | None = None


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


class FeedServer:
    """Routes by path: static documents with validators, or a script of replies."""

    def __init__(self) -> None:
        self._server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self._server.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        self._routes: dict[str, Callable[[Request], Response]] = {}
        self._lock = threading.Lock()
        self.log: list[Seen] = []

    def start(self) -> FeedServer:
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()

    def url(self, path: str) -> str:
        return self._server.url_for(path)

    @property
    def base(self) -> str:
        return self.url("/").rstrip("/")

    # ── what to serve ────────────────────────────────────────────────────────

    def serve(
        self,
        path: str,
        body: bytes | Path,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
        gzip: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Serve a document with validators; a matching conditional GET gets a 304."""
        data = body.read_bytes() if isinstance(body, Path) else body
        etag = etag if etag is not None else '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        last_modified = last_modified or formatdate(1_700_000_000, usegmt=True)
        payload = gzip_module.compress(data) if gzip else data

        def handle(request: Request) -> Response:
            validators = {"ETag": etag, "Last-Modified": last_modified}
            if request.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in request.headers
                and request.headers.get("If-Modified-Since") == last_modified
            ):
                return Response(b"", status=304, headers=validators)
            extra = {"Content-Encoding": "gzip"} if gzip else {}
            return Response(payload, status=200, headers={**validators, **extra, **(headers or {})},
                            content_type=content_type)

        self._routes[path] = handle
        return self.url(path)

    def script(self, path: str, replies: Iterable[Reply]) -> str:
        """Answer requests to ``path`` with ``replies`` in turn; the last one repeats."""
        queue = list(replies)
        lock = threading.Lock()

        def handle(_request: Request) -> Response:
            with lock:
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
            return _response(reply)

        self._routes[path] = handle
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        """Redirect ``path`` to ``to`` (a path on this server or an absolute URL)."""
        return self.script(path, [Reply(status, headers={"Location": to})])

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.log if seen.path == path]

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.log.append(Seen(request.method, request.path, dict(request.headers)))
        route = self._routes.get(request.path)
        return route(request) if route else Response(b"not found", status=404)


def _response(reply: Reply) -> Response:
    if reply.drip is None:
        return Response(reply.body, status=reply.status, headers=dict(reply.headers))
    return Response(_dripping(reply.body, reply.drip), status=reply.status, headers=dict(reply.headers),
                    direct_passthrough=True)


def _dripping(body: bytes, interval: float) -> Iterator[bytes]:
    """Bounded by the body's length, so the server thread always ends by itself."""
    for i in range(len(body)):
        time.sleep(interval)
        yield body[i : i + 1]


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()
