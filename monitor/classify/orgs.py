"""Organisations in a sentence: the catalog's mentions, joined where one names a unit of the other.

"JD.com's Explore Academy", "Explore Academy di JD.com", "Alibaba Group
Holding's Tongyi Lab" and "腾讯的混元团队" are one organisation each, the most
specific one. Names the catalog does not know are taken as written when they
stand where an organisation must ("joins Foo Labs", "launches Bar Ventures").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from monitor.catalog import Catalog, Org

# What may stand between an owner and its unit: a possessive, "at", "of", 的, の, 의 ...
_JOINER = re.compile(
    r"^(?:'s?|\s*(?:'s)?\s*(?:new\s+)?|\s+(?:at|of|in|di|milik|bei|von|de|du|chez|en|del|owned\s+by)\s+|\s*(?:的|の|의)\s*)$",
    re.IGNORECASE,
)
_UNKNOWN = re.compile(
    r"(?:[A-Z][\w&.\-]*|AI|\d+[A-Za-z]+)(?:\s+(?:[A-Z][\w&.\-]*|AI|Labs?|Inc\.?|Ventures|Capital|Technologies))*"
)
_UNKNOWN_STOP = {"The", "A", "An", "His", "Her", "Its", "Their", "This", "That", "He", "She", "It", "They",
                 "In", "On", "At", "As", "For", "And", "But", "X", "LinkedIn", "January", "February", "March",
                 "April", "May", "June", "July", "August", "September", "October", "November", "December"}


class OrgSpan(NamedTuple):
    """An organisation named in a sentence: a catalog entry, or a name as written (immutable, like Cue)."""

    start: int
    end: int
    surface: str
    org: Org | None
    name: str  # canonical name when known, else the surface
    root: str  # root's name (the company), or the surface when unknown
    root_id: str


class OrgFinder:
    """Finds organisations in sentences through one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._roots: dict[str, Org] = {}

    def root(self, org: Org) -> Org:
        root = self._roots.get(org.id)
        if root is None:
            root = self._roots[org.id] = self.catalog.root(org)
        return root

    def span(self, start: int, end: int, surface: str, org: Org) -> OrgSpan:
        root = self.root(org)
        return OrgSpan(start, end, surface, org, org.name, root.name, root.id)

    def unknown(self, start: int, end: int, surface: str) -> OrgSpan:
        key = "?" + surface.casefold()
        return OrgSpan(start, end, surface, None, surface, surface, key)

    def find(self, sentence: str) -> list[OrgSpan]:
        """Catalog organisations in text order, an owner and its unit side by side made one."""
        return self._merge([self.span(m.start, m.end, m.surface, m.org) for m in self.catalog.find(sentence)],
                           sentence)

    def find_parts(self, parts: Sequence[str], whole: str) -> list[list[OrgSpan]]:
        """The organisations of each sentence of one article, found in one pass over the article.

        ``parts`` are the article's sentences in order, each (normally) a
        piece of ``whole``. Reading the article at once is cheaper than
        sentence by sentence, and an ambiguous alias ("字节", "Seed") counts
        when the article, not only its sentence, names that company.
        """
        mentions = self.catalog.find(whole)
        offsets: list[int] = []
        cursor = 0
        for part in parts:
            at = whole.find(part, cursor)
            offsets.append(at)
            if at >= 0:
                cursor = at + len(part)
        out: list[list[OrgSpan]] = []
        k = 0
        for part, at in zip(parts, offsets, strict=True):
            if at < 0:  # a sentence joined across a line break: read on its own
                out.append(self.find(part))
                continue
            end = at + len(part)
            while k < len(mentions) and mentions[k].start < at:
                k += 1
            spans = []
            while k < len(mentions) and mentions[k].end <= end:
                m = mentions[k]
                spans.append(self.span(m.start - at, m.end - at, m.surface, m.org))
                k += 1
            out.append(self._merge(spans, part) if len(spans) > 1 else spans)
        return out

    def _merge(self, spans: list[OrgSpan], sentence: str) -> list[OrgSpan]:
        merged: list[OrgSpan] = []
        for span in spans:
            if merged:
                prev = merged[-1]
                gap = sentence[prev.end : span.start]
                if len(gap) <= 10 and _JOINER.match(gap) and prev.root_id == span.root_id and prev.org and span.org:
                    deeper = span if self._depth(span.org) >= self._depth(prev.org) else prev
                    merged[-1] = OrgSpan(prev.start, span.end, sentence[prev.start : span.end], deeper.org,
                                         deeper.name, deeper.root, deeper.root_id)
                    continue
            merged.append(span)
        return merged

    def _depth(self, org: Org) -> int:
        return len(self.catalog.ancestors(org))

    def guess_after(self, sentence: str, pos: int, limit: int = 3) -> OrgSpan | None:
        """An unknown organisation written right at ``pos`` ("joins Foo Labs"), if one stands there."""
        m = _UNKNOWN.match(sentence, pos)
        if m is None:
            return None
        words = m.group().split()
        while words and words[0] in _UNKNOWN_STOP:
            return None
        words = words[: limit + 1]
        while words and words[-1] in _UNKNOWN_STOP:
            words.pop()
        if not words:
            return None
        surface = " ".join(words).rstrip(".,")
        return self.unknown(pos, pos + len(surface), surface)

    def is_ai(self, span: OrgSpan) -> bool:
        return span.org is not None and span.org.ai
