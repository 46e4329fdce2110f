"""sd_notify over a real unix datagram socket, as systemd listens: what is sent, and when nothing is."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.system.notify import Notifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)  # a ceiling: every message below is sent before it is read
    yield path, sock
    sock.close()


def test_ready_status_watchdog_and_stopping_are_what_systemd_reads(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    assert notifier.enabled and notifier.watchdog_interval_s == 15.0
    notifier.ready("showing the signin screen")
    notifier.watchdog()
    notifier.status("two\nlines")  # a newline would start a forged assignment: it becomes a space
    notifier.stopping()
    notifier.close()
    heard = [sock.recv(4096).decode() for _ in range(4)]
    assert heard == [
        "READY=1\nSTATUS=showing the signin screen",
        "WATCHDOG=1",
        "STATUS=two lines",
        "STOPPING=1\nSTATUS=stopping",
    ]


def test_an_abstract_socket_address_is_understood() -> None:
    name = f"kioskpos-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(30)
    try:
        notifier = Notifier.from_environment({"NOTIFY_SOCKET": "@" + name})
        notifier.ready("up")
        notifier.close()
        assert sock.recv(4096) == b"READY=1\nSTATUS=up"
    finally:
        sock.close()


def test_without_notify_socket_nothing_happens() -> None:
    notifier = Notifier.from_environment({"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled and notifier.watchdog_interval_s is None
    notifier.ready("up")  # no socket, no error
    notifier.watchdog()


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [("2000000", None, 1.0), ("2000000", "ours", 1.0), ("2000000", "1", None), ("0", None, None), ("x", None, None)],
)
def test_the_watchdog_is_only_ours_when_systemd_says_so(
    listener: tuple[str, socket.socket], usec: str, pid: str | None, expected: float | None
) -> None:
    environ = {"NOTIFY_SOCKET": listener[0], "WATCHDOG_USEC": usec}
    if pid is not None:
        environ["WATCHDOG_PID"] = str(os.getpid()) if pid == "ours" else pid
    notifier = Notifier.from_environment(environ)
    assert notifier.watchdog_interval_s == expected
    notifier.close()


def test_a_vanished_service_manager_does_not_stop_the_terminal(tmp_path: Path) -> None:
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    notifier.ready("up")  # ENOENT: logged once, not raised
    notifier.watchdog()
    notifier.close()


def test_a_service_manager_that_does_not_read_never_blocks_the_sender(listener: tuple[str, socket.socket]) -> None:
    """Its queue fills up (a few hundred datagrams); further pings are dropped rather than freezing the UI thread."""
    address, _never_read = listener
    notifier = Notifier(address)

    def ping_often() -> None:
        for _ in range(5000):
            notifier.watchdog()

    sent = threading.Thread(target=ping_often, daemon=True)
    sent.start()
    sent.join(10)
    assert not sent.is_alive(), "a ping blocked on the full socket"
    notifier.stopping()  # and the last word still returns
    notifier.close()
