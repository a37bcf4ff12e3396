"""One sentence read for moves: who is named, which organisation plays which part.

Each organisation in a sentence gets a side from the cue nearest to it: the
object of "leaves"/离开/meninggalkan or of "from"/从/dari is the side left;
the object of "joins"/加盟/bergabung, of "for" after a leave, or the subject
of "hires"/挖角/merekrut is the side joined; "former"/前/mantan marks where a
person was; "briefly" marks a stop-over. In verb-final languages (Japanese,
Korean) the cue or particle follows the organisation instead. Whatever is
left unmarked is a person's affiliation ("OpenAI researcher X"), a weak hint
of the side left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from monitor.classify.lexicon import EVENT_KINDS, HIRE_KINDS, JOIN_KINDS, Cue, Lexicon
from monitor.classify.names import Name, find_names
from monitor.classify.orgs import OrgFinder, OrgSpan
from monitor.classify.unknown_orgs import guess_unknown_orgs

FROM, TO, BG, AFF, NEW, STOP, SAY = "from", "to", "bg", "aff", "new", "stop", "say"
_SUBJECT_PARTICLE = ("이 ", "가 ", "은 ", "는 ", "が", "は")


class Label(NamedTuple):
    """The part an organisation plays in one sentence (immutable, like Cue)."""

    span: OrgSpan
    side: str
    weight: float


@dataclass(slots=True)
class Reading:
    """What one sentence says."""

    text: str
    lang: str
    cues: list[Cue]
    orgs: list[OrgSpan]
    names: list[Name]
    labels: list[Label] = field(default_factory=list)
    kinds: frozenset[str] = frozenset()
    # ", who built the stack behind Le Chat,": clauses about a person, whose names are not the subject.
    asides: tuple[tuple[int, int], ...] = ()
    # Organisations found behind a description ("joins robotics start-up X"), by start: the verb before it.
    introduced: dict[int, Cue] = field(default_factory=dict)
    status: str = ""  # set once by scoring.sentence_status, which is asked often
    events: frozenset[str] = field(init=False)  # the move kinds among ``kinds``, asked for often

    def __post_init__(self) -> None:
        self.events = self.kinds & EVENT_KINDS

    def has(self, kind: str) -> bool:
        return kind in self.kinds


def read_sentence(text: str, lang: str, lexicon: Lexicon, finder: OrgFinder,
                  not_names: frozenset[str] = frozenset(), cues: list[Cue] | None = None,
                  antecedent: OrgSpan | None = None, orgs: list[OrgSpan] | None = None) -> Reading:
    """Cues, organisations, names and the organisations' sides in one sentence.

    ``antecedent`` is the organisation last named before this sentence: "the
    company" or "la start-up parisienne" stands for it unless the sentence
    itself named one first. ``orgs`` are the sentence's organisations when
    already found (``OrgFinder.find_parts``).
    """
    if cues is None:
        cues = lexicon.cues(text)
    asides: tuple[tuple[int, int], ...] = ()
    if lexicon.relative is not None and "," in text:
        asides = tuple((m.start(), m.end()) for m in lexicon.relative.finditer(text))
        cues = _background_clauses(cues, asides)
    if orgs is None:
        orgs = finder.find(text)
    if orgs and any("confirm" in c.kinds for c in cues):
        # "said on LinkedIn", "wrote on X": the channel of an announcement, not an employer.
        orgs = [o for o in orgs if not any("confirm" in c.kinds and c.start <= o.start and o.end <= c.end
                                           for c in cues)]
    taken = [(o.start, o.end) for o in orgs]
    names = find_names(text, lang, taken, lexicon.not_name | not_names)
    names = [n for n in names if not _inside_cue(n, cues)]
    kinds = frozenset(k for c in cues for k in c.kinds)
    reading = Reading(text, lang, cues, orgs, names, kinds=kinds, asides=asides)
    guess_unknown_orgs(reading, finder, lexicon, lexicon.not_name | not_names)
    if lexicon.org_anaphor is not None and (reading.orgs or antecedent is not None):
        # After the guesses: "the start-up's technology" may stand for a start-up the catalog lacks.
        resolved = _resolve_anaphors(text, reading.orgs, lexicon.org_anaphor, antecedent, lexicon.of_words)
        if resolved is not reading.orgs:
            reading.orgs = resolved
            reading.names = [n for n in reading.names if not any(o.start < n.end and n.start < o.end for o in resolved)]
    reading.labels = _label(reading, lexicon)
    return reading


_CLAUSE_BG = frozenset({"join", "return", "hire"})


def _background_clauses(cues: list[Cue], clauses: tuple[tuple[int, int], ...]) -> list[Cue]:
    """", who joined A from B in 2012, is retiring": the clause says where the person is, not the news.

    When the sentence tells a move outside a relative clause, a join inside
    it marks the person's current organisation (background) and its "from"
    an earlier employer, which is not the side left now.
    """
    if not clauses:
        return cues

    def inside(cue: Cue) -> bool:
        return any(s <= cue.start and cue.end <= e for s, e in clauses)

    if not any(c.kinds & EVENT_KINDS and not inside(c) for c in cues):
        return cues
    out = []
    for cue in cues:
        if inside(cue) and cue.kinds & _CLAUSE_BG:
            cue = Cue(frozenset({"background"}), cue.start, cue.end, cue.text)
        elif inside(cue) and "from" in cue.kinds and any(inside(c) and c.kinds & _CLAUSE_BG for c in cues):
            continue  # "who joined A from B": B is an earlier employer
        out.append(cue)
    return out


def _resolve_anaphors(text: str, orgs: list[OrgSpan], pattern: re.Pattern[str],
                      antecedent: OrgSpan | None, of_words: frozenset[str] = frozenset()) -> list[OrgSpan]:
    out = list(orgs)
    for m in pattern.finditer(text):
        if any(o.start < m.end() + 2 and m.start() < o.end for o in orgs):
            continue  # "the start-up 01.AI": the name itself is there
        if of_words and _described_org_follows(text, m.end(), orgs, of_words):
            continue  # "el laboratorio de superinteligencia de Meta": Meta's lab, not one named before
        earlier = [o for o in orgs if o.end <= m.start()]
        ref = earlier[-1] if earlier else antecedent
        if ref is not None:
            out.append(OrgSpan(m.start(), m.end(), m.group(), ref.org, ref.name, ref.root, ref.root_id))
    return sorted(out, key=lambda o: o.start) if len(out) != len(orgs) else orgs


def in_aside(name: Name, reading: Reading, before: int) -> bool:
    """Whether the name sits in a relative clause that closes before ``before``: not that verb's subject."""
    return bool(reading.asides) and any(s < name.start and name.end <= e <= before for s, e in reading.asides)


def _described_org_follows(text: str, end: int, orgs: list[OrgSpan], of_words: frozenset[str]) -> bool:
    """Whether "of" ("de", "von") follows and, within a few words and no comma, an organisation."""
    words = text[end : end + 4].split()
    if not words or words[0].casefold() not in of_words:
        return False
    nxt = next((o for o in orgs if o.start >= end), None)
    return nxt is not None and nxt.start - end <= 40 and not any(p in text[end : nxt.start] for p in ",;")


def _inside_cue(name: Name, cues: list[Cue]) -> bool:
    """A "name" that is really a cue phrase, such as a capitalised headline verb."""
    return any(c.start <= name.start and name.end <= c.end for c in cues)


_LEAVES = frozenset({"leave", "lose"})
_ENDS_AFTER = frozenset({"leave", "join", "from", "background"})  # cues past which no side is read


def _window(lang: str) -> int:
    return 12 if lang in ("zh", "ja", "ko") else 45


def _label(reading: Reading, lexicon: Lexicon) -> list[Label]:
    text, cues, orgs = reading.text, reading.cues, reading.orgs
    sov = lexicon.word_order == "sov"
    width = _window(reading.lang)
    # "to" marks the side joined once a leave or a join came first: "leaves A for B", and "wechselt nach
    # Informationen des Handelsblatts zu SAP".
    first_move = min((c.start for c in cues if c.kinds & _LEAVES or c.kinds & JOIN_KINDS), default=None)
    labels = []
    for i, org in enumerate(orgs):
        lo = max(orgs[i - 1].end if i else 0, org.start - width)
        hi = min(orgs[i + 1].start if i + 1 < len(orgs) else len(text), org.end + width)
        before = [c for c in cues if lo <= c.start and c.end <= org.start]
        if before and any(p in text[before[0].end : org.start] for p in CLAUSE_BREAKS):
            # A verb across a clause break governs something else: "拟离职，正与阶跃星辰洽谈".
            cut = max(text.rfind(p, lo, org.start) for p in CLAUSE_BREAKS)
            before = [c for c in before if c.start > cut]
        after = [c for c in cues if org.end <= c.start and c.end <= hi]
        side: tuple[str, float] | None = None
        # "briefly" marks the organisation after it ("after briefly joining C"), or, with
        # none close behind, the one just before ("joined C briefly").
        if any("stopover" in c.kinds for c in before) or any(
            "stopover" in c.kinds for c in after
            if c.start - org.end <= 12 and not (i + 1 < len(orgs) and orgs[i + 1].start - c.end <= 30)
        ):
            side = (STOP, 0.0)
        if side is None and (_speaks(text, org, after) or (text.startswith(_OWNER_OF, org.end)
                                                            and not text.startswith(("系统", "系統"), org.end))):
            side = (SAY, 0.0)  # or "ソフトバンク子会社のSB Intuitions": the owner of what is named next
        if side is None and lexicon.participle_last:
            side = _participle_after(text, org, after)
        if side is None and sov:
            side = _sov_side(text, org, after, lexicon) or _sov_served_at(text, org, cues)
        if side is None and sov and _first_org_hires(text, org, cues) and not any(
                text.startswith(_SUBJECT_PARTICLE, o.end) for o in orgs[:i]):
            side = (TO, 3.0)
        if side is None and lexicon.of_words and before and _of_the_joined(reading, before[-1], org, lexicon):
            side = (TO, 2.5)
        if side is None:
            # "bergabung ke startup kecerdasan buatan bernama X": the verb before the description.
            verb = reading.introduced.get(org.start)
            side = _side_before([verb] if verb is not None and verb not in before else before, first_move)
        if side is None and not sov:
            side = _side_after(text, org, after)
        labels.append(Label(org, *(side or (AFF, 1.0))))
    joined = {lb.span.root_id for lb in labels if lb.side in (TO, NEW)}
    if not joined:
        return _announcer_joined(reading, labels)
    return [Label(lb.span, AFF, 1.0) if lb.side == SAY and lb.span.root_id not in joined else lb for lb in labels]


def _announcer_joined(reading: Reading, labels: list[Label]) -> list[Label]:
    """"Skild AI said Tuesday that X, a professor at Stanford, will join as chief scientist": a join with
    no organisation of its own joins the one that announces it."""
    join = next((c for c in reading.cues if c.kinds & JOIN_KINDS), None)
    out = [Label(lb.span, AFF, 1.0) if lb.side == SAY else lb for lb in labels]
    if join is None:
        return out
    for i, label in enumerate(out):
        span = label.span
        if span.end >= join.start or label.side not in (AFF, SAY):
            continue
        speech = next((c for c in reading.cues if c.start >= span.end), None)
        if speech is not None and speech.kinds & _SPEAKING and speech.end <= join.start \
                and len(reading.text[span.end : speech.start].split()) <= 1:
            out[i] = Label(span, TO, 2.5)
            break
    return out


def _speaks(text: str, org: OrgSpan, after: list[Cue]) -> bool:
    """"X has joined Y, the start-up said": the organisation joined tells the news; it is not X's affiliation.

    Only a trailing attribution, after a comma: "OpenAI said it hired X" is
    left to the other rules. A speaker that is not the side joined stays an
    affiliation ("X is leaving, OpenAI confirmed").
    """
    if not after or not after[0].kinds & _SPEAKING or after[0].kinds & EVENT_KINDS:
        return False
    return not text[org.end : after[0].start].strip() and text[: org.start].rstrip().endswith(",")


def _of_the_joined(reading: Reading, cue: Cue, org: OrgSpan, lexicon: Lexicon) -> bool:
    """"ficha por el laboratorio de superinteligencia de Meta": this "de" means "of", in what is joined.

    True when the cue right before the organisation is an "of" word, and what
    the clause's joining verb takes, a few words with no other organisation,
    is an organisation noun ("laboratorio"), not people ("créateurs de Llama").
    """
    if cue.text.casefold() not in lexicon.of_words or cue.end + 2 < org.start:
        return False
    verb = max((c for c in reading.cues if c.end <= cue.start and c.kinds & {"join", "return"}),
               key=lambda c: c.end, default=None)
    if verb is None:
        return False
    between = reading.text[verb.end : cue.start]
    words = between.casefold().split()
    return (len(words) <= 6 and not any(p in between for p in ",;")
            and any(w.strip("'’") in lexicon.org_nouns or w.split("-")[-1] in lexicon.org_nouns for w in words)
            and not any(verb.end <= o.start and o.end <= cue.start for o in reading.orgs))


def _participle_after(text: str, org: OrgSpan, after: list[Cue]) -> tuple[str, float] | None:
    """"hat OpenAI verlassen", "das KI-Start-up Kontext Labs gegründet": the verb right after its object."""
    if not after or text[org.end : after[0].start].strip():
        return None
    k = after[0].kinds
    if "leave" in k:
        return (FROM, 3.0)
    if "found" in k:
        return (NEW, 2.5)
    if "join" in k or "return" in k:
        return (TO, 3.0)
    return None


def _side_before(before: list[Cue], first_move: int | None) -> tuple[str, float] | None:
    for cue in reversed(before):
        k = cue.kinds
        if "leave" in k and not k & JOIN_KINDS:  # "left to become CTO at X": X is joined
            return (FROM, 3.0)
        if "return" in k or "join" in k:
            return (TO, 3.0)
        if "from" in k:
            return (FROM, 2.5)
        if "found" in k:
            return (NEW, 2.5)
        if "background" in k:
            return (BG, 2.0)
        if "weak_background" in k:
            return (BG, 1.2)
        if "to" in k and first_move is not None and first_move < cue.start:
            return (TO, 2.0)
        if "hire" in k or "appoint" in k:
            return (FROM, 1.5)  # "Meta hires OpenAI's ..."
        if "lose" in k:
            return None
    return None


def _side_after(text: str, org: OrgSpan, after: list[Cue]) -> tuple[str, float] | None:
    for cue in after:
        k = cue.kinds
        between = text[org.end : cue.start]
        if ("hire" in k or "appoint" in k) and "," not in between and len(between) <= 40:
            return (TO, 3.0)  # "Meta hires", "OpenAI is in advanced talks to hire"; not "deal with X, hires"
        if "lose" in k and len(between) <= 25:
            return (FROM, 3.0)
        if k & _ENDS_AFTER:
            return None
    return None


CLAUSE_BREAKS = (",", ";", "，", "；", "、")  # what ends a clause inside a sentence
_SPEAKING = frozenset({"speech", "confirm"})


def _first_org_hires(text: str, org: OrgSpan, cues: list[Cue]) -> bool:
    """"오픈AI가 … 최지우를 영입", "OpenAI Japan、…を起用": the sentence's first organisation, as its subject, hires.

    A subject particle marks it, or, opening a headline, a comma.
    """
    rest = text[org.end : org.end + 2]
    if not (rest.startswith(_SUBJECT_PARTICLE) or (org.start == 0 and rest[:1] in ("、", ",", "，"))):
        return False
    if rest.startswith(_SUBJECT_PARTICLE) and any(c.kinds & JOIN_KINDS for c in cues if c.start > org.end) \
            and not any(c.kinds & _LEAVES for c in cues):
        return True  # "SB Intuitionsは、…氏が…に就任した": the company speaks of who joined it
    return any(c.kinds & HIRE_KINDS for c in cues if c.start > org.end)


_OWNER_OF = ("子会社", "系", "傘下", "자회사", "계열", "旗下", "子公司", "의 자회사")
_AT = ("で", "에서", "에서는")


def _sov_served_at(text: str, org: OrgSpan, cues: list[Cue]) -> tuple[str, float] | None:
    """"日本マイクロソフトでAI事業の技術責任者を務めていた": where someone served, said later in the clause."""
    if not text.startswith(_AT, org.end):
        return None
    ends = [e for e in (text.find(p, org.end) for p in ("、", "。", ",")) if e >= 0]
    end = min(ends, default=len(text))
    if any("background" in c.kinds for c in cues if org.end < c.start and c.end <= end):
        return (BG, 2.0)
    return None


def _sov_side(text: str, org: OrgSpan, after: list[Cue], lexicon: Lexicon) -> tuple[str, float] | None:
    rest = text[org.end : org.end + 24]
    word = rest.split(" ", 2)
    tails = [rest[: len(word[0])]] if word[0] else []
    if len(word) > 1:
        tails.append(word[1])
    for tail in tails:
        for suffix in lexicon.from_suffixes:
            if tail.endswith(suffix) or rest.startswith(suffix):
                return (FROM, 2.5)
        for suffix in lexicon.to_suffixes:
            if tail.endswith(suffix) or rest.startswith(suffix):
                return (TO, 2.5)
        if tail.startswith(("を", "을", "를")):
            break
    for cue in after:
        k = cue.kinds
        if "leave" in k or "lose" in k:
            return (FROM, 3.0)
        if "join" in k or "return" in k:
            return (TO, 3.0)
        if "found" in k:
            return (NEW, 2.0)
        if ("hire" in k or "appoint" in k) and rest.startswith(_SUBJECT_PARTICLE):
            return (TO, 3.0)
        if "background" in k:
            return (BG, 2.0)
    return None
