"""systemd's notify protocol, spoken to a real datagram socket: ready, watchdog pings, stopping."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.sdnotify import notify, watchdog_interval
from tests.conftest import ROOT, cli_env, eventually


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    try:
        yield sock, path
    finally:
        sock.close()


def drain(sock: socket.socket) -> list[str]:
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            return messages


def test_outside_systemd_nothing_is_sent() -> None:
    assert notify("READY=1", env={}) is False
    assert watchdog_interval(env={}) is None


def test_the_watchdog_is_pinged_at_half_its_timeout() -> None:
    assert watchdog_interval(env={"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval(env={"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None  # not ours


def test_a_message_reaches_the_socket(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    assert notify("READY=1", env={"NOTIFY_SOCKET": path})
    assert drain(sock) == ["READY=1"]


@pytest.mark.slow
def test_the_daemon_says_ready_pings_the_watchdog_and_says_stopping(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    config = tmp_path / "talentwatch.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "tw.db"}"\n[polling]\ninterval = "1h"\n', "utf-8")
    env = cli_env() | {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    seen: list[str] = []
    try:
        eventually(lambda: seen.extend(drain(sock)) or sum(m == "WATCHDOG=1" for m in seen) >= 2, timeout=60)
        assert any(m.startswith("READY=1") for m in seen)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        seen.extend(drain(sock))
        assert "STOPPING=1" in seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
