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
    trie: dict[str, Any] = {}
    for phrase in phrases:
        if not phrase:
            continue
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[_END] = _right_edge(phrase)
    if not trie:
        return re.compile(r"(?!x)x")
    return re.compile("|".join(_atom(c) + _left_edge(c) + _subtrie(trie[c]) for c in sorted(trie)))


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
