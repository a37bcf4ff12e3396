"""What an alert looks like on each channel, rendered without any network."""

from __future__ import annotations

import json
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from config.schema import EmailChannel
from monitor.notify.render import (
    SUBJECT_MAX,
    discord_body,
    email_message,
    headline,
    slack_body,
    subject,
    webhook_body,
)
from monitor.notify.text import one_line, safe_url
from tests.support.receivers import seed_alert

CHANNEL = EmailChannel.model_validate(
    {"to": ["analyst@example.com", "team@example.org"], "from": "talentwatch@example.com", "host": "127.0.0.1"}
)


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def roundtrip(msg: EmailMessage) -> EmailMessage:
    """Serialise and parse again, as the receiving side sees the message."""
    parsed = message_from_bytes(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# ── json webhook ─────────────────────────────────────────────────────────────


def test_json_body_follows_the_contract() -> None:
    body = webhook_body(seed_alert())
    assert body["type"] == "talent.loss"
    assert body["id"] == "alert-tongyi-yan-1"
    assert body["lab"] == "Alibaba Tongyi Lab"
    event = body["event"]
    assert event["person"] == "Yan Zhijie"
    assert event["from_org"] == "Alibaba Tongyi Lab"
    assert event["to_org"] == "JD.com Explore Academy"
    assert event["role"] == "head of the speech lab"
    assert event["confidence"] == 0.92
    assert event["status"] == "reported"
    assert event["first_seen"] == "2025-08-10T09:00:00Z"
    assert [s["feed"] for s in event["sources"]] == ["Example Tech News", "Berita Teknologi"]
    first = event["sources"][0]
    assert set(first) >= {"url", "title", "feed", "published"}
    assert first["published"] == "2025-08-10T08:30:00Z"
    json.dumps(body)  # serialisable as is


def test_json_type_names_the_kind() -> None:
    assert webhook_body(seed_alert(kind="gain"))["type"] == "talent.gain"
    assert webhook_body(seed_alert(kind="test"))["type"] == "talent.test"


# ── headline and subject ─────────────────────────────────────────────────────


def test_subject_names_person_and_lab() -> None:
    assert subject(seed_alert()) == "talentwatch: Yan Zhijie left Alibaba Tongyi Lab for JD.com Explore Academy"


def test_gain_reads_as_joining() -> None:
    alert = seed_alert(kind="gain")
    alert = replace(alert, lab="JD.com Explore Academy")
    assert headline(alert) == "Yan Zhijie joined JD.com Explore Academy from Alibaba Tongyi Lab"


def test_tracked_lab_is_named_when_the_organisation_is_a_unit_of_it() -> None:
    alert = replace(seed_alert(), lab="Qwen team")
    assert headline(alert).endswith("(Qwen team)")


def test_test_alerts_say_so_in_the_subject() -> None:
    assert subject(seed_alert(kind="test")).startswith("talentwatch test: ")


def test_unknown_destination_and_unnamed_person_still_read_well() -> None:
    alert = seed_alert()
    alert = replace(alert, event=replace(alert.event, person=None, to_org=None))
    assert headline(alert) == "Staff left Alibaba Tongyi Lab"


# ── email ────────────────────────────────────────────────────────────────────


def test_email_has_headers_text_and_html() -> None:
    msg = roundtrip(email_message(seed_alert(), CHANNEL))
    assert msg["Subject"] == "talentwatch: Yan Zhijie left Alibaba Tongyi Lab for JD.com Explore Academy"
    assert msg["From"] == "talentwatch@example.com"
    assert msg["To"] == "analyst@example.com, team@example.org"
    assert msg["Date"].datetime == seed_alert().created
    text, html = parts(msg)
    for body in (text, html):
        assert "Yan Zhijie" in body
        assert "Example Tech News" in body and "Berita Teknologi" in body
        assert "Explore Academy milik JD.com" in body  # the evidence sentence
        assert "2025-08-10 08:30 UTC" in body
    assert '<a href="https://news.example.com/alibaba-ai-lab-talent-war">' in html
    assert "https://berita.example.id/tongyi-lab-ditinggal-peneliti" in text


def test_text_part_keeps_one_field_per_line() -> None:
    text, _ = parts(email_message(seed_alert(), CHANNEL))
    assert "From:        Alibaba Tongyi Lab (Alibaba)\n" in text
    assert "To:          JD.com Explore Academy (JD.com)\n" in text


def test_message_id_is_stable_per_alert_and_differs_between_alerts() -> None:
    first = email_message(seed_alert(), CHANNEL)["Message-ID"]
    again = email_message(seed_alert(), CHANNEL)["Message-ID"]
    other = email_message(seed_alert(alert_id="alert-tongyi-yan-2"), CHANNEL)["Message-ID"]
    assert first == again
    assert first != other
    assert first.startswith("<") and first.endswith("@example.com>")


def test_html_in_a_title_is_escaped() -> None:
    alert = seed_alert(title='<script>alert("x")</script> Yan leaves', evidence="<b>bold</b> & more")
    _, html = parts(email_message(alert, CHANNEL))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html


def test_a_javascript_link_is_shown_as_text_not_linked() -> None:
    alert = seed_alert(url="javascript:alert(document.cookie)")
    text, html = parts(email_message(alert, CHANNEL))
    assert 'href="javascript:' not in html
    assert "javascript:alert(document.cookie)" in html  # visible, inert
    assert "not an http/https link" in text


def test_a_title_with_newlines_cannot_add_headers() -> None:
    alert = replace(seed_alert(), lab="Tongyi\r\nBcc: victim@example.net")
    msg = roundtrip(email_message(alert, CHANNEL))
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert "Bcc: victim@example.net" in msg["Subject"]  # kept, as harmless text


def test_subject_is_capped() -> None:
    alert = seed_alert()
    alert = replace(alert, event=replace(alert.event, person="Yan " * 400))
    assert len(subject(alert)) <= SUBJECT_MAX
    assert subject(alert).endswith("…")


HOSTILE = st.sampled_from(
    ["<script>alert(1)</script>", "\r\nBcc: x@example.net", "\x00\x1b[2J", "\u202e", "=?utf-8?q?x?=", "é" * 300]
)
UNTRUSTED = st.lists(st.one_of(st.text(), HOSTILE), max_size=4).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    title=UNTRUSTED,
    person=st.one_of(st.none(), UNTRUSTED),
    lab=UNTRUSTED.filter(bool),
    url=st.one_of(st.none(), UNTRUSTED, st.just("javascript:alert(1)")),
)
def test_no_article_text_can_break_an_email(title: str, person: str | None, lab: str, url: str | None) -> None:
    alert = seed_alert(title=title, url=url)
    alert = replace(alert, lab=lab, event=replace(alert.event, person=person))
    msg = roundtrip(email_message(alert, CHANNEL))
    assert "\n" not in msg["Subject"]
    assert len(msg["Subject"]) <= SUBJECT_MAX
    assert msg["Message-ID"] == email_message(alert, CHANNEL)["Message-ID"]
    _, html = parts(msg)
    assert "<script" not in html.lower()
    assert 'href="javascript' not in html.lower()


# ── chat formats ─────────────────────────────────────────────────────────────


def test_slack_message_has_text_and_linked_sources() -> None:
    body = slack_body(seed_alert())
    assert body["text"] == "Yan Zhijie left Alibaba Tongyi Lab for JD.com Explore Academy"
    listing = json.dumps(body["blocks"], ensure_ascii=False)
    assert "<https://news.example.com/alibaba-ai-lab-talent-war|Alibaba AI Lab" in listing
    assert "Berita Teknologi" in listing


def test_slack_escapes_control_sequences_from_articles() -> None:
    body = slack_body(seed_alert(title="<!channel> urgent & <http://evil.example|click>"))
    listing = json.dumps(body["blocks"])
    assert "<!channel>" not in listing
    assert "&lt;!channel&gt; urgent &amp;" in listing


def test_discord_message_has_an_embed_and_pings_nobody() -> None:
    body = discord_body(seed_alert(title="@everyone Yan leaves"))
    assert body["content"].startswith("Yan Zhijie left Alibaba Tongyi Lab")
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["url"] == "https://news.example.com/alibaba-ai-lab-talent-war"
    assert embed["timestamp"] == "2025-08-10T09:00:00Z"
    assert "(https://news.example.com/alibaba-ai-lab-talent-war)" in embed["description"]


def test_chat_messages_stay_within_platform_limits_with_many_long_sources() -> None:
    alert = seed_alert(title="T" * 5000, evidence="E " * 5000)
    many = alert.event.sources * 100
    alert = replace(alert, event=replace(alert.event, sources=many, role="R" * 5000))
    slack = slack_body(alert)
    assert len(slack["blocks"]) <= 50
    for block in slack["blocks"]:
        if "text" in block:
            assert len(block["text"]["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
    assert "more" in slack["blocks"][2]["text"]["text"]
    discord = discord_body(alert)
    (embed,) = discord["embeds"]
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000
    assert len(discord["content"]) <= 2000


# ── cleaning helpers ─────────────────────────────────────────────────────────


def test_one_line_removes_controls_and_bidi_overrides() -> None:
    assert one_line("a\r\nb\tc\x1b[31md\u202ee") == "a b c[31mde"


def test_only_http_links_are_safe() -> None:
    assert safe_url("https://example.com/x?y=1") == "https://example.com/x?y=1"
    assert safe_url("HTTP://example.com") == "HTTP://example.com"
    for bad in ("javascript:alert(1)", "data:text/html,hi", "//example.com", "http://", "http://a b", None, ""):
        assert safe_url(bad) is None
