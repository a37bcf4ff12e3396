"""OPML subscription lists in and out: pure functions over bytes and plain records.

An OPML file comes from another feed reader, often from someone else, so it
is untrusted XML: it is parsed with defusedxml, which refuses entity
expansion and external entities (billion laughs, XXE) instead of following
them. Categories (nested outlines) are flattened, because talentwatch's
feed list is flat; a feed listed twice is kept once.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from monitor.errors import TalentwatchError

MAX_OPML_BYTES = 10 * 2**20


class OpmlError(TalentwatchError):
    """An OPML file that cannot be read: not XML, not OPML, or unsafe XML."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription: its feed URL and the title the other reader showed."""

    url: str
    title: str | None = None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, in document order, each URL once."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"OPML file larger than {MAX_OPML_BYTES // 2**20} MiB")
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise OpmlError(f"unsafe XML refused ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    if _local(root.tag) != "opml":
        raise OpmlError(f"not an OPML file (root element <{_local(root.tag)}>)")
    found: dict[str, OpmlFeed] = {}
    for outline in root.iter():
        if _local(outline.tag) != "outline":
            continue
        attrs = {_local(k).lower(): v for k, v in outline.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        if not url:
            continue  # a category or a plain link, not a feed
        title = " ".join((attrs.get("title") or attrs.get("text") or "").split()) or None
        found.setdefault(url, OpmlFeed(url, title))
    return list(found.values())


def render_opml(feeds: Iterable[OpmlFeed], *, title: str = "talentwatch feeds", now: datetime | None = None) -> bytes:
    """An OPML 2.0 document listing ``feeds``; readers import it as a flat list."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        label = feed.title or feed.url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=feed.url)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def _local(tag: object) -> str:
    """A tag or attribute name without its namespace: some exporters namespace everything."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]
