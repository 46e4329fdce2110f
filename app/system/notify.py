"""sd_notify(3) over $NOTIFY_SOCKET with the standard library: READY=1, STATUS=, WATCHDOG=1, STOPPING=1.

Twenty lines of socket code are not worth a dependency; outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.watchdog_usec = watchdog_usec
        self._address: str | bytes | None = None
        self._socket: socket.socket | None = None
        self._complained = False
        if address:
            # A leading "@" names a socket in the abstract namespace (sd_notify(3)).
            self._address = b"\0" + address[1:].encode() if address.startswith("@") else address
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            # The UI thread sends these: a service manager slow to read must not freeze a frame (or a shutdown).
            self._socket.setblocking(False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        return cls(environ.get("NOTIFY_SOCKET"), _watchdog_usec(environ))

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often to send WATCHDOG=1: half the deadline, as sd_watchdog_enabled(3) advises. None: no watchdog."""
        if not self.enabled or not self.watchdog_usec:
            return None
        return self.watchdog_usec / 2_000_000

    def ready(self, status: str) -> None:
        self._send({"READY": "1", "STATUS": status})

    def status(self, status: str) -> None:
        self._send({"STATUS": status})

    def watchdog(self) -> None:
        self._send({"WATCHDOG": "1"})

    def stopping(self, status: str = "stopping") -> None:
        self._send({"STOPPING": "1", "STATUS": status})

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _send(self, fields: dict[str, str]) -> None:
        if self._socket is None or self._address is None:
            return
        # One assignment per line: a newline inside a value would start a forged one.
        message = "\n".join(f"{key}={' '.join(value.split())}" for key, value in fields.items())
        try:
            self._socket.sendto(message.encode("utf-8"), self._address)
        except BlockingIOError:
            log.debug("service manager busy: %s dropped (the next one follows)", next(iter(fields)))
        except OSError as exc:
            # The service manager went away or never listened: the terminal works on; say so once.
            if not self._complained:
                log.warning("cannot notify the service manager at %s: %s", self._address, exc.strerror or exc)
                self._complained = True


def _watchdog_usec(environ: Mapping[str, str]) -> int | None:
    """WATCHDOG_USEC, if it is meant for this process (WATCHDOG_PID unset or ours), as sd_watchdog_enabled does."""
    usec, pid = environ.get("WATCHDOG_USEC", ""), environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec)
