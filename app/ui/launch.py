"""Start the touchscreen app: Kivy prepared first (it reads its settings on import), then the app itself."""

from __future__ import annotations

import signal
import threading
from typing import Any

from app.config import Settings
from app.ui.kivy_env import check_screen, prepare, window_size

STOP_CHECK_S = 0.25


def run_app(settings: Settings, *, windowed: bool = False, headless: bool = False) -> int:
    ui = settings.ui
    if not headless:
        check_screen()
    prepare(
        settings.terminal.data_dir / "kivy",
        window_size(ui.screen, ui.rotation),
        kiosk=ui.kiosk and not windowed,
        rotation=ui.rotation,
        headless=headless,
        touch=ui.touch,
    )
    from kivy.clock import Clock  # Kivy must not be imported before prepare()

    from app.ui.app import KioskApp

    app = KioskApp(settings)
    # systemd stops the service with SIGTERM: close the app the ordinary way (the engine finishes its job, the
    # journal closes, the lock is released). The handler only raises a flag: Kivy's Clock is not re-entrant.
    stop = threading.Event()

    def stop_when_asked(_dt: float) -> None:
        if stop.is_set():
            app.stop()

    def on_sigterm(_signum: int, _frame: Any) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    watcher = Clock.schedule_interval(stop_when_asked, STOP_CHECK_S)
    try:
        app.run()
    finally:
        watcher.cancel()
        signal.signal(signal.SIGTERM, previous)
    return 0
