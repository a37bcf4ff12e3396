"""Reading one article: the people it names and the evidence gathered for each.

Sentences are read in order (the headline first). Each sentence with a move
cue contributes evidence to the people it names — or, failing a name, to the
person a pronoun or surname points back to, or to an unnamed group. A
sentence with no move cue still tells who a person is ("X, who led A's
speech lab") and is kept as background.
"""

from __future__ import annotations

import re

from monitor.classify.lexicon import Cue, Lexicon
from monitor.classify.names import Name, aliases
from monitor.classify.person import Person, after_return, joined_by_another, near, own_events
from monitor.classify.roles import role_of
from monitor.classify.scoring import sentence_status
from monitor.classify.sentence import AFF, BG, FROM, NEW, STOP, TO, Reading
from monitor.people import person_keys

_PARTICLES = {"de", "van", "von", "der", "den", "da", "di", "du", "le", "la", "bin", "al", "del", "dos"}
_WORDS = re.compile(r"[^\W\d_][\w'\-]*")
_SELF_MOVES = frozenset({"leave", "join", "return", "found"})
_OF_OTHERS = frozenset({"hire", "appoint", "lose"})  # moves told of someone else
_SPEAKS_OR_HIRES = frozenset({"speech", "hire", "appoint"})
# The check on the left sits after the first letter, so that ``re`` skips by a character set.
_LOWER_WORDS = re.compile(r"[a-z\u00df-\u00f6\u00f8-\u00ff](?<![\w'\-].)[\w'\-]*")
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,4})(?![\d.,]\d)")
_CJK_COUNT = re.compile(r"([一二两三四五六七八九十几数]+)(?:多|余|餘)?(?:名|位|人|명)")
_CJK_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "zwei": 2, "drei": 3, "vier": 4,
                 "deux": 2, "trois": 3, "quatre": 4, "dos": 2, "tres": 3, "cuatro": 4, "dozen": 12,
                 "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "dozens": 24}


class ArticleState:
    """The people of one article and the evidence gathered for each."""

    def __init__(self, readings: list[Reading], has_title: bool, lexicon: Lexicon) -> None:
        self.readings = readings
        self.has_title = has_title
        self.lexicon = lexicon
        self.people: dict[str, Person] = {}
        self.keys: dict[str, frozenset[str]] = {}
        self.groups: dict[tuple[str, str], Person] = {}
        self.known: dict[str, Person] = {}  # a name as written -> its person, once found
        self.confirmed = False  # an official source anywhere in the article (set when deciding)
        self.title_roots: set[str] = set()
        if has_title and readings:
            self.title_roots = {o.root_id for o in readings[0].orgs}
        self.ai = any(r.has("ai_context") for r in readings) or any(
            o.org is not None and o.org.ai for r in readings for o in r.orgs
        )
        self.non_ai = any(r.has("non_ai") for r in readings)
        self._filter_title_names()
        self._filter_common_words()
        self._trim_sentence_openers()
        self._surname_index = self._index_surnames()
        # Chinese and Korean names found anywhere: found again wherever the article repeats them, even where
        # the characters around them would not mark a name ("批准林俊旸的辞职").
        self._han_names = {n.text: n.script for r in readings for n in r.names if n.script in ("han", "ko")}
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
        words = {w.casefold() for r in self.readings for n in r.names if n.script == "latin" for w in n.text.split()}
        words -= _PARTICLES
        if not words:
            return
        text = "\n".join(r.text for r in self.readings)
        starts: set[int] = set()  # a sentence's first word is not looked at: its case is its place's
        at = 0
        for reading in self.readings:
            starts.add(at)
            at += len(reading.text) + 1
        lower = {w for w in words if _lower_word_in(text, w, starts)}
        if not lower:
            return
        for reading in self.readings:
            reading.names = [
                n for n in reading.names
                if n.script != "latin" or not any(w.casefold() in lower for w in n.text.split())
            ]

    def _trim_sentence_openers(self) -> None:
        """A capitalised first word glued to a known name is not part of it ("Posisi Yan" is Yan).

        Every sentence capitalises its first word, so a name that starts a
        sentence drops that word when the word was never part of a name
        before and the rest of the name was: articles name a person in full
        first and by surname after.
        """
        seen: set[str] = set()
        for reading in self.readings:
            kept: list[Name] = []
            for name in reading.names:
                parts = name.text.split()
                opener = name.script == "latin" and len(parts) >= 2 and not reading.text[: name.start].strip(" \"'(")
                if opener and parts[0] not in seen and all(w in seen for w in parts[1:]):
                    if len(parts) > 2:  # the rest is still a full name
                        rest = name.text.index(parts[1])
                        kept.append(Name(name.text[rest:], name.start + rest, name.end, "latin", name.nickname))
                    continue  # a lone surname: found again through the surname index
                kept.append(name)
            reading.names = kept
            seen.update(w for n in kept if n.script == "latin" for w in n.text.split())

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
        known = self.known.get(name.text)
        if known is not None:
            return known
        if name.script == "ja":  # "佐々木氏" after "佐々木真由美氏": the family name alone, as Japanese writes it
            full = next((p for text, p in self.known.items() if p.script == "ja" and text.startswith(name.text)), None)
            if full is not None:
                return full
        person = self._new_person(name)
        if name.nickname is None:
            self.known[name.text] = person
        return person

    def _new_person(self, name: Name) -> Person:
        keys = person_keys(name.text, aliases(name.text, name.script, name.nickname))
        for key, person_keys_ in self.keys.items():
            if person_keys_ & keys:
                self.keys[key] = person_keys_ | keys
                return self.people[key]
        if name.script == "latin":
            words = name.text.split()
            for key, known in self.people.items():
                if known.script != "latin" or known.name is None or len(words) < 2:
                    continue
                other = known.name.split()
                shorter, longer = sorted((words, other), key=len)
                if longer[: len(shorter)] == shorter:  # "Marta Ibarrola" and "Marta Ibarrola Quintana": one person
                    known.name = " ".join(longer)
                    self.keys[key] = self.keys[key] | keys
                    return known
        person = Person(name.text, name.script, name.nickname, order=len(self.people))
        self.people[name.text] = person
        self.keys[name.text] = keys
        return person

    def _names_in(self, reading: Reading) -> list[Name]:
        """The sentence's names; the full name behind a surname used alone ("Yan said"); and a
        Chinese name the article gave elsewhere, wherever the sentence repeats it."""
        names = list(reading.names)
        index = self._surname_index
        text = reading.text
        found: list[tuple[int, int, str]] = []
        for han in self._han_names:
            at = text.find(han)
            while at >= 0:
                found.append((at, at + len(han), han))
                at = text.find(han, at + len(han))
        if not index and not found:
            return names
        for word, full in index.items():  # a few words, each found by str.find: no scan per word of text
            at = text.find(word)
            while at >= 0:
                end = at + len(word)
                if _whole_word(text, at, end):
                    found.append((at, end, full))
                at = text.find(word, end)
        first = _WORDS.match(text)  # a sentence's first word may be in capitals: "YAN said"
        if first is not None and first.group() not in index:
            opener = index.get(first.group().capitalize())
            if opener is not None:
                found.append((0, first.end(), opener))
        if not found:
            return names
        spans = [(n.start, n.end) for n in names] + [(o.start, o.end) for o in reading.orgs]
        for start, end, full in found:
            if not any(s < end and start < e for s, e in spans):
                names.append(Name(full, start, end, self._han_names.get(full, "latin")))
                spans.append((start, end))
        names.sort(key=lambda n: n.start)
        return names

    # one sentence --------------------------------------------------------------

    def _read(self, index: int, reading: Reading) -> None:
        names = [n for n in self._names_in(reading) if not _reporter(n, reading)]
        movers = self._movers(reading, names)
        is_title = index == 0 and self.has_title
        if not reading.events:
            # Background only: "X, who led A's speech lab, ..." helps a move told elsewhere.
            self._cofounders(reading, names)
            for name in names:
                person = self._person(name)
                if reading.has("internal"):
                    person.internal = True  # "Anthropic promotes X to chief product officer"
                for label in reading.labels:
                    if label.side == BG and near(name, label.span, reading):
                        person.add(FROM, label.span, label.weight * 0.8)
                self._role(person, name, reading, names)
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
            elif reading.has("group") and not negated and not reading.has("plan"):
                group = self._group(reading, is_title)
                if group is not None:
                    targets = [(group, None)]
        for person, target in targets:
            self._evidence(person, target, reading, negated, is_title, movers)
        for name in names:
            self._role(self._person(name), name, reading, names)
        self._successions(reading, names)
        self._cofounders(reading, names)
        # "she had left Mira Murati's Thinking Machines Lab. She will rejoin...": "she" is not the owner.
        pointable = [n for n in names if reading.text[n.end : n.end + 2] not in ("'s", "的")]
        if pointable:
            self.last = self._person(pointable[-1])

    def _cofounders(self, reading: Reading, names: list[Name]) -> None:
        """People named as someone's co-founders share that person's move.

        "X announced his exit, and fellow co-founder Y said it was his last day";
        "X has started Z. His co-founders are A and B": each is tied to X, the
        name before the cue in the sentence, else the one last named before it.
        """
        for cue in reading.cues:
            if "cofounders" not in cue.kinds:
                continue
            before = [n for n in names if n.end <= cue.start]
            partner = self._person(before[-1]) if before else self.last
            if partner is None:
                continue
            for name in names:
                if name.start >= cue.end and not (before and name.text == before[-1].text):
                    person = self._person(name)
                    if person is not partner and person.partner is None:
                        person.partner = partner
                        if not person.evidence:
                            person.evidence = reading.text

    def _successions(self, reading: Reading, names: list[Name]) -> None:
        """Who takes over whose post: "Y replaces X", "X's post is filled by Y"."""
        for cue in reading.cues:
            passive = "replaced_by" in cue.kinds
            if not (passive or "replaces" in cue.kinds):
                continue
            before = [n for n in names if n.end <= cue.start]
            after = [n for n in names if n.start >= cue.end]
            if passive and after and not before and self.last is not None:
                # "후임으로 Y가 선임됐다", "As successor, Y was named": the one named before succeeds.
                successor_ = self._person(after[0])
                if successor_ is not self.last:
                    successor_.predecessor = self.last
                continue
            if not before or not after:
                continue
            successor, predecessor = (after[0], before[-1]) if passive else (before[-1], after[0])
            if successor.text != predecessor.text:
                self._person(successor).predecessor = self._person(predecessor)

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
                "report_to" in c.kinds and 0 <= name.start - c.end <= 12 for c in reading.cues
            ):
                actors.add(i)
            others = len(names) > 1
            verb = next((c for c in reading.cues if c.start >= name.end), None)
            if others and verb is not None and verb.kinds & _SPEAKS_OR_HIRES \
                    and "leave" not in verb.kinds and text[name.end : verb.start].strip(" ,") == "" \
                    and not self._speaks_of_self(verb, reading, later):
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

    @staticmethod
    def _speaks_of_self(verb: Cue, reading: Reading, later: list[Name]) -> bool:
        """"X announced his resignation", "X said it was her last day": the speaker is the mover.

        True when the speech verb is followed by a leave/join/return/found cue
        with no other name between them; hiring and losing are told of others.
        """
        if "speech" not in verb.kinds:
            return False
        move = next((c for c in reading.cues if c.start >= verb.end and c.kinds & reading.events), None)
        if move is None or not move.kinds & _SELF_MOVES or move.kinds & _OF_OTHERS:
            return False
        return not any(verb.end <= n.start < move.start for n in later)

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
        events = own_events(name, reading, names)
        if not events:
            return
        person.events |= events
        if reading.has("internal"):
            person.internal = True
        bonus = 0.3 if is_title else 0.0
        score = 0.0
        own = [lb for lb in reading.labels if name is None or near(name, lb.span, reading, lb.side, names)]
        for label in reading.labels:
            weight = label.weight + bonus + (0.2 if label.span.root_id in self.title_roots else 0.0)
            mine = label in own
            if label.side == STOP:
                person.stops.add(label.span.root_id)
                continue
            if label.side in (FROM, BG, AFF):
                if label.side == AFF and not mine:
                    continue
                if label.side == BG and (mine or (name is not None and label.span.end <= name.start)):
                    person.former = True  # "Former Cohere researchers A and B": both
                person.add(FROM, label.span, weight if mine else weight * 0.7)
            elif label.side == TO:
                if "return" in reading.events and label.weight < 3:
                    continue
                if not mine and name is not None and joined_by_another(name, label.span, reading, names):
                    continue
                person.add(TO, label.span, weight if mine else weight * 0.7)
            elif label.side == NEW:
                person.add(NEW, label.span, weight)
            score += label.weight
        if "return" in reading.events:
            # "returns to B two weeks after joining C": C is where they were.
            for label in reading.labels:
                if label.side == TO and label.weight >= 3 and not after_return(label, reading):
                    person.add(FROM, label.span, 2.0)
        person.statuses.add(sentence_status(reading))
        score += 0.5 * len(reading.events)
        if score > person.evidence_score:
            person.evidence_score, person.evidence = score, reading.text

    def _role(self, person: Person, name: Name, reading: Reading, names: list[Name]) -> None:
        if person.role is None:
            person.role = role_of(name, names, reading.cues, reading.orgs, reading.text)


def _lower_word_in(text: str, word: str, starts: set[int]) -> bool:
    """Whether ``word`` stands in the text as a word of its own, as written, not opening a sentence.

    A word as ``_LOWER_WORDS`` finds them: a lower-case letter first, then
    letters, digits, apostrophes and hyphens, with none of those around it.
    Found by ``str.find``: the few words of a few names cost less than a scan
    of every word of the article.
    """
    if not _LOWER_WORDS.fullmatch(word):
        return False
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if at not in starts and _outside_word(text, at - 1) and _outside_word(text, end):
            return True
        at = text.find(word, at + 1)
    return False


def _outside_word(text: str, at: int) -> bool:
    """Whether the character at ``at`` (or the edge of the text) cannot belong to a word."""
    if at < 0 or at >= len(text):
        return True
    char = text[at]
    return not (char.isalnum() or char in "_'-")


def _whole_word(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a word of its own, as ``_WORDS`` splits words ("Yan", not "Yan's")."""
    if not _outside_word(text, end):
        return False
    if start == 0:
        return True
    before = text[start - 1]
    if before.isalnum() or before == "_":
        return False
    return not (before in "'-" and start >= 2 and (text[start - 2].isalnum() or text[start - 2] in "_'-"))


def _count(text: str) -> int | None:
    """How many people a group sentence speaks of: "11 researchers", "eleven", "约十名", "十数人"; not "in 2024"."""
    for m in _NUMBER.finditer(text):
        digits = m.group(1)
        if not (len(digits) == 4 and 1900 <= int(digits) <= 2100):
            return int(digits)
    cjk = _CJK_COUNT.search(text)
    if cjk:
        return _cjk_number(cjk.group(1))
    for word in _WORDS.findall(text.casefold()):
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


_POSSESSIVE = ("'s ", "\u2019s ")
_CLAUSE_END = re.compile(r"[.,;:!?\u3002\uff0c\uff1b]")


def _reporter(name: Name, reading: Reading) -> bool:
    """The journalist a sentence cites ("Bloomberg's Mark Gurman", "..., Mark Gurman reports."), not a mover.

    A report cue ending right before the name with a possessive marks the
    outlet's writer; one right after the name, with no move told in the rest
    of its clause, marks a trailing attribution ("..., Mark Gurman reported on
    Tuesday"). "X reportedly left OpenAI" keeps X: the clause tells the move.
    """
    text = reading.text
    for cue in reading.cues:
        if "report" not in cue.kinds:
            continue
        if cue.end <= name.start and text[cue.end : name.start] in _POSSESSIVE:
            return True
        if cue.start >= name.end and not text[name.end : cue.start].strip(" ,"):
            end = _CLAUSE_END.search(text, cue.end)
            clause_end = end.start() if end else len(text)
            return not any(c.kinds & reading.events for c in reading.cues if cue.end <= c.start < clause_end)
    return False


def _cjk_number(numeral: str) -> int | None:
    """"十" 10, "二十" 20, "十五" 15, "十几"/"十数" about 10, "数十"/"几十" about 20, "三" 3."""
    if "十" not in numeral:
        return _CJK_DIGITS.get(numeral[-1])
    tens, _, ones = numeral.partition("十")
    value = 10 * (_CJK_DIGITS.get(tens, 2 if tens in ("几", "数") else 1) if tens else 1)
    return value + _CJK_DIGITS.get(ones, 0)
