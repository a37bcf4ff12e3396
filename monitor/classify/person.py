"""What an article says about one person, and whose each cue and organisation is.

A sentence naming several people ("X left A; Y joined B") hands each of them
only the cues and organisations that grammar gives them: the object of a
verb belongs to the nearest name before it, an affiliation to the name it
sits next to, and names joined by "and" share their verb.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from monitor.classify.lexicon import Cue
from monitor.classify.names import Name
from monitor.classify.orgs import OrgSpan
from monitor.classify.sentence import AFF, FROM, NEW, TO, Reading, in_aside


@dataclass(slots=True)
class Person:
    """Everything the article says about one person (or one unnamed group)."""

    name: str | None
    script: str
    nickname: str | None = None
    order: int = 0
    sides: dict[str, dict[str, tuple[OrgSpan, float]]] = field(
        default_factory=lambda: {FROM: {}, TO: {}, NEW: {}}
    )
    stops: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    denied: bool = False
    internal: bool = False
    statuses: set[str] = field(default_factory=set)
    evidence: str = ""
    evidence_score: float = -1.0
    role: str | None = None
    count: int | None = None
    group_key: tuple[str, str] | None = None
    predecessor: Person | None = None  # whose post this person takes over
    partner: Person | None = None  # the co-founder this person is named beside ("his co-founders")
    former: bool = False  # named as someone who was somewhere ("former OpenAI researcher X") where a move is told

    def add(self, side: str, span: OrgSpan, weight: float) -> None:
        table = self.sides[side]
        key = span.name
        old = table.get(key)
        table[key] = (span, weight + (old[1] if old else 0.0))



def near(name: Name, span: OrgSpan, reading: Reading, side: str = AFF,
          names: list[Name] | None = None) -> bool:
    """Whether an organisation belongs to this person rather than another one named nearby.

    The side left or joined is the object of the verb whose subject is the
    nearest name before it ("X leaves A; Y named ..."); an affiliation or a
    past employer sits next to its name, usually before it ("OpenAI's X").
    """
    people = names if names is not None else reading.names
    if len({n.text for n in people}) <= 1:
        return True
    owner = owner_of(span, people, side, reading)
    return owner is not None and owner.text == name.text


def owner_of(span: OrgSpan, people: list[Name], side: str, reading: Reading) -> Name | None:
    before = [n for n in people if n.end <= span.start and not in_aside(n, reading, span.start)]
    after = [n for n in people if n.start >= span.end]
    if side in (FROM, TO, NEW) and before:
        return before[-1]

    def distance(n: Name) -> int:
        return span.start - n.end if n.end <= span.start else n.start - span.end

    candidates = before[-1:] + after[:1]
    if not candidates:
        return None
    return min(candidates, key=lambda n: (distance(n) - (3 if n in after else 0)))


_OF_OTHERS = frozenset({"hire", "appoint", "lose"})  # moves told of someone else: the object moves


def joined_by_another(name: Name, span: OrgSpan, reading: Reading, names: list[Name]) -> bool:
    """"A has joined Mistral AI, B has gone to Google, and C has left": Mistral is A's, not C's.

    True when another person, with a verb of their own, joins the
    organisation, and this person has a verb of their own too. Names that
    share one verb ("A and B left OpenAI for Anthropic") share its objects.
    """
    owner = owner_of(span, names, TO, reading)
    if owner is None or owner.text == name.text:
        return False
    mine, theirs = _own_verb(name, reading, names), _own_verb(owner, reading, names)
    return mine is not None and theirs is not None and mine is not theirs


def _own_verb(name: Name, reading: Reading, names: list[Name]) -> Cue | None:
    """The first move verb after the name whose subject it is (the nearest name before the verb)."""
    for cue in reading.cues:
        if cue.start < name.end or not cue.kinds & reading.events or cue.kinds & _OF_OTHERS:
            continue
        before = [n for n in names if n.end <= cue.start and not in_aside(n, reading, cue.start)]
        if before and before[-1].text == name.text:
            return cue
    return None


def own_events(name: Name | None, reading: Reading, names: list[Name]) -> frozenset[str]:
    """The move cues whose subject (or, for hiring, object) is this person."""
    if name is None or len({n.text for n in names}) <= 1:
        return reading.events
    return _direct(name, reading, names) or frozenset(_gapped(name, reading, names)) or _gapped_verb_last(
        name, reading, names)


_LIST_COMMA = re.compile(r"[,，、]")


def _gapped_verb_last(name: Name, reading: Reading, names: list[Name]) -> frozenset[str]:
    """Japanese and Korean say the verb once, after the last of a list: "A 리더는 구글로, B 리더는 메타로,
    C 연구원은 오픈AI로 자리를 옮겼다". A name followed by a comma-separated part with no verb of its own,
    then the next name, moves as that next name does."""
    if reading.lang not in ("ja", "ko"):
        return frozenset()
    index = next((i for i, n in enumerate(names) if n.start == name.start), len(names))
    for prev, nxt in pairwise(names[index:]):
        between = reading.text[prev.end : nxt.start]
        if not _LIST_COMMA.search(between) or any(
                c.kinds & reading.events for c in reading.cues if prev.end <= c.start < nxt.start):
            return frozenset()
        events = _direct(nxt, reading, names)
        if events:
            return events
    return frozenset()


def _direct(name: Name, reading: Reading, names: list[Name]) -> frozenset[str]:
    out: set[str] = set()
    for cue in reading.cues:
        kinds = cue.kinds & reading.events
        if not kinds:
            continue
        before = [n for n in names if n.end <= cue.start and not in_aside(n, reading, cue.start)]
        after = [n for n in names if n.start >= cue.end]
        owner: Name | None
        if kinds & _OF_OTHERS and after:
            # "hired chief executive A and chief technology officer B": every object listed.
            if any(n.text == name.text for n in _listed(after, reading.text)):
                out |= kinds
            continue
        if before:
            owner = before[-1]
        else:
            owner = after[0] if after else None
        if owner is not None and owner.text == name.text:
            out |= kinds
    # "X and Y left": a name joined to the next by "and"/"et"/"dan"/"、" shares its verb.
    for i, other in enumerate(names[:-1]):
        if other.text == name.text and _COORD.fullmatch(reading.text[other.end : names[i + 1].start]):
            out |= _direct(names[i + 1], reading, names)
    return frozenset(out)


def _listed(names: list[Name], text: str) -> list[Name]:
    """The first name and those joined to it by "and", a comma or "、", titles allowed between."""
    out = names[:1]
    for prev, name in pairwise(names):
        if not _COORD.fullmatch(text[prev.end : name.start]):
            break
        out.append(name)
    return out


_LIST_BREAK = re.compile(r",|;|\band\b|\bet\b|\bdan\b|\bund\b|\by\b|、|，")
_GAP_BLOCKS = frozenset({"negation", "report_to", "replaces", "replaced_by", "speech", "hire", "appoint", "lose"})
_TAIL_OK = frozenset({"role", "report", "confirm", "speech", "ai_context", "rumour", "from", "to", "group"})


def _gapped(name: Name, reading: Reading, names: list[Name]) -> set[str]:
    """A verb said once for a list: "X moved in June, Y this month and Z in May".

    A name listed after a mover, with nothing between them but a list break,
    a time or a title, and no verb of its own after it, moves as the mover did.
    """
    index = next((i for i, n in enumerate(names) if n.start == name.start), 0)
    if index == 0:
        return set()
    prev = names[index - 1]
    if prev.text == name.text:
        return set()
    gap_cues = [c for c in reading.cues if prev.end <= c.start and c.end <= name.start]
    last_event = max((c.end for c in gap_cues if c.kinds & reading.events), default=prev.end)
    between = reading.text[last_event : name.start]
    if not _LIST_BREAK.search(between) or any(
        c.kinds & _GAP_BLOCKS and c.start >= last_event for c in gap_cues
    ):
        return set()
    following = names[index + 1].start if index + 1 < len(names) else len(reading.text)
    if any(c.kinds - _TAIL_OK for c in reading.cues if name.end <= c.start and c.end <= following):
        return set()
    return set(own_events(prev, reading, names))


_COORD = re.compile(
    r"\s*(?:,\s*and|,|and|et|dan|und|y|e|、|和|与|與|及|과|와|및|·|・)?\s*(?:[a-z][\w\-]*\s+){0,4}"
)


def after_return(label: object, reading: Reading) -> bool:
    """Whether a joined organisation is the object of "returns to" rather than of an earlier join."""
    span = label.span  # type: ignore[attr-defined]
    nearest = max((c for c in reading.cues if c.end <= span.start and c.kinds & reading.events),
                  key=lambda c: c.end, default=None)
    return nearest is not None and "return" in nearest.kinds

