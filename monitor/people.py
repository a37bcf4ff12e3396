"""Normalised spellings of a person's name, so that reports of one person meet.

"Yan Zhijie", "Zhijie Yan", "YAN Zhi-jie" and 鄢志杰 all share a key: case and
accents are folded, Chinese characters become pinyin (surname first), and the
keys ignore word order. A key is a join key, not a display name.

Chinese names are read by ``monitor.romanise`` (surnames by their surname
readings). Keys are stored (``event_keys``): a change to how they are made
needs a migration that recomputes them (``storage.migrations``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from monitor.romanise import HAN, romanise

_NOT_WORD = re.compile(r"[^\w\s]+", re.UNICODE)
_PAREN = re.compile(r"\(.*?\)|（.*?）")


def fold(text: str) -> str:
    """Case, accents, width and punctuation folded; single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _NOT_WORD.sub(" ", text.casefold())
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def _keys_of(raw: str) -> frozenset[str]:
    raw = _PAREN.sub(" ", raw)
    if HAN.search(raw):
        # Chinese names: the surname first, the given name written as one word ("Zeng Zhijie").
        raw = " ".join(romanise(raw))
    words = fold(raw).split()
    if not words:
        return frozenset()
    keys = {" ".join(sorted(words)), "".join(words)}
    if len(words) >= 2:
        keys.add("".join(words[1:] + words[:1]))  # "Zhijie Yan" meets "Yan Zhijie" written together
        keys.add("".join(words[-1:] + words[:-1]))
    return frozenset(keys)


def person_keys(name: str | None, aliases: Iterable[str] = ()) -> frozenset[str]:
    """Every key under which this person may be found; empty for an unnamed group."""
    keys: set[str] = set()
    for raw in (name or "", *aliases):
        if raw and raw.strip():
            keys |= _keys_of(raw.strip())
    return frozenset(keys)


def same_person(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a & b)
