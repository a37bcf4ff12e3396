"""Per-language cue lexicons: the words that make a sentence about a move.

The phrases live in ``config/lexicons/<lang>.toml`` so that users extend them
without touching code. Each file is compiled once into a single alternation
shaped as a trie (``trie``), so finding every cue in a sentence is one regex
pass, leftmost-longest;
a phrase may carry several kinds ("said" is both speech and a confirmation).
Latin-script phrases match on word boundaries, CJK phrases anywhere.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from monitor.classify.trie import phrase_pattern, presence_pattern
from monitor.errors import ConfigError

LEXICON_DIR = Path(__file__).resolve().parent.parent.parent / "config" / "lexicons"

KINDS = frozenset(
    {
        "leave", "lose", "join", "hire", "appoint", "found", "return", "from", "to", "background",
        "weak_background", "stopover", "negation", "rumour", "confirm", "report", "internal",
        "non_ai", "speech", "report_to", "pronoun", "group", "role", "ai_context", "replaces",
        "replaced_by", "cofounders", "plan", "plain",
    }
)
EVENT_KINDS = frozenset({"leave", "lose", "join", "hire", "appoint", "found", "return"})
JOIN_KINDS = frozenset({"join", "return"})  # the mover goes to the organisation named with the verb
HIRE_KINDS = frozenset({"hire", "appoint"})  # told of the hired: the organisation hiring is the subject
# The cues that make an entry worth reading at all: someone leaves, joins, is hired or named.
MOVE_KINDS = frozenset({"leave", "lose", "join", "hire", "appoint", "return"})


class Cue(NamedTuple):
    """One lexicon phrase found in a sentence (immutable; a tuple is built three times faster
    than a frozen dataclass, and an entry makes dozens of these)."""

    kinds: frozenset[str]
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The compiled cues of one language.

    Every phrase is in one trie-shaped pattern (``trie``), so a sentence is
    scanned once, in C; ``moves`` holds only the phrases of a move, for the
    cheap test most entries stop at: no move word, nothing to read.
    """

    lang: str
    word_order: str  # "svo": markers precede the organisation; "sov": they follow it
    stopwords: frozenset[str]
    not_name: frozenset[str]
    kinds_of: Mapping[str, frozenset[str]]
    pattern: re.Pattern[str]
    moves: re.Pattern[str]  # a presence_pattern: searched in " " + text
    from_suffixes: tuple[str, ...] = ()  # "sov" languages: particles right after an organisation
    to_suffixes: tuple[str, ...] = ()
    # "the company", "the Paris start-up", "la start-up", "该公司": an organisation named before.
    org_anaphor: re.Pattern[str] | None = None
    # ", who joined A from B in 2019,", ", a director at C,": a clause after a name, up to the next comma.
    relative: re.Pattern[str] | None = None
    # "robotics start-up ", "an AI start-up called ": what may stand between a verb and an organisation's name.
    org_intro: re.Pattern[str] | None = None
    # "start-up ", "company called ": the noun right before an organisation's name, wherever it stands.
    org_named: re.Pattern[str] | None = None
    # "an assistant professor of computer science at ", "chief technology officer of ": a role, then where.
    role_intro: re.Pattern[str] | None = None
    # German: "hat OpenAI verlassen", "das Start-up X gegründet": a participle right after its object.
    participle_last: bool = False
    # "de", "von": words of "from" that also mean "of" ("el laboratorio de superinteligencia de Meta").
    of_words: frozenset[str] = frozenset()
    # "laboratorio", "start-up": nouns that name an organisation ("org_nouns" and "anaphor_nouns").
    org_nouns: frozenset[str] = frozenset()

    def cues(self, text: str) -> list[Cue]:
        """Every cue in ``text``, leftmost-longest, in text order."""
        lowered = _lower(text)
        kinds_of = self.kinds_of
        return [Cue(kinds_of[m.group()], m.start(), m.end(), text[m.start() : m.end()])
                for m in self.pattern.finditer(lowered)]

    def may_move(self, text: str) -> bool:
        """Whether ``text`` holds any phrase of a move (leave, join, hire...); False is certain."""
        return self.moves.search(" " + _lower(text)) is not None


def _lower(text: str) -> str:
    """Lower case with every offset kept (a few characters lengthen when lowered: "İ")."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered


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
    moving = [p for p, k in kinds_of.items() if k & MOVE_KINDS]
    return Lexicon(
        lang=lang,
        word_order=word_order,
        stopwords=frozenset(str(w).casefold() for w in _strings(data.get("stopwords"))),
        not_name=frozenset(not_name),
        kinds_of={k: frozenset(v) for k, v in kinds_of.items()},
        pattern=phrase_pattern(kinds_of),
        moves=presence_pattern(moving),
        from_suffixes=suffixes["from"],
        to_suffixes=suffixes["to"],
        org_anaphor=_anaphor_pattern(_strings(data.get("anaphor_determiners")), _strings(data.get("anaphor_nouns"))),
        relative=_relative_pattern([*_strings(data.get("relative_pronouns")),
                                    *_strings(data.get("apposition_articles"))]),
        org_intro=_intro_pattern(_strings(data.get("org_nouns")), _strings(data.get("naming_words"))),
        participle_last=bool(data.get("participle_last", False)),
        role_intro=_role_intro_pattern(_strings(data.get("role_prepositions"))),
        of_words=frozenset(w.casefold() for w in _strings(data.get("of_words"))),
        org_nouns=frozenset(w.casefold() for key in ("org_nouns", "anaphor_nouns") for w in _strings(data.get(key))),
        org_named=_intro_pattern(_strings(data.get("org_nouns")), _strings(data.get("naming_words")), words=0),
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


def _intro_pattern(nouns: Iterable[str], naming: Iterable[str], words: int = 5) -> re.Pattern[str] | None:
    """Up to ``words`` lower-case words ending in an organisation noun, perhaps "called", then a capital."""
    heads = sorted({n.casefold() for n in nouns if n}, key=len, reverse=True)
    if not heads:
        return None
    noun = "|".join(map(re.escape, heads))
    names = "|".join(map(re.escape, sorted({w.casefold() for w in naming if w}, key=len, reverse=True)))
    # "startup kecerdasan buatan bernama X": a few more words may stand before "called".
    called = rf"(?:(?:\s+[a-z][\w\-]*){{0,3}}?,?\s+(?i:{names}))?" if names else ""
    lead = rf"(?:(?:[a-z\d][\w\-]*|AI[\w\-]*)\s+){{0,{words}}}?" if words else r"(?<!\w)"
    return re.compile(rf"{lead}(?i:{noun}){called},?\s+(?=[A-Z\d])")


def _role_intro_pattern(prepositions: Iterable[str]) -> re.Pattern[str] | None:
    """A role of up to seven words, then "at"/"of": what stands between "to become" and the employer."""
    words = sorted({w.casefold() for w in prepositions if w}, key=len, reverse=True)
    if not words:
        return None
    at = "|".join(map(re.escape, words))
    return re.compile(rf"(?:[A-Za-z][\w\-]*\s+){{1,7}}?(?:{at})\s+(?=[A-Z\d])")


def _relative_pattern(pronouns: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({p.casefold() for p in pronouns if p}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r",\s+(?i:" + "|".join(map(re.escape, words)) + r")\s+[^,;]+")


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
