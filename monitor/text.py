"""Plain text and canonical links out of whatever a feed hands us.

Feeds carry HTML in titles and summaries, links wrapped in trackers
(Google Alerts' ``google.com/url?url=…``, ``utm_*`` parameters) and text
with NULs or lone surrogates that SQLite and JSON would choke on later.
Everything here is pure and total: it never raises on odd input, because a
single broken entry must not cost us the rest of its feed.

HTML becomes text through nh3 (a Rust sanitiser on html5ever: it parses
whatever tag soup a feed sends, drops scripts, styles and comments, and keeps
only the layout tags we name, with no attributes). Its output is canonical
HTML: a handful of known tags, text escaped, nothing else. Laying that out as
text is then a short walk over its tags (``_render``): blocks become lines,
paragraphs blank-line separated, list items bulleted, and ``word<b>bold</b>``
stays one word. A general HTML-to-text renderer (inscriptis) did the same
from a second parse of the sanitised HTML and cost ten times as much: three
quarters of a feed's parsing.
"""

from __future__ import annotations

import base64
import binascii
import html as html_entities
import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit, urlunsplit

import nh3

MAX_TEXT = 20_000

# Tags kept for layout; everything else is unwrapped to its text by nh3.
_LAYOUT_TAGS = frozenset(
    {
        "p", "br", "div", "section", "article", "header", "footer", "aside", "blockquote",
        "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
        "table", "thead", "tbody", "tr", "td", "th", "figure", "figcaption", "hr",
        "b", "strong", "i", "em", "span", "a", "sup", "sub", "small", "code",
    }
)  # fmt: skip
_DROP_WITH_CONTENT = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg", "math"})
# How the kept tags lay out (the rest of _LAYOUT_TAGS is inline): a blank line around a paragraph, a line
# break around any other block, cells side by side. What a browser's default style sheet does.
_PARAGRAPHS = frozenset({"p", "figure", "h1", "h2", "h3", "h4", "h5", "h6"})
_LINES = frozenset(
    {
        "div", "section", "article", "header", "footer", "aside", "blockquote", "pre", "ul", "ol",
        "dl", "dt", "dd", "table", "thead", "tbody", "tr", "figcaption", "hr", "li",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # _CONTROL's one-byte part
_INLINE_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# What str.split() takes for space besides \n and _INLINE_SPACE (clean_text removes the rest of it).
_NOT_INLINE_SPACE = ("\r", "\x85", "\u1680", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")
# The inline space that is not a plain space.
_ODD_SPACE = ("\t", "\u00a0", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f", "\u3000")
_LOOKS_LIKE_HTML = re.compile(r"<[a-zA-Z!/][^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")


def clean_text(text: str) -> str:
    """Valid, storable text: no NULs, control characters or lone surrogates, NFC.

    Nearly every text is clean already, and telling so from its UTF-8 bytes
    (the encoder refuses a lone surrogate; a control character is one byte
    that ``bytes.translate`` drops; U+FFFE and U+FFFF are two byte strings)
    costs a fifth of running ``_CONTROL`` over it, which ``re`` does one code
    point at a time. Only a text that fails the test is searched.
    """
    if not _clean_already(text):
        text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def _clean_already(text: str) -> bool:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return (len(raw.translate(None, _CONTROL_BYTES)) == len(raw)
            and b"\xef\xbf\xbe" not in raw and b"\xef\xbf\xbf" not in raw)


def html_to_text(html: str, *, limit: int = MAX_TEXT) -> str:
    """Readable plain text: blocks become lines, entities decoded, whitespace tidied.

    Text without markup is only tidied, which is both faster and safer than
    parsing it (a literal ``a < b`` in a title must survive).
    """
    html = clean_text(html)
    if _LOOKS_LIKE_HTML.search(html):
        try:
            safe = nh3.clean(
                html,
                tags=set(_LAYOUT_TAGS),
                clean_content_tags=set(_DROP_WITH_CONTENT),
                attributes={},
                strip_comments=True,
                link_rel=None,
            )
        except Exception:  # a sanitiser error must not lose the entry: keep the raw text
            return _tidy(html)[:limit].rstrip()
        text = _render(safe)
        # nh3 writes what a character reference stood for as the character itself, controls included;
        # without one (the input is clean already) only a named entity may have left something to compose.
        text = clean_text(text) if "&#" in html else unicodedata.normalize("NFC", text)
    else:
        text = html
    return _tidy(text)[:limit].rstrip()


def _render(safe: str) -> str:
    """Lay out nh3's canonical output as text; ``_tidy`` then folds the spaces this leaves.

    Breaks are owed rather than written: where blocks meet, the widest break
    wins (one blank line between paragraphs, none between list items), as in
    a browser. Text between tags is HTML text, whose line breaks are spaces
    except in ``<pre>``. Each piece is unescaped on its own, so an escaped
    ``&lt;p&gt;`` stays text and never becomes a tag.
    """
    out: list[str] = []
    owed = 0  # line breaks owed before the next text
    bullet = ""  # owed too: the marker of a list item that has not shown text yet
    lists: list[int] = []  # per open list: 0 for <ul>, else the next number of an <ol>
    pre = 0
    pieces = _TAG.split(safe)
    for i in range(0, len(pieces), 3):
        text = pieces[i]
        if text and (pre or not owed or not text.isspace()):
            if not pre:  # str.replace runs in C at memchr speed; str.translate goes char by char
                text = text.replace("\n", " ").replace("\r", " ").replace("\t", " ").replace("\f", " ")
            if owed or bullet:
                out.append("\n" * owed + bullet if out else bullet)
                owed, bullet = 0, ""
            out.append(html_entities.unescape(text) if "&" in text else text)
        if i + 2 >= len(pieces):
            break
        closing, tag = pieces[i + 1], pieces[i + 2]
        if tag in _PARAGRAPHS:
            owed = 2
        elif tag == "br":
            owed = min(owed + 1, 2)
        elif tag in _LINES:
            owed = max(owed, 1)
            if tag == "pre":
                pre = max(0, pre - 1) if closing else pre + 1
            elif tag in ("ul", "ol"):
                if not closing:
                    lists.append(0 if tag == "ul" else 1)
                elif lists:
                    lists.pop()
            elif tag == "li" and not closing:
                if lists and lists[-1]:
                    bullet = f"{lists[-1]}. "
                    lists[-1] += 1
                else:
                    bullet = "* "
        elif tag in _CELLS and not closing:
            out.append("  ")
    return "".join(out)


def plain_text(text: str, *, limit: int = MAX_TEXT) -> str:
    """Text that is already plain, made storable and tidy like ``html_to_text``'s output."""
    return _tidy(clean_text(text))[:limit].rstrip()


def _tidy(text: str) -> str:
    """Spaces folded and lines stripped, at most one blank line in a row, no blank ends.

    Written with substring tests and ``str.split`` rather than regexes: ``re``
    walks a text of any non-Latin-1 character one code point at a time, and
    this runs on every title and summary.
    """
    text = text.replace("\r\n", "\n")
    if any(ch in text for ch in _NOT_INLINE_SPACE):
        lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    elif any(ch in text for ch in _ODD_SPACE):  # every space left is inline: str.split folds it as the regex would
        lines = [" ".join(line.split()) for line in text.split("\n")]
    else:  # only plain spaces, folded by str.replace (in C), which a split into words costs three times
        lines = [_fold_spaces(line) for line in text.split("\n")]
    if "" in lines:
        lines = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(lines).strip("\n")


def _fold_spaces(line: str) -> str:
    while "  " in line:
        line = line.replace("  ", " ")
    return line.strip(" ")


def one_line(text: str, *, limit: int = 1_000) -> str:
    """A title: HTML stripped and all whitespace folded to single spaces."""
    return " ".join(html_to_text(text, limit=limit * 2).split())[:limit]


# ── links ────────────────────────────────────────────────────────────────────

# Query parameters that say who sent the reader, never what the page is.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "ncid", "ocid", "cmpid", "sr_share", "smid", "smtyp", "spm", "share", "xtor",
        "__twitter_impression", "at_medium", "at_campaign", "ito", "guccounter", "ktm_source",
        "wt_mc", "wt_zmc", "cmp",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "vero_", "__s")

_GOOGLE_REDIRECT_HOSTS = re.compile(r"^(?:www\.)?google\.[a-z.]{2,6}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_IN_BLOB = re.compile(rb"https?://[\x21-\x7e]+")


def canonical_link(url: str) -> str:
    """One spelling per article: trackers unwrapped and dropped, host lowercased.

    The same story reached through Google Alerts, Google News and the
    publisher's own feed must look alike, or it is stored and classified
    three times. Anything we cannot parse is returned stripped, unchanged.
    """
    url = clean_text(url).strip()
    for _ in range(3):  # wrappers may be nested, but never deeply
        inner = _unwrap(url)
        if inner is None or inner == url:
            break
        url = inner
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return url
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    # Filter the raw pairs rather than decode and re-encode, so the query keeps its exact spelling.
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(unquote(p.split("=", 1)[0])))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def _unwrap(url: str) -> str | None:
    """The destination inside a known redirect wrapper, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if _GOOGLE_REDIRECT_HOSTS.match(host) and parts.path == "/url":
        params = dict(parse_qsl(parts.query))
        target = params.get("url") or params.get("q")
        if target and is_http(target):
            return target
    if host == "news.google.com" and "/articles/" in parts.path:
        return _google_news_target(parts.path.rsplit("/", 1)[-1])
    return None


def _google_news_target(token: str) -> str | None:
    """Older Google News links carry the article URL inside base64; newer ones do not.

    When the target is not in the token it stays the Google News link, which
    is still a stable identity for the story.
    """
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    found = _URL_IN_BLOB.search(blob)
    if not found:
        return None
    start, url = found.start(), found.group()
    # The token is a protobuf: field 4 (tag 0x22) holds the URL after a varint length.
    if start >= 2 and blob[start - 2] == 0x22:
        url = blob[start : start + blob[start - 1]]
    elif start >= 3 and blob[start - 3] == 0x22 and blob[start - 2] & 0x80:
        url = blob[start : start + ((blob[start - 2] & 0x7F) | (blob[start - 1] << 7))]
    candidate = url.decode("ascii", "ignore")
    return candidate if is_http(candidate) else None


def is_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def http_link(url: str | None, base: str | None = None) -> str | None:
    """A canonical absolute http(s) link, resolved against ``base``; None for anything else.

    ``javascript:``, ``mailto:``, ``data:`` and unparseable links are
    dropped here, so nothing downstream ever has to check a scheme.
    """
    if not url:
        return None
    url = clean_text(url).strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    return canonical_link(url) if is_http(url) else None
