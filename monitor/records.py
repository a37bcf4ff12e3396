"""Typed records passed between the pipeline stages, named for the boundary they cross.

fetch ─FetchedFeed─► parse ─ParsedFeed(FeedEntry…)─► storage ─Article─► classify
─Classification(Move…)─► merge ─Event(Source…)─► rules ─Alert─► outbox ─► notify

All are frozen and slotted; datetimes are timezone-aware (UTC). feedparser's
dicts, httpx's responses and sqlite rows never travel past the module that
produced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Status = Literal["rumoured", "reported", "confirmed"]
# "loss_confirmed" / "gain_confirmed": the follow-up when a move alerted earlier is confirmed;
# "exodus": a lab lost many people within a window; "digest": one message listing a period's alerts;
# "feed_health": a feed failing poll after poll, or silent for long (``Alert.feed`` says which).
AlertKind = Literal["loss", "gain", "test", "loss_confirmed", "gain_confirmed", "exodus", "digest", "feed_health"]
FeedProblem = Literal["failing", "silent"]

STATUS_RANK: dict[str, int] = {"rumoured": 0, "reported": 1, "confirmed": 2}


# ── fetch → parse ────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class FeedForUpdate:
    """What fetch needs to know about a feed to ask politely."""

    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchedFeed:
    """The outcome of one successful HTTP exchange for a feed.

    ``content`` is None on a 304 Not Modified. ``permanent_url`` is set when
    every redirect on the way was permanent (301/308), so the stored URL
    should change to it.
    """

    url: str
    status: int
    content: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    permanent_url: str | None = None
    max_age: float | None = None  # seconds, from Cache-Control/Expires

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One feed item, cleaned: identity, link and plain text ready to classify."""

    key: str  # guid, else link, else a content hash
    title: str
    summary: str  # plain text, HTML stripped
    link: str | None = None
    published: datetime | None = None
    content_hash: str = ""  # changes when title/summary/link change


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    entries: tuple[FeedEntry, ...]
    link: str | None = None


# ── storage → classify ───────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Article:
    """What the classifier reads: a headline and a summary (plain text)."""

    id: str
    title: str
    summary: str
    url: str | None = None
    published: datetime | None = None
    lang: str | None = None  # a hint; the engine detects the language itself


@dataclass(frozen=True, slots=True)
class Move:
    """One personnel move an article reports: who left which organisation for which.

    ``person`` is None for a stated group ("at least 11 researchers");
    ``from_org`` / ``to_org`` are None when the article does not say.
    ``*_parent`` is the owning company ("Alibaba" for "Alibaba Tongyi Lab").
    """

    person: str | None
    from_org: str | None
    to_org: str | None
    role: str | None = None
    status: Status = "reported"
    confidence: float = 0.5
    evidence: str = ""
    from_parent: str | None = None
    to_parent: str | None = None
    person_aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    article_id: str
    lang: str
    personnel_change: bool
    moves: tuple[Move, ...] = ()


# ── merge → rules → outbox ───────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Source:
    """One article that reported an event, with the sentence that says so."""

    url: str | None
    title: str
    feed: str | None = None
    published: datetime | None = None
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """A move as stored: one per person and move, however many articles report it."""

    id: int
    person: str | None
    from_org: str | None
    to_org: str | None
    role: str | None
    confidence: float
    status: Status
    first_seen: datetime
    from_parent: str | None = None
    to_parent: str | None = None
    person_aliases: tuple[str, ...] = ()
    sources: tuple[Source, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """What a feed health alert says, fixed when it is queued so every retry says the same.

    ``since`` is the first failure of the streak ("failing"), or the last
    time the feed brought new entries ("silent"; when it was added if never).
    """

    url: str
    name: str | None
    problem: FeedProblem
    since: datetime
    failures: int = 0  # consecutive failed polls when queued
    last_error: str | None = None
    last_status: int | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One message for one channel about one event; ``id`` is its idempotency key.

    An exodus alert lists the lab's recent losses in ``related`` (``event`` is
    the one that crossed the threshold); a digest lists its alerts in ``items``;
    a feed health alert speaks of ``feed`` (its ``event`` is an empty stand-in
    and ``lab`` the feed's name).
    """

    id: str
    kind: AlertKind
    lab: str
    channel: str
    event: Event
    created: datetime
    related: tuple[Event, ...] = ()
    items: tuple[Alert, ...] = ()
    feed: FeedHealth | None = None
