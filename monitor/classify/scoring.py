"""How sure a move is, and how official: a sentence's status and a move's confidence.

"confirmed" needs the person or an employer speaking (an announcement, a
post, a memo, a spokesperson); "reported" is the press telling it;
"rumoured" is talks, consideration, negotiation.
"""

from __future__ import annotations

from monitor.classify.lexicon import Cue
from monitor.classify.orgs import OrgSpan
from monitor.classify.person import Person
from monitor.classify.sentence import Reading
from monitor.records import Status

PLAIN = "plain"  # a sentence that states a move with no source: reported, or confirmed by the article
_HEARD = frozenset({"speech", "report"})


def _said_by_party(cue: Cue, reading: Reading) -> bool:
    """A plain "said"/"wrote" confirms only when a person or organisation of the story says it.

    "X said", "the company said", "he wrote" confirm; "CNBC said" after an
    unknown name of a paper does not, for papers are not in the catalog.
    """
    if any(0 <= cue.start - n.end <= 2 for n in reading.names):
        return True
    if any(0 <= cue.start - o.end <= 2 and o.org is not None for o in reading.orgs):
        return True
    return any("pronoun" in c.kinds and 0 <= cue.start - c.end <= 2 for c in reading.cues)


def _rumour(cue: Cue, reading: Reading) -> bool:
    """Talks, consideration, negotiation; a capitalised "May" mid-sentence is the month."""
    return "rumour" in cue.kinds and not (cue.start > 0 and cue.text[:1].isupper() and cue.text.isalpha()
                                          and len(cue.text) <= 5)


def _hedged_move(reading: Reading) -> bool:
    """A move verb governed by talks or consideration: "in talks to hire", "considering leaving",
    "en discussions avancées avec Hugging Face pour rejoindre" (later in the same clause)."""
    rumours = [c for c in reading.cues if _rumour(c, reading)]
    text = reading.text
    return any(
        c.kinds & reading.events and (0 <= c.start - r.end <= 12 or (
            0 <= c.start - r.end <= 60 and not any(p in text[r.end : c.start] for p in ",;.，。"))
        )
        for r in rumours for c in reading.cues
    )


def sentence_status(reading: Reading) -> str:
    """The status one sentence gives the moves it tells.

    "confirmed" when the mover or an employer speaks (announced, said on X,
    a memo, a spokesperson, "X said"); "reported" for the press; "rumoured"
    for talks, consideration and negotiation without a move verb of its own.
    """
    if not reading.status:
        reading.status = _status(reading)
    return reading.status


def _status(reading: Reading) -> str:
    strong = any(
        "confirm" in c.kinds and (
            not c.kinds & _HEARD or ("speech" in c.kinds and _said_by_party(c, reading))
        )
        for c in reading.cues
    )
    rumour = any(_rumour(c, reading) for c in reading.cues)
    if rumour and (_hedged_move(reading) or (not strong and not (reading.events - {"found"}))):
        return "rumoured"
    if "report" in reading.kinds:
        return "reported"  # a confirmation heard through the press is still a report
    if strong:
        return "confirmed"
    if rumour:
        return "rumoured"
    return PLAIN


def combine_status(statuses: set[str], article_confirmed: bool = False) -> Status:
    """The best status a person's sentences give; an article's official source confirms all it tells.

    A memo or an announcement anywhere in the article ("百度发布内部信", "the
    company confirmed") confirms the moves it reports, unless they are only
    rumoured.
    """
    if "confirmed" in statuses or (article_confirmed and statuses and statuses <= {PLAIN}):
        return "confirmed"
    if statuses & {"reported", PLAIN} or not statuses:
        return "reported"
    return "rumoured"


def confidence(person: Person, a: OrgSpan | None, b: OrgSpan | None, status: str) -> float:
    """How likely the move is right, calibrated on the development set (README: "Confidence").

    A named person with one side read from a move verb scores about 0.7,
    both sides in the catalog about 0.85-0.9, a confirmed one a little more;
    an unnamed group and a rumour score less, a rumour below the default
    alert threshold of 0.5.
    """
    score = 0.5
    strongest = max((w for t in person.sides.values() for _, w in t.values()), default=0.0)
    if a is not None:
        score += 0.1
    if b is not None:
        score += 0.1
    if strongest >= 3:
        score += 0.1
    if a is not None and b is not None and a.org is not None and b.org is not None:
        score += 0.05
    if person.name is None:
        score -= 0.15
    if status == "rumoured":
        score -= 0.4
    elif status == "confirmed":
        score += 0.05
    return round(min(0.97, max(0.05, score)), 2)
