"""From the evidence about each person to the moves an article reports.

The side left is the strongest "from" (the object of a leave verb beats
"former", which beats a bare affiliation), the side joined the strongest
"to" of another company that was not a stop-over. What is left unsaid is
taken from the headline. A denied, declined, internal or non-AI change
yields nothing.
"""

from __future__ import annotations

import re

from monitor.classify.article import ArticleState
from monitor.classify.names import aliases
from monitor.classify.orgs import OrgSpan
from monitor.classify.person import Person
from monitor.classify.scoring import combine_status, confidence, sentence_status
from monitor.classify.sentence import AFF, BG, FROM, NEW, TO
from monitor.records import Move


def moves(art: ArticleState) -> list[Move]:
    """The moves of one article, people first, then unnamed groups not already told by name."""
    defaults = _defaults(art)
    art.confirmed = any(not r.has("negation") and sentence_status(r) == "confirmed" for r in art.readings)
    for person in art.people.values():
        if person.partner is not None and not person.events and person.partner.events:
            person.events = set(person.partner.events)
            person.statuses |= person.partner.statuses
    named = [p for p in art.people.values() if p.events and not _only_denied(p)]
    out: list[Move] = []
    pairs: dict[tuple[str, str], int] = {}
    chosen: dict[int, tuple[OrgSpan | None, OrgSpan | None]] = {}
    for person in named:
        move = _move(art, person, defaults, chosen)
        if move is not None:
            out.append(move)
            pair = (_root_key(move.from_parent), _root_key(move.to_parent))
            pairs[pair] = pairs.get(pair, 0) + 1
    told: list[tuple[str, str]] = []
    group_moves = [(g, m) for g in art.groups.values() if g.events and (m := _move(art, g, defaults, chosen))]
    # The fullest telling of a group first: the one that names both sides stands for the others.
    group_moves.sort(key=lambda gm: (gm[1].from_parent is None) + (gm[1].to_parent is None))
    for group, move in group_moves:
        pair = (_root_key(move.from_parent), _root_key(move.to_parent))
        same = sum(n for (f, t), n in pairs.items() if f == pair[0] or (t and t == pair[1]))
        if same and (group.count or 0) <= same:
            continue
        if any(_same_group(pair, other) for other in told):
            continue  # "a dozen engineers defected to OpenAI ... The group will join OpenAI's devices team"
        told.append(pair)
        out.append(move)
    return out


def _same_group(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Two group moves that agree on every side both name: one group, told twice."""
    return all(x == y or not x or not y for x, y in zip(a, b, strict=True)) and any(a) and any(b)


def _defaults(art: ArticleState) -> dict[str, OrgSpan | None]:
    """The sides the headline (else the whole article) names, for people told of without them."""
    out: dict[str, OrgSpan | None] = {FROM: None, TO: None}
    title = art.readings[0] if art.has_title and art.readings else None
    pools = [title] if title is not None and title.labels else []
    pools += [r for r in art.readings if r.events and not r.has("negation")]
    for side, accepted in ((FROM, (FROM, AFF, BG)), (TO, (TO,))):
        for reading in pools:
            best = max((lb for lb in reading.labels if lb.side in accepted), key=lambda lb: lb.weight,
                       default=None)
            if best is not None:
                out[side] = best.span
                break
    return out


def _move(art: ArticleState, person: Person, defaults: dict[str, OrgSpan | None],
          chosen: dict[int, tuple[OrgSpan | None, OrgSpan | None]]) -> Move | None:
    from_span = _best(person.sides[FROM], set())
    partner = chosen.get(id(person.partner)) if person.partner is not None else None
    if partner is not None and from_span is None and not (person.partner and "found" in person.partner.events):
        from_span = partner[0]  # "fellow co-founder": of the company the partner left
    excluded = set(person.stops)
    if from_span is not None:
        excluded.add(from_span.root_id)
    to_span = _best(person.sides[TO], excluded)
    if to_span is None and person.sides[NEW]:
        to_span = _best(person.sides[NEW], excluded)
    if "return" in person.events and (back := _best(person.sides[TO], set(person.stops))) is not None:
        # One goes back to a former employer, so it is named as where they were too. The side left
        # is another one: "who spent eight years at Google before joining Cohere, is returning to
        # Google"; "who left DAMO in 2023 to found 深象智能, has rejoined Alibaba" (the start-up).
        left = _best(person.sides[NEW], {back.root_id}) or _best(person.sides[FROM], {back.root_id})
        from_span, to_span = left, back
    if (to_span is None and partner is not None and partner[1] is not None
            and (from_span is None or partner[1].root_id != from_span.root_id)):
        to_span = partner[1]  # "his co-founders": of the company the partner starts
    if to_span is None and person.predecessor is not None:
        # "X's post is filled by Y": Y joins where X was; from nowhere said, it is a promotion.
        if from_span is None:
            return None
        to_span = _best(person.predecessor.sides[FROM], excluded)
    if person.partner is not None:
        defaults = {FROM: None, TO: None}  # a co-founder's sides come from the partner or nowhere
    if from_span is None and to_span is None:
        from_span, to_span = defaults[FROM], defaults[TO]
        if from_span is not None and to_span is not None and from_span.root_id == to_span.root_id:
            to_span = None
        if person.events <= {"join", "hire", "appoint", "return"}:
            from_span = None if to_span is None else from_span
    elif to_span is None and "hire" in person.events and (hirer := defaults[TO]) is not None:
        if from_span is None or hirer.root_id != from_span.root_id:
            to_span = hirer
    elif (
        from_span is None
        and (left := defaults[FROM]) is not None
        and to_span is not None
        and left.root_id != to_span.root_id
        and left.root_id not in person.stops
    ):
        from_span = left
    if from_span is None and to_span is None:
        return None
    events = person.events
    if not person.sides[NEW] and not events & {"leave", "lose"}:
        events = events - {"found"}  # "who led the team since its launch": nothing founded, nothing left
    if not events - {"found"} and not (person.name and person.former and person.sides[NEW] and from_span):
        return None  # founding is no move, unless one was somewhere else: "former Cohere researchers co-founded X"
    if to_span is None and not (events & {"leave", "lose", "found"}):
        return None  # a join with nowhere joined
    if from_span is None and not (events & {"join", "hire", "return", "found"}):
        return None
    if events <= {"appoint", "hire"} and (from_span is None or to_span is None):
        return None  # naming someone without saying where they came from: internal
    if person.name is None and events <= {"appoint", "hire", "found"} and from_span is None:
        return None  # "plans to hire 200 engineers": recruiting, with no one taken from anywhere
    if from_span is not None and to_span is not None and from_span.root_id == to_span.root_id:
        return None
    if person.internal and (from_span is None or to_span is None):
        return None
    if not _is_ai(art, from_span, to_span) and not _ai_role(art, person):
        return None
    status = combine_status(person.statuses, art.confirmed)
    sure = confidence(person, from_span, to_span, status)
    chosen[id(person)] = (from_span, to_span)
    name = person.name
    return Move(
        person=name,
        from_org=from_span.name if from_span else None,
        to_org=to_span.name if to_span else None,
        role=person.role,
        status=status,
        confidence=sure,
        evidence=person.evidence[:500],
        from_parent=from_span.root if from_span else None,
        to_parent=to_span.root if to_span else None,
        person_aliases=aliases(name, person.script, person.nickname) if name else (),
    )


def _is_ai(art: ArticleState, a: OrgSpan | None, b: OrgSpan | None) -> bool:
    sides = [s for s in (a, b) if s is not None]
    known = [s for s in sides if s.org is not None]
    if any(s.org is not None and s.org.ai for s in known):
        return True
    if known and len(known) == len(sides):
        return False  # both sides known, neither in AI: a bank's CFO going to a retailer
    return art.ai and not art.non_ai



def _ai_role(art: ArticleState, person: Person) -> bool:
    """"Head of AI at Siemens" hired by SAP: the job is in AI where the companies are not.

    Asked only of moves between companies outside AI, so the lexicon's AI
    words are looked for one by one ("head of AI" is one role phrase to the
    cue scan, which would hide its "AI").
    """
    role = (person.role or "").casefold()
    if not role:
        return False
    words = set(re.findall(r"\w+", role))
    return any(phrase in words if phrase.isascii() and " " not in phrase else phrase in role
               for phrase, kinds in art.lexicon.kinds_of.items() if "ai_context" in kinds)


def _best(table: dict[str, tuple[OrgSpan, float]], excluded: set[str]) -> OrgSpan | None:
    by_root: dict[str, list[tuple[OrgSpan, float]]] = {}
    for span, weight in table.values():
        if span.root_id not in excluded:
            by_root.setdefault(span.root_id, []).append((span, weight))
    if not by_root:
        return None
    root = max(by_root, key=lambda r: sum(w for _, w in by_root[r]))
    spans = by_root[root]
    # As specific as the text says: a unit over its company when both are named.
    top = max(w for _, w in spans)
    units = [(s, w) for s, w in spans if s.org is not None and s.org.parent is not None and w >= top / 2]
    pick = max(units or spans, key=lambda sw: sw[1])
    return pick[0]


def _only_denied(person: Person) -> bool:
    return person.denied and not person.statuses



def _root_key(name: str | None) -> str:
    return (name or "").casefold()
