"""``main.py feeds add|remove|import|export``: edit the feed list in the config file itself.

The config file stays the one source of truth: these commands rewrite it
with tomlkit, which keeps every comment, blank line and key order the user
wrote, and the running daemon picks the change up like any other edit.

An edit is checked before it is written: the new text must not add a
problem the file did not already have (a file that only fails because a
``${SECRET}`` is unset in this shell can still be edited), and it is
written to a temporary file then renamed over the old one, so the daemon
never reads half a file.

Two edits at once (two shells, a script importing OPML while someone adds a
feed) would each read the file, and the second rename would drop the first
one's change. Every edit therefore holds an exclusive ``flock`` on a lock
file beside the config (``.NAME.lock``; the config itself is replaced on
each write, so it cannot carry the lock) from reading to renaming.
"""

from __future__ import annotations

import fcntl
import functools
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import tomlkit
import tomlkit.exceptions
from pydantic import ValidationError
from tomlkit.items import AoT, Array, Comment, InlineTable, Table, Whitespace

from config.loader import parse_config
from config.schema import FeedSettings, Settings
from monitor.errors import ConfigError, TalentwatchError
from monitor.opml import OpmlFeed, parse_opml, render_opml


class FeedListError(TalentwatchError):
    """A feed list edit that cannot be made: a bad URL, an unreadable file."""


P = ParamSpec("P")
R = TypeVar("R")
LOCK_TIMEOUT = 30.0  # seconds to wait for another edit of the same file to finish


def lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


@contextmanager
def edit_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the config file's edit lock; waits up to ``timeout`` (``LOCK_TIMEOUT``) for another edit."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    target = lock_path(path)
    try:
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise FeedListError(f"{target}: cannot open the lock file: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FeedListError(f"{path}: another edit of this file is still running "
                                        f"(waited {timeout:g}s for {target})") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _locked(edit: Callable[P, R]) -> Callable[P, R]:
    """Run an edit of the file at its first argument under that file's edit lock."""

    @functools.wraps(edit)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        path = args[0]
        assert isinstance(path, Path)
        with edit_lock(path.resolve()):
            return edit(*args, **kwargs)

    return run


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A feed to add, as the user gave it; ``interval`` stays text ("5m") so the file reads as written."""

    url: str
    name: str | None = None
    interval: str | None = None


@dataclass(frozen=True, slots=True)
class FeedListChange:
    """What an edit did: feeds added, feeds removed, and feeds skipped with the reason."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()


@_locked
def add_feeds(path: Path, feeds: Sequence[NewFeed]) -> FeedListChange:
    """Append each feed not already in the file; a URL already there (or invalid) is skipped."""
    path = path.resolve()
    text = _read(path)
    doc = _parse(path, text)
    if "feeds" in doc and not isinstance(doc["feeds"], AoT | Array):
        raise FeedListError(f"{path}: feeds: expected [[feeds]] tables, found something else; edit it by hand")
    known = {_identity(url) for url in _urls(doc)}
    added: list[str] = []
    skipped: list[tuple[str, str]] = []
    for feed in feeds:
        problem = _feed_problem(feed)
        if problem:
            skipped.append((feed.url, problem))
            continue
        url = feed.url.strip()
        if _identity(url) in known:
            skipped.append((url, "already in the config"))
            continue
        _append(doc, feed)
        known.add(_identity(url))
        added.append(url)
    if added:
        _write_checked(path, text, tomlkit.dumps(doc))
    return FeedListChange(added=tuple(added), skipped=tuple(skipped))


@_locked
def remove_feed(path: Path, url_or_name: str) -> FeedListChange:
    """Remove the feed with this URL (or, failing that, this name); nothing else in the file moves."""
    path = path.resolve()
    text = _read(path)
    doc = _parse(path, text)
    feeds = doc.get("feeds")
    if not isinstance(feeds, AoT | Array) or not len(feeds):
        return FeedListChange(skipped=((url_or_name, "not in the config"),))
    tables: list[Any] = list(feeds)
    index = _find(tables, "url", url_or_name)
    if index is None:
        index = _find(tables, "name", url_or_name)
    if index is None:
        return FeedListChange(skipped=((url_or_name, "not in the config"),))
    removed = str(tables[index].get("url"))
    if isinstance(feeds, AoT) and index == len(tables) - 1 and index > 0:
        _move_trailing_trivia(tables[index], tables[index - 1])  # the next section's comments stay
    del feeds[index]
    if not len(feeds):
        del doc["feeds"]
    _write_checked(path, text, tomlkit.dumps(doc))
    return FeedListChange(removed=(removed,))


def import_opml(path: Path, data: bytes) -> FeedListChange:
    """Add every feed of an OPML file, titled as the other reader had it."""
    # A title that is only the URL again (as exports of untitled feeds have) is no name.
    return add_feeds(path, [NewFeed(feed.url, feed.title if feed.title != feed.url else None)
                            for feed in parse_opml(data)])


def export_opml(settings: Settings, titles: dict[str, str] | None = None) -> bytes:
    """The configured feeds as OPML; a feed without a name takes its own title when known."""
    found = titles or {}
    return render_opml(OpmlFeed(feed.url, feed.name or found.get(feed.url)) for feed in settings.feeds)


# ── editing the document ─────────────────────────────────────────────────────


def _append(doc: tomlkit.TOMLDocument, feed: NewFeed) -> None:
    values: dict[str, str] = {"url": feed.url.strip()}
    if feed.name:
        values["name"] = " ".join(feed.name.split())
    if feed.interval:
        values["interval"] = feed.interval.strip()
    feeds = doc.get("feeds")
    if isinstance(feeds, Array):  # feeds = [{url = ...}] written inline: stay inline
        inline = tomlkit.inline_table()
        inline.update(values)
        feeds.append(inline)
        return
    table = tomlkit.table()
    table.update(values)
    if isinstance(feeds, AoT) and len(feeds):
        _move_trailing_trivia(feeds[-1], table)
        feeds.append(table)
        return
    aot = tomlkit.aot()
    aot.append(table)
    doc.append("feeds", aot)


def _move_trailing_trivia(source: Table, target: Table) -> None:
    """Blank lines and comments at the end of a table introduce what follows it: keep them there."""
    tail = _pop_trivia(source, keep_blank=True)
    _pop_trivia(target, keep_blank=False)  # the target's own blank lines would double up
    for item in tail:
        target.value.body.append((None, item))


def _pop_trivia(table: Table, *, keep_blank: bool) -> list[Any]:
    body = table.value.body
    tail: list[Any] = []
    while body and body[-1][0] is None and isinstance(body[-1][1], Whitespace | Comment):
        tail.insert(0, body.pop()[1])
    if keep_blank:
        body.append((None, Whitespace("\n")))  # one blank line before the next feed
    return tail


def _find(tables: Iterable[Any], key: str, wanted: str) -> int | None:
    target = _identity(wanted) if key == "url" else wanted.strip().casefold()
    for index, table in enumerate(tables):
        value = table.get(key) if isinstance(table, Table | InlineTable | dict) else None
        if value is None:
            continue
        have = _identity(str(value)) if key == "url" else str(value).strip().casefold()
        if have == target:
            return index
    return None


def _urls(doc: tomlkit.TOMLDocument) -> list[str]:
    feeds = doc.get("feeds")
    if not isinstance(feeds, AoT | Array):
        return []
    return [str(t.get("url")) for t in feeds if isinstance(t, Table | InlineTable | dict) and t.get("url")]


def _feed_problem(feed: NewFeed) -> str | None:
    """Why this feed cannot be added (the config's own rules), or None."""
    values: dict[str, str] = {"url": feed.url}
    if feed.name is not None:
        values["name"] = feed.name
    if feed.interval is not None:
        values["interval"] = feed.interval
    try:
        FeedSettings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg'].removeprefix('Value error, ')}"
    return None


def _identity(url: str) -> str:
    """How the config compares feed URLs: scheme and host ignore case, the rest does not."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


# ── reading and writing the file ─────────────────────────────────────────────


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise FeedListError(f"{path}: cannot read the config file: {exc.strerror or exc}") from exc


def _parse(path: Path, text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(str(path), [f"not valid TOML, so it was not edited: {exc}"]) from exc


def _problems(text: str, path: Path) -> list[str]:
    try:
        parse_config(text, path)
    except ConfigError as exc:
        return exc.problems
    return []


def _write_checked(path: Path, old: str, new: str) -> None:
    """Write ``new`` only if it adds no problem to ``old``; atomically, keeping the file's mode."""
    before = set(_problems(old, path))
    added = [p for p in _problems(new, path) if p not in before]
    if added:
        raise ConfigError(str(path), ["the edit was not written: " + added[0], *added[1:]])
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(new)
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
