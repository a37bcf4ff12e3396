"""Full text, end to end: ``main.py once`` polls a real feed server whose article pages complete the summaries.

Every page request lands in the server's log, so the tests see exactly
which pages were fetched, and how often; the findings are read back from
the real SQLite file.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.conftest import RunCli
from tests.support.feed_server import FeedServer, Reply

pytestmark = pytest.mark.slow

LEAVING = ("Maria Kowalski is leaving OpenAI",
           "Maria Kowalski, who led OpenAI's post-training team, said on Friday that she is leaving the company "
           "after four years.")
UNNAMED = ("Another senior researcher quits OpenAI",
           "The company confirmed the departure on Friday without naming the researcher.")
NO_MOVE = ("Apple unveils a faster chip for the next iPhone",
           "The new processor is built on a three-nanometre process.")
COMPLETE = ("Anthropic hires Google DeepMind researcher Tom Lindqvist",
            "Tom Lindqvist, a research scientist at Google DeepMind, has joined Anthropic to work on interpretability.")
FILLER = (
    "Her departure follows several others from the San Francisco company this year, as rivals compete for "
    "experienced researchers with large compensation packages and the promise of more compute. Recruiters say "
    "the market for people who have trained frontier models has never been tighter."
)


def page(title: str, *paragraphs: str) -> bytes:
    """An article page as news sites make them: navigation, the story, related links, a footer."""
    body = "".join(f"<p>{escape(p)}</p>" for p in (*paragraphs, FILLER))
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/ai'>AI</a> <a href='/jobs'>Jobs</a></nav>"
        f"<article><h1>{escape(title)}</h1>{body}</article>"
        "<aside><h2>Related</h2><ul><li><a href='/x'>Chip makers race to ship new accelerators</a></li></ul></aside>"
        "<footer>Copyright 2025 Example News. All rights reserved.</footer></body></html>"
    ).encode()


def feed(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS feed of (title, summary, link) items."""
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<description>{escape(s)}</description><pubDate>Fri, 08 Aug 2025 09:00:00 GMT</pubDate></item>"
        for t, s, link in items
    )
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>AI Desk</title>"
            f"<link>http://127.0.0.1/</link>{entries}</channel></rss>").encode()


def write_config(tmp_path: Path, feed_url: str, extra: str = "", timeout: str = "20s") -> Path:
    config = tmp_path / "talentwatch.toml"
    config.write_text(
        f"""
[storage]
path = "talentwatch.db"

[polling]
interval = "1m"
timeout = "{timeout}"
allow_private = ["127.0.0.1"]

[classify]
{extra}

[[feeds]]
url = "{feed_url}"
name = "AI Desk"
""",
        "utf-8",
    )
    return config


def events(config: Path) -> dict[str | None, tuple[str | None, str | None]]:
    with sqlite3.connect(config.parent / "talentwatch.db") as db:
        rows = db.execute("SELECT person, from_org, to_org FROM events").fetchall()
    return {person: (from_org, to_org) for person, from_org, to_org in rows}


def pages(config: Path) -> dict[str, tuple[str | None, str | None]]:
    with sqlite3.connect(config.parent / "talentwatch.db") as db:
        rows = db.execute("SELECT url, text, error FROM pages").fetchall()
    return {url: (text, error) for url, text, error in rows}


def test_pages_complete_candidates_only_and_are_fetched_once(tmp_path: Path, feed_server: FeedServer,
                                                             run_cli: RunCli) -> None:
    links = {name: feed_server.url(f"/news/{name}") for name in ("kowalski", "unnamed", "iphone", "lindqvist")}
    feed_server.serve("/news/kowalski", page(
        LEAVING[0], LEAVING[1],
        "Kowalski is joining Anthropic, where she will lead a new reinforcement learning group, according to a "
        "person familiar with the matter. Anthropic confirmed the hire in a statement."), content_type="text/html")
    feed_server.serve("/news/unnamed", page(
        UNNAMED[0], "Lena Fischer, a senior researcher who worked on reasoning models at OpenAI, has left the company.",
        "Fischer is joining xAI, the company said in a post on Friday."), content_type="text/html")
    feed_server.serve("/news/iphone", page(NO_MOVE[0], NO_MOVE[1]), content_type="text/html")
    feed_server.serve("/news/lindqvist", page(COMPLETE[0], COMPLETE[1]), content_type="text/html")
    items = [(*LEAVING, links["kowalski"]), (*UNNAMED, links["unnamed"]), (*NO_MOVE, links["iphone"]),
             (*COMPLETE, links["lindqvist"])]
    config = write_config(tmp_path, feed_server.serve("/feed.xml", feed(items)))

    run_cli("once", "--config", str(config), check=True)

    found = events(config)
    assert found["Maria Kowalski"] == ("OpenAI", "Anthropic")  # the summary said only "leaving OpenAI"
    assert found["Lena Fischer"] == ("OpenAI", "xAI")  # the summary named nobody
    assert found["Tom Lindqvist"] == ("Google DeepMind", "Anthropic")
    assert len(feed_server.requests_to("/news/kowalski")) == 1
    assert len(feed_server.requests_to("/news/unnamed")) == 1
    assert feed_server.requests_to("/news/iphone") == []  # no move word: never a candidate
    assert feed_server.requests_to("/news/lindqvist") == []  # both sides known already
    assert set(pages(config)) == {links["kowalski"], links["unnamed"]}

    # The feed changes (an edited summary, a new item): the edited entry is read again, from the cache.
    edited = (LEAVING[0], LEAVING[1] + " She did not say what comes next.", links["kowalski"])
    feed_server.serve("/feed.xml", feed([edited, *items[1:], ("Chip stocks rally", "Shares rose.",
                                                              feed_server.url("/news/chips"))]))
    run_cli("once", "--config", str(config), check=True)
    run_cli("reclassify", "--config", str(config), check=True)

    assert len(feed_server.requests_to("/feed.xml")) == 2
    assert len(feed_server.requests_to("/news/kowalski")) == 1
    assert len(feed_server.requests_to("/news/unnamed")) == 1
    assert feed_server.requests_to("/news/chips") == []
    after = events(config)
    assert after["Maria Kowalski"] == ("OpenAI", "Anthropic")
    assert after["Lena Fischer"] == ("OpenAI", "xAI")


def test_a_page_that_fails_leaves_the_summary_reading_and_is_not_retried_at_once(
        tmp_path: Path, feed_server: FeedServer, run_cli: RunCli) -> None:
    stories = {
        "weber": ("Jonas Weber is leaving Google DeepMind",
                  "Jonas Weber, a senior research scientist, announced his departure from Google DeepMind on Monday."),
        "natarajan": ("Priya Natarajan departs Anthropic",
                      "Priya Natarajan, who worked on Claude's training infrastructure, has left Anthropic."),
        "sato": ("Kenji Sato is leaving Mistral AI",
                 "Kenji Sato, a researcher at Mistral AI, said he is leaving the Paris start-up."),
    }
    feed_server.script("/news/weber", [Reply(500, b"internal error")])
    feed_server.script("/news/natarajan", [Reply(200, page(*stories["natarajan"], "She joins Meta."), drip=0.4)])
    huge = page(*stories["sato"], "Sato is joining Google DeepMind in London.") + b"<!--" + b"x" * (3 * 2**20) + b"-->"
    feed_server.serve("/news/sato", huge, content_type="text/html")
    items = [(*story, feed_server.url(f"/news/{name}")) for name, story in stories.items()]
    feed_url = feed_server.serve("/feed.xml", feed(items))
    config = write_config(tmp_path, feed_url, timeout="2s")

    run_cli("once", "--config", str(config), check=True)

    assert events(config) == {"Jonas Weber": ("Google DeepMind", None), "Priya Natarajan": ("Anthropic", None),
                              "Kenji Sato": ("Mistral AI", None)}
    cached = pages(config)
    assert len(cached) == 3
    assert all(text is None and error for text, error in cached.values())
    errors = {url.rsplit("/", 1)[-1]: error for url, (_, error) in cached.items()}
    assert "500" in str(errors["weber"])
    assert "2s" in str(errors["natarajan"])  # the fetch deadline (polling.timeout) cut the drip short
    assert "larger than" in str(errors["sato"])

    # A changed feed within the day: the failed pages are not asked for again.
    feed_server.serve("/feed.xml", feed([(t, s + " More soon.", link) for t, s, link in items]))
    run_cli("once", "--config", str(config), check=True)
    for name in stories:
        assert len(feed_server.requests_to(f"/news/{name}")) == 1, name


def test_fulltext_off_fetches_no_page(tmp_path: Path, feed_server: FeedServer, run_cli: RunCli) -> None:
    link = feed_server.serve("/news/kowalski", page(LEAVING[0], LEAVING[1], "Kowalski is joining Anthropic."),
                             content_type="text/html")
    config = write_config(tmp_path, feed_server.serve("/feed.xml", feed([(*LEAVING, link)])), "fulltext = false")

    run_cli("once", "--config", str(config), check=True)

    assert events(config) == {"Maria Kowalski": ("OpenAI", None)}
    assert feed_server.requests_to("/news/kowalski") == []
    assert pages(config) == {}


def test_at_most_fulltext_max_pages_are_fetched_per_poll(tmp_path: Path, feed_server: FeedServer,
                                                         run_cli: RunCli) -> None:
    names = ["Anna Berg", "Omar Haddad", "Lucia Romano", "Felix Braun"]
    items = []
    for i, name in enumerate(names):
        link = feed_server.serve(f"/news/{i}", page(f"{name} is leaving OpenAI", f"{name} is joining Anthropic."),
                                 content_type="text/html")
        items.append((f"{name} is leaving OpenAI", f"{name}, a researcher at OpenAI, is leaving the company.", link))
    config = write_config(tmp_path, feed_server.serve("/feed.xml", feed(items)), "fulltext_max_pages = 2")

    run_cli("once", "--config", str(config), check=True)

    fetched = [i for i in range(len(names)) if feed_server.requests_to(f"/news/{i}")]
    assert len(fetched) == 2
    found = events(config)
    assert Counter(to for _, to in found.values()) == Counter({"Anthropic": 2, None: 2})
