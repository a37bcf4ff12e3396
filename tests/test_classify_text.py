"""Language detection, sentence splitting and robustness of the classifier on any text."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.classify import classify, default_engine
from monitor.classify import text as text_module
from monitor.classify.engine import RuleEngine
from monitor.classify.lexicon import MOVE_KINDS
from monitor.classify.names import aliases
from monitor.classify.text import _ends, clean, detect_language, sentences
from monitor.classify.trie import phrase_pattern, presence_pattern
from monitor.records import Article, Classification


def _lexicons():  # type: ignore[no-untyped-def]
    engine = default_engine()
    assert isinstance(engine, RuleEngine)
    return engine.lexicons


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The lab's chief scientist has left the company after a decade.", "en"),
        ("Peneliti senior itu meninggalkan perusahaan dan bergabung dengan startup baru.", "id"),
        ("Der Forscher verlässt das Unternehmen und wechselt zu einem Konkurrenten.", "de"),
        ("La chercheuse quitte la société et rejoint une start-up de la capitale.", "fr"),
        ("El investigador deja la empresa y se une a una startup de la ciudad.", "es"),
        ("前百度研究员加盟字节跳动，负责多模态方向。", "zh"),
        ("前社長の山田氏がOpenAIの日本法人に移籍した。", "ja"),
        ("네이버 연구원이 구글 딥마인드에 합류했다.", "ko"),
    ],
)
def test_detects_the_language(text: str, lang: str) -> None:
    assert detect_language(text, _lexicons()) == lang


def test_sentences_keep_initials_and_abbreviations_whole() -> None:
    text = "J. R. Smith left Acme Inc. last week. He joined OpenAI。他加入了腾讯！Then more"
    assert sentences(text) == [
        "J. R. Smith left Acme Inc. last week.", "He joined OpenAI。", "他加入了腾讯！", "Then more",
    ]


def test_clean_decodes_entities_and_drops_tags() -> None:
    assert clean("<p>Ng &amp; co&#8217;s <b>lab</b></p>") == "Ng & co's lab"


def test_chinese_names_get_pinyin_in_both_orders() -> None:
    assert aliases("鄢志杰", "han") == ("Yan Zhijie", "Zhijie Yan")
    assert aliases("Junyang Lin", "latin") == ("Lin Junyang",)
    assert aliases("Nicholas Carlini", "latin") == ()


def test_html_and_entities_in_a_feed_summary_still_classify() -> None:
    article = Article(
        id="html",
        title="Researcher leaves OpenAI for Anthropic",
        summary="<p>Marta Lindqvist&nbsp;has left <b>OpenAI</b> for Anthropic, she said on X.</p>",
    )
    result = classify(article)
    assert [(m.person, m.from_org, m.to_org) for m in result.moves] == [("Marta Lindqvist", "OpenAI", "Anthropic")]
    assert result.moves[0].status == "confirmed"


def test_a_very_long_summary_is_read_without_trouble() -> None:
    filler = "The market for accelerators keeps growing in every region. " * 2000
    article = Article(id="long", title="Jon Varga leaves Google DeepMind for xAI", summary=filler)
    result = classify(article)
    assert result.personnel_change


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=st.text(max_size=200), summary=st.text(max_size=600))
def test_any_text_gives_a_classification(title: str, summary: str) -> None:
    result = classify(Article(id="x", title=title, summary=summary))
    assert isinstance(result, Classification)
    for move in result.moves:
        assert 0.0 <= move.confidence <= 1.0
        assert move.from_org or move.to_org


CUES = ["leaves", "joins", "OpenAI", "Meta", "former", "离职", "加盟", "腾讯", "Yan Zhijie", "He", "'s", ",", "."]


@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.sampled_from(CUES), max_size=30))
def test_shuffled_cues_never_raise(words: list[str]) -> None:
    result = classify(Article(id="y", title=" ".join(words[:8]), summary=" ".join(words)))
    assert isinstance(result, Classification)


# ── the fast paths of clean() and sentences() give what a regex over every character gave ──

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ud800-\udfff\ufff0-\uffff]")
_WIDE = "\t\u00a0\u2002\u2003\u2009\u200a\u202f\u3000"
_SPACES = re.compile(f" [ {_WIDE}]+|[{_WIDE}][ {_WIDE}]*")
_END = re.compile(
    r"[!?](?=\s*\S)|\.(?=\s+[\"'(\[*•\-]?[A-Z\u00c0-\u00de0-9\u3040-\u9fff\uac00-\ud7a3])|[。！？；;\n]"
)
_ODD = st.sampled_from([*"ab .!?;:\n\tA1\"(•-", "\x00", "\x01", "\x7f", "\x85", "\u00a0", "\u200b", "\u2028",
                                                    "\u2060", "\u3000", "\ufffd", "\ufffc", "\ufff9", "\uffff",
                                                    "\ud800", "é", "中", "。", "！", "；", "\u2005", "  "])


@settings(max_examples=500, deadline=None)
@given(st.lists(_ODD, max_size=16).map("".join))
def test_spaces_and_control_characters_go_as_a_regex_over_every_character_took_them(text: str) -> None:
    assert clean(text) == _regex_clean(text)


def _regex_clean(text: str) -> str:
    """``clean`` as it was written first: every regex over every text."""
    if not text.isascii():
        for char, plain in text_module._PLAIN:
            text = text.replace(char, plain)
    text = text.replace("\x00", "")
    return _CONTROL.sub("", _SPACES.sub(" ", text)).strip()


@settings(max_examples=500, deadline=None)
@given(st.lists(_ODD, max_size=16).map("".join))
def test_sentences_end_where_a_regex_over_every_character_ended_them(text: str) -> None:
    assert _ends(text) == [m.start() for m in _END.finditer(text)]


# ── the move-word test finds a move word exactly where the full cue scan finds one ──

_PHRASES = ["leaves", "left", "ex-", "d'", "steps down", "离职", "가", "퇴사", "moves to"]
_AROUND = st.sampled_from([*_PHRASES, " ", "-", "x", "é", "中", "한", ".", "'", "\n", "co", "s", "1"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_AROUND, max_size=12).map("".join))
def test_the_presence_pattern_finds_a_phrase_wherever_the_full_pattern_does(text: str) -> None:
    full, present = phrase_pattern(_PHRASES), presence_pattern(_PHRASES)
    assert (present.search(" " + text) is not None) == (full.search(text) is not None)


def test_every_lexicon_tells_a_move_word_as_its_cues_do() -> None:
    for lexicon in _lexicons().values():
        moving = [p for p, kinds in lexicon.kinds_of.items() if kinds & MOVE_KINDS]
        for phrase in moving:
            for text in (phrase, f"A {phrase}.", f"x{phrase}", f"({phrase})"):
                found = any(c.kinds & MOVE_KINDS for c in lexicon.cues(text))
                assert lexicon.may_move(text) or not found, (lexicon.lang, text)
