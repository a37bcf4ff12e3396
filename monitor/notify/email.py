"""Sending an alert by SMTP: the stdlib client, run in a worker thread.

smtplib is blocking and well tried; one alert is one short conversation, so a
thread per send (``asyncio.to_thread``) costs less than an async SMTP
dependency. Replies are sorted the way SMTP itself sorts them: 4xx means
"try later", 5xx means "this will not work", and a connection that fails or
times out is worth another try.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from monitor.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from monitor.notify.render import email_message
from monitor.notify.text import one_line, truncate
from monitor.records import Alert

if TYPE_CHECKING:
    from config.schema import EmailChannel


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return truncate(f"{code} {one_line(text)}".strip(), 200)


def _by_code(label: str, code: int, what: str) -> DeliveryError:
    """4xx is the server asking us to come back; 5xx (and nonsense codes) is a refusal."""
    if 400 <= code < 500:
        return TransientDeliveryError(f"{label}: {what}")
    return PermanentDeliveryError(f"{label}: {what}")


def _refused(label: str, refused: dict[str, tuple[int, bytes]], total: int) -> DeliveryError:
    listing = "; ".join(f"{addr} ({_reply(code, msg)})" for addr, (code, msg) in refused.items())
    if len(refused) < total:
        # Some copies went out: retrying would send those twice, so this is final.
        return PermanentDeliveryError(
            f"{label}: delivered to {total - len(refused)} of {total} recipients; refused {listing}"
        )
    if all(400 <= code < 500 for code, _ in refused.values()):
        return TransientDeliveryError(f"{label}: recipients deferred: {listing}")
    return PermanentDeliveryError(f"{label}: recipients refused: {listing}")


def _translate(label: str, exc: BaseException, recipients: int) -> NoReturn:
    """Turn smtplib's and the socket layer's exceptions into ours, in one line."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        raise _refused(label, exc.recipients, recipients) from exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        raise _by_code(label, exc.smtp_code, f"login refused: {_reply(exc.smtp_code, exc.smtp_error)}") from exc
    if isinstance(exc, smtplib.SMTPSenderRefused):
        what = f"sender {exc.sender} refused: {_reply(exc.smtp_code, exc.smtp_error)}"
        raise _by_code(label, exc.smtp_code, what) from exc
    if isinstance(exc, smtplib.SMTPResponseException):
        raise _by_code(label, exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error)) from exc
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        raise PermanentDeliveryError(f"{label}: {one_line(str(exc))}") from exc
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        raise TransientDeliveryError(f"{label}: server closed the connection") from exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        raise PermanentDeliveryError(f"{label}: TLS certificate not trusted ({exc.verify_message})") from exc
    if isinstance(exc, ssl.SSLError):
        raise TransientDeliveryError(f"{label}: TLS failed ({one_line(exc.reason or str(exc))})") from exc
    if isinstance(exc, TimeoutError):
        raise TransientDeliveryError(f"{label}: timed out") from exc
    if isinstance(exc, ConnectionRefusedError):
        raise TransientDeliveryError(f"{label}: connection refused") from exc
    if isinstance(exc, OSError | smtplib.SMTPException):
        reason = one_line(exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc))
        raise TransientDeliveryError(f"{label}: {truncate(reason or type(exc).__name__, 200)}") from exc
    raise exc


def _label(channel: EmailChannel) -> str:
    return f"email {channel.name or f'{channel.host}:{channel.port}'}"


def _send_blocking(channel: EmailChannel, message: EmailMessage, tls: ssl.SSLContext) -> None:
    smtp: smtplib.SMTP
    if channel.ssl:
        smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout, context=tls)
    else:
        smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout)
    with smtp:
        smtp.ehlo()
        if channel.starttls and not channel.ssl:
            smtp.starttls(context=tls)
            smtp.ehlo()
        if channel.username:
            smtp.login(channel.username, channel.password or "")
        refused = smtp.send_message(message, from_addr=channel.sender, to_addrs=list(channel.to))
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


async def send_email(
    channel: EmailChannel,
    alert: Alert,
    *,
    tls_context: ssl.SSLContext | None = None,
    templates: Path | None = None,
) -> None:
    """Send one alert to every recipient of ``channel``, or raise a DeliveryError.

    ``tls_context`` defaults to the system's trusted CAs with hostname
    checking; pass another to trust a private CA.
    """
    message = email_message(alert, channel, templates=templates)
    tls = tls_context or ssl.create_default_context()
    label = _label(channel)
    try:
        await asyncio.to_thread(_send_blocking, channel, message, tls)
    except (OSError, smtplib.SMTPException) as exc:
        _translate(label, exc, len(channel.to))
