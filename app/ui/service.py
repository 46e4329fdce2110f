"""The app's side of its systemd unit (systemd/kioskpos.service, Type=notify with WatchdogSec=).

READY=1 goes once the first screen after the engine's start is up. WATCHDOG=1 is sent from the UI thread's
Clock, so a frozen UI stops it, and only while the engine's worker thread lives, so a dead engine stops it too;
either way systemd kills and restarts the app. Outside systemd nothing is sent.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from app.system.notify import Notifier


class ServiceLink:
    def __init__(self, app: Any, notifier: Notifier | None = None) -> None:
        self.app = app
        self.notifier = notifier or Notifier.from_environment()
        self._pinger: Any = None

    def start(self) -> None:
        interval = self.notifier.watchdog_interval_s
        if interval is not None:
            self._pinger = Clock.schedule_interval(self._ping, interval)

    def ready(self, screen: str) -> None:
        self.notifier.ready(f"showing the {screen} screen")

    def stop(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        self.notifier.stopping()
        self.notifier.close()

    def _ping(self, _dt: float) -> None:
        bridge = self.app.bridge
        if bridge is not None and bridge.alive:
            self.notifier.watchdog()
