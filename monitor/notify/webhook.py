"""Posting an alert to a webhook, signed after the Standard Webhooks spec.

Receivers drop repeats by ``webhook-id`` (the alert id, the same on every
retry) and check ``webhook-signature`` = ``v1,<base64 HMAC-SHA256>`` over
``"{id}.{timestamp}.{body}"``; ``sign`` and ``verify`` are public so users can
check what they receive with the same code.

Error messages name the channel or the host, never the URL: Slack and Discord
webhook URLs carry their secret in the path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from monitor.errors import PermanentDeliveryError, TransientDeliveryError
from monitor.notify.render import discord_body, slack_body, webhook_body
from monitor.notify.text import one_line, truncate
from monitor.records import Alert

if TYPE_CHECKING:
    from config.schema import WebhookChannel

USER_AGENT = "talentwatch/0.1 (+alerts)"
DEFAULT_TOLERANCE = 300.0  # seconds a receiver should accept between our clock and theirs

_BODIES: dict[str, Callable[..., dict[str, Any]]] = {
    "json": webhook_body,
    "slack": slack_body,
    "discord": discord_body,
}


# ── signatures ───────────────────────────────────────────────────────────────


def _key(secret: str) -> bytes:
    """The HMAC key: a ``whsec_`` secret is base64 after its prefix, as the spec says."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            pass  # not actually base64: use it as typed rather than refuse to sign
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``webhook-signature`` value for one request: ``v1,<base64>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(
    secret: str,
    msg_id: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    *,
    now: datetime | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``signature`` (a header that may list several, space-separated) signs this request.

    With ``now`` given, a timestamp further than ``tolerance`` seconds from it
    is refused too, which is how the spec defeats replays.
    """
    if now is not None:
        try:
            if abs(now.timestamp() - int(timestamp)) > tolerance:
                return False
        except ValueError:
            return False
    expected = sign(secret, msg_id, timestamp, body).encode()
    return any(
        hmac.compare_digest(candidate.encode(), expected)
        for candidate in signature.split()
        if candidate.startswith("v1,")
    )


# ── sending ──────────────────────────────────────────────────────────────────


def request_body(channel: WebhookChannel, alert: Alert, *, templates: Path | None = None) -> bytes:
    """The exact bytes we POST (and sign): compact UTF-8 JSON in the channel's format."""
    body = _BODIES[channel.format](alert, templates=templates)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def request_headers(channel: WebhookChannel, alert: Alert, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": alert.id,
        "webhook-timestamp": timestamp,
    }
    if channel.secret:
        headers["webhook-signature"] = sign(channel.secret, alert.id, timestamp, body)
    return headers


def _label(channel: WebhookChannel) -> str:
    """How errors name a webhook: its configured name, else only its host."""
    if channel.name:
        return f"webhook {channel.name}"
    return f"webhook {urlsplit(channel.url).netloc or '?'}"


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _reason(response: httpx.Response) -> str:
    """Status line plus the start of the body: receivers often say what they disliked."""
    text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    try:
        detail = one_line(response.text)
    except (UnicodeDecodeError, LookupError):
        detail = ""
    return f"{text}: {truncate(detail, 200)}" if detail else text


async def send_webhook(
    client: httpx.AsyncClient,
    channel: WebhookChannel,
    alert: Alert,
    *,
    now: datetime | None = None,
    templates: Path | None = None,
) -> None:
    """POST one alert; return on 2xx, else raise a Transient or Permanent DeliveryError.

    Redirects are not followed: a POST that is redirected is a configuration
    to fix, not something to retry.
    """
    now = now or datetime.now(UTC)
    body = request_body(channel, alert, templates=templates)
    headers = request_headers(channel, alert, body, now)
    label = _label(channel)
    try:
        response = await client.post(
            channel.url, content=body, headers=headers, timeout=channel.timeout, follow_redirects=False
        )
    except httpx.TimeoutException as exc:
        raise TransientDeliveryError(f"{label}: no answer within {channel.timeout:g}s") from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise PermanentDeliveryError(f"{label}: unusable URL ({one_line(str(exc))})") from exc
    except httpx.TransportError as exc:
        reason = one_line(str(exc)) or type(exc).__name__
        raise TransientDeliveryError(f"{label}: {truncate(reason, 200)}") from exc

    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (408, 425, 429) or status >= 500:
        raise TransientDeliveryError(
            f"{label}: {_reason(response)}", retry_after=retry_after(response.headers.get("retry-after"), now)
        )
    if 300 <= status < 400:
        where = urlsplit(response.headers.get("location", "")).netloc or "elsewhere"
        raise PermanentDeliveryError(f"{label}: HTTP {status} redirect to {where}; update the webhook URL")
    raise PermanentDeliveryError(f"{label}: {_reason(response)}")
