"""Feeds served by a hostile server: each attack is one feed's clear error, never anyone else's problem.

The attacks (``tests.support.hostile_server``) are fetched and parsed as
the daemon does it, then all at once through ``main.py once`` beside a good
feed, which must come through untouched. Memory is measured as the growth
of this process's peak RSS: a bomb decoded whole would show as gigabytes.
"""

from __future__ import annotations

import asyncio
import resource
import sqlite3
from pathlib import Path

import pytest

from monitor.errors import FetchError, ParseError
from monitor.fetch import Fetcher
from monitor.parse import parse_feed
from monitor.records import FeedForUpdate, ParsedFeed
from tests.conftest import RunCli
from tests.support.hostile_server import FAILING, SURVIVABLE, HostileServer, deflate_bomb, stacked_gzip_bomb

MAX_BYTES = 2 * 2**20
MEMORY_BOUND = 400 * 2**20  # peak RSS growth allowed for the whole set: far below any bomb's size


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fetch_and_parse(url: str, layout: str = "aiohttp") -> ParsedFeed:
    async def go() -> ParsedFeed:
        async with Fetcher(allow_private=["127.0.0.1"], timeout=3, max_bytes=MAX_BYTES,
                           layout=layout) as fetcher:  # type: ignore[arg-type]
            fetched = await fetcher.fetch(FeedForUpdate(url))
        assert fetched.content is not None
        return parse_feed(fetched.content, url=fetched.url, content_type=fetched.content_type)

    return asyncio.run(go())


def assert_clean(parsed: ParsedFeed) -> None:
    """Only valid, storable text: no NUL, no control character, no lone surrogate."""
    for entry in parsed.entries:
        for text in (entry.key, entry.title, entry.summary, entry.link or ""):
            text.encode("utf-8")  # raises on a lone surrogate
            assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text), repr(text)


@pytest.fixture(scope="module", autouse=True)
def _bombs_built() -> None:
    """Build the bombs before measuring memory: building them is the test's cost, not the product's."""
    stacked_gzip_bomb()
    deflate_bomb()


@pytest.mark.parametrize("layout", ["aiohttp", "single"])
@pytest.mark.parametrize("path", sorted(FAILING))
def test_each_attack_is_a_clear_error_within_bounds(hostile_server: HostileServer, path: str, layout: str) -> None:
    before = peak_rss()
    with pytest.raises((FetchError, ParseError)) as caught:
        fetch_and_parse(hostile_server.url(path), layout)
    message = str(caught.value)
    assert message and "\n" not in message and len(message) < 400
    assert FAILING[path].lower() in message.lower(), message
    assert peak_rss() - before < MEMORY_BOUND


@pytest.mark.parametrize("path", SURVIVABLE)
def test_odd_but_readable_feeds_parse_to_clean_text_or_fail_clearly(hostile_server: HostileServer, path: str) -> None:
    before = peak_rss()
    try:
        parsed = fetch_and_parse(hostile_server.url(path))
    except (FetchError, ParseError) as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert_clean(parsed)
    assert peak_rss() - before < MEMORY_BOUND


def test_the_quadratic_entity_doctype_does_not_expand(hostile_server: HostileServer) -> None:
    parsed = fetch_and_parse(hostile_server.url("/quadratic.xml"))
    assert all(len(e.title) <= 1_000 and "A" * 1_000 not in e.summary for e in parsed.entries)


def test_a_lone_surrogate_reference_becomes_clean_text(hostile_server: HostileServer) -> None:
    parsed = fetch_and_parse(hostile_server.url("/surrogate.xml"))
    assert [e.title for e in parsed.entries] == ["Lone \ufffd surrogate \ufffd here"]
    assert_clean(parsed)


def test_invalid_utf8_and_nuls_are_stored_as_valid_text(hostile_server: HostileServer) -> None:
    for path in ("/invalid-utf8.xml", "/nul.xml"):
        parsed = fetch_and_parse(hostile_server.url(path))
        assert parsed.entries
        assert_clean(parsed)


def write_config(tmp_path: Path, urls: list[str]) -> Path:
    feeds = "\n".join(f'[[feeds]]\nurl = "{url}"\n' for url in urls)
    config = tmp_path / "talentwatch.toml"
    config.write_text(f'[storage]\npath = "tw.db"\n\n[polling]\ntimeout = "3s"\nmax_bytes = {MAX_BYTES}\n'
                      f'allow_private = ["127.0.0.1"]\n\n{feeds}\n[[labs]]\nname = "OpenAI"\n', "utf-8")
    return config


def test_once_over_every_attack_records_each_error_and_keeps_the_good_feed(
    hostile_server: HostileServer, tmp_path: Path, run_cli: RunCli
) -> None:
    paths = ["/good.xml", *sorted(FAILING), *SURVIVABLE]
    config = write_config(tmp_path, [hostile_server.url(p) for p in paths])
    result = run_cli("once", "--config", str(config), timeout=180)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "tw.db") as conn:
        rows = dict(conn.execute("SELECT configured_url, last_error FROM feeds").fetchall())
        titles = [t for (t,) in conn.execute("SELECT title FROM entries")]
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"
    assert rows[hostile_server.url("/good.xml")] is None
    assert "Weekly notes" in titles
    for path, words in FAILING.items():
        error = rows[hostile_server.url(path)]
        assert error and words.lower() in error.lower(), (path, error)
    for title in titles:
        title.encode("utf-8")
        assert "\x00" not in title
    status = run_cli("status", "--config", str(config))
    assert status.returncode == 0, status.stderr
    assert "decompressed" in status.stdout and "too many redirects" in status.stdout
    for line in result.stderr.splitlines():  # one log line per thing, whatever the feeds said
        assert "\x00" not in line and "\r" not in line
