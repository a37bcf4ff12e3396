"""The default engine: lexicons, the catalog and sentence readings turned into moves.

Most entries carry no move word at all and leave after one cue scan; the
rest are read sentence by sentence (``article``) and weighed per person
(``decide``).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.classify.article import ArticleState
from monitor.classify.decide import moves
from monitor.classify.lexicon import EVENT_KINDS, Cue, Lexicon
from monitor.classify.orgs import OrgFinder, OrgSpan
from monitor.classify.sentence import Reading, read_sentence
from monitor.classify.text import clean, detect_language, sentences
from monitor.records import Article, Classification

MAX_SENTENCES = 60
_MOVE_KINDS = frozenset({"leave", "lose", "join", "hire", "appoint", "return"})
# What makes a sentence worth finding names and organisations in: a move, or who someone was.
_READ_KINDS = EVENT_KINDS | {"background", "weak_background", "role", "replaces", "replaced_by"}


class RuleEngine:
    """Lexicon-and-catalog classifier; pure once built."""

    def __init__(self, lexicons: Mapping[str, Lexicon], finder: OrgFinder) -> None:
        self.lexicons = dict(lexicons)
        self.finder = finder
        # English headline words are never names in any language's feed ("Career Update").
        english = self.lexicons.get("en")
        self.not_names = english.not_name if english is not None else frozenset()

    def classify(self, article: Article) -> Classification:
        """Never raises: a text the engine cannot read is simply not a move."""
        try:
            return self._classify(article)
        except Exception:
            return Classification(article.id, article.lang or "en", False, ())

    # ── the article ──────────────────────────────────────────────────────────

    def _classify(self, article: Article) -> Classification:
        title = clean(article.title or "")
        summary = clean(article.summary or "")
        lang = detect_language(f"{title}\n{summary}", self.lexicons, article.lang)
        lexicon = self.lexicons.get(lang) or self.lexicons["en"]
        parts = [title] if title else []
        parts += sentences(summary)[:MAX_SENTENCES]
        cues = [lexicon.cues(part) for part in parts]
        if not any(c.kinds & _MOVE_KINDS for found in cues for c in found):
            return Classification(article.id, lang, False, ())  # most entries: no move word at all
        not_names = self.not_names if lang != "en" else frozenset()
        readings: list[Reading] = []
        last_org: OrgSpan | None = None
        anaphor = lexicon.org_anaphor
        last_anaphor = max((i for i, p in enumerate(parts) if anaphor.search(p)), default=-1) if anaphor else -1
        for i, (text, found) in enumerate(zip(parts, cues, strict=True)):
            if i == 0 or _worth_reading(found, cues[i + 1] if i + 1 < len(cues) else []):
                reading = read_sentence(text, lang, lexicon, self.finder, not_names, found, last_org)
                orgs = reading.orgs
            else:
                reading = Reading(text, lang, found, [], [], kinds=frozenset(k for c in found for k in c.kinds))
                # "the company" later on may point back to an organisation named here.
                orgs = self.finder.find(text) if i < last_anaphor else []
            if orgs:
                last_org = orgs[-1]
            readings.append(reading)
        if not any(r.events - {"found"} for r in readings):
            return Classification(article.id, lang, False, ())
        state = ArticleState(readings, bool(title), lexicon)
        found = moves(state)
        return Classification(article.id, lang, bool(found), tuple(found))


def _worth_reading(cues: list[Cue], following: list[Cue]) -> bool:
    """Whether a sentence can tell anything about a move; most of an article's sentences cannot.

    One with no move, background or title cue is still read when the next
    sentence opens with a pronoun that may point back to a name in it.
    """
    if any(c.kinds & _READ_KINDS for c in cues):
        return True
    return any("pronoun" in c.kinds for c in following)
