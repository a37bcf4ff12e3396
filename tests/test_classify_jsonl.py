"""classify_file: JSON Lines of articles in, one prediction line per article out."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.classify.jsonl import classify_file


def test_writes_one_prediction_per_article_and_ignores_gold(tmp_path: Path) -> None:
    articles = [
        {"id": "a", "lang": "en", "title": "Nora Fisk leaves Anthropic for OpenAI",
         "summary": "Nora Fisk has left Anthropic to join OpenAI, she said on X.",
         "gold": {"personnel_change": False, "events": []}},
        {"id": "b", "title": "Mistral AI raises a new round", "summary": "The start-up raised money."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(a) for a in articles) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert classify_file(src, out) == 2
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["personnel_change"] is True
    event = rows[0]["events"][0]
    assert (event["person"], event["from_org"], event["to_org"]) == ("Nora Fisk", "Anthropic", "OpenAI")
    assert set(event) == {"person", "person_aliases", "from_org", "from_parent", "to_org", "to_parent",
                          "role", "status", "confidence", "evidence"}
    assert rows[1] == {"id": "b", "personnel_change": False, "events": []}


def test_shows_progress_on_stderr_when_asked(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "title": "t", "summary": "s"}) + "\n", encoding="utf-8")
    assert classify_file(src, tmp_path / "out.jsonl", progress=True) == 1
    assert "classify" in capsys.readouterr().err
