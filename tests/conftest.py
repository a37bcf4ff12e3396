"""Shared fixtures: real servers on 127.0.0.1 and a way to run talentwatch as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPUS = ROOT.parent / "shared" / "corpus" / "feeds"

pytest_plugins = ["tests.support.feed_server", "tests.support.receivers", "tests.support.hostile_server"]

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                                                                      "https_proxy", "ALL_PROXY"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def run_cli() -> RunCli:
    """Run ``python main.py ARGS`` as a real subprocess and return its result."""

    def run(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *args],
            capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=cli_env(),
        )
        if check and result.returncode != 0:
            raise AssertionError(f"main.py {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    return run


def eventually(check: Callable[[], object], timeout: float = 60.0, every: float = 0.2) -> object:
    """Wait for ``check`` to return something truthy; the generous timeout is a bound, not a target."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {getattr(check, '__name__', check)}")
        time.sleep(every)
