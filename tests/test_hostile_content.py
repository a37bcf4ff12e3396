"""Hostile text in a feed reaches the database, the inbox, the webhook and the log only as harmless text.

One feed reports a real departure wrapped in every trick a feed author
has: line breaks and NULs meant to inject mail headers, scripts, SVG
handlers, forms, obfuscated ``javascript:`` and ``file:`` links. It goes
through ``main.py once`` to a real SMTP server and a real webhook receiver.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from monitor.notify.render import email_message
from monitor.text import html_to_text, http_link, one_line
from tests.conftest import RunCli
from tests.support.feed_server import FeedServer
from tests.support.receivers import SmtpReceiver, WebhookReceiver, seed_alert
from tests.test_alerts_cli import write_config

SCRIPTS = re.compile(r"<script|<svg|<form|<iframe|onload|onerror|javascript:|vbscript:|file:|data:text", re.I)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

TITLE = ("Alice Martin leaves OpenAI for Anthropic&#13;&#10;Bcc: victim@example.com&#0;"
         "&lt;script&gt;alert(1)&lt;/script&gt;\x0b\x1b[31m")
BODY = (
    "<p>Alice Martin, a researcher at OpenAI, has left the company to join Anthropic.</p>"
    "<svg/onload=alert(1)><script>alert(2)</script><form action='http://evil.example/'><input name=x></form>"
    "<a href='jav&#x09;ascript:alert(3)'>one</a> <a href='JaVaScRiPt:alert(4)'>two</a>"
    "<a href='file:///etc/passwd'>three</a><img src=x onerror=alert(5)><iframe src='http://evil.example/'>"
    "</iframe>\x00"
)


def hostile_feed() -> bytes:
    from html import escape

    item = (f"<item><title>{TITLE}</title><link>javascript:alert(6)</link><guid>hostile-1</guid>"
            f"<description>{escape(BODY)}</description></item>"
            f"<item><title>Bob Stone leaves OpenAI for Anthropic</title>"
            f"<link>http://example.com/b&#13;&#10;X-Injected: 1</link><guid>hostile-2</guid>"
            f"<description>Bob Stone, a researcher at OpenAI, has left the company to join Anthropic."
            f"</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>AI &#13;&#10;moves</title>'
            f"<link>http://example.com/</link><description>d</description>{item}</channel></rss>").encode()


def test_hostile_titles_and_bodies_go_end_to_end_as_harmless_text(
    tmp_path: Path, run_cli: RunCli, feed_server: FeedServer, smtp_receiver: SmtpReceiver,
    webhook_receiver: WebhookReceiver,
) -> None:
    feed = feed_server.serve("/hostile.xml", hostile_feed())
    config = write_config(tmp_path, feed=feed, hook_url=webhook_receiver.url, smtp_port=smtp_receiver.port)
    result = run_cli("once", "--config", str(config))
    assert result.returncode == 0, result.stderr

    with sqlite3.connect(tmp_path / "tw.db") as conn:
        stored = conn.execute("SELECT title, summary, link FROM entries").fetchall()
    assert len(stored) == 2
    for title, summary, link in stored:
        assert not CONTROL.search(title + summary) and "\n" not in title
        assert not SCRIPTS.search(title + summary + (link or ""))
        assert link is None or link.startswith("http")

    mails = smtp_receiver.received.wait_for(2, timeout=60)
    for mail in mails:
        assert mail.rcpt_tos == ("analyst@example.com",)
        assert "bcc" not in {k.lower() for k in mail.message}
        assert "x-injected" not in {k.lower() for k in mail.message}
        for name, value in mail.message.items():
            assert not CONTROL.search(str(value)) and "\n" not in str(value).replace("\n ", ""), (name, value)
        for part in mail.message.walk():
            if part.get_content_maintype() == "text":
                content = part.get_content()
                assert not SCRIPTS.search(content), content
                assert not re.search(r"href=['\"]?(?!https?://|mailto:)", content, re.I)

    hooks = webhook_receiver.requests
    assert len(hooks) == 2
    for request in hooks:
        text = json.dumps(request.json)
        assert not SCRIPTS.search(text)
        for source in request.json["event"]["sources"]:
            assert source["url"] is None or source["url"].startswith(("http://", "https://"))
        for value in request.headers.values():
            assert not CONTROL.search(value)

    for line in result.stderr.splitlines():
        assert not CONTROL.search(line), line


def test_each_sanitiser_step_on_its_own() -> None:
    assert not SCRIPTS.search(html_to_text(BODY))
    assert one_line("a\r\nb\x00c\u2028d") == "a bc d" or "\n" not in one_line("a\r\nb\x00c")
    for link in ("javascript:alert(1)", " JAVASCRIPT:alert(1)", "jav\tascript:alert(1)", "file:///etc/passwd",
                 "data:text/html,<script>", "vbscript:x", "//evil.example/x"):
        assert http_link(link) is None or http_link(link, "http://example.com/") in (None, "http://evil.example/x")
    assert http_link("http://example.com/a\r\nX: 1") in (None, "http://example.com/aX:%201", "http://example.com/aX: 1")


def test_an_unclean_title_never_drops_an_email() -> None:
    """Python's email library raises on a line break in a header: the subject is cleaned before it."""
    from config.schema import EmailChannel

    alert = seed_alert(title="Line one\r\nBcc: x@example.com\x00")
    channel = EmailChannel.model_validate({"to": ["a@example.com"], "from": "t@example.com", "host": "127.0.0.1"})
    message = email_message(alert, channel)
    for value in message.values():
        assert "\r" not in value and "\x00" not in value
    assert "Bcc" not in message
