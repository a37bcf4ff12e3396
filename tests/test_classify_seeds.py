"""The story talentwatch was born from: Tongyi Lab's departures, in English and Indonesian."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.classify import classify
from monitor.people import person_keys
from monitor.records import Article, Classification, Move

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


def _seed(name: str) -> Classification:
    path = SEEDS / name
    if not path.exists():
        pytest.skip(f"{path} is not beside the checkout")
    title, _, summary = path.read_text("utf-8").partition("\n")
    return classify(Article(id=name, title=title, summary=summary))


def _move(result: Classification, person: str) -> Move:
    found = [m for m in result.moves if person_keys(person) & person_keys(m.person, m.person_aliases)]
    assert len(found) == 1, [(m.person, m.from_org, m.to_org) for m in result.moves]
    return found[0]


@pytest.mark.parametrize("seed", ["tongyi-talent-en.txt", "tongyi-talent-id.txt"])
def test_yan_zhijie_leaves_alibaba_for_jd_explore_academy(seed: str) -> None:
    move = _move(_seed(seed), "Yan Zhijie")
    assert move.from_parent == "Alibaba"
    assert move.to_org == "JD Explore Academy" and move.to_parent == "JD.com"
    assert "Zhijie Yan" in move.person_aliases


@pytest.mark.parametrize("seed", ["tongyi-talent-en.txt", "tongyi-talent-id.txt"])
def test_bo_liefeng_leaves_tongyi_for_tencent_hunyuan(seed: str) -> None:
    move = _move(_seed(seed), "Bo Liefeng")
    assert move.from_org == "Alibaba Tongyi Lab" and move.from_parent == "Alibaba"
    assert move.to_org == "Tencent Hunyuan" and move.to_parent == "Tencent"


def test_li_xiangang_joins_tongyi_from_01ai() -> None:
    move = _move(_seed("tongyi-talent-id.txt"), "Li Xiangang")
    assert move.from_parent == "01.AI"
    assert move.to_org == "Alibaba Tongyi Lab"


@pytest.mark.parametrize("seed", ["tongyi-talent-en.txt", "tongyi-talent-id.txt"])
def test_no_one_else_moves(seed: str) -> None:
    """Quoted experts, boilerplate headlines and the stop-over at Tencent are not moves."""
    result = _seed(seed)
    people = {m.person for m in result.moves}
    assert people <= {"Yan Zhijie", "Bo Liefeng", "Li Xiangang"}
    assert all(m.to_parent != "Tencent" for m in result.moves if m.person == "Yan Zhijie")
