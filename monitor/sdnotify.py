"""systemd's notify protocol: tell the service manager we are ready, alive, reloading or stopping.

With ``Type=notify`` systemd waits for ``READY=1`` before it counts the
service as started, and with ``WatchdogSec=`` it restarts a daemon whose
event loop stops sending ``WATCHDOG=1``: a hung daemon is caught, not just a
dead one. Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def _address(env: Mapping[str, str]) -> str | None:
    path = env.get("NOTIFY_SOCKET")
    if not path or not path.startswith(("/", "@")):
        return None
    return "\0" + path[1:] if path.startswith("@") else path  # "@" names an abstract socket


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification; False when not under systemd or the socket is gone (never raises)."""
    address = _address(os.environ if env is None else env)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError:
        return False
    return True


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """How often to ping, in seconds (half of systemd's timeout), or None when no watchdog is asked for."""
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2_000_000
