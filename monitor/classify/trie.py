"""Many phrases found in one regex pass: an alternation shaped as a trie.

A flat alternation of a thousand phrases makes ``re`` try each of them at
every position of a text. Shaped as a trie, every branch starts with a
literal character, so ``re`` skips positions that start no phrase by a
character-set test and, where one does, follows a single path. The greedy
branches put longer phrases first, so each match is the leftmost-longest
phrase, as a reader would take it.

Word edges are checked per phrase: a Latin-script phrase must start and end
a word ("to" is not inside "into"), a Korean one must start a word (particles
follow it), a single hangul syllable must stand alone; CJK phrases are found
anywhere. The left check sits after the first character (``(?<![..].)``) so
that the branch still starts with a literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

LATIN = "0-9a-z\u00c0-\u024f"
HANGUL = "\uac00-\ud7a3"
_LATIN_CHAR = re.compile(f"[{LATIN}]")
_HANGUL_CHAR = re.compile(f"[{HANGUL}]")
_END = ""  # the key that marks where a phrase ends in a trie node


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One compiled pattern finding every phrase (lower case) with its word edges."""
    trie = _trie(phrases)
    if not trie:
        return re.compile(r"(?!x)x")
    return re.compile("|".join(_atom(c) + _left_edge(c) + _subtrie(trie[c]) for c in sorted(trie)))


def presence_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """A pattern that tells whether any phrase is in ``" " + text``, for ``search`` only, not for offsets.

    The cheap test most entries stop at (``Lexicon.may_move``) runs over
    whole summaries. ``phrase_pattern`` makes ``re`` stop at every letter that
    starts a phrase, which in Latin script is nearly every letter, and walk
    the alternation there. Here a Latin-script phrase is matched together
    with the character before it, which must not be a letter: ``re`` then
    skips along the text to the next space or punctuation mark in C, and
    reads the alternation only at word starts. The space put before the text
    stands for its start. Phrases in other scripts keep their own branches.
    A phrase is found wherever ``phrase_pattern`` finds it, as ``search``
    tries every position; ``finditer``'s matches would differ, as this one
    consumes the character before each phrase.
    """
    phrases = [p for p in phrases if p]
    latin = _trie(p for p in phrases if _LATIN_CHAR.match(p))
    branches = [f"[^{LATIN}]" + _subtrie(latin)] if latin else []
    others = [p for p in phrases if not _LATIN_CHAR.match(p)]
    if others:
        branches.append(phrase_pattern(others).pattern)
    return re.compile("|".join(branches)) if branches else re.compile(r"(?!x)x")


def _trie(phrases: Iterable[str]) -> dict[str, Any]:
    """Nested dicts by character; ``_END`` marks where a phrase ends, with its right edge."""
    trie: dict[str, Any] = {}
    for phrase in phrases:
        if not phrase:
            continue
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[_END] = _right_edge(phrase)
    return trie


def _subtrie(node: dict[str, Any]) -> str:
    branches = [_atom(c) + _subtrie(child) for c, child in sorted(node.items()) if c != _END]
    if _END in node:
        branches.append(node[_END])  # last: the longer phrases are tried first
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


def _left_edge(first: str) -> str:
    if _LATIN_CHAR.match(first):
        return f"(?<![{LATIN}].)"
    if _HANGUL_CHAR.match(first):
        return f"(?<![{HANGUL}].)"
    return ""


def _right_edge(phrase: str) -> str:
    if _LATIN_CHAR.match(phrase) and phrase[-1].isalnum():
        return f"(?![{LATIN}])"
    if len(phrase) == 1 and _HANGUL_CHAR.match(phrase):
        return f"(?![{HANGUL}])"
    return ""


def _atom(char: str) -> str:
    return re.escape(char)
