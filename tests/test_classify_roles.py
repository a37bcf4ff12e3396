"""Roles: the title phrase attached to the person, never a neighbour's title."""

from __future__ import annotations

import pytest

from monitor.classify import classify
from monitor.people import person_keys
from monitor.records import Article

ROLES = [
    ("en-product-lead", "Gemini Live lead engineer Oskar Brandt leaves Google for OpenAI",
     "Oskar Brandt has left Google to join OpenAI.", "Oskar Brandt", "Gemini Live lead engineer"),
    ("en-head-of-lab", "Amazon loses a speech chief",
     "Nadia Fernholz, head of the speech lab at Amazon, has left the company for Meta.",
     "Nadia Fernholz", "head of the speech lab"),
    ("en-vp-of", "Tarek Ilsen joins Anthropic",
     "Tarek Ilsen, vice president of research at Cohere, has joined Anthropic.", "Tarek Ilsen",
     "vice president of research"),
    ("en-chief-ai-scientist", "Apple hires Meta's chief AI scientist Pieter Voss",
     "Apple has hired Pieter Voss from Meta.", "Pieter Voss", "chief AI scientist"),
    ("zh-title", "首席研究科学家许立文离开百度加入腾讯", "", "许立文", "首席研究科学家"),
    ("zh-unit-title", "阿里语音实验室负责人孙海涛离职", "孙海涛已离开阿里巴巴。", "孙海涛", "语音实验室负责人"),
    # The employer before an acronym title is not part of it; a product before a title is.
    ("en-employer-acronym", "Stability AI CEO Marta Lindqvist resigns",
     "Marta Lindqvist, who ran Stability AI, has stepped down.", "Marta Lindqvist", "CEO"),
    # "の" ends a Japanese title as 的 ends a Chinese one: the researcher, not "の研究者".
    ("ja-possessive", "OpenAIの研究者、山田花子氏がGoogleに移籍", "", "山田花子", "研究者"),
]


@pytest.mark.parametrize(("case_id", "title", "summary", "person", "role"), ROLES, ids=[r[0] for r in ROLES])
def test_role_is_the_phrase_attached_to_the_person(case_id: str, title: str, summary: str, person: str,
                                                     role: str) -> None:
    result = classify(Article(id=case_id, title=title, summary=summary))
    move = next(m for m in result.moves if m.person and person_keys(m.person) & person_keys(person))
    assert move.role is not None and move.role.casefold() == role.casefold()


def test_a_neighbours_title_is_not_taken() -> None:
    """Two people in one sentence: each keeps their own title, or none."""
    result = classify(Article(
        id="en-neighbour", title="Ravi Menon leaves xAI for OpenAI",
        summary="Ravi Menon left xAI for OpenAI, where CTO Lena Ortiz welcomed him.",
    ))
    move = next(m for m in result.moves if m.person == "Ravi Menon")
    assert move.role is None or "cto" not in move.role.casefold()
