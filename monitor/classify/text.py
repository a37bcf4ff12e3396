"""Cheap text preparation for the classifier: clean, split into sentences, guess the language.

Feed text arrives with entities, stray tags, odd quotes and boilerplate; the
classifier only needs sentences it can read. Everything here is pure, total
(never raises) and fast: it runs on every entry of every feed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from monitor.classify.lexicon import Lexicon

MAX_CHARS = 12_000  # very long summaries: the news is in the first paragraphs
_SAMPLE = 400  # characters a language is told from: a headline and the lead say it

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ud800-\udfff\ufff0-\uffff]")
_TAG = re.compile(r"<[^>]{0,400}>")
# Runs of spaces become one space; a lone plain space is left alone (most gaps: no work).
_WIDE = "\t\u00a0\u2002\u2003\u2009\u200a\u202f\u3000"
_SPACES = re.compile(f" [ {_WIDE}]+|[{_WIDE}][ {_WIDE}]*")
_DOUBLE_SPACES = re.compile("  +")  # the same where the text has no tab or wide space
# Typographic quotes and dashes made plain; str.replace per character present beats str.translate.
_PLAIN = (("\u2018", "'"), ("\u2019", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"),
          ("\u2014", " - "), ("\u2010", "-"), ("\u2011", "-"), ("\ufeff", ""), ("\u200b", ""), ("\x00", ""))
# A sentence ends at . ! ? (then a space and something that may start one),
# at CJK full stops, semicolons and at line breaks (``_ends``).
# Each end mark with what must follow it for a sentence to end there (None: nothing).
_END_MARKS: tuple[tuple[str, re.Pattern[str] | None], ...] = (
    (".", re.compile(r"\s+[\"'(\[*•\-]?[A-Z\u00c0-\u00de0-9\u3040-\u9fff\uac00-\ud7a3]")),
    ("!", re.compile(r"\s*\S")),
    ("?", re.compile(r"\s*\S")),
    *((mark, None) for mark in "。！？；;\n"),
)
_ABBREV = re.compile(r"(?:\b(?:Inc|Corp|Co|Ltd|Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|No|U\.S|U\.K|e\.g|i\.e)|\b[A-Z])\.$")

_ANY_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")
_PUNCTUATION = "\"'()[]{}<>.,;:!?¡¿«»„“”‘’-–—/…*•|"


# A blog engine's footer ("The post X appeared first on Y."): the headline again, and the site's name.
_FOOTER_MARKERS = ("appeared first on", "est apparu en premier sur", "apareció primero en", "erschien zuerst auf")
_FOOTER = re.compile(
    r"(?:The post|L'article|La entrada|El artículo|Der Beitrag)\s.{1,300}?\s"
    r"(?:appeared first on|est apparu en premier sur|apareció primero en|erschien zuerst auf)\s[^\n]{0,120}$",
    re.S,
)


def clean(text: str) -> str:
    """Entities decoded, tags dropped, quotes and spaces made plain; never raises."""
    if not text:
        return ""
    text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if not text.isascii():
        for char, plain in _PLAIN:
            if char in text:
                text = text.replace(char, plain)
    elif "\x00" in text:
        text = text.replace("\x00", "")
    # ``re`` tests a character set at every character, which costs far more than the
    # substring tests below: the regexes run only on the texts that need them.
    if "\t" in text or (not text.isascii() and any(c in text for c in _WIDE)):
        text = _SPACES.sub(" ", text)
    elif "  " in text:
        text = _DOUBLE_SPACES.sub(" ", text)
    probe = text.replace("\n", "") if "\n" in text else text
    if not probe.isprintable() or "\ufffd" in probe or "\ufffc" in probe:
        text = _CONTROL.sub("", text)
    if any(marker in text for marker in _FOOTER_MARKERS):
        text = _FOOTER.sub("", text)
    return text.strip()


def sentences(text: str) -> list[str]:
    """The sentences of a cleaned text, abbreviations and initials kept whole."""
    out: list[str] = []
    carry = ""
    pieces = []
    last = 0
    for end in _ends(text):
        pieces.append(text[last : end + 1])
        last = end + 1
    pieces.append(text[last:])
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        piece = f"{carry} {piece}" if carry else piece
        # Only the tail can hold the abbreviation: searching from there spares a scan of the piece.
        if len(piece) < 400 and _ABBREV.search(piece, max(0, len(piece) - 6)):
            carry = piece
            continue
        carry = ""
        out.append(piece)
    if carry:
        out.append(carry)
    return out


def _ends(text: str) -> list[int]:
    """Where sentences end, in order.

    Found by ``str.find`` per end mark, not by one regex: ``re`` would test a
    character set at every character of the text, several times the cost.
    """
    ends = []
    for mark, after in _END_MARKS:
        at = text.find(mark)
        while at >= 0:
            if after is None or after.match(text, at + 1):
                ends.append(at)
            at = text.find(mark, at + 1)
    ends.sort()
    return ends


def detect_language(text: str, lexicons: Mapping[str, Lexicon], hint: str | None = None) -> str:
    """A language code for the text: script ranges for CJK, stop words for Latin scripts.

    Kana means Japanese and hangul Korean even among kanji; Han characters
    alone mean Chinese. Latin text goes to the lexicon whose stop words it uses
    most, English winning ties and texts too short to tell.
    """
    sample = text[:_SAMPLE]
    if not sample.isascii():
        cjk = _cjk_language(sample)
        if cjk is not None:
            return cjk
    index = _stopword_index(lexicons)
    hits: dict[str, int] = {}
    # Words by ``str.split``, punctuation trimmed: several times cheaper than a regex scan.
    for word in sample.casefold().split():
        word = word.strip(_PUNCTUATION)
        for lang in index.get(word, ()):
            hits[lang] = hits.get(lang, 0) + 1
    best, best_hits = "en", hits.get("en", 0)
    for lang in lexicons:
        count = hits.get(lang, 0)
        if count > best_hits:
            best, best_hits = lang, count
    if best_hits == 0 and hint in lexicons:
        return str(hint)
    return best


def _cjk_language(sample: str) -> str | None:
    if max(sample) < "\u3040" or _ANY_CJK.search(sample) is None:
        return None  # accents and curly quotes, no CJK script at all (``max`` first: far cheaper)
    # One pass in Python costs less than four regex scans, each testing a set per character.
    hangul = kana = han = latin = 0
    for char in sample:
        if char < "\u3040":
            if "a" <= char <= "z" or "A" <= char <= "Z" or "\u00c0" <= char <= "\u024f":
                latin += 1
        elif char <= "\u30ff":
            kana += 1
        elif "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf":
            han += 1
        elif "\uac00" <= char <= "\ud7a3":
            hangul += 1
    latin //= 5
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
    return None


_INDEX: list[tuple[Mapping[str, Lexicon], dict[str, tuple[str, ...]]]] = []


def _stopword_index(lexicons: Mapping[str, Lexicon]) -> dict[str, tuple[str, ...]]:
    """Stop word -> the Latin-script languages using it, built once per set of lexicons."""
    for known, index in _INDEX:
        if known is lexicons:
            return index
    langs: dict[str, list[str]] = {}
    for lang, lexicon in lexicons.items():
        if lexicon.word_order == "sov" or lang == "zh":
            continue
        for word in lexicon.stopwords:
            langs.setdefault(word, []).append(lang)
    built = {w: tuple(ls) for w, ls in langs.items()}
    _INDEX[:] = [*_INDEX[-3:], (lexicons, built)]
    return built
