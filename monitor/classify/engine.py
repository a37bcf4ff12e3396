"""The default engine: lexicons, the catalog and sentence readings turned into moves.

Most entries carry no move word at all and leave after one cue scan; the
rest are read sentence by sentence (``article``) and weighed per person
(``decide``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from monitor.classify.article import ArticleState
from monitor.classify.decide import moves
from monitor.classify.lexicon import EVENT_KINDS, MOVE_KINDS, Cue, Lexicon
from monitor.classify.orgs import OrgFinder, OrgSpan
from monitor.classify.sentence import BG, CLAUSE_BREAKS, TO, Label, Reading, read_sentence
from monitor.classify.text import clean, detect_language, sentences
from monitor.records import Article, Classification

MAX_SENTENCES = 60
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

    def move_cue(self, article: Article) -> bool:
        """Whether the headline carries a move word (leave, join, hire...) about the AI field.

        What makes an entry that yielded no move worth reading in full
        (``monitor.classify.candidates``): "Another top researcher quits
        OpenAI" names no one, and the article page does. The headline must
        carry the cue and its lead (headline and first two sentences) an AI
        organisation or an AI word, which leaves out the many headlines where
        "leaves" or "joins" means something else.
        """
        try:
            title = clean(article.title or "")
            if not title or not any(lexicon.may_move(title) for lexicon in self.lexicons.values()):
                return False  # most headlines: a few short scans, and the summary is never read
            summary = clean(article.summary or "")
            lang = detect_language(f"{title}\n{summary}", self.lexicons, article.lang)
            lexicon = self.lexicons.get(lang) or self.lexicons["en"]
            if not lexicon.may_move(title) or not any(c.kinds & MOVE_KINDS for c in lexicon.cues(title)):
                return False
            lead = "\n".join([title, *sentences(summary)[:2]])
            if any("ai_context" in c.kinds for c in lexicon.cues(lead)):
                return True
            return any(o.org is not None and o.org.ai for o in self.finder.find(lead))
        except Exception:
            return False

    # ── the article ──────────────────────────────────────────────────────────

    def _classify(self, article: Article) -> Classification:
        title = clean(article.title or "")
        summary = clean(article.summary or "")
        lang = detect_language(f"{title}\n{summary}", self.lexicons, article.lang)
        lexicon = self.lexicons.get(lang) or self.lexicons["en"]
        if not (lexicon.may_move(title) or lexicon.may_move(summary)):
            return Classification(article.id, lang, False, ())  # most entries: no move word at all
        whole = f"{title}\n{summary}"
        parts = [title] if title else []
        parts += sentences(summary)[:MAX_SENTENCES]
        cues = [lexicon.cues(part) for part in parts]
        if not any(c.kinds & MOVE_KINDS for found in cues for c in found):
            return Classification(article.id, lang, False, ())  # most entries: no move word at all
        not_names = self.not_names if lang != "en" else frozenset()
        readings: list[Reading] = []
        last_org: OrgSpan | None = None
        found_orgs = self.finder.find_parts(parts, whole)
        for i, (text, found) in enumerate(zip(parts, cues, strict=True)):
            orgs = found_orgs[i]
            if i == 0 or _worth_reading(found, cues[i + 1] if i + 1 < len(cues) else []):
                reading = read_sentence(text, lang, lexicon, self.finder, not_names, found, last_org, orgs)
                orgs = reading.orgs
            else:
                # Kept for "the company" later on, which may point back to an organisation named here.
                reading = Reading(text, lang, found, [], [], kinds=frozenset(k for c in found for k in c.kinds))
            if orgs:
                last_org = orgs[-1]
            readings.append(reading)
        if article.published is not None:
            for reading in readings[1 if title else 0 :]:
                _past_moves_as_background(reading, article.published.year)
        if not any(r.events - {"found"} for r in readings):
            return Classification(article.id, lang, False, ())
        state = ArticleState(readings, bool(title), lexicon)
        told = moves(state)
        return Classification(article.id, lang, bool(told), tuple(told))


def _worth_reading(cues: list[Cue], following: list[Cue]) -> bool:
    """Whether a sentence can tell anything about a move; most of an article's sentences cannot.

    One with no move, background or title cue is still read when the next
    sentence opens with a pronoun that may point back to a name in it.
    """
    if any(c.kinds & _READ_KINDS for c in cues):
        return True
    return any("pronoun" in c.kinds for c in following)


_YEAR = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")


def _past_moves_as_background(reading: Reading, year: int) -> None:
    """"周启明2021年加入字节", "Achterberg left IBM in 1994 to join Edinburgh": a move in an earlier year
    is the person's history, not the news.

    Only when every move the sentence tells has an earlier year in its clause.
    """
    if not reading.events:
        return
    text = reading.text
    for cue in reading.cues:
        if cue.kinds & reading.events:
            start = max(text.rfind(p, 0, cue.start) for p in CLAUSE_BREAKS) + 1
            ends = [e for e in (text.find(p, cue.end) for p in CLAUSE_BREAKS) if e >= 0]
            clause = text[start : min(ends, default=len(text))]
            if not any(int(y) < year for y in _YEAR.findall(clause)):
                return  # "..., who joined Cohere in 2023, is returning to Google": the return is news
    reading.events = frozenset()
    reading.labels = [Label(lb.span, BG, 2.0) if lb.side == TO else lb for lb in reading.labels]
