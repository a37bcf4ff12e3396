"""Full text, piece by piece: canonical links, page extraction, the candidate rule, gap filling, the cache."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.schema import Settings
from monitor.classify import default_engine
from monitor.classify.candidates import PAGE_TEXT_CHARS, classify_with_text, is_candidate, richer, with_page_text
from monitor.fulltext import PAGE_MAX_BYTES, cached_reading, canonical_url, extract_text, read_page
from monitor.records import Article, Classification, Move
from storage import open_store
from storage.pages import CachedPage, get_page, get_pages, save_pages

NOW = datetime(2025, 8, 8, 9, 0, tzinfo=UTC)
ENGINE = default_engine()

STORY = (
    b"<html><head><title>Maria Kowalski is leaving OpenAI</title></head><body>"
    b"<nav><a href='/'>Home</a> <a href='/ai'>AI</a> <a href='/subscribe'>Subscribe now</a></nav>"
    b"<article><h1>Maria Kowalski is leaving OpenAI</h1>"
    b"<p>Maria Kowalski, who led OpenAI's post-training team, said on Friday that she is leaving the company "
    b"after four years.</p>"
    b"<p>Kowalski is joining Anthropic, where she will lead a new reinforcement learning group, according to a "
    b"person familiar with the matter. Anthropic confirmed the hire in a statement.</p>"
    b"<p>Her departure follows several others from the San Francisco company this year, as rivals compete for "
    b"experienced researchers with large compensation packages and the promise of more compute.</p>"
    b"</article><footer>Copyright 2025 Example News. All rights reserved.</footer></body></html>"
)
LEAVING = Article("1", "Maria Kowalski is leaving OpenAI",
                  "Maria Kowalski, who led OpenAI's post-training team, said on Friday that she is leaving the "
                  "company after four years.", url="https://news.example/ai/kowalski")


# ── canonical links ──────────────────────────────────────────────────────────


@pytest.mark.parametrize(("url", "key"), [
    ("HTTPS://News.Example.com/a/b?id=3#comments", "https://news.example.com/a/b?id=3"),
    ("https://news.example.com/a?utm_source=rss&utm_medium=feed&id=3&fbclid=x", "https://news.example.com/a?id=3"),
    ("http://news.example.com:80/a", "http://news.example.com/a"),
    ("http://news.example.com:8080/a", "http://news.example.com:8080/a"),
    ("https://news.example.com", "https://news.example.com/"),
    ("ftp://news.example.com/a", None),
    ("mailto:desk@news.example.com", None),
    ("http://[::1", None),
    ("", None),
    (None, None),
])
def test_canonical_url(url: str | None, key: str | None) -> None:
    assert canonical_url(url) == key


# ── extraction ───────────────────────────────────────────────────────────────


def test_extract_text_keeps_the_story_and_drops_the_page_around_it() -> None:
    text = extract_text(STORY, "https://news.example/ai/kowalski")
    assert text is not None
    assert "Kowalski is joining Anthropic" in text
    assert "Subscribe now" not in text and "All rights reserved" not in text


def test_extract_text_is_capped_at_whole_paragraphs() -> None:
    paragraph = "Researchers at the lab kept working on the new model through the summer months. " * 4
    html = ("<html><body><article><h1>A long story</h1>"
            + "".join(f"<p>{i} {paragraph}</p>" for i in range(60)) + "</article></body></html>").encode()
    text = extract_text(html)
    assert text is not None
    assert 0.7 * PAGE_TEXT_CHARS < len(text) <= PAGE_TEXT_CHARS
    assert text.endswith("summer months.")  # no paragraph cut in half


@pytest.mark.parametrize("html", [
    b"",
    b"\x00\xff\xfe garbage \x89PNG",
    b"<html><body></body></html>",
    b"<p>" * 5000,
    b"<html><body><p>" + b"a" * (PAGE_MAX_BYTES + 1) + b"</p></body></html>",
])
def test_extract_text_never_raises(html: bytes) -> None:
    assert extract_text(html) is None


def test_read_page_without_text_keeps_the_summary_reading() -> None:
    before = ENGINE.classify(LEAVING)
    reading = read_page(b"<html><body></body></html>", None, LEAVING, before)
    assert reading.result == before and reading.text is None and reading.error


# ── the candidate rule ───────────────────────────────────────────────────────


@pytest.mark.parametrize(("title", "summary", "candidate"), [
    # a move with one side missing
    ("Maria Kowalski is leaving OpenAI", "She did not say where she is going.", True),
    # a move with no person
    ("Another senior researcher quits OpenAI", "The company confirmed the departure on Friday.", True),
    ("OpenAI 研究主管离职", "公司证实了这一消息。", True),
    # both sides known: nothing to add
    ("Anthropic hires Google DeepMind researcher Tom Lindqvist",
     "Tom Lindqvist, a research scientist at Google DeepMind, has joined Anthropic.", False),
    # no move word at all: most of any feed
    ("Apple unveils a faster chip for the next iPhone", "The new processor is built on a three-nanometre process.",
     False),
    # move words about something else, far from the AI field
    ("Moura joins Spurs as transfer deals go through", "The Brazilian winger signed a five-year contract.", False),
    ("Two tanker aircraft leave Bulgaria a month after deployment", "The planes flew home on Monday.", False),
])
def test_is_candidate(title: str, summary: str, candidate: bool) -> None:
    article = Article("1", title, summary)
    assert is_candidate(ENGINE, article, ENGINE.classify(article)) is candidate


def test_an_engine_without_move_cues_gets_only_incomplete_moves() -> None:
    class Other:
        def classify(self, article: Article) -> Classification:
            return Classification(article.id, "en", False, ())

    article = Article("1", "Another senior researcher quits OpenAI", "")
    assert not is_candidate(Other(), article, Other().classify(article))
    half = Classification("1", "en", True, (Move("X Y", "OpenAI", None),))
    assert is_candidate(Other(), article, half)


# ── what a page adds ─────────────────────────────────────────────────────────


def test_the_page_completes_the_destination() -> None:
    before = ENGINE.classify(LEAVING)
    assert [(m.person, m.from_org, m.to_org) for m in before.moves] == [("Maria Kowalski", "OpenAI", None)]
    text = extract_text(STORY)
    assert text is not None
    after = classify_with_text(ENGINE, LEAVING, text, before)
    assert [(m.person, m.from_org, m.to_org) for m in after.moves] == [("Maria Kowalski", "OpenAI", "Anthropic")]


def test_page_text_is_read_after_the_summary_and_capped() -> None:
    article = with_page_text(LEAVING, "x" * (PAGE_TEXT_CHARS + 500))
    assert article.summary.startswith(LEAVING.summary)
    assert len(article.summary) == len(LEAVING.summary) + 2 + PAGE_TEXT_CHARS
    assert with_page_text(LEAVING, "  ") is LEAVING


def move(person: str | None, from_org: str | None, to_org: str | None, confidence: float = 0.7) -> Move:
    return Move(person, from_org, to_org, confidence=confidence, evidence=f"{person} {from_org} {to_org}")


def test_richer_fills_gaps_and_never_overrules_the_summary() -> None:
    before = Classification("1", "en", True, (move("Maria Kowalski", "OpenAI", None),))
    after = Classification("1", "en", True, (
        move("Kowalski Maria", "Meta", "Anthropic", 0.9),  # the same person, word order aside
        move("Sam Other", "xAI", "Google DeepMind", 0.9),  # someone the page mentions in passing
    ))
    (filled,) = richer(before, after).moves
    assert (filled.person, filled.from_org, filled.to_org) == ("Maria Kowalski", "OpenAI", "Anthropic")
    assert filled.confidence == 0.9
    assert richer(before, Classification("1", "en", False, ())) is before
    unrelated = Classification("1", "en", True, (move("Sam Other", None, "Anthropic"),))
    assert richer(before, unrelated) is before


def test_richer_takes_the_pages_people_when_the_summary_named_nobody() -> None:
    group = Classification("1", "en", True, (move(None, "OpenAI", None),))
    named = Classification("1", "en", True, (move("Lena Fischer", "OpenAI", "xAI"),))
    assert richer(group, named).moves == named.moves
    assert richer(Classification("1", "en", False, ()), named).personnel_change
    vaguer = Classification("1", "en", True, (move(None, None, None),))
    assert richer(group, vaguer) is group


# ── the cache ────────────────────────────────────────────────────────────────


def test_pages_are_cached_with_their_text_or_error(tmp_path: Path) -> None:
    store = open_store(tmp_path / "t.db")
    try:
        save_pages(store, [CachedPage("https://a.example/1", "Text one.", None, NOW),
                           CachedPage("https://a.example/2", None, "HTTP 500", NOW)])
        found = get_pages(store, ["https://a.example/1", "https://a.example/2", "https://a.example/3"])
        assert found["https://a.example/1"].text == "Text one."
        assert found["https://a.example/2"] == CachedPage("https://a.example/2", None, "HTTP 500", NOW)
        assert "https://a.example/3" not in found
        save_pages(store, [CachedPage("https://a.example/2", "Now it works.", None, NOW)])
        page = get_page(store, "https://a.example/2")
        assert page is not None and page.text == "Now it works." and page.error is None
    finally:
        store.close()


def test_reclassifying_uses_the_cached_page_and_never_fetches(tmp_path: Path) -> None:
    store = open_store(tmp_path / "t.db")
    try:
        before = ENGINE.classify(LEAVING)
        assert cached_reading(store, ENGINE, LEAVING, before, True) == before  # nothing cached yet
        key = canonical_url(LEAVING.url)
        assert key is not None
        save_pages(store, [CachedPage(key, extract_text(STORY), None, NOW)])
        assert cached_reading(store, ENGINE, LEAVING, before, False) == before  # fulltext = false
        (after,) = cached_reading(store, ENGINE, LEAVING, before, True).moves
        assert after.to_org == "Anthropic"
    finally:
        store.close()


def test_fulltext_is_on_by_default_and_configurable() -> None:
    assert Settings().classify.fulltext is True
    assert Settings().classify.fulltext_max_pages == 5
    settings = Settings.model_validate({"classify": {"fulltext": False, "fulltext_max_pages": 2}})
    assert (settings.classify.fulltext, settings.classify.fulltext_max_pages) == (False, 2)
    with pytest.raises(ValueError, match="fulltext_max_pages"):
        Settings.model_validate({"classify": {"fulltext_max_pages": 0}})
