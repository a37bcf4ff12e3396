"""Classification: an article in, the personnel moves it reports out.

Callers depend on the ``Engine`` protocol only, so another engine (an LLM
behind an OpenAI-compatible API, say) can stand in for the default one, which
works offline from the lexicons in ``config/lexicons`` and the catalog of
organisations.
"""

from __future__ import annotations

import functools
from typing import Protocol

from monitor.records import Article, Classification


class Engine(Protocol):
    def classify(self, article: Article) -> Classification: ...


@functools.cache
def default_engine() -> Engine:
    """The built-in rule engine; lexicons and catalog are loaded once per process."""
    from monitor.catalog import default_catalog
    from monitor.classify.engine import RuleEngine
    from monitor.classify.lexicon import load_lexicons
    from monitor.classify.orgs import OrgFinder

    return RuleEngine(load_lexicons(), OrgFinder(default_catalog()))


def classify(article: Article) -> Classification:
    """``default_engine().classify(article)``."""
    return default_engine().classify(article)


__all__ = ["Engine", "classify", "default_engine"]
