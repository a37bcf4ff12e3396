"""Per-language cue lexicons: the words that make a sentence about a move.

The phrases live in ``config/lexicons/<lang>.toml`` so that users extend them
without touching code. Each file is compiled once into a single alternation
(longest phrase first), so finding every cue in a sentence is one regex pass;
a phrase may carry several kinds ("said" is both speech and a confirmation).
Latin-script phrases match on word boundaries, CJK phrases anywhere.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import ConfigError

LEXICON_DIR = Path(__file__).resolve().parent.parent.parent / "config" / "lexicons"

KINDS = frozenset(
    {
        "leave", "lose", "join", "hire", "appoint", "found", "return", "from", "to", "background",
        "weak_background", "stopover", "negation", "rumour", "confirm", "report", "internal",
        "non_ai", "speech", "report_to", "pronoun", "group", "role", "ai_context", "replaces",
        "replaced_by", "cofounders",
    }
)
EVENT_KINDS = frozenset({"leave", "lose", "join", "hire", "appoint", "found", "return"})
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Cue:
    """One lexicon phrase found in a sentence."""

    kinds: frozenset[str]
    start: int
    end: int
    text: str


_LATIN_WORD = re.compile(r"[0-9a-z\u00c0-\u024f]+")
_LATIN_CHAR = re.compile(r"[0-9a-z\u00c0-\u024f]")
_LATIN_SET = frozenset("0123456789abcdefghijklmnopqrstuvwxyz" + "".join(map(chr, range(0xC0, 0x250))))


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The compiled cues of one language.

    Phrases are indexed by their first word (Latin script) or first character
    (CJK), so a sentence is scanned once with dictionary look-ups: a single
    regex alternation of every phrase was ten times slower.
    """

    lang: str
    word_order: str  # "svo": markers precede the organisation; "sov": they follow it
    stopwords: frozenset[str]
    not_name: frozenset[str]
    kinds_of: Mapping[str, frozenset[str]]
    by_word: Mapping[str, tuple[str, ...]]  # first Latin word -> phrases, longest first
    by_char: Mapping[str, tuple[str, ...]]  # first CJK character -> phrases, longest first
    from_suffixes: tuple[str, ...] = ()  # "sov" languages: particles right after an organisation
    to_suffixes: tuple[str, ...] = ()
    first_words: frozenset[str] = frozenset()  # keys of by_word
    first_chars: re.Pattern[str] | None = None  # one character class of by_char's keys
    # "the company", "the Paris start-up", "la start-up", "该公司": an organisation named before.
    org_anaphor: re.Pattern[str] | None = None

    def cues(self, text: str) -> list[Cue]:
        """Every cue in ``text``, leftmost-longest, in text order."""
        lowered = text.lower()
        if len(lowered) != len(text):
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        found: list[tuple[int, int, str]] = []
        # Only the words that start some phrase are looked at, found by str.find (C speed).
        for word in self.first_words.intersection(_LATIN_WORD.findall(lowered)):
            phrases = self.by_word[word]
            for i in _word_starts(word, lowered):
                for phrase in phrases:
                    end = i + len(phrase)
                    if lowered.startswith(phrase, i) and (
                        not phrase[-1].isalnum() or lowered[end : end + 1] not in _LATIN_SET
                    ):
                        found.append((i, end, phrase))
                        break
        if self.first_chars is not None:
            for m in self.first_chars.finditer(lowered):
                i = m.start()
                for phrase in self.by_char[m.group()]:
                    if lowered.startswith(phrase, i) and _hangul_edges_ok(lowered, i, phrase):
                        found.append((i, i + len(phrase), phrase))
                        break
        found.sort(key=lambda f: (f[0], f[0] - f[1]))
        out: list[Cue] = []
        last = 0
        for start, end, phrase in found:
            if start >= last:
                out.append(Cue(self.kinds_of[phrase], start, end, text[start:end]))
                last = end
        return out


def _word_starts(word: str, text: str) -> list[int]:
    """Where ``word`` stands as a whole word: str.find for long words, a regex for short ones.

    A short word ("a", "to") is inside many others, so finding it by
    substring would test every one of them; the regex engine does that in C.
    """
    if len(word) <= 3:
        return [m.start() for m in _word_pattern(word).finditer(text)]
    out = []
    size = len(word)
    i = text.find(word)
    while i >= 0:
        if (i == 0 or text[i - 1] not in _LATIN_SET) and text[i + size : i + size + 1] not in _LATIN_SET:
            out.append(i)
        i = text.find(word, i + size)
    return out


@functools.lru_cache(maxsize=4096)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9a-z\u00c0-\u024f]){re.escape(word)}(?![0-9a-z\u00c0-\u024f])")


def _hangul_edges_ok(text: str, i: int, phrase: str) -> bool:
    """Korean cues start a word (particles and endings follow); one syllable stands alone."""
    if not _HANGUL.match(phrase):
        return True
    if i > 0 and _HANGUL.match(text, i - 1):
        return False
    end = i + len(phrase)
    return len(phrase) > 1 or end >= len(text) or not _HANGUL.match(text, end)


def compile_lexicon(lang: str, data: Mapping[str, object], where: str = "<lexicon>") -> Lexicon:
    """Build a lexicon from the parsed TOML of one language file."""
    cues = data.get("cues", {})
    if not isinstance(cues, Mapping):
        raise ConfigError(where, ["[cues] must be a table of lists of phrases"])
    cues = dict(cues)
    not_name = [*_strings(data.get("not_name")), *_strings(cues.pop("not_name", None))]
    problems = [f"[cues] unknown kind {k!r}" for k in cues if k not in KINDS]
    kinds_of: dict[str, set[str]] = {}
    word_order = str(data.get("word_order", "svo"))
    suffixes: dict[str, tuple[str, ...]] = {"from": (), "to": ()}
    for kind, phrases in cues.items():
        if word_order == "sov" and kind in suffixes and isinstance(phrases, list):
            suffixes[kind] = tuple(sorted((str(p) for p in phrases), key=len, reverse=True))
            continue
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            problems.append(f"[cues] {kind} must be a list of strings")
            continue
        for phrase in phrases:
            key = " ".join(phrase.lower().split())
            if key:
                kinds_of.setdefault(key, set()).add(kind)
    if problems:
        raise ConfigError(where, problems)
    by_word: dict[str, list[str]] = {}
    by_char: dict[str, list[str]] = {}
    for phrase in sorted(kinds_of, key=lambda p: (-len(p), p)):
        first = _LATIN_WORD.match(phrase)
        if first is not None:
            by_word.setdefault(first.group(), []).append(phrase)
        else:
            by_char.setdefault(phrase[0], []).append(phrase)
    return Lexicon(
        lang=lang,
        word_order=word_order,
        stopwords=frozenset(str(w).casefold() for w in _strings(data.get("stopwords"))),
        not_name=frozenset(not_name),
        kinds_of={k: frozenset(v) for k, v in kinds_of.items()},
        by_word={k: tuple(v) for k, v in by_word.items()},
        by_char={k: tuple(v) for k, v in by_char.items()},
        from_suffixes=suffixes["from"],
        to_suffixes=suffixes["to"],
        first_words=frozenset(by_word),
        org_anaphor=_anaphor_pattern(_strings(data.get("anaphor_determiners")), _strings(data.get("anaphor_nouns"))),
        first_chars=re.compile("[" + "".join(re.escape(c) for c in sorted(by_char)) + "]") if by_char else None,
    )


def _anaphor_pattern(determiners: Iterable[str], nouns: Iterable[str]) -> re.Pattern[str] | None:
    """A determiner, at most one capitalised word ("the Paris start-up"), then an organisation noun."""
    dets = sorted({d.casefold() for d in determiners if d}, key=len, reverse=True)
    heads = sorted({n.casefold() for n in nouns if n}, key=len, reverse=True)
    if not dets or not heads:
        return None
    det = "|".join(map(re.escape, dets))
    noun = "|".join(map(re.escape, heads))
    return re.compile(
        rf"(?<![0-9A-Za-z\u00c0-\u024f])(?i:{det})(?:\s*|\s+[A-Z][\w.\-]*\s+)(?i:{noun})(?![0-9A-Za-z\u00c0-\u024f])"
    )


def _strings(value: object) -> Iterable[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def load_lexicons(directory: Path = LEXICON_DIR, extra: Sequence[Path] = ()) -> dict[str, Lexicon]:
    """Every ``<lang>.toml`` in the directory; files in ``extra`` add phrases to a language."""
    raw: dict[str, dict[str, object]] = {}
    where: dict[str, str] = {}
    for path in [*sorted(directory.glob("*.toml")), *extra]:
        if path.stem.startswith("extra-"):
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(str(path), [f"cannot read the lexicon: {exc}"]) from exc
        lang = str(data.get("lang", path.stem))
        merged = raw.setdefault(lang, {"cues": {}})
        where.setdefault(lang, str(path))
        for key, value in data.items():
            if key == "cues" and isinstance(value, Mapping):
                cues = merged["cues"]
                assert isinstance(cues, dict)
                for kind, phrases in value.items():
                    cues[kind] = [*cues.get(kind, []), *(phrases if isinstance(phrases, list) else [])]
            elif key in ("stopwords", "not_name") and isinstance(value, list):
                old = merged.get(key, [])
                merged[key] = [*(old if isinstance(old, list) else []), *value]
            else:
                merged[key] = value
    return {lang: compile_lexicon(lang, data, where[lang]) for lang, data in raw.items()}
