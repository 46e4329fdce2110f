"""Start the touchscreen app: Kivy prepared first (it reads its settings on import), then the app itself."""

from __future__ import annotations

from app.config import Settings
from app.ui.kivy_env import check_screen, prepare, window_size


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
    )
    from app.ui.app import KioskApp  # Kivy must not be imported before prepare()

    KioskApp(settings).run()
    return 0
