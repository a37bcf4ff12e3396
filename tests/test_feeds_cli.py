"""``feeds add|remove|import|export``: the config file edited in place, comments kept, OPML both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load_config
from monitor.feedlist import FeedListError, NewFeed, add_feeds, export_opml, import_opml, remove_feed
from monitor.opml import OpmlError, OpmlFeed, parse_opml, render_opml
from tests.conftest import ROOT, RunCli

CONFIG = """\
# my talentwatch config: keep this comment
[polling]
interval = "15m"  # fifteen minutes

# the feeds
[[feeds]]
url = "https://a.example/feed.xml"  # the first one
name = "A"

[[feeds]]
url = "https://b.example/feed.xml"

# ── labs ──
[[labs]]
name = "Alibaba Tongyi Lab"
"""

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions from another reader</title></head>
  <body>
    <outline text="AI" title="AI">
      <outline type="rss" text="Lab News" title="Lab News" xmlUrl="https://news.example/rss" htmlUrl="https://news.example/"/>
      <outline type="rss" text="Already here" xmlUrl="https://a.example/feed.xml"/>
    </outline>
    <outline type="rss" text="  Spaced   title " xmlUrl="https://c.example/atom"/>
    <outline type="link" text="A page, not a feed" url="https://d.example/"/>
    <outline type="rss" text="Not http" xmlUrl="ftp://e.example/feed"/>
    <outline type="rss" text="Twice" xmlUrl="https://c.example/atom"/>
  </body>
</opml>
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "talentwatch.toml"
    path.write_text(CONFIG, "utf-8")
    return path


def urls(path: Path) -> list[str]:
    return [feed.url for feed in load_config(path).feeds]


# ── editing the file ─────────────────────────────────────────────────────────


def test_add_appends_after_the_last_feed_and_keeps_every_comment(config: Path) -> None:
    change = add_feeds(config, [NewFeed("https://new.example/rss", "New one", "5m")])
    assert change.added == ("https://new.example/rss",)
    text = config.read_text("utf-8")
    assert text.startswith(CONFIG.split("# ── labs ──")[0])  # everything before untouched
    assert '[[feeds]]\nurl = "https://new.example/rss"\nname = "New one"\ninterval = "5m"\n\n# ── labs ──' in text
    settings = load_config(config)
    assert [f.url for f in settings.feeds][-1] == "https://new.example/rss"
    assert settings.feeds[-1].interval == 300
    assert settings.labs[0].name == "Alibaba Tongyi Lab"


def test_add_then_remove_gives_back_the_same_bytes(config: Path) -> None:
    add_feeds(config, [NewFeed("https://new.example/rss")])
    assert remove_feed(config, "https://new.example/rss").removed == ("https://new.example/rss",)
    assert config.read_text("utf-8") == CONFIG


def test_a_feed_already_there_is_skipped_ignoring_the_case_of_the_host(config: Path) -> None:
    change = add_feeds(config, [NewFeed("HTTPS://A.EXAMPLE/feed.xml")])
    assert change.added == ()
    assert change.skipped == (("HTTPS://A.EXAMPLE/feed.xml", "already in the config"),)
    assert config.read_text("utf-8") == CONFIG


def test_an_invalid_feed_is_refused_with_the_reason_and_nothing_written(config: Path) -> None:
    change = add_feeds(config, [NewFeed("ftp://x.example/feed"), NewFeed("https://y.example/", interval="0s")])
    reasons = dict(change.skipped)
    assert "not an http(s) URL" in reasons["ftp://x.example/feed"]
    assert "interval" in reasons["https://y.example/"]
    assert config.read_text("utf-8") == CONFIG


def test_remove_by_name_and_the_first_feed_keeps_the_rest(config: Path) -> None:
    assert remove_feed(config, "a").removed == ("https://a.example/feed.xml",)
    assert urls(config) == ["https://b.example/feed.xml"]
    text = config.read_text("utf-8")
    assert "# my talentwatch config: keep this comment" in text and "# ── labs ──" in text


def test_removing_every_feed_leaves_a_valid_file(config: Path) -> None:
    remove_feed(config, "https://a.example/feed.xml")
    remove_feed(config, "https://b.example/feed.xml")
    assert urls(config) == []
    assert remove_feed(config, "https://b.example/feed.xml").skipped[0][1] == "not in the config"
    assert add_feeds(config, [NewFeed("https://z.example/rss")]).added
    assert urls(config) == ["https://z.example/rss"]


def test_inline_feeds_stay_inline(tmp_path: Path) -> None:
    path = tmp_path / "inline.toml"
    path.write_text('feeds = [{url = "https://a.example/rss"}]\n', "utf-8")
    add_feeds(path, [NewFeed("https://b.example/rss", "B")])
    assert path.read_text("utf-8").startswith('feeds = [{url = "https://a.example/rss"}, {url = "https://b.example/rss"')
    assert urls(path) == ["https://a.example/rss", "https://b.example/rss"]


def test_a_feeds_key_that_is_not_a_list_is_refused_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "odd.toml"
    original = '[feeds]\nurl = "https://a.example/rss"\n'
    path.write_text(original, "utf-8")
    with pytest.raises(FeedListError, match="feeds"):
        add_feeds(path, [NewFeed("https://b.example/rss")])
    assert path.read_text("utf-8") == original


def test_a_file_broken_only_by_an_unset_secret_can_still_be_edited(tmp_path: Path) -> None:
    path = tmp_path / "secret.toml"
    text = "[[alerts.webhook]]\nurl = \"https://hooks.example/x\"\nsecret = \"${TW_TEST_UNSET_SECRET}\"\n"
    path.write_text(text, "utf-8")
    assert add_feeds(path, [NewFeed("https://a.example/rss")]).added
    assert "${TW_TEST_UNSET_SECRET}" in path.read_text("utf-8")


# ── OPML ─────────────────────────────────────────────────────────────────────


def test_opml_feeds_are_found_in_categories_once_each_with_their_titles() -> None:
    assert parse_opml(OPML) == [
        OpmlFeed("https://news.example/rss", "Lab News"),
        OpmlFeed("https://a.example/feed.xml", "Already here"),
        OpmlFeed("https://c.example/atom", "Spaced title"),
        OpmlFeed("ftp://e.example/feed", "Not http"),
    ]


def test_import_adds_the_new_http_feeds_and_says_why_others_were_skipped(config: Path) -> None:
    change = import_opml(config, OPML)
    assert change.added == ("https://news.example/rss", "https://c.example/atom")
    assert dict(change.skipped) == {"https://a.example/feed.xml": "already in the config",
                                    "ftp://e.example/feed": "url: 'ftp://e.example/feed' is not an http(s) URL"}
    settings = load_config(config)
    assert [(f.url, f.name) for f in settings.feeds][2:] == [("https://news.example/rss", "Lab News"),
                                                             ("https://c.example/atom", "Spaced title")]


def test_export_then_import_into_an_empty_config_gives_the_same_feeds(config: Path, tmp_path: Path) -> None:
    data = export_opml(load_config(config))
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n", "utf-8")
    import_opml(empty, data)
    assert [(f.url, f.name) for f in load_config(empty).feeds] == [
        ("https://a.example/feed.xml", "A"), ("https://b.example/feed.xml", None)]


def test_render_escapes_titles() -> None:
    data = render_opml([OpmlFeed("https://x.example/?a=1&b=2", 'Tom & "Jerry" <news>')])
    assert parse_opml(data) == [OpmlFeed("https://x.example/?a=1&b=2", 'Tom & "Jerry" <news>')]


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<opml><body><outline xmlUrl="https://x.example/&lol2;"/></body></opml>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<opml><body><outline text="&xxe;" xmlUrl="https://x.example/"/></body></opml>',
        b"<opml><body><outline",
        b"<rss version='2.0'><channel/></rss>",
    ],
    ids=["entity-expansion", "external-entity", "truncated", "not-opml"],
)
def test_unsafe_or_wrong_opml_is_refused(data: bytes) -> None:
    with pytest.raises(OpmlError):
        parse_opml(data)


# ── the command line ─────────────────────────────────────────────────────────


def test_the_commands_edit_the_file_and_report_what_they_did(config: Path, tmp_path: Path, run_cli: RunCli) -> None:
    added = run_cli("feeds", "--config", str(config), "add", "https://new.example/rss", "--name", "New",
                    "--interval", "10m")
    assert added.returncode == 0, added.stderr
    assert "added: https://new.example/rss" in added.stdout
    again = run_cli("feeds", "--config", str(config), "add", "https://new.example/rss")
    assert again.returncode == 0 and "already in the config" in again.stderr
    bad = run_cli("feeds", "--config", str(config), "add", "file:///etc/passwd")
    assert bad.returncode == 2 and "not an http(s) URL" in bad.stderr

    exported = run_cli("feeds", "--config", str(config), "export")
    assert exported.returncode == 0
    assert [f.url for f in parse_opml(exported.stdout.encode())] == urls(config)
    out = tmp_path / "feeds.opml"
    assert run_cli("feeds", "--config", str(config), "export", "--output", str(out)).returncode == 0
    assert len(parse_opml(out.read_bytes())) == 3

    opml = tmp_path / "in.opml"
    opml.write_bytes(OPML)
    imported = run_cli("feeds", "--config", str(config), "import", str(opml))
    assert imported.returncode == 0, imported.stderr
    assert "2 feeds added, 2 skipped" in imported.stdout

    removed = run_cli("feeds", "--config", str(config), "remove", "https://new.example/rss")
    assert removed.returncode == 0 and "removed: https://new.example/rss" in removed.stdout
    missing = run_cli("feeds", "--config", str(config), "remove", "https://new.example/rss")
    assert missing.returncode == 1 and "not in the config" in missing.stderr
    assert "# my talentwatch config: keep this comment" in config.read_text("utf-8")

    broken = tmp_path / "broken.opml"
    broken.write_bytes(b"<opml><body>")
    failed = run_cli("feeds", "--config", str(config), "import", str(broken))
    assert failed.returncode == 1 and "not well-formed" in failed.stderr


def test_the_example_config_takes_a_feed_without_losing_a_comment(tmp_path: Path) -> None:
    original = (ROOT / "config" / "talentwatch.toml").read_text("utf-8")
    path = tmp_path / "talentwatch.toml"
    path.write_text(original, "utf-8")
    add_feeds(path, [NewFeed("https://new.example/rss")])
    edited = path.read_text("utf-8")
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert all(line in edited for line in comments)
    assert urls(path)[-1] == "https://new.example/rss"
    remove_feed(path, "https://new.example/rss")
    assert path.read_text("utf-8") == original
