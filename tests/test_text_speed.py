"""The fast paths of ``monitor.text`` give exactly what the regexes they replace gave.

Entry content hashes are computed from the extracted text: a different
result would make every stored entry look changed and be classified again.
So whitespace folded by ``str.split`` and control characters found in UTF-8
bytes are compared with the per-character regexes, on generated odd input.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import text

_MANY_NEWLINES = re.compile(r"\n{3,}")
_INLINE_SPACE = text._INLINE_SPACE


def original_tidy(text: str) -> str:
    """``_tidy`` as it was: a regex over every line."""
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


WHITESPACE = st.sampled_from([" ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u2003", "\u3000", "\x85",
                              "\u2028", "\u1680", "\n\n\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WHITESPACE, st.text(max_size=5)), max_size=30).map("".join))
def test_the_fast_tidy_equals_the_regex_one(value: str) -> None:
    value = text.clean_text(value)
    assert text._tidy(value) == original_tidy(value)


CONTROL = st.sampled_from(["\x00", "\x01", "\x0b", "\x0c", "\x1f", "\x7f", "\ud800", "\udfff", "\ufffe", "\uffff",
                           "\t", "\n", "\r", "e\u0301", "\u00e9", "通义", "\U0001f600", "\ufffd"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(CONTROL, st.text(max_size=5)), max_size=30).map("".join))
def test_the_fast_clean_text_equals_the_regex_one(value: str) -> None:
    expected = unicodedata.normalize("NFC", text._CONTROL.sub("", value))
    assert text.clean_text(value) == expected


_HTML_ODD = st.sampled_from(["<p>", "</p>", "<br>", "<b>", "&amp;", "&#1;", "&#x0c;", "&#xFFFF;", "&#55296;", "&#0;",
                             "&DownBreve;", "&nbsp;", "&lt;", "e", "\u0301", " ", "\n", "中"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_HTML_ODD, max_size=20).map("".join))
def test_html_never_yields_a_character_clean_text_would_remove(html: str) -> None:
    out = text.html_to_text(html)
    assert out == text.clean_text(out)
