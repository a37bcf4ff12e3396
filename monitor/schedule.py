"""When to poll a feed next and when to retry an alert: pure functions of ``now``.

A feed's next poll is the latest of its interval, the server's own hints
(Retry-After, Cache-Control max-age) and its error backoff, so a failing or
rate-limiting server is asked less often, never more; backoff is capped
(a day) so no feed is ever silently abandoned.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta

MAX_FEED_BACKOFF = 24 * 3600.0
ALERT_RETRY_BASE = 10.0
# Seconds before the first retry of an alert; tests and local receivers set it lower.
RETRY_BASE_VARIABLE = "TALENTWATCH_ALERT_RETRY_BASE"
ALERT_RETRY_CAP = 3600.0
ALERT_MAX_AGE = 2 * 24 * 3600.0  # after this long undelivered, an alert is dead-lettered


def jittered(seconds: float, rng: random.Random | None = None, spread: float = 0.1) -> float:
    """Spread retries so that feeds failing together do not come back together."""
    r = rng or random
    return seconds * (1 + r.uniform(-spread, spread))


def next_poll(
    now: datetime,
    interval: float,
    *,
    error_count: int = 0,
    retry_after: float | None = None,
    max_age: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    wait = interval
    if error_count > 0:
        wait = max(wait, min(interval * 2 ** min(error_count, 20), MAX_FEED_BACKOFF))
    if retry_after is not None:
        wait = max(wait, min(retry_after, MAX_FEED_BACKOFF))
    if max_age is not None:
        wait = max(wait, min(max_age, MAX_FEED_BACKOFF))
    if error_count > 0:
        wait = jittered(wait, rng)
    return now + timedelta(seconds=wait)


def alert_retry_base() -> float:
    """The first retry delay: ``ALERT_RETRY_BASE``, unless the environment sets a positive number."""
    try:
        value = float(os.environ.get(RETRY_BASE_VARIABLE, ""))
    except ValueError:
        return ALERT_RETRY_BASE
    return value if value > 0 else ALERT_RETRY_BASE


def alert_retry_at(
    now: datetime,
    created: datetime,
    attempts: int,
    *,
    retry_after: float | None = None,
    max_age: float = ALERT_MAX_AGE,
    rng: random.Random | None = None,
    base: float | None = None,
) -> datetime | None:
    """When to try a failed alert again, or None when it has been failing too long (dead letter).

    Exponential from ``base`` (default ``alert_retry_base()``), capped at an
    hour, jittered by a quarter so alerts that failed together spread out;
    a receiver's ``Retry-After`` is a floor.
    """
    first = alert_retry_base() if base is None else base
    wait = min(first * 2 ** min(attempts - 1, 20), ALERT_RETRY_CAP)
    wait = jittered(wait, rng, spread=0.25)
    if retry_after is not None:
        wait = max(wait, retry_after)
    at = now + timedelta(seconds=wait)
    if at - created > timedelta(seconds=max_age):
        return None
    return at
