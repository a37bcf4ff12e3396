"""Parsing: identity, plain text, links, and what is refused as not a feed."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.parse import parse_feed, strip_doctype_subset
from monitor.records import FeedEntry
from monitor.text import canonical_link, html_to_text, http_link

DATA = Path(__file__).parent / "data" / "feeds"
URL = "https://feeds.example.com/feed.xml"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def rss(items: str, channel: str = "<title>T</title>") -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{channel}{items}</channel></rss>'.encode()


def only(content: bytes) -> FeedEntry:
    (entry,) = parse_feed(content, url=URL).entries
    return entry


# ── hand-written feeds with their expected output beside them ────────────────


@pytest.mark.parametrize("path", sorted(p for p in DATA.iterdir() if not p.name.endswith(".expected.json")),
                         ids=lambda p: p.name)
def test_feed_file_parses_to_its_expected_output(path: Path) -> None:
    expected: dict[str, Any] = json.loads(path.with_name(path.stem + ".expected.json").read_text("utf-8"))
    parsed = parse_feed(path.read_bytes(), url=URL)
    assert parsed.title == expected["title"]
    assert parsed.link == expected["link"]
    assert len(parsed.entries) == len(expected["entries"])
    for entry, want in zip(parsed.entries, expected["entries"], strict=True):
        got = {
            "key": "sha256" if SHA256.match(entry.key) else entry.key,
            "title": entry.title,
            "summary": entry.summary,
            "link": entry.link,
            "published": entry.published.isoformat() if entry.published else None,
        }
        assert got == want
        assert SHA256.match(entry.content_hash)


# ── identity ─────────────────────────────────────────────────────────────────


def test_the_guid_is_the_key_even_when_the_link_changes() -> None:
    before = only(rss("<item><guid>g-1</guid><title>A</title><link>https://x.example/1</link></item>"))
    after = only(rss("<item><guid>g-1</guid><title>A</title><link>https://x.example/2</link></item>"))
    assert before.key == after.key == "g-1"
    assert before.content_hash != after.content_hash


def test_without_a_guid_the_canonical_link_is_the_key() -> None:
    entry = only(rss("<item><title>A</title><link>HTTPS://X.example:443/1?utm_campaign=z#top</link></item>"))
    assert entry.key == entry.link == "https://x.example/1"


def test_without_guid_or_link_a_hash_of_the_text_is_the_key_and_follows_the_text() -> None:
    first = only(rss("<item><title>A</title><description>one</description></item>"))
    same = only(rss("<item><title>A</title><description>one</description></item>"))
    edited = only(rss("<item><title>A</title><description>two</description></item>"))
    assert SHA256.match(first.key)
    assert first.key == same.key != edited.key


def test_a_repeated_item_is_kept_once() -> None:
    item = "<item><guid>g</guid><title>A</title></item>"
    assert len(parse_feed(rss(item * 3), url=URL).entries) == 1


def test_a_richer_content_body_wins_over_the_summary() -> None:
    content = rss(
        "<item><guid>g</guid><title>A</title><description>Short teaser.</description>"
        "<content:encoded><![CDATA[<p>Short teaser.</p><p>And the whole story.</p>]]></content:encoded></item>"
    ).replace(b'<rss version="2.0">', b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">')
    assert only(content).summary == "Short teaser.\n\nAnd the whole story."


def test_a_summary_is_capped() -> None:
    entry = only(rss(f"<item><guid>g</guid><description>{'word ' * 10_000}</description></item>"))
    assert len(entry.summary) <= 20_000


# ── text ─────────────────────────────────────────────────────────────────────


def test_html_to_text_breaks_blocks_decodes_entities_and_drops_scripts() -> None:
    html = "<h2>Moves</h2><p>Bo&nbsp;Liefeng &amp; team</p><script>var x = 1;</script><p>went to <b>Hunyuan</b></p>"
    assert html_to_text(html) == "Moves\n\nBo Liefeng & team\n\nwent to Hunyuan"


def test_html_to_text_keeps_inline_words_together_and_plain_text_intact() -> None:
    assert html_to_text("通义<b>实验室</b>") == "通义实验室"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<ul><li>first</li><li>second</li></ul>", "* first\n* second"),
        ("<ol><li>one</li><li><p>two</p></li></ol>after", "1. one\n\n2. two\n\nafter"),
        ("<p>a</p>\n  <p>b</p>", "a\n\nb"),
        ("a<br>b<br/><br>c", "a\nb\n\nc"),
        ("<div>a</div> <div>b</div>", "a\nb"),
        ("<p>line\nwrapped  in\tsource</p>", "line wrapped in source"),
        ("<pre>def f():\n    return 1</pre>", "def f():\nreturn 1"),
        ("<table><tr><th>who</th><th>to</th></tr><tr><td>Yan</td><td>JD</td></tr></table>", "who to\nYan JD"),
        ("<figure><img src=x><figcaption>Yan Zhijie in 2024</figcaption></figure><p>He left.</p>",
         "Yan Zhijie in 2024\n\nHe left."),
        ("<p>&lt;p&gt;not a tag&lt;/p&gt; &amp;amp;</p>", "<p>not a tag</p> &amp;"),
    ],
)
def test_html_to_text_lays_blocks_out_as_a_browser_would(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_invalid_characters_never_come_out() -> None:
    text = html_to_text("ok\x00 \ud800 <p>fine\x1b</p>")
    assert text == "ok\n\nfine"
    text.encode("utf-8")


# ── links ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.google.com/url?rct=j&sa=t&url=https://lab.example.org/a&ct=ga&usg=X", "https://lab.example.org/a"),
        ("https://www.google.co.jp/url?q=https://lab.example.org/b&sa=U", "https://lab.example.org/b"),
        (
            "https://news.google.com/rss/articles/CBMiN2h0dHBzOi8vd3d3LmFzYWhpLmNvbS9hcnRpY2xlcy9BU1MyNTZIR1ZTMjRVVElMMDBYLmh0bWzSAQA?oc=5",
            "https://www.asahi.com/articles/ASS256HGVS24UTIL00X.html",
        ),
        ("https://x.example/p?utm_source=rss&utm_medium=feed&id=3&fbclid=q", "https://x.example/p?id=3"),
        ("HTTP://X.Example:80/p#section", "http://x.example/p"),
        ("https://x.example/a%20b?q=a+b", "https://x.example/a%20b?q=a+b"),
    ],
)
def test_canonical_link(url: str, canonical: str) -> None:
    assert canonical_link(url) == canonical


def test_http_link_resolves_relative_links_and_drops_other_schemes() -> None:
    assert http_link("../b/c.html", "https://x.example/a/feed.xml") == "https://x.example/b/c.html"
    assert http_link("//cdn.example/x", "https://x.example/") == "https://cdn.example/x"
    for bad in ("javascript:alert(1)", "mailto:a@example.com", "data:text/html,hi", "ftp://x.example/", ""):
        assert http_link(bad, "https://x.example/") is None


# ── refusals ─────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty body"),
        (b" \n\t ", "empty body"),
        (b"<!DOCTYPE html><html><head><title>Blocked</title></head><body>Sorry</body></html>", "HTML page"),
        (b"\xef\xbb\xbf\n<html lang='en'><body>x</body></html>", "HTML page"),
        (b'{"error": "not found"}', "not a JSON Feed"),
        (b"[1, 2, 3]", "not a JSON Feed"),
        (b"{not json", "invalid JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', "items list"),
        (b"<note><to>x</to></note>", "not a feed"),
        (b"\x00\x01\x02garbage\xff", "not a feed"),
        (b"\x1f\x8bnot really gzip", "broken gzip"),
    ],
)
def test_unusable_bodies_raise_parse_error_with_a_reason(content: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        parse_feed(content, url=URL)
    assert "\n" not in str(caught.value)


def test_a_body_that_names_a_local_file_is_not_read_as_one(tmp_path: Path) -> None:
    secret = tmp_path / "feed.xml"
    secret.write_bytes(rss("<item><guid>g</guid><title>secret</title></item>"))
    with pytest.raises(ParseError):
        parse_feed(str(secret).encode(), url=URL)


def test_a_broken_feed_that_still_has_entries_is_accepted() -> None:
    content = rss("<item><guid>g</guid><title>Half &amp broken</title></item><item><title>unclosed")
    assert parse_feed(content, url=URL).entries[0].key == "g"


def test_a_doctype_entity_bomb_is_stripped_before_parsing() -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>&l9;</title>'
        "<item><guid>g</guid><title>ok &l9;</title></item></channel></rss>"
    ).encode()
    assert b"ENTITY" not in strip_doctype_subset(bomb)
    parsed = parse_feed(bomb, url=URL)
    assert [e.key for e in parsed.entries] == ["g"]
    assert "lol" not in parsed.entries[0].title


def test_a_doctype_inside_the_content_is_left_alone() -> None:
    content = rss("<item><guid>g</guid><description><![CDATA[<!DOCTYPE x [ y ]> text]]></description></item>")
    assert strip_doctype_subset(content) == content


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_give_a_feed_or_a_parse_error(content: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_feed(content, url=URL)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_inside_a_feed_comes_out_as_valid_text(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "surrogatepass")
    content = rss("<item><guid>g</guid><title>x</title><description>@</description></item>").replace(b"@", escaped)
    try:
        parsed = parse_feed(content, url=URL)
    except ParseError:
        return
    for entry in parsed.entries:
        (entry.key + entry.title + entry.summary).encode("utf-8")
        assert "\x00" not in entry.summary
