"""The classifier on hand-written sentences, one phenomenon each (tests/data/classify/cases.toml)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.catalog import default_catalog
from monitor.classify import classify
from monitor.people import person_keys
from monitor.records import Article, Move

CASES = tomllib.loads((Path(__file__).parent / "data" / "classify" / "cases.toml").read_text("utf-8"))["case"]


def _side_matches(expected: str, org: str | None, parent: str | None) -> bool:
    """The same company: the expected name and the move's side resolve to one catalog root."""
    if expected == "":
        return org is None
    catalog = default_catalog()
    wanted = catalog.resolve(expected)
    for name in (org, parent):
        found = catalog.resolve(name) if name else None
        if found is not None and wanted is not None and catalog.root(found).id == catalog.root(wanted).id:
            return True
        if name is not None and expected.casefold() in name.casefold():
            return True
    return False


def _matches(expected: list[str], move: Move) -> bool:
    person, from_org, to_org = expected
    if person == "":
        same = move.person is None
    else:
        same = bool(person_keys(person) & person_keys(move.person, move.person_aliases))
    return (
        same
        and _side_matches(from_org, move.from_org, move.from_parent)
        and _side_matches(to_org, move.to_org, move.to_parent)
    )


def _describe(moves: tuple[Move, ...]) -> list[tuple[Any, ...]]:
    return [(m.person, m.from_org, m.to_org) for m in moves]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    published = datetime.fromisoformat(case["published"]).replace(tzinfo=UTC) if "published" in case else None
    result = classify(Article(id=case["id"], title=case["title"], summary=case["summary"], published=published))
    if case.get("change", True) is False:
        assert not result.personnel_change, _describe(result.moves)
        assert result.moves == ()
        return
    assert result.personnel_change
    expected = case["moves"]
    assert len(result.moves) == len(expected), _describe(result.moves)
    for want in expected:
        assert any(_matches(want, m) for m in result.moves), (want, _describe(result.moves))
    # `statuses` (optional) gives each expected move's status, in the order of `moves`.
    for want, status in zip(expected, case.get("statuses", []), strict=False):
        move = next(m for m in result.moves if _matches(want, m))
        assert move.status == status, (want, move.status, move.evidence)


@pytest.mark.parametrize(("text", "count"), [
    ("at least 11 researchers left", 11), ("In 2024, two researchers left", 2), ("about a dozen engineers", 12),
    ("另有约十名工程师同行", 10), ("楽天のAI研究部門から十数人", 10), ("数十名研究员", 20),
    ("연구원 10명이 이직했다", 10),
])
def test_a_group_is_counted_from_its_head_count_never_from_a_year(text: str, count: int) -> None:
    from monitor.classify.article import _count

    assert _count(text) == count


def test_a_company_before_a_comma_is_not_the_one_hiring() -> None:
    """"... deal with voice startup Cadenza, hires its CEO": Google hires; no move goes to Cadenza."""
    title = "Google strikes licensing deal with voice startup Cadenza, hires its CEO"
    result = classify(Article(id="hirer", title=title,
                              summary="Google will license technology from Cadenza Voice and bring on its chief "
                                      "executive, Sofia Alvarado, chief technology officer Ben Adeyemi and about 20 "
                                      "of the startup's researchers, who will join Google DeepMind. The remaining "
                                      "Cadenza team will keep serving customers under interim CEO Laura Kim, the "
                                      "company said."))
    assert not any(m.to_org and m.to_org.startswith("Cadenza") for m in result.moves), _describe(result.moves)
