"""``alerts test``: a clearly marked test alert on each channel, so a user can check the wiring."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from monitor.app import delivery_client
from monitor.errors import DeliveryError
from monitor.pipeline import utcnow
from monitor.records import Alert, Event, Source

if TYPE_CHECKING:
    from config.schema import Settings


def make_test_alert(channel: str, lab: str) -> Alert:
    now = utcnow()
    event = Event(
        id=0,
        person="Test Person (talentwatch test alert)",
        from_org=lab,
        to_org="Example Lab",
        role="test alert: no one moved",
        confidence=1.0,
        status="confirmed",
        first_seen=now,
        sources=(Source(url="https://example.com/talentwatch-test", title="talentwatch test alert",
                        feed="talentwatch", published=now, evidence="This is a test alert; no one moved."),),
    )
    return Alert(id="msg_test_" + secrets.token_hex(8), kind="test", lab=lab, channel=channel, event=event,
                 created=now)


async def send_test_alerts(settings: Settings, *, only: str | None = None) -> dict[str, str | None]:
    """Send one test alert per channel; returns each channel's error, or None when it went through."""
    from monitor.notify import deliver

    lab = settings.labs[0].name if settings.labs else "Example Lab"
    results: dict[str, str | None] = {}
    async with delivery_client(settings.polling.allow_private) as client:
        for channel in settings.channels:
            if only and only not in (channel.key, channel.name):
                continue
            try:
                await deliver(make_test_alert(channel.key, lab), channel, client=client)
                results[channel.key] = None
            except DeliveryError as exc:
                results[channel.key] = str(exc)
    return results
