"""Which entries are worth reading in full, and how a page's text adds to what a summary said.

A headline and a summary often name a move but not both of its sides ("X is
leaving OpenAI"), or a move without its person ("OpenAI's head of research
departs"). Those entries are *candidates*: the article page usually says the
rest. Entries with no move word at all, most of any feed, are never
candidates, so no page is ever fetched for them.

The page's text is read as a longer summary, and the result only fills
gaps: a side the summary left open, a role, a name for an unnamed group.
A side the summary stated is never overruled by the page, and people the
page names beyond the summary's (a sidebar, related stories) are left out
unless the summary named nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from monitor.classify import Engine
from monitor.people import person_keys
from monitor.records import Article, Classification, Move

# The page text read after the summary, at most; the lede and first paragraphs carry the move.
PAGE_TEXT_CHARS = 3000


def incomplete(move: Move) -> bool:
    """A move that leaves a side or its person unknown."""
    return move.person is None or move.from_org is None or move.to_org is None


def is_candidate(engine: Engine, article: Article, result: Classification) -> bool:
    """Whether reading the article's page could complete what its headline and summary told.

    True for a move with a side or its person missing, and for an entry
    whose headline or summary carries a move word the engine could not turn
    into a move. Only engines that can say the latter (``move_cue``) get
    the second kind; any engine gets the first.
    """
    if result.moves:
        return any(incomplete(move) for move in result.moves)
    move_cue: Callable[[Article], bool] | None = getattr(engine, "move_cue", None)
    return move_cue is not None and move_cue(article)


def with_page_text(article: Article, text: str) -> Article:
    """The article with the page's text (capped) read after its summary."""
    extra = text[:PAGE_TEXT_CHARS].strip()
    if not extra:
        return article
    summary = f"{article.summary}\n\n{extra}" if article.summary.strip() else extra
    return replace(article, summary=summary)


def classify_with_text(engine: Engine, article: Article, text: str, before: Classification) -> Classification:
    """Classify ``article`` again with its page's text and keep what that adds to ``before``."""
    if not text.strip():
        return before
    return richer(before, engine.classify(with_page_text(article, text)))


def richer(before: Classification, after: Classification) -> Classification:
    """``before`` with its gaps filled from ``after`` (the same article read with its page).

    When the summary named nobody (no move, or only unnamed groups), the
    page's reading stands whole if it knows more. Otherwise each move of the
    summary takes from the page's move of the same person (or group) only
    what it lacked; the page's other people are not the article's subject.
    """
    if not after.moves:
        return before
    if all(move.person is None for move in before.moves):
        if _known(after.moves) > _known(before.moves):
            return replace(after, article_id=before.article_id)
        return before
    filled = tuple(_fill(move, _same_mover(move, after.moves)) for move in before.moves)
    if filled == before.moves:
        return before
    return replace(before, personnel_change=True, moves=filled)


def _known(moves: tuple[Move, ...]) -> int:
    return sum((m.person is not None) + (m.from_org is not None) + (m.to_org is not None) for m in moves)


def _same_mover(move: Move, others: tuple[Move, ...]) -> Move | None:
    if move.person is None:
        return next((m for m in others if m.person is None), None)
    keys = person_keys(move.person, move.person_aliases)
    return next((m for m in others if m.person is not None and keys & person_keys(m.person, m.person_aliases)),
                None)


def _fill(move: Move, page: Move | None) -> Move:
    """``move`` with what ``page`` knows and it does not; a known side is never changed."""
    if page is None:
        return move
    from_org, from_parent, to_org, to_parent = move.from_org, move.from_parent, move.to_org, move.to_parent
    if from_org is None and page.from_org is not None and page.from_org != move.to_org:
        from_org, from_parent = page.from_org, page.from_parent
    if to_org is None and page.to_org is not None and page.to_org != move.from_org:
        to_org, to_parent = page.to_org, page.to_parent
    role = move.role if move.role is not None else page.role
    if (from_org, to_org, role) == (move.from_org, move.to_org, move.role):
        return move
    aliases = tuple(dict.fromkeys((*move.person_aliases, *page.person_aliases)))
    evidence = move.evidence if page.evidence in move.evidence else f"{move.evidence} {page.evidence}".strip()
    return replace(move, from_org=from_org, from_parent=from_parent, to_org=to_org, to_parent=to_parent, role=role,
                   person_aliases=aliases, evidence=evidence, confidence=max(move.confidence, page.confidence))
