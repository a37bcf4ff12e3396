"""Concurrent ``feeds`` edits: each holds a lock beside the config, so none loses another's change."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from config.loader import load_config
from monitor import feedlist
from monitor.feedlist import FeedListError, NewFeed, add_feeds, edit_lock, remove_feed

CONFIG = """# feeds edited from several places at once
[storage]
path = "tw.db"

[[feeds]]
url = "https://example.com/first.xml"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "talentwatch.toml"
    path.write_text(CONFIG, "utf-8")
    return path


def test_edits_made_at_the_same_time_all_reach_the_file(config: Path) -> None:
    wanted = [f"https://example.com/feed-{n}.xml" for n in range(12)]
    start = threading.Barrier(len(wanted))
    errors: list[BaseException] = []

    def add(url: str) -> None:
        start.wait()
        try:
            add_feeds(config, [NewFeed(url)])
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(url,)) for url in wanted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    found = [feed.url for feed in load_config(config).feeds]
    assert sorted(found) == sorted(["https://example.com/first.xml", *wanted])
    assert config.read_text("utf-8").startswith("# feeds edited from several places at once")
    assert feedlist.lock_path(config).exists()


def test_an_edit_waits_for_the_lock_and_gives_up_with_a_clear_error(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedlist, "LOCK_TIMEOUT", 0.3)
    before = config.read_text("utf-8")
    with edit_lock(config.resolve()):
        with pytest.raises(FeedListError, match="another edit of this file is still running"):
            add_feeds(config, [NewFeed("https://example.com/second.xml")])
        with pytest.raises(FeedListError, match="another edit"):
            remove_feed(config, "https://example.com/first.xml")
    assert config.read_text("utf-8") == before
    assert add_feeds(config, [NewFeed("https://example.com/second.xml")]).added == ("https://example.com/second.xml",)


def test_an_edit_released_by_an_error_does_not_keep_the_lock(config: Path) -> None:
    with pytest.raises(FeedListError):
        add_feeds(config.parent / "missing.toml", [NewFeed("https://example.com/x.xml")])
    config.write_text("not toml [", "utf-8")
    with pytest.raises(Exception, match="not valid TOML"):
        add_feeds(config, [NewFeed("https://example.com/x.xml")])
    with edit_lock(config.resolve(), timeout=0):
        pass
