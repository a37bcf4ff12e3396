"""The one exception root of talentwatch.

Every error we raise on purpose derives from ``TalentwatchError``; library
errors are translated where they enter our code (``raise ... from``), so a
caller handles ours and never guesses at httpx's, sqlite3's or feedparser's::

    TalentwatchError
    ├── ConfigError         a config file that cannot be used (file, key, problem)
    ├── FetchError          a feed or page could not be fetched
    │   ├── TransientFetchError   worth retrying later (timeouts, 5xx, 429)
    │   └── PermanentFetchError   will not get better by itself (404, 410, refused address)
    ├── ParseError          fetched bytes are not a usable feed
    ├── StorageError        the database refused or failed a write
    └── DeliveryError       an alert could not be delivered
        ├── TransientDeliveryError  try again later
        └── PermanentDeliveryError  retrying will not help (4xx, bad address)
"""

from __future__ import annotations


class TalentwatchError(Exception):
    """Root of every error talentwatch raises on purpose."""


class ConfigError(TalentwatchError):
    """A config file that cannot be used; ``problems`` lists every one found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(f"{path}: " + "; ".join(self.problems))


class FetchError(TalentwatchError):
    """A feed or page could not be fetched."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TransientFetchError(FetchError):
    """Worth retrying later: timeouts, connection errors, 429 and 5xx."""


class PermanentFetchError(FetchError):
    """Will not get better by itself: 4xx, a refused address, a body over the cap."""


class ParseError(TalentwatchError):
    """Fetched bytes are not a usable feed."""


class StorageError(TalentwatchError):
    """The database refused or failed an operation."""


class DeliveryError(TalentwatchError):
    """An alert could not be delivered."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientDeliveryError(DeliveryError):
    """Try again later: 5xx, 408, 429, timeouts, connection refused."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: other 4xx, a rejected recipient."""
