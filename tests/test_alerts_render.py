"""Exodus, digest and follow-up alerts rendered for every format: what users read, and what stays inert."""

from __future__ import annotations

import json
from dataclasses import replace

from config.schema import EmailChannel, WebhookChannel
from monitor.notify.render import email_message, subject
from monitor.notify.webhook import request_body
from monitor.records import Alert
from tests.support.receivers import seed_alert

MAIL = EmailChannel.model_validate({"to": ["a@example.com"], "from": "tw@example.com", "host": "smtp.example.com"})


def exodus() -> Alert:
    yan = seed_alert(title="<script>alert(1)</script> Tongyi loses staff")
    bo = replace(yan.event, id=43, person="Bo Liefeng", to_org="Tencent Hunyuan")
    li = replace(yan.event, id=44, person="Liu Wei", to_org="ByteDance Seed")
    return replace(yan, id="msg_exodus", kind="exodus", related=(yan.event, bo, li), event=li)


def digest() -> Alert:
    one = seed_alert(alert_id="msg_a")
    two = replace(seed_alert(alert_id="msg_b"), event=replace(one.event, id=50, person="Bo Liefeng"))
    return replace(one, id="msg_digest", kind="digest", items=(one, two))


def body(fmt: str, alert: Alert) -> dict[str, object]:
    channel = WebhookChannel(url="https://hooks.example.com/x", format=fmt)  # type: ignore[arg-type]
    return json.loads(request_body(channel, alert))  # type: ignore[no-any-return]


def test_an_exodus_names_the_lab_and_everyone_who_left_in_every_format() -> None:
    alert = exodus()
    assert subject(alert).startswith("talentwatch exodus: 3 people left Alibaba Tongyi Lab since")
    data = body("json", alert)
    assert data["type"] == "talent.exodus" and data["count"] == 3
    assert [e["person"] for e in data["events"]] == ["Yan Zhijie", "Bo Liefeng", "Liu Wei"]  # type: ignore[attr-defined]
    slack = json.dumps(body("slack", alert))
    discord = body("discord", alert)
    for person in ("Yan Zhijie", "Bo Liefeng", "Liu Wei"):
        assert person in slack and person in json.dumps(discord)
    assert discord["allowed_mentions"] == {"parse": []}
    html = email_message(alert, MAIL).get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_a_digest_lists_each_alert_with_its_own_id() -> None:
    alert = digest()
    data = body("json", alert)
    assert data["type"] == "talent.digest" and data["count"] == 2
    assert [a["id"] for a in data["alerts"]] == ["msg_a", "msg_b"]  # type: ignore[attr-defined]
    for fmt in ("slack", "discord"):
        text = json.dumps(body(fmt, alert))
        assert "Yan Zhijie left" in text and "Bo Liefeng left" in text
    message = email_message(alert, MAIL)
    assert str(message["Subject"]).startswith("talentwatch digest: 2 new alerts")
    assert "msg_digest" in str(message["X-Talentwatch-Alert"])


def test_a_follow_up_says_the_move_is_confirmed() -> None:
    alert = replace(seed_alert(), kind="loss_confirmed")
    assert subject(alert).startswith("talentwatch: Confirmed: Yan Zhijie left Alibaba Tongyi Lab")
    assert body("json", alert)["type"] == "talent.loss_confirmed"
    gain = replace(seed_alert(), kind="gain_confirmed")
    assert "Confirmed: Yan Zhijie joined JD.com Explore Academy" in subject(gain)
