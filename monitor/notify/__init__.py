"""Alert delivery: render an Alert for its channel and send it, once per call.

``render`` is pure (what users receive); ``webhook`` and ``email`` are the
network edge. Retrying, backoff and the outbox belong to the caller, which
reads the outcome from the exception type::

    deliver() ─► send_webhook / send_email
                    returns                      delivered
                    TransientDeliveryError       try again (``retry_after`` when the receiver said)
                    PermanentDeliveryError       give up and report
"""

from __future__ import annotations

from pathlib import Path

import httpx

from config.schema import EmailChannel, WebhookChannel
from monitor.notify.email import send_email
from monitor.notify.webhook import send_webhook, sign, verify
from monitor.records import Alert

__all__ = ["deliver", "send_email", "send_webhook", "sign", "verify"]


async def deliver(alert: Alert, channel: EmailChannel | WebhookChannel, *, client: httpx.AsyncClient,
                  templates: Path | None = None) -> None:
    """Send ``alert`` on ``channel``; the shared ``client`` serves webhooks and is unused for email.

    ``templates`` is the user's template folder (``alerts.templates``), if any.
    """
    if isinstance(channel, WebhookChannel):
        await send_webhook(client, channel, alert, templates=templates)
    elif isinstance(channel, EmailChannel):
        await send_email(channel, alert, templates=templates)
    else:
        raise TypeError(f"not an alert channel: {type(channel).__name__}")
