"""Taming untrusted article text before it reaches a header, a link or a chat message.

Titles, evidence sentences, feed names and URLs all come from feeds we do not
control. A stray newline in a title would make Python's email library refuse
the whole message, a ``javascript:`` link would become clickable, and an ANSI
escape would garble a terminal reading the text part. Everything that leaves
talentwatch in an alert passes through one of these functions first.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import urlsplit

ELLIPSIS = "…"

# Unicode categories that never belong in a one-line label: controls (Cc),
# format characters such as bidi overrides (Cf), line/paragraph separators
# (Zl, Zp), unassigned (Cn), surrogates (Cs) and private use (Co).
_DROP = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"})
# Zero-width joiners keep emoji and Indic scripts readable; they cannot forge layout.
_KEEP_FORMAT = frozenset({"\u200c", "\u200d"})
_SPACES = re.compile(r"\s+")


def one_line(text: str | None, limit: int | None = None) -> str:
    """Fold any text into a single clean line, optionally capped at ``limit`` characters.

    Line breaks and tabs become spaces (so words stay apart); every other
    control or invisible formatting character is dropped, which also defeats
    bidi-override tricks in subjects.
    """
    if not text:
        return ""
    out = []
    for ch in text:
        if ch in "\r\n\t\v\f\x85\u2028\u2029":
            out.append(" ")
        elif unicodedata.category(ch) in _DROP and ch not in _KEEP_FORMAT:
            continue
        else:
            out.append(ch)
    cleaned = _SPACES.sub(" ", "".join(out)).strip()
    return truncate(cleaned, limit) if limit is not None else cleaned


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, at a word boundary when one is near."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """Return ``url`` when it may be offered as a link, else None.

    Only absolute http(s) URLs with a host qualify; anything holding
    whitespace or control characters is refused rather than repaired, since
    a repaired URL is not the one the feed published.
    """
    if not url:
        return None
    candidate = url.strip()
    if any(ch.isspace() or unicodedata.category(ch) in _DROP for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate


def iso_z(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, to the second: the form the webhook contract promises.

    A naive datetime is taken to be UTC already, which is what the records promise.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def human_date(moment: datetime | None) -> str:
    """A reader's date for message bodies: ``2025-08-10 09:00 UTC``, or empty."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
