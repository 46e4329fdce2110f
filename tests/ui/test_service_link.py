"""The watchdog is fed only while the engine's worker thread lives: a dead engine starves it, and systemd then
restarts the app. A real Bridge with a real terminal, and a real notify socket."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

from app.bootstrap import build_terminal
from app.system.notify import Notifier
from app.ui.bridge import Bridge
from app.ui.service import ServiceLink
from tests.conftest import Rig


def test_pings_stop_when_the_engine_thread_is_gone(ui_rig: Rig, tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(path)
    manager.settimeout(30)
    bridge = Bridge(lambda: build_terminal(ui_rig.settings))
    link = ServiceLink(SimpleNamespace(bridge=bridge), Notifier(path, 2_000_000))
    try:
        bridge.start()
        link._ping(1.0)
        assert manager.recv(4096) == b"WATCHDOG=1"
        bridge.stop()  # the worker thread ends
        assert not bridge.alive
        link._ping(1.0)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as test_side:
            test_side.sendto(b"marker", path)
        assert manager.recv(4096) == b"marker"  # the next datagram is ours: no WATCHDOG=1 came before it
    finally:
        link.stop()
        manager.close()
