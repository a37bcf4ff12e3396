"""Cheap text preparation for the classifier: clean, split into sentences, guess the language.

Feed text arrives with entities, stray tags, odd quotes and boilerplate; the
classifier only needs sentences it can read. Everything here is pure, total
(never raises) and fast: it runs on every entry of every feed.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping

from monitor.classify.lexicon import Lexicon

MAX_CHARS = 12_000  # very long summaries: the news is in the first paragraphs

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ud800-\udfff\ufff0-\uffff]")
_TAG = re.compile(r"<[^>]{0,400}>")
_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u200a\u202f\u3000]+")
_TRANSLATE = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
     "\u2014": " - ", "\u2010": "-", "\u2011": "-", "\ufeff": None, "\u200b": None, "\x00": None}
)
# A sentence ends at . ! ? (then a space and something that may start one),
# at CJK full stops, semicolons and at line breaks.
_SPLIT = re.compile(
    r"(?<=[!?])\s*(?=\S)"
    r"|(?<=[.])\s+(?=[\"'(\[*•\-]?[A-Z\u00c0-\u00de0-9\u3040-\u9fff\uac00-\ud7a3])"
    r"|(?<=[。！？；;])"
    r"|\s*\n+\s*"
)
_ABBREV = re.compile(r"(?:\b(?:Inc|Corp|Co|Ltd|Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|No|U\.S|U\.K|e\.g|i\.e)|\b[A-Z])\.$")

_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN_LETTERS = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def clean(text: str) -> str:
    """Entities decoded, tags dropped, quotes and spaces made plain; never raises."""
    if not text:
        return ""
    text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = _SPACES.sub(" ", text.translate(_TRANSLATE))
    return _CONTROL.sub("", text).strip()


def sentences(text: str) -> list[str]:
    """The sentences of a cleaned text, abbreviations and initials kept whole."""
    out: list[str] = []
    carry = ""
    for piece in _SPLIT.split(text):
        piece = piece.strip()
        if not piece:
            continue
        piece = f"{carry} {piece}" if carry else piece
        if _ABBREV.search(piece) and len(piece) < 400:
            carry = piece
            continue
        carry = ""
        out.append(piece)
    if carry:
        out.append(carry)
    return out


def detect_language(text: str, lexicons: Mapping[str, Lexicon], hint: str | None = None) -> str:
    """A language code for the text: script ranges for CJK, stop words for Latin scripts.

    Kana means Japanese and hangul Korean even among kanji; Han characters
    alone mean Chinese. Latin text goes to the lexicon whose stop words it uses
    most, English winning ties and texts too short to tell.
    """
    sample = text[:700]
    hangul = len(_HANGUL.findall(sample))
    kana = len(_KANA.findall(sample))
    han = len(_HAN.findall(sample))
    latin = len(_LATIN_LETTERS.findall(sample)) // 5 if hangul or kana or han else 0
    if hangul >= 4 and hangul * 2 >= kana + han:
        return "ko"
    if kana >= 3:
        return "ja"
    if han >= 6 and han >= latin:
        return "zh"
    if hangul > 0 and hangul >= latin:
        return "ko"
    if han > 0 and han >= latin:
        return "zh"
    counts = Counter(_WORD.findall(sample.casefold()))
    best, best_hits = "en", 0
    for lang, lexicon in lexicons.items():
        if lexicon.word_order == "sov" or lang == "zh" or not lexicon.stopwords:
            continue
        hits = sum(counts[w] for w in lexicon.stopwords.intersection(counts))
        if hits > best_hits or (hits == best_hits and lang == "en"):
            best, best_hits = lang, hits
    if best_hits == 0 and hint in lexicons:
        return str(hint)
    return best
