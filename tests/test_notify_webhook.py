"""Webhook delivery against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from config.schema import WebhookChannel
from monitor.errors import PermanentDeliveryError, TransientDeliveryError
from monitor.notify import deliver
from monitor.notify.webhook import send_webhook, sign, verify
from monitor.records import Alert
from tests.support.receivers import Reply, WebhookReceiver, closed_port, seed_alert

NOW = datetime(2025, 8, 10, 9, 2, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"talentwatch test secret, 32 byte").decode()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def channel(url: str, **settings: Any) -> WebhookChannel:
    return WebhookChannel.model_validate({"url": url, **settings})


def send(chan: WebhookChannel, alert: Alert | None = None, *, now: datetime | None = NOW) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(trust_env=False) as client:
            await send_webhook(client, chan, alert or seed_alert(), now=now)

    asyncio.run(go())


def test_json_alert_arrives_with_contract_body_and_headers(hook: WebhookReceiver) -> None:
    send(channel(hook.url))
    (request,) = hook.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "alert-tongyi-yan-1"
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert "webhook-signature" not in request.headers  # no secret configured
    body = request.json
    assert body["type"] == "talent.loss"
    assert body["id"] == request.headers["webhook-id"]
    assert body["lab"] == "Alibaba Tongyi Lab"
    assert body["event"]["person"] == "Yan Zhijie"
    assert body["event"]["to_org"] == "JD.com Explore Academy"
    assert body["event"]["first_seen"] == "2025-08-10T09:00:00Z"
    assert len(body["event"]["sources"]) == 2


def test_retries_carry_the_same_webhook_id(hook: WebhookReceiver) -> None:
    hook.script(500, then=204)
    chan = channel(hook.url)
    with pytest.raises(TransientDeliveryError):
        send(chan)
    send(chan, now=NOW + timedelta(minutes=5))
    first, second = hook.requests
    assert (first.status, second.status) == (500, 204)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body


@pytest.mark.parametrize("secret", [SECRET, "plain shared secret"])
def test_signature_verifies_with_the_secret_and_not_another(hook: WebhookReceiver, secret: str) -> None:
    send(channel(hook.url, secret=secret))
    (request,) = hook.requests
    msg_id, timestamp = request.headers["webhook-id"], request.headers["webhook-timestamp"]
    signature = request.headers["webhook-signature"]
    assert signature.startswith("v1,")
    assert verify(secret, msg_id, timestamp, request.body, signature)
    assert verify(secret, msg_id, timestamp, request.body, signature, now=NOW)
    assert not verify("another secret", msg_id, timestamp, request.body, signature)
    assert not verify(secret, msg_id, timestamp, request.body + b" ", signature)
    assert not verify(secret, msg_id, timestamp, request.body, signature, now=NOW + timedelta(hours=1))


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    # From the Standard Webhooks specification's test suite.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, msg_id, 1614265330, body) == expected
    assert verify(secret, msg_id, "1614265330", body, f"v1,bogus {expected}")


def test_server_error_is_transient(hook: WebhookReceiver) -> None:
    hook.script(Reply(500, body="database down"))
    with pytest.raises(TransientDeliveryError) as caught:
        send(channel(hook.url))
    message = str(caught.value)
    assert "500" in message and "database down" in message
    assert "\n" not in message
    assert caught.value.retry_after is None


def test_client_error_is_permanent(hook: WebhookReceiver) -> None:
    hook.script(Reply(400, body='{"error": "invalid_payload"}'))
    with pytest.raises(PermanentDeliveryError, match="400"):
        send(channel(hook.url))


def test_429_carries_retry_after_in_seconds(hook: WebhookReceiver) -> None:
    hook.script(Reply(429, {"Retry-After": "7"}))
    with pytest.raises(TransientDeliveryError) as caught:
        send(channel(hook.url))
    assert caught.value.retry_after == 7.0


def test_retry_after_as_an_http_date(hook: WebhookReceiver) -> None:
    later = format_datetime(NOW + timedelta(seconds=120), usegmt=True)
    hook.script(Reply(503, {"Retry-After": later}))
    with pytest.raises(TransientDeliveryError) as caught:
        send(channel(hook.url))
    assert caught.value.retry_after == 120.0


def test_redirect_is_a_configuration_problem(hook: WebhookReceiver) -> None:
    hook.script(Reply(301, {"Location": "https://hooks.example.net/new"}))
    with pytest.raises(PermanentDeliveryError, match=r"hooks\.example\.net"):
        send(channel(hook.url))


def test_nobody_listening_is_transient() -> None:
    with pytest.raises(TransientDeliveryError):
        send(channel(f"http://127.0.0.1:{closed_port()}/hook"))


def test_errors_never_show_the_secret_path_of_the_url(hook: WebhookReceiver) -> None:
    hook.script(404)
    url = hook.url_for("/services/T000/B000/XXXXSECRETXXXX")
    with pytest.raises(PermanentDeliveryError) as caught:
        send(channel(url))
    assert "XXXXSECRETXXXX" not in str(caught.value)


def test_slack_format_posts_a_slack_message(hook: WebhookReceiver) -> None:
    send(channel(hook.url, format="slack"))
    body = hook.requests[0].json
    assert body["text"] == "Yan Zhijie left Alibaba Tongyi Lab for JD.com Explore Academy"
    assert body["blocks"][0]["type"] == "section"


def test_discord_format_posts_a_discord_message(hook: WebhookReceiver) -> None:
    send(channel(hook.url, format="discord"))
    body = hook.requests[0].json
    assert body["content"].startswith("Yan Zhijie left")
    assert body["embeds"][0]["title"].startswith("Yan Zhijie left")


def test_deliver_dispatches_webhook_channels(hook: WebhookReceiver) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(trust_env=False) as client:
            await deliver(seed_alert(kind="test"), channel(hook.url), client=client)

    asyncio.run(go())
    assert hook.requests[0].json["type"] == "talent.test"
