"""Plain text and canonical links out of whatever a feed hands us.

Feeds carry HTML in titles and summaries, links wrapped in trackers
(Google Alerts' ``google.com/url?url=…``, ``utm_*`` parameters) and text
with NULs or lone surrogates that SQLite and JSON would choke on later.
Everything here is pure and total: it never raises on odd input, because a
single broken entry must not cost us the rest of its feed.

HTML becomes text through nh3 (a Rust sanitiser: drops scripts, styles and
comments, keeps only the structure we want) and then inscriptis (an
HTML-to-text renderer that knows block from inline elements, so paragraphs
and list items become lines and ``word<b>bold</b>`` stays one word).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit, urlunsplit

import nh3
from inscriptis import get_text

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

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_INLINE_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# What str.split() takes for space besides \n and _INLINE_SPACE (clean_text removes the rest of it).
_NOT_INLINE_SPACE = ("\r", "\x85", "\u1680", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")
_LOOKS_LIKE_HTML = re.compile(r"<[a-zA-Z!/][^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")


def clean_text(text: str) -> str:
    """Valid, storable text: no NULs, control characters or lone surrogates, NFC."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


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
            text = get_text(safe)
        except Exception:  # a renderer bug must not lose the entry: fall back to the raw text
            text = html
    else:
        text = html
    return _tidy(clean_text(text))[:limit].rstrip()


def plain_text(text: str, *, limit: int = MAX_TEXT) -> str:
    """Text that is already plain, made storable and tidy like ``html_to_text``'s output."""
    return _tidy(clean_text(text))[:limit].rstrip()


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n")
    if any(ch in text for ch in _NOT_INLINE_SPACE):
        lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    else:  # every space left is inline space: str.split folds it as the regex would, many times faster
        lines = [" ".join(line.split()) for line in text.split("\n")]
    text = "\n".join(lines)
    return (_MANY_NEWLINES.sub("\n\n", text) if "\n\n\n" in text else text).strip()


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
