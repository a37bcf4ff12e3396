"""A person's role: the title phrase attached to the name, never a neighbour's.

A title stands right before a name ("Claude Code lead engineer X",
"首席研究科学家X", "former OpenAI researcher X") or as an apposition right
after it ("X, head of the speech lab at A, ..."). The lexicon's role cue is
the head of the phrase; the phrase grows left over the words that qualify
the title (a product or team name, "lead", "senior") and right over an "of"
phrase ("vice president of research", "head of the speech lab"). A title
with another name between it and the person is that other person's.
"""

from __future__ import annotations

import re

from monitor.classify.lexicon import Cue
from monitor.classify.names import Name
from monitor.classify.orgs import OrgSpan

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")
# Words that qualify a title before it: "lead", "senior", "principal", a product ("Claude Code").
_LEFT_WORD = re.compile(r"(?:[A-Z][\w.+\-]*|lead|senior|principal|staff|head|deputy|former|founding|research|"
                        r"applied|machine learning|ai|AI|ML)\s+$")
_NOT_LEFT = frozenset({"The", "A", "An", "Its", "His", "Her", "Their", "Former", "Ex", "And", "With", "As",
                       "Meet", "By", "From", "For", "Says", "Said"})
# "of the speech lab", "of its pre-training team": up to four words ending in a unit noun;
# else one field: "of research", "of AI products".
_OF_UNIT = re.compile(r"\s+of\s+(?:the\s+|its\s+|their\s+)?(?:[\w\-]+\s+){0,3}(?:lab|laboratory|team|group|unit|"
                      r"division|department|program|programme|org|organization|organisation)(?=[\s,;.)]|$)")
_OF_FIELD = re.compile(r"\s+of\s+(?:[A-Z][\w\-]*\s+|AI\s+|ML\s+)?(?:research|engineering|products?|science|"
                       r"models?|AI|training|pre-training|post-training|infrastructure|safety|alignment|"
                       r"operations|strategy|design|data|compute|inference|robotics|speech|vision)(?=[\s,;.)]|$)")
_APPOSITION = re.compile(r"^\s*(?:,|\(|，|（|、)\s*(?:the\s+|a\s+|an\s+|its\s+|former\s+)?$")
_CJK_STOP = "的の의前原和与及、，。：:；（(“\"」』 "  # possessives and punctuation end a title


def role_of(name: Name, names: list[Name], cues: list[Cue], orgs: list[OrgSpan], text: str) -> str | None:
    """The title phrase this name carries in the sentence, or None."""
    roles = [c for c in cues if "role" in c.kinds]
    if not roles:
        return None
    others = [n for n in names if n.text != name.text]
    before = [c for c in roles if c.end <= name.start and name.start - c.end <= 3
              and not any(c.end <= n.start < name.start for n in others)]
    if before:
        cue = before[-1]
        return _grow_left(cue, orgs, text) + _grow_right(cue, text, name.start)
    for cue in roles:
        if cue.start < name.end or cue.start - name.end > 8:
            continue
        gap = text[name.end : cue.start]
        if not _APPOSITION.match(gap):
            continue
        if any(cue.end <= n.start and n.start - cue.end <= 3 for n in others):
            return None  # ", CTO Y": the title is Y's
        return text[cue.start : cue.end] + _grow_right(cue, text, len(text))
    return None


def _grow_left(cue: Cue, orgs: list[OrgSpan], text: str) -> str:
    start = cue.start
    if _CJK.match(text, start):
        # "语音实验室负责人": the characters before the title, back to an organisation or a particle.
        limit = max((o.end for o in orgs if o.end <= start), default=0)
        i = start
        while i > limit and start - i < 8 and text[i - 1] not in _CJK_STOP and _CJK.match(text, i - 1):
            i -= 1
        return text[i : cue.end]
    for _ in range(4):
        m = _LEFT_WORD.search(text, max(0, start - 30), start)
        if m is None or m.end() != start:
            break
        word = m.group().strip()
        if word in _NOT_LEFT:
            break
        org = next((o for o in orgs if o.start <= m.start() < o.end), None)
        if org is not None:
            # An organisation's name is a product's only inside one ("Gemini Live", "Claude Code");
            # before an acronym ("Stability AI CEO") it is the employer.
            if (not text[start : start + 1].isupper() or any(o.start <= start < o.end for o in orgs)
                    or cue.text.isupper()):
                break
            start = org.start
            break
        start = m.start()
    return text[start : cue.end]


def _grow_right(cue: Cue, text: str, limit: int) -> str:
    if _CJK.match(text, cue.start):
        return ""
    m = _OF_UNIT.match(text, cue.end, limit) or _OF_FIELD.match(text, cue.end, limit)
    return "" if m is None else text[cue.end : m.end()]
