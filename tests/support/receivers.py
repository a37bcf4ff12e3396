"""Real alert receivers on 127.0.0.1 for tests: an SMTP server and a webhook endpoint.

Both listen on a free port chosen by the system, record everything they get,
and can be told to misbehave, so delivery is tested against real sockets:

    smtp = SmtpReceiver().start()          smtp.refuse("451 4.3.0 busy"); smtp.stop(); smtp.start()
    hook = WebhookReceiver().start()       hook.script(500, 500, then=200)

They run in threads of the test process, so a daemon started as a
subprocess can deliver to them too (``smtp.port``, ``hook.url``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Generic, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.records import Alert, AlertKind, Event, Source

HOST = "127.0.0.1"
T = TypeVar("T")


class _Recorder(Generic[T]):
    """A thread-safe list that tests can wait on without sleeping in a loop."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def snapshot(self) -> list[T]:
        with self._changed:
            return list(self._items)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()

    def wait_for(self, count: int, timeout: float) -> list[T]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._items) >= count, timeout):
                raise AssertionError(f"expected {count} received, got {len(self._items)} within {timeout}s")
            return list(self._items)


# ── SMTP ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope as the client stated it, and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        answer = self.receiver.recipient_replies.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.receiver.refusal:
            return self.receiver.refusal
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail_from = envelope.mail_from or ""
        self.receiver.received.add(ReceivedMail(mail_from, tuple(envelope.rcpt_tos), message, raw))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's Controller, taught to listen on port 0 and report the port it got."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpReceiver:
    """An SMTP server that keeps every message, optionally with TLS and AUTH.

    With ``tls_context`` it offers STARTTLS, or with ``implicit_tls`` speaks
    TLS from the first byte (port 465 style); with ``credentials`` it accepts
    that one login.

    ``refuse(reply)`` makes it answer DATA with ``reply`` (e.g. "451 ..." or
    "554 ...") until ``refuse(None)``; ``recipient_replies`` refuses chosen
    recipients. ``stop()`` and ``start()`` keep the port, so a configured
    client reconnects to the same address.
    """

    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = HOST
        self.port = 0
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.credentials = credentials
        self.refusal: str | None = None
        self.recipient_replies: dict[str, str] = {}
        self.received: _Recorder[ReceivedMail] = _Recorder()
        self.logins: _Recorder[str] = _Recorder()
        self._controller: _Controller | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = (login, password) == self.credentials
        if ok:
            self.logins.add(login)
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpReceiver:
        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.tls_context is not None)
        if self.tls_context is not None and self.implicit_tls:
            kwargs.update(ssl_context=self.tls_context)
        elif self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=False)
        self._controller = _Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, reply: str | None = "451 4.3.0 Try again later") -> None:
        self.refusal = reply

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.received.snapshot()]

    def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[ReceivedMail]:
        return self.received.wait_for(count, timeout)

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


# ── webhooks ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Reply:
    """How the webhook receiver answers one request."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    status: int  # what the receiver answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP endpoint that records every request and answers from a script.

    ``script(500, Reply(429, {"Retry-After": "7"}), then=200)`` answers the next
    requests in that order, then ``then`` for ever. Any path is accepted;
    ``url`` is a convenient one.
    """

    def __init__(self) -> None:
        self._server = HTTPServer(host=HOST, port=0)
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self._then = Reply(200)
        self.received: _Recorder[ReceivedRequest] = _Recorder()
        self._server.expect_request(re.compile(r".*")).respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        with self._lock:
            reply = self._script.popleft() if self._script else self._then
        self.received.add(
            ReceivedRequest(
                method=request.method,
                path=request.path,
                headers={name.lower(): value for name, value in request.headers.items()},
                body=request.get_data(),
                status=reply.status,
            )
        )
        return Response(reply.body, status=reply.status, headers=dict(reply.headers))

    def script(self, *replies: Reply | int, then: Reply | int = 200) -> None:
        def as_reply(r: Reply | int) -> Reply:
            return r if isinstance(r, Reply) else Reply(r)

        with self._lock:
            self._script = deque(as_reply(r) for r in replies)
            self._then = as_reply(then)

    def url_for(self, path: str) -> str:
        return self._server.url_for(path)

    @property
    def url(self) -> str:
        return self.url_for("/hook")

    @property
    def requests(self) -> list[ReceivedRequest]:
        return self.received.snapshot()

    def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[ReceivedRequest]:
        return self.received.wait_for(count, timeout)

    def start(self) -> WebhookReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ── what they receive ───────────────────────────────────────────────────────


def seed_alert(*, kind: AlertKind = "loss", alert_id: str = "alert-tongyi-yan-1", **sources: Any) -> Alert:
    """The story talentwatch was born from: Yan Zhijie left Alibaba Tongyi Lab for JD.com.

    Reported twice, in English and in Indonesian. Keyword arguments replace
    fields of the first source (``title=``, ``url=``, ``evidence=`` …).
    """
    first = Source(
        url="https://news.example.com/alibaba-ai-lab-talent-war",
        title="Alibaba AI Lab: Talent War with Chinese Tech Rivals",
        feed="Example Tech News",
        published=datetime(2025, 8, 10, 8, 30, tzinfo=UTC),
        evidence="Yan Zhijie, who previously led Tongyi's speech lab, joined JD.com's Explore Academy.",
    )
    second = Source(
        url="https://berita.example.id/tongyi-lab-ditinggal-peneliti",
        title="Laboratorium AI Alibaba ditinggal peneliti kunci",
        feed="Berita Teknologi",
        published=datetime(2025, 8, 10, 11, 0, tzinfo=UTC),
        evidence="Yan Zhijie bergabung dengan Explore Academy milik JD.com.",
    )
    event = Event(
        id=42,
        person="Yan Zhijie",
        from_org="Alibaba Tongyi Lab",
        to_org="JD.com Explore Academy",
        role="head of the speech lab",
        confidence=0.92,
        status="reported",
        first_seen=datetime(2025, 8, 10, 9, 0, tzinfo=UTC),
        from_parent="Alibaba",
        to_parent="JD.com",
        sources=(replace(first, **sources), second),
    )
    return Alert(
        id=alert_id,
        kind=kind,
        lab="Alibaba Tongyi Lab",
        channel="team",
        event=event,
        created=datetime(2025, 8, 10, 9, 1, tzinfo=UTC),
    )


# ── fixtures ─────────────────────────────────────────────────────────────────


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A plain SMTP server (no TLS, no login), like a local relay."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver
