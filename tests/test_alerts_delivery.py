"""Delivery against real receivers on 127.0.0.1, with an injected clock instead of sleeping.

Retries and backoff, an SMTP server down then up, exodus, digests, rate
limits, follow-ups and template overrides, each through the real outbox.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.notify.webhook import verify
from tests.support.alerts import Clock, harness, run, settings_for
from tests.support.receivers import Reply, SmtpReceiver, WebhookReceiver

SECRET = "whsec_dGFsZW50d2F0Y2gtdGVzdC1zZWNyZXQ="


def hook(receiver: WebhookReceiver, **extra: object) -> dict[str, object]:
    return {"name": "hook", "url": receiver.url, "secret": SECRET, **extra}


def test_a_receiver_answering_500_twice_then_200_gets_the_alert_once(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.script(500, Reply(503, {"Retry-After": "30"}), then=200)
    settings = settings_for(tmp_path, alerts={"webhook": [hook(webhook_receiver)]})

    async def scenario() -> None:
        async with harness(settings) as h:
            assert h.report("Alice Martin") == 1
            first = await h.deliver()
            assert (first.delivered, first.retrying) == (0, 1)
            assert (await h.deliver()).delivered == 0, "not due again before its backoff"
            h.clock.advance(seconds=25)
            assert (await h.deliver()).retrying == 1
            h.clock.advance(seconds=20)
            assert (await h.deliver()).retrying == 0, "Retry-After: 30 is honoured"
            h.clock.advance(seconds=15)
            assert (await h.deliver()).delivered == 1
            h.clock.advance(hours=5)
            assert (await h.deliver()).delivered == 0
            [row] = h.outbox()
            assert (row.state, row.attempts) == ("delivered", 3)

    run(scenario())
    requests = webhook_receiver.requests
    assert [r.status for r in requests] == [500, 503, 200]
    assert len({r.headers["webhook-id"] for r in requests}) == 1, "every try carries the same id"
    for r in requests:
        assert verify(SECRET, r.headers["webhook-id"], r.headers["webhook-timestamp"], r.body,
                      r.headers["webhook-signature"])
        assert not verify("another secret", r.headers["webhook-id"], r.headers["webhook-timestamp"], r.body,
                          r.headers["webhook-signature"])


def test_a_permanent_refusal_is_dead_lettered_and_can_be_queued_again(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    from storage import outbox as outbox_db

    webhook_receiver.script(410, then=200)
    settings = settings_for(tmp_path, alerts={"webhook": [hook(webhook_receiver)]})

    async def scenario() -> None:
        async with harness(settings) as h:
            h.report("Alice Martin")
            assert (await h.deliver()).dead == 1
            [dead] = h.outbox("dead")
            assert "410" in (dead.last_error or "")
            assert outbox_db.requeue(h.rt.store, dead.id, h.clock())
            assert (await h.deliver()).delivered == 1

    run(scenario())
    assert [r.status for r in webhook_receiver.requests] == [410, 200]


def test_an_smtp_server_down_then_up_gets_the_alert(tmp_path: Path) -> None:
    smtp = SmtpReceiver().start()
    port = smtp.port
    smtp.stop()
    settings = settings_for(tmp_path, alerts={"email": [{
        "name": "mail", "to": ["analyst@example.com"], "from": "tw@example.com", "host": "127.0.0.1",
        "port": port, "starttls": False, "timeout": "5s"}]})

    async def scenario() -> None:
        async with harness(settings) as h:
            h.report("Alice Martin")
            assert (await h.deliver()).retrying == 1
            [row] = h.outbox("pending")
            assert "refused" in (row.last_error or "")
            smtp.start()
            try:
                h.clock.advance(minutes=5)
                assert (await h.deliver()).delivered == 1
            finally:
                smtp.stop()

    run(scenario())
    [mail] = smtp.received.snapshot()
    assert "Alice Martin" in str(mail.message["Subject"])
    assert mail.message["Message-ID"]


def test_three_losses_within_the_window_give_one_exodus_alert(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    settings = settings_for(tmp_path, alerts={"exodus": {"count": 3, "window": "30d"},
                                              "webhook": [hook(webhook_receiver)]})

    async def scenario() -> list[str]:
        async with harness(settings) as h:
            for days, person in enumerate(["Alice Martin", "Bob Keller", "Carol Jensen", "Dan Ortiz"]):
                h.clock.now += timedelta(days=days)
                h.report(person)
                h.report(person, title=f"{person} is leaving OpenAI, a second source says")  # no repeat
            h.report("Eve Tanaka", "Google DeepMind", "OpenAI")  # a gain elsewhere, not a loss of OpenAI
            await h.deliver()
            return [r.kind for r in h.outbox()]

    kinds = run(scenario())
    assert sorted(kinds) == ["exodus", "loss", "loss", "loss", "loss"]
    bodies = [r.json for r in webhook_receiver.requests]
    [exodus] = [b for b in bodies if b["type"] == "talent.exodus"]
    assert exodus["lab"] == "OpenAI"
    assert exodus["count"] == 3
    assert [e["person"] for e in exodus["events"]] == ["Alice Martin", "Bob Keller", "Carol Jensen"]
    assert exodus["event"]["person"] == "Carol Jensen", "the loss that crossed the threshold"


def test_an_exodus_is_sent_again_only_after_the_count_fell_below_the_threshold(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    settings = settings_for(tmp_path, alerts={"exodus": {"count": 2, "window": "10d"},
                                              "webhook": [hook(webhook_receiver)]})

    async def scenario() -> list[tuple[int, ...]]:
        async with harness(settings) as h:
            h.report("Alice Martin")
            h.clock.advance(days=1)
            h.report("Bob Keller")  # 2 within 10 days: a crossing
            h.clock.advance(days=1)
            h.report("Carol Jensen")  # 3: still above, nothing more
            h.clock.advance(days=30)  # all three leave the window
            h.report("Dan Ortiz")  # 1
            h.clock.advance(days=1)
            h.report("Erin Walsh")  # 2 again: a new crossing
            return [r.related for r in h.outbox() if r.kind == "exodus"]

    related = run(scenario())
    assert len(related) == 2
    assert all(len(r) == 2 for r in related)
    assert set(related[0]).isdisjoint(related[1])


def test_a_daily_digest_with_two_alerts_sends_one_message_and_none_for_an_empty_day(
    tmp_path: Path, smtp_receiver: SmtpReceiver, webhook_receiver: WebhookReceiver
) -> None:
    settings = settings_for(tmp_path, alerts={
        "webhook": [hook(webhook_receiver, digest="daily 18:00")],
        "email": [{"name": "mail", "to": ["a@example.com"], "from": "tw@example.com", "host": "127.0.0.1",
                   "port": smtp_receiver.port, "starttls": False, "digest": "daily 18:00"}]})

    async def scenario() -> None:
        async with harness(settings, Clock()) as h:  # 09:00
            await h.deliver()  # the first period starts
            h.report("Alice Martin")
            h.clock.advance(hours=2)
            h.report("Yan Zhijie", "Alibaba Tongyi Lab", "JD.com Explore Academy")
            assert (await h.deliver()).delivered == 0, "alerts wait for the digest"
            h.clock.advance(hours=8)  # 19:00: the period closed at 18:00
            report = await h.deliver()
            assert report.delivered == 4  # two alerts on each of the two channels
            h.report("Bob Keller")  # after the close: the next period
            assert (await h.deliver()).delivered == 0
            h.clock.advance(days=1)
            assert (await h.deliver()).delivered == 2
            h.clock.advance(days=1)
            assert (await h.deliver()).delivered == 0, "an empty day sends nothing"

    run(scenario())
    bodies = [r.json for r in webhook_receiver.requests]
    assert [b["type"] for b in bodies] == ["talent.digest", "talent.digest"]
    first = bodies[0]
    assert first["count"] == 2
    assert {a["event"]["person"] for a in first["alerts"]} == {"Alice Martin", "Yan Zhijie"}
    assert {a["type"] for a in first["alerts"]} == {"talent.loss"}
    mails = smtp_receiver.received.snapshot()
    assert len(mails) == 2
    subject = str(mails[0].message["Subject"])
    assert subject.startswith("talentwatch digest: 2 new alerts"), subject
    text = mails[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "Alice Martin left OpenAI" in text and "Yan Zhijie left Alibaba Tongyi Lab" in text


def test_a_rate_limit_delays_alerts_without_dropping_them(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    settings = settings_for(tmp_path, alerts={"webhook": [hook(webhook_receiver, rate_limit="2/h")]})

    async def scenario() -> None:
        async with harness(settings) as h:
            for person in ["Alice Martin", "Bob Keller", "Carol Jensen", "Dan Ortiz", "Erin Walsh"]:
                h.report(person)
            report = await h.deliver()
            assert (report.delivered, report.held) == (2, 3)
            waiting = h.outbox("pending")
            assert len(waiting) == 3 and all(r.attempts == 0 for r in waiting)
            h.clock.advance(minutes=30)
            assert (await h.deliver()).delivered == 0
            h.clock.advance(minutes=31)
            assert (await h.deliver()).delivered == 2
            h.clock.advance(hours=1, minutes=1)
            assert (await h.deliver()).delivered == 1
            assert len(h.outbox("delivered")) == 5

    run(scenario())
    people = [r.json["event"]["person"] for r in webhook_receiver.requests]
    assert set(people[:2]) == {"Alice Martin", "Bob Keller"}, "oldest first"
    assert set(people[2:4]) == {"Carol Jensen", "Dan Ortiz"} and people[4] == "Erin Walsh"


def test_a_follow_up_is_sent_once_when_an_alerted_move_is_confirmed(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    settings = settings_for(tmp_path, alerts={"follow_up": True, "webhook": [hook(webhook_receiver)]})

    async def scenario() -> None:
        async with harness(settings) as h:
            h.report("Alice Martin")
            await h.deliver()
            h.report("Alice Martin", status="confirmed", title="OpenAI confirms Alice Martin has left")
            h.report("Alice Martin", status="confirmed", title="A third source: Alice Martin left")
            await h.deliver()
            h.report("Bob Keller", status="confirmed")  # confirmed from the start: no follow-up
            await h.deliver()

    run(scenario())
    bodies = [r.json for r in webhook_receiver.requests]
    assert [(b["type"], b["event"]["person"]) for b in bodies] == [
        ("talent.loss", "Alice Martin"), ("talent.loss_confirmed", "Alice Martin"), ("talent.loss", "Bob Keller")]
    assert bodies[0]["id"] != bodies[1]["id"]
    assert bodies[1]["event"]["status"] == "confirmed"


def test_no_follow_up_unless_asked(tmp_path: Path, webhook_receiver: WebhookReceiver) -> None:
    settings = settings_for(tmp_path, alerts={"webhook": [hook(webhook_receiver)]})

    async def scenario() -> None:
        async with harness(settings) as h:
            h.report("Alice Martin")
            await h.deliver()
            h.report("Alice Martin", status="confirmed", title="OpenAI confirms Alice Martin has left")
            await h.deliver()

    run(scenario())
    assert len(webhook_receiver.requests) == 1


def test_templates_from_the_config_replace_the_defaults_one_by_one(
    tmp_path: Path, smtp_receiver: SmtpReceiver
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "subject.txt.j2").write_text("[talent] {{ headline }}", "utf-8")
    settings = settings_for(tmp_path, alerts={"templates": str(folder), "email": [{
        "to": ["a@example.com"], "from": "tw@example.com", "host": "127.0.0.1", "port": smtp_receiver.port,
        "starttls": False}]})

    async def scenario() -> None:
        async with harness(settings) as h:
            h.report("Alice Martin", title="<script>alert(1)</script> Alice Martin leaves OpenAI")
            assert (await h.deliver()).delivered == 1

    run(scenario())
    [mail] = smtp_receiver.received.snapshot()
    assert str(mail.message["Subject"]) == "[talent] Alice Martin left OpenAI for Anthropic"
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;" in html and "<script>" not in html, "the shipped HTML template still escapes"


def test_a_template_that_fails_to_render_dead_letters_with_a_clear_error(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "headline.txt.j2").write_text("{{ no_such_field }}", "utf-8")
    settings = settings_for(tmp_path, alerts={"templates": str(folder), "webhook": [hook(webhook_receiver,
                                                                                         format="slack")]})

    async def scenario() -> None:
        async with harness(settings) as h:
            h.report("Alice Martin")
            assert (await h.deliver()).dead == 1
            [row] = h.outbox("dead")
            assert "template error" in (row.last_error or "") and "no_such_field" in (row.last_error or "")

    run(scenario())
    assert webhook_receiver.requests == []
