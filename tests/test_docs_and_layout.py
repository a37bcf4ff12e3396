"""Docs that cannot drift, and a layout that imports what it should."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

import config
import monitor
import storage
from config.schema import Settings
from main import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def config_keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        keys.add(field.alias or name)
        annotation = field.annotation
        for inner in getattr(annotation, "__args__", ()) or (annotation,):
            for leaf in getattr(inner, "__args__", ()) or (inner,):
                if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                    keys |= config_keys(leaf)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= config_keys(annotation)
    return keys


@pytest.mark.parametrize("key", sorted(config_keys(Settings)))
def test_every_config_key_is_in_the_readme(key: str) -> None:
    assert re.search(rf"(^|\s|\[|\.){re.escape(key)}( =|\])", README, re.M), f"README does not show config key {key!r}"


def test_every_command_is_in_the_readme() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        assert f"main.py {name}" in README, f"README does not document 'main.py {name}'"


def test_the_readme_shows_the_two_setup_commands() -> None:
    assert "make run" in README and "make test" in README


def test_top_level_packages_are_this_repositorys_own() -> None:
    for package in (config, monitor, storage):
        assert package.__file__ is not None
        assert package.__file__.startswith(str(ROOT)), f"{package.__name__} comes from {package.__file__}"
