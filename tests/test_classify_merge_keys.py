"""One move told in Chinese and in English: the person keys the engine emits meet."""

from __future__ import annotations

from monitor.classify import classify
from monitor.people import person_keys
from monitor.records import Article, Move


def _only_move(title: str, summary: str) -> Move:
    result = classify(Article(id=title, title=title, summary=summary))
    assert len(result.moves) == 1, result.moves
    return result.moves[0]


def test_a_chinese_and_an_english_report_of_one_move_share_a_person_key() -> None:
    zh = _only_move("通义实验室语音负责人鄢志杰离职，加盟京东", "据悉，鄢志杰已从阿里巴巴离职，加盟京东探索研究院。")
    en = _only_move("Alibaba speech lead Yan Zhijie joins JD.com",
                    "Yan Zhijie has left Alibaba's Tongyi Lab to join JD.com's Explore Academy.")
    zh_keys = person_keys(zh.person, zh.person_aliases)
    en_keys = person_keys(en.person, en.person_aliases)
    assert zh_keys & en_keys
    assert zh.from_parent == en.from_parent and zh.to_parent == en.to_parent


def test_given_name_first_spelling_meets_too() -> None:
    zh = _only_move("李明远离开百度加入腾讯", "")
    en = _only_move("Mingyuan Li leaves Baidu for Tencent", "")
    assert person_keys(zh.person, zh.person_aliases) & person_keys(en.person, en.person_aliases)
