"""Durations as people write them in a config file or on the command line.

Polling intervals, timeouts and ``--since 30d`` are all durations; users
write them the way they say them ("15m", "2h", "1h30m", "7d") and the rest
of talentwatch only ever sees float seconds. A bare number means seconds,
so ``timeout = 20`` and ``timeout = "20s"`` agree.
"""

from __future__ import annotations

import math
import re

_UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}

_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_WHOLE = re.compile(r"(?:(?:\d+(?:\.\d+)?|\.\d+)\s*(?:ms|s|m|h|d|w)\s*)+", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")

HINT = "use e.g. 30s, 15m, 2h"


def parse_duration(text: str | int | float) -> float:
    """Return the number of seconds ``text`` stands for.

    Raises ValueError with a message fit to show a user as is, because the
    config loader and the command line both print it unchanged.
    """
    if isinstance(text, bool):
        raise ValueError(f"{str(text).lower()} is not a duration ({HINT})")
    if isinstance(text, int | float):
        seconds = float(text)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{text!r} is not a duration: it must be a positive number of seconds")
        return seconds
    if not isinstance(text, str):
        kind = {list: "an array", tuple: "an array", dict: "a table"}.get(type(text), type(text).__name__)
        raise ValueError(f"{kind} is not a duration ({HINT})")
    stripped = text.strip()
    if stripped.startswith("-"):
        raise ValueError(f"{text!r} is not a duration: it cannot be negative")
    if _NUMBER.fullmatch(stripped):
        return float(stripped)
    if not stripped or not _WHOLE.fullmatch(stripped):
        shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
        raise ValueError(f"{shown} is not a duration ({HINT})")
    total = 0.0
    for number, unit in _PART.findall(stripped):
        total += float(number) * _UNITS[unit.lower()]
    return total


def format_duration(seconds: float) -> str:
    """The shortest config-style spelling of ``seconds``, e.g. 5400 -> "1h30m".

    The output parses back to the same value, so summaries and warnings can
    quote a duration in the form a user would type into the file.
    """
    if not math.isfinite(seconds):
        raise ValueError(f"{seconds!r} is not a finite number of seconds")
    if seconds < 0:
        return "-" + format_duration(-seconds)
    whole = int(seconds)
    fraction = round(seconds - whole, 3)
    if fraction >= 1:
        whole, fraction = whole + 1, 0.0
    if whole == 0:
        if fraction == 0:
            return "0s"
        millis = round(fraction * 1000)
        return f"{millis}ms" if millis == fraction * 1000 else f"{fraction:g}s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    if whole or fraction:
        parts.append(f"{whole + fraction:g}s")
    return "".join(parts)
