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
