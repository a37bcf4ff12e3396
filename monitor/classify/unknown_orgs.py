"""Organisations the catalog lacks, taken where a sentence's grammar demands one.

The catalog knows the labs users track; the other side of a move is often a
start-up named once ("left to found robotics start-up Kinetic Foundry"), an
employer outside AI ("hires JPMorgan's Elaine Whitford") or a company founded
in a Chinese or Korean article ("创立AI公司「灵枢智能」"). Each is taken as
written, with its own name as its company.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from monitor.classify.lexicon import HIRE_KINDS, JOIN_KINDS, Cue, Lexicon
from monitor.classify.orgs import OrgFinder, OrgSpan

if TYPE_CHECKING:
    from monitor.classify.sentence import Reading

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")

_GUESS_AFTER = frozenset({"join", "leave", "found", "return", "from"})
_NO_GUESS = frozenset({"stopover", "negation"})


def guess_unknown_orgs(reading: Reading, finder: OrgFinder, lexicon: Lexicon, not_name: frozenset[str]) -> None:
    """Organisations missing from the catalog, taken where the grammar demands one.

    "to start Kinetic Foundry", and past a description: "to found robotics
    start-up Kinetic Foundry", "an AI start-up called Tessellate"; in a
    sentence that tells a move, any name an organisation noun introduces
    ("the co-founders of agent start-up Lattice Labs"). After a joining verb,
    a role may stand between it and the employer ("to become chief technology
    officer of Halden Robotics"), catalogued or not.
    """
    intro, named = lexicon.org_intro, lexicon.org_named
    after = [c for c in reading.cues if c.kinds & _GUESS_AFTER and not c.kinds & _NO_GUESS]
    if not (after or reading.events):
        return
    if _CJK.search(reading.text[:40]):
        _quoted_new_orgs(reading, finder)
        return
    if _title_case(reading.text):
        return
    starts: list[tuple[int, bool]] = []  # where a name may stand, and whether it must be an organisation's
    described: set[int] = set()  # the starts an organisation noun introduces ("start-up Quillstone")
    verbs: dict[int, Cue] = {}
    for cue in after:
        pos = cue.end
        while pos < len(reading.text) and reading.text[pos] == " ":
            pos += 1
        description = intro.match(reading.text, pos) if intro is not None else None
        if description is None and lexicon.role_intro is not None and cue.kinds & JOIN_KINDS:
            description = lexicon.role_intro.match(reading.text, pos)
        if description:
            described.add(description.end())
            verbs[description.end()] = cue
        starts.append((description.end() if description else pos, bool(description) or "found" in cue.kinds))
    if named is not None and reading.events:
        for m in named.finditer(reading.text):
            starts.append((m.end(), True))
            described.add(m.end())
    added = _possessors_of_hires(reading, finder, not_name)
    for pos, named_here in starts:
        known = next((o for o in [*reading.orgs, *added] if o.start <= pos < o.end + 2), None)
        if known is not None:
            if pos in verbs and known.start == pos:
                reading.introduced[pos] = verbs[pos]  # "to become a professor at ETH Zurich"
            continue
        if not named_here and any(n.start == pos for n in reading.names):
            continue
        guess = finder.guess_after(reading.text, pos)
        if guess is None or len(guess.surface) < 3 or all(w in not_name for w in guess.surface.split()):
            continue  # "moving back to Japan": a place, not an employer
        if "-" in guess.surface or (reading.text.startswith(("'s", "'"), guess.end) and pos not in described):
            continue  # "Musk's xAI": the organisation is what follows; "start-up Quillstone's founders" is one
        added.append(guess)
        if pos in verbs:
            reading.introduced[guess.start] = verbs[pos]
    if added:
        reading.orgs = sorted([*reading.orgs, *added], key=lambda o: o.start)
        reading.names = [n for n in reading.names if not any(g.start < n.end and n.start < g.end for g in added)]


_POSSESSOR = re.compile(r"\s*([A-Z][\w&.\-]*(?: [A-Z][\w&.\-]*){0,2})(['\u2019]s)? ")


def _possessors_of_hires(reading: Reading, finder: OrgFinder, not_name: frozenset[str]) -> list[OrgSpan]:
    """"Anthropic hires JPMorgan's Elaine Whitford", "will hire Quillstone co-founders A and B": the
    hired people's employer, named before them (and their titles)."""
    out = []
    for cue in reading.cues:
        if not cue.kinds & HIRE_KINDS:
            continue
        m = _POSSESSOR.match(reading.text, cue.end)
        if m is None:
            continue
        at = m.end()
        if m.group(2) is None:  # no possessive: titles must stand between the organisation and the name
            titles = [c for c in reading.cues if c.start >= at and c.kinds & {"role", "group"}]
            while titles and titles[0].start <= at + 1:
                at = titles.pop(0).end + 1
            if at == m.end():
                continue
        if not any(n.start == at for n in reading.names):
            continue
        start, end = m.span(1)
        if any(o.start < end and start < o.end for o in reading.orgs) or all(w in not_name for w in m.group(1).split()):
            continue
        out.append(finder.unknown(start, end, m.group(1)))
    return out


_QUOTED = re.compile(r"[「『“‘'\"]([^「」『』“”‘’'\"]{2,20})[」』”’'\"]")


def _quoted_new_orgs(reading: Reading, finder: OrgFinder) -> None:
    """"创办AI初创公司「深象智能」", "스타트업 '루멘랩스'를 창업": a quoted name next to a founding verb."""
    found = [c for c in reading.cues if "found" in c.kinds]
    if not found:
        return
    added = []
    for m in _QUOTED.finditer(reading.text):
        start, end = m.span(1)
        if any(o.start < end and start < o.end for o in reading.orgs):
            continue
        verb = next((c for c in reversed(found) if 0 <= start - c.end <= 12), None)
        if verb is not None or any(0 <= c.start - end <= 4 for c in found):
            added.append(finder.unknown(start, end, m.group(1)))
            if verb is not None:  # "创立AI Agent公司「灵枢智能」": the verb stands a description away
                reading.introduced[start] = verb
    if added:
        reading.orgs = sorted([*reading.orgs, *added], key=lambda o: o.start)
        reading.names = [n for n in reading.names if not any(g.start < n.end and n.start < g.end for g in added)]


def _title_case(text: str) -> bool:
    words = [w for w in text.split() if w[:1].isalpha()]
    return len(words) >= 4 and sum(1 for w in words if w[:1].isupper()) / len(words) >= 0.6
