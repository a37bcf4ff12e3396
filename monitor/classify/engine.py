"""The default engine: lexicons, the catalog and sentence readings turned into moves.

An article is read sentence by sentence (the headline first). Each sentence
with a move cue contributes evidence to the people it names — or, failing a
name, to the person a pronoun or surname points back to, or to an unnamed
group. Evidence is weighed per person across the article: the side left is
the strongest "from" (the object of a leave verb beats "former", which beats
a bare affiliation), the side joined the strongest "to" of another company
that was not a stop-over. What is left unsaid is taken from the headline.
A denied, declined, internal or non-AI change yields nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.classify.lexicon import Lexicon
from monitor.classify.names import Name, aliases
from monitor.classify.orgs import OrgFinder, OrgSpan
from monitor.classify.sentence import AFF, BG, FROM, NEW, STOP, TO, Reading, read_sentence
from monitor.classify.text import clean, detect_language, sentences
from monitor.people import person_keys
from monitor.records import Article, Classification, Move, Status

MAX_SENTENCES = 60
_MOVE_KINDS = frozenset({"leave", "lose", "join", "hire", "appoint", "return"})
_PARTICLES = {"de", "van", "von", "der", "den", "da", "di", "du", "le", "la", "bin", "al", "del", "dos"}
_WORDS = re.compile(r"[^\W\d_][\w'\-]*")
_NUMBER = re.compile(r"\b(\d+)\b")
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "zwei": 2, "drei": 3, "vier": 4,
                 "deux": 2, "trois": 3, "quatre": 4, "dos": 2, "tres": 3, "cuatro": 4, "dozen": 12}


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

    def add(self, side: str, span: OrgSpan, weight: float) -> None:
        table = self.sides[side]
        key = span.name
        old = table.get(key)
        table[key] = (span, weight + (old[1] if old else 0.0))


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
        readings = [
            read_sentence(s, lang, lexicon, self.finder, self.not_names if lang != "en" else frozenset(), found)
            for s, found in zip(parts, cues, strict=True)
        ]
        if not any(r.events - {"found"} for r in readings):
            return Classification(article.id, lang, False, ())
        state = _Article(readings, bool(title), lexicon)
        moves = state.moves(self.finder)
        return Classification(article.id, lang, bool(moves), tuple(moves))


class _Article:
    """The people of one article and the evidence gathered for each."""

    def __init__(self, readings: list[Reading], has_title: bool, lexicon: Lexicon) -> None:
        self.readings = readings
        self.has_title = has_title
        self.lexicon = lexicon
        self.people: dict[str, Person] = {}
        self.keys: dict[str, frozenset[str]] = {}
        self.groups: dict[tuple[str, str], Person] = {}
        self.title_roots: set[str] = set()
        if has_title and readings:
            self.title_roots = {o.root_id for o in readings[0].orgs}
        self.ai = any(r.has("ai_context") for r in readings) or any(
            o.org is not None and o.org.ai for r in readings for o in r.orgs
        )
        self.non_ai = any(r.has("non_ai") for r in readings)
        self._filter_title_names()
        self._filter_common_words()
        self._surname_index = self._index_surnames()
        self.last: Person | None = None
        for index, reading in enumerate(readings):
            self._read(index, reading)

    # people ------------------------------------------------------------------

    def _filter_title_names(self) -> None:
        """Headlines capitalise every word: keep only their names the summary confirms."""
        if not self.has_title or len(self.readings) < 2:
            return
        title = self.readings[0]
        words = _WORDS.findall(title.text)
        capitals = sum(1 for w in words if w[:1].isupper())
        if not words or capitals / len(words) < 0.6:
            return
        body = set().union(*(person_keys(n.text) for r in self.readings[1:] for n in r.names))
        title.names = [n for n in title.names if n.script != "latin" or person_keys(n.text) & body]

    def _filter_common_words(self) -> None:
        """Drop "names" made of words the article also writes in lower case ("Talent War")."""
        lower: set[str] = set()
        for reading in self.readings:
            for m in _WORDS.finditer(reading.text):
                word = m.group()
                if m.start() > 0 and word[:1].islower():
                    lower.add(word)
        if not lower:
            return
        for reading in self.readings:
            reading.names = [
                n for n in reading.names
                if n.script != "latin" or not any(
                    w.casefold() in lower and w.casefold() not in _PARTICLES for w in n.text.split()
                )
            ]

    def _index_surnames(self) -> dict[str, str]:
        """Single words that stand for one full name named in the article ("Yan" for Yan Zhijie)."""
        index: dict[str, str] = {}
        clashes: set[str] = set()
        for reading in self.readings:
            for name in reading.names:
                if name.script != "latin":
                    continue
                for word in name.text.split():
                    if len(word) < 2 or word.casefold() in ("de", "van", "von", "la", "le"):
                        continue
                    if index.get(word, name.text) != name.text:
                        clashes.add(word)
                    index[word] = name.text
        return {w: n for w, n in index.items() if w not in clashes}

    def _person(self, name: Name) -> Person:
        keys = person_keys(name.text, aliases(name.text, name.script, name.nickname))
        for key, person_keys_ in self.keys.items():
            if person_keys_ & keys:
                self.keys[key] = person_keys_ | keys
                return self.people[key]
        person = Person(name.text, name.script, name.nickname, order=len(self.people))
        self.people[name.text] = person
        self.keys[name.text] = keys
        return person

    def _names_in(self, reading: Reading) -> list[Name]:
        names = list(reading.names)
        if self._surname_index:
            spans = [(n.start, n.end) for n in names] + [(o.start, o.end) for o in reading.orgs]
            for m in _WORDS.finditer(reading.text):
                word = m.group()
                full = self._surname_index.get(word)
                if full is None and m.start() == 0:
                    full = self._surname_index.get(word.capitalize())
                if full is None or any(s < m.end() and m.start() < e for s, e in spans):
                    continue
                names.append(Name(full, m.start(), m.end(), "latin"))
            names.sort(key=lambda n: n.start)
        return names

    # one sentence --------------------------------------------------------------

    def _read(self, index: int, reading: Reading) -> None:
        names = self._names_in(reading)
        movers = self._movers(reading, names)
        is_title = index == 0 and self.has_title
        if not reading.events:
            # Background only: "X, who led A's speech lab, ..." helps a move told elsewhere.
            for name in names:
                person = self._person(name)
                for label in reading.labels:
                    if label.side == BG and _near(name, label.span, reading):
                        person.add(FROM, label.span, label.weight * 0.8)
                self._role(person, name, reading)
            if names:
                self.last = self._person(names[-1])
            return
        negated = reading.has("negation")
        targets: list[tuple[Person, Name | None]] = [(self._person(n), n) for n in movers]
        if not targets:
            pronoun = next((c for c in reading.cues if "pronoun" in c.kinds), None)
            first_event = min(c.start for c in reading.cues if c.kinds & reading.events)
            if pronoun is not None and pronoun.start <= first_event and self.last is not None:
                targets = [(self.last, None)]
            elif reading.has("group") and not negated:
                group = self._group(reading, is_title)
                if group is not None:
                    targets = [(group, None)]
        for person, target in targets:
            self._evidence(person, target, reading, negated, is_title, movers)
        for name in names:
            self._role(self._person(name), name, reading)
        if names:
            self.last = self._person(names[-1])

    def _movers(self, reading: Reading, names: list[Name]) -> list[Name]:
        """The named people a move cue is about: not speakers, owners or bosses reported to."""
        if not reading.events or not names:
            return []
        text = reading.text
        actors = set()
        for i, name in enumerate(names):
            later = names[i + 1 :]
            after = text[name.end : name.end + 30]
            if text[name.end : name.end + 2] in ("'s", "的") and any(
                o.start - name.end <= 4 for o in reading.orgs if o.start >= name.end
            ):
                actors.add(i)
            if any(
                c.kinds & {"report_to"} and 0 <= name.start - c.end <= 12 for c in reading.cues
            ):
                actors.add(i)
            others = len(names) > 1
            if others and any(
                c.kinds & {"speech", "hire", "appoint"} and "leave" not in c.kinds
                and c.start >= name.end and text[name.end : c.start].strip(" ,") == ""
                for c in reading.cues
            ):
                actors.add(i)
            if after.startswith((":", "：")) and (later or reading.has("group")):
                actors.add(i)
        movers = [n for i, n in enumerate(names) if i not in actors]
        seen: set[str] = set()
        out = []
        for name in movers:
            if name.text not in seen:
                seen.add(name.text)
                out.append(name)
        return out

    def _group(self, reading: Reading, is_title: bool) -> Person | None:
        sides = {label.side for label in reading.labels}
        if not (sides & {FROM, TO, AFF, BG}):
            return None
        from_root = next((lb.span.root_id for lb in reading.labels if lb.side in (FROM, AFF, BG)), "")
        to_root = next((lb.span.root_id for lb in reading.labels if lb.side == TO), "")
        key = (from_root, to_root)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Person(None, "group", order=1000 + len(self.groups))
            group.group_key = key
        count = _count(reading.text)
        if count:
            group.count = max(group.count or 0, count)
        return group

    def _evidence(self, person: Person, name: Name | None, reading: Reading, negated: bool,
                  is_title: bool, names: list[Name]) -> None:
        if negated:
            person.denied = True
            return
        events = _own_events(name, reading, names)
        if not events:
            return
        person.events |= events
        if reading.has("internal"):
            person.internal = True
        bonus = 0.3 if is_title else 0.0
        score = 0.0
        own = [lb for lb in reading.labels if name is None or _near(name, lb.span, reading, lb.side, names)]
        for label in reading.labels:
            weight = label.weight + bonus + (0.2 if label.span.root_id in self.title_roots else 0.0)
            mine = label in own
            if label.side == STOP:
                person.stops.add(label.span.root_id)
                continue
            if label.side in (FROM, BG, AFF):
                if label.side == AFF and not mine:
                    continue
                person.add(FROM, label.span, weight if mine else weight * 0.7)
            elif label.side == TO:
                if "return" in reading.events and label.weight < 3:
                    continue
                person.add(TO, label.span, weight if mine else weight * 0.7)
            elif label.side == NEW:
                person.add(NEW, label.span, weight)
            score += label.weight
        if "return" in reading.events:
            # "returns to B two weeks after joining C": C is where they were.
            for label in reading.labels:
                if label.side == TO and label.weight >= 3 and not _after_return(label, reading):
                    person.add(FROM, label.span, 2.0)
        person.statuses.add(_status(reading))
        score += 0.5 * len(reading.events)
        if score > person.evidence_score:
            person.evidence_score, person.evidence = score, reading.text

    def _role(self, person: Person, name: Name, reading: Reading) -> None:
        if person.role is not None:
            return
        best: tuple[int, str] | None = None
        for cue in reading.cues:
            if "role" not in cue.kinds:
                continue
            gap = name.start - cue.end if cue.end <= name.start else cue.start - name.end + 10
            if 0 <= gap <= 30 and (best is None or gap < best[0]):
                best = (gap, cue.text)
        if best is not None:
            person.role = best[1]

    # the moves -----------------------------------------------------------------

    def moves(self, finder: OrgFinder) -> list[Move]:
        defaults = self._defaults()
        named = [p for p in self.people.values() if p.events and not _only_denied(p)]
        out: list[Move] = []
        pairs: dict[tuple[str, str], int] = {}
        for person in named:
            move = self._move(person, defaults)
            if move is not None:
                out.append(move)
                pair = (_root_key(move.from_parent), _root_key(move.to_parent))
                pairs[pair] = pairs.get(pair, 0) + 1
        for group in self.groups.values():
            if not group.events:
                continue
            move = self._move(group, defaults)
            if move is None:
                continue
            pair = (_root_key(move.from_parent), _root_key(move.to_parent))
            same = sum(n for (f, t), n in pairs.items() if f == pair[0] or (t and t == pair[1]))
            if same and (group.count or 0) <= same:
                continue
            out.append(move)
        return out

    def _defaults(self) -> dict[str, OrgSpan | None]:
        """The sides the headline (else the whole article) names, for people told of without them."""
        out: dict[str, OrgSpan | None] = {FROM: None, TO: None}
        title = self.readings[0] if self.has_title and self.readings else None
        pools = [title] if title is not None and title.labels else []
        pools += [r for r in self.readings if r.events and not r.has("negation")]
        for side, accepted in ((FROM, (FROM, AFF, BG)), (TO, (TO,))):
            for reading in pools:
                best = max((lb for lb in reading.labels if lb.side in accepted), key=lambda lb: lb.weight,
                           default=None)
                if best is not None:
                    out[side] = best.span
                    break
        return out

    def _move(self, person: Person, defaults: dict[str, OrgSpan | None]) -> Move | None:
        from_span = _best(person.sides[FROM], set())
        excluded = set(person.stops)
        if from_span is not None:
            excluded.add(from_span.root_id)
        to_span = _best(person.sides[TO], excluded)
        if to_span is None and person.sides[NEW]:
            to_span = _best(person.sides[NEW], excluded)
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
        if not events - {"found"}:
            return None
        if to_span is None and not (events & {"leave", "lose", "found"}):
            return None  # a join with nowhere joined
        if from_span is None and not (events & {"join", "hire", "return", "found"}):
            return None
        if events <= {"appoint", "hire"} and (from_span is None or to_span is None):
            return None  # naming someone without saying where they came from: internal
        if from_span is not None and to_span is not None and from_span.root_id == to_span.root_id:
            return None
        if person.internal and (from_span is None or to_span is None):
            return None
        if not self._is_ai(from_span, to_span):
            return None
        status = _combine_status(person.statuses)
        confidence = _confidence(person, from_span, to_span, status)
        name = person.name
        return Move(
            person=name,
            from_org=from_span.name if from_span else None,
            to_org=to_span.name if to_span else None,
            role=person.role,
            status=status,
            confidence=confidence,
            evidence=person.evidence[:500],
            from_parent=from_span.root if from_span else None,
            to_parent=to_span.root if to_span else None,
            person_aliases=aliases(name, person.script, person.nickname) if name else (),
        )

    def _is_ai(self, a: OrgSpan | None, b: OrgSpan | None) -> bool:
        known = [s for s in (a, b) if s is not None and s.org is not None]
        if any(s.org is not None and s.org.ai for s in known):
            return True
        if known:
            return False
        return self.ai and not self.non_ai


# ── helpers ──────────────────────────────────────────────────────────────────


def _near(name: Name, span: OrgSpan, reading: Reading, side: str = AFF,
          names: list[Name] | None = None) -> bool:
    """Whether an organisation belongs to this person rather than another one named nearby.

    The side left or joined is the object of the verb whose subject is the
    nearest name before it ("X leaves A; Y named ..."); an affiliation or a
    past employer sits next to its name, usually before it ("OpenAI's X").
    """
    people = names if names is not None else reading.names
    if len({n.text for n in people}) <= 1:
        return True
    owner = _owner(span, people, side)
    return owner is not None and owner.text == name.text


def _owner(span: OrgSpan, people: list[Name], side: str) -> Name | None:
    before = [n for n in people if n.end <= span.start]
    after = [n for n in people if n.start >= span.end]
    if side in (FROM, TO, NEW) and before:
        return before[-1]

    def distance(n: Name) -> int:
        return span.start - n.end if n.end <= span.start else n.start - span.end

    candidates = before[-1:] + after[:1]
    if not candidates:
        return None
    return min(candidates, key=lambda n: (distance(n) - (3 if n in after else 0)))


def _own_events(name: Name | None, reading: Reading, names: list[Name]) -> frozenset[str]:
    """The move cues whose subject (or, for hiring, object) is this person."""
    if name is None or len({n.text for n in names}) <= 1:
        return reading.events
    out: set[str] = set()
    for cue in reading.cues:
        kinds = cue.kinds & reading.events
        if not kinds:
            continue
        before = [n for n in names if n.end <= cue.start]
        after = [n for n in names if n.start >= cue.end]
        owner: Name | None
        if kinds & {"hire", "appoint", "lose"} and after:
            owner = after[0]
        elif before:
            owner = before[-1]
        else:
            owner = after[0] if after else None
        if owner is not None and owner.text == name.text:
            out |= kinds
    # "X and Y left": a name joined to the next by "and"/"et"/"dan"/"、" shares its verb.
    for i, other in enumerate(names[:-1]):
        if other.text == name.text and _COORD.fullmatch(reading.text[other.end : names[i + 1].start]):
            out |= _own_events(names[i + 1], reading, names)
    return frozenset(out)


_COORD = re.compile(
    r"\s*(?:,\s*and|,|and|et|dan|und|y|e|、|和|与|與|及|과|와|및)?\s*(?:[a-z][\w\-]*\s+){0,4}"
)


def _after_return(label: object, reading: Reading) -> bool:
    """Whether a joined organisation is the object of "returns to" rather than of an earlier join."""
    span = label.span  # type: ignore[attr-defined]
    nearest = max((c for c in reading.cues if c.end <= span.start and c.kinds & reading.events),
                  key=lambda c: c.end, default=None)
    return nearest is not None and "return" in nearest.kinds


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


def _status(reading: Reading) -> str:
    kinds = reading.kinds
    strong = any(
        "confirm" in c.kinds and "speech" not in c.kinds and "report" not in c.kinds for c in reading.cues
    )
    if "rumour" in kinds and not strong and not (reading.events - {"found"}):
        return "rumoured"
    if strong:
        return "confirmed"
    if "report" in kinds:
        return "reported"
    if "rumour" in kinds:
        return "rumoured"
    if "confirm" in kinds:
        return "confirmed"
    return "reported"


def _combine_status(statuses: set[str]) -> Status:
    order: tuple[Status, ...] = ("confirmed", "reported", "rumoured")
    for status in order:
        if status in statuses:
            return status
    return "reported"


def _confidence(person: Person, a: OrgSpan | None, b: OrgSpan | None, status: str) -> float:
    score = 0.3
    strongest = max((w for t in person.sides.values() for _, w in t.values()), default=0.0)
    if a is not None:
        score += 0.15
    if b is not None:
        score += 0.15
    if strongest >= 3:
        score += 0.15
    if a is not None and b is not None and a.org is not None and b.org is not None:
        score += 0.1
    if person.name is None:
        score -= 0.1
    if status == "rumoured":
        score -= 0.2
    elif status == "confirmed":
        score += 0.05
    return round(min(0.95, max(0.05, score)), 2)


def _count(text: str) -> int | None:
    m = _NUMBER.search(text)
    if m:
        return int(m.group(1))
    for word in _WORDS.findall(text.casefold()):
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


def _root_key(name: str | None) -> str:
    return (name or "").casefold()
