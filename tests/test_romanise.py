"""Chinese names in pinyin: surnames read as surnames, no phrase dictionary, old events still found."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from monitor.catalog import default_catalog
from monitor.classify.names import aliases
from monitor.merge import is_same_event
from monitor.people import person_keys
from monitor.records import Move
from monitor.romanise import romanise
from storage import events as events_db
from storage import open_store
from storage.migrations import MIGRATIONS, migrate

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 8, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("name", "expected"), [
    ("曾志杰", ("zeng", "zhijie")), ("单田芳", ("shan", "tianfang")), ("解缙", ("xie", "jin")),
    ("区志航", ("ou", "zhihang")), ("朴树", ("piao", "shu")), ("仇英", ("qiu", "ying")),
    ("查良镛", ("zha", "liangyong")), ("乐嘉", ("yue", "jia")), ("盖聂", ("ge", "nie")),
    ("缪杰", ("miao", "jie")), ("覃宇", ("qin", "yu")), ("尉迟敬德", ("yuchi", "jingde")),
    ("欧阳娜娜", ("ouyang", "nana")), ("萬俟卨", ("moqi", "xie")), ("鄢志杰", ("yan", "zhijie")),
    ("王", ("wang", "")),
])
def test_surnames_are_read_as_surnames(name: str, expected: tuple[str, str]) -> None:
    assert romanise(name) == expected


def test_aliases_and_keys_agree_on_the_reading() -> None:
    assert aliases("曾志杰", "han") == ("Zeng Zhijie", "Zhijie Zeng")
    assert person_keys("曾志杰") & person_keys("Zeng Zhijie")
    assert person_keys("曾志杰") & person_keys("Zhijie Zeng")
    assert not person_keys("曾志杰") & person_keys("Ceng Zhijie")
    assert person_keys("鄢志杰") & person_keys("Yan Zhijie")
    assert person_keys("欧阳娜娜", aliases("欧阳娜娜", "han")) & person_keys("Nana Ouyang")


def test_no_process_loads_the_phrase_dictionary() -> None:
    """The classifier and the merge keys read Chinese names without pypinyin's 45 MB phrase table."""
    code = ("import sys; from monitor.classify import classify; from monitor.records import Article; "
            "from monitor.people import person_keys; "
            "r = classify(Article(id='a', title='通义实验室语音负责人鄢志杰离职，加盟京东', summary='')); "
            "assert person_keys('鄢志杰') & person_keys('Yan Zhijie'); "
            "print(sorted(m for m in sys.modules if m.startswith('pypinyin.phrases')), len(r.moves))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.split() == ["[]", "1"]


def test_an_event_stored_under_old_keys_meets_a_new_report(tmp_path: Path) -> None:
    """A database made before surname readings: the migration adds the keys a new report looks for."""
    path = tmp_path / "tw.db"
    old = sqlite_utils.Database(path)
    assert migrate(old, MIGRATIONS[:5]) == 5
    old.execute(
        "INSERT INTO events (id, person, from_org, to_org, confidence, status, person_aliases, first_seen, updated) "
        "VALUES (1, '曾志杰', 'Alibaba', 'JD.com', 0.8, 'reported', ?, ?, ?)",
        [json.dumps(["Ceng Zhijie", "Zhijie Ceng"], ensure_ascii=False), NOW.isoformat(), NOW.isoformat()])
    old.conn.executemany("INSERT INTO event_keys (event_id, key) VALUES (1, ?)",
                         [("ceng zhijie",), ("cengzhijie",), ("zhijieceng",)])
    old.conn.commit()
    old.close()

    store = open_store(path)
    try:
        assert store.schema_version == len(MIGRATIONS)
        for report, script in (("Zeng Zhijie", "latin"), ("曾志杰", "han")):
            move = Move(person=report, from_org="Alibaba", to_org="JD.com", role=None, confidence=0.7,
                        status="reported", evidence="", person_aliases=aliases(report, script))
            keys = person_keys(move.person, move.person_aliases)
            [found] = events_db.events_with_keys(store, keys)
            assert found.id == 1
            assert is_same_event(found, move, default_catalog())
    finally:
        store.close()
