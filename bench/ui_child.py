"""The processes bench/ui.py measures. Each prints `READY <figures…>` when it has what it was started for.

    python -m bench.ui_child hello|app|transitions|frames CONFIG

The environment (SDL offscreen, KIVY_HOME) comes from the parent; Kivy is imported only after it is set.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from bench.ui import READY, rss_kib

SIZE = (800, 480)
ROUNDS = 20


def hello() -> None:
    from kivy.config import Config

    Config.set("graphics", "width", str(SIZE[0]))
    Config.set("graphics", "height", str(SIZE[1]))
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.label import Label

    class Hello(App):
        def build(self) -> Label:
            Window.bind(on_flip=self.first_frame)
            return Label(text="hello")

        def first_frame(self, *_args: object) -> None:
            print(READY, rss_kib(), flush=True)
            Window.unbind(on_flip=self.first_frame)
            self.stop()

    Hello().run()


def pos_app(config: Path) -> None:
    from app.config import load_settings
    from app.ui.kivy_env import prepare, window_size

    settings = load_settings(config)
    settings = replace(settings, ui=replace(settings.ui, kiosk=False))
    prepare(config.parent / "kivy", window_size(settings.ui.screen, 0), kiosk=False, headless=True)
    from kivy.core.window import Window

    from app.ui.app import KioskApp

    pos = KioskApp(settings)

    def first_screen(*_args: object) -> None:
        manager = pos.manager
        if manager is not None and manager.current in ("signin", "home") and not manager.transition.is_active:
            print(READY, rss_kib(), flush=True)
            Window.unbind(on_flip=first_screen)
            pos.stop()

    Window.bind(on_flip=first_screen)
    pos.run()


def main() -> None:
    kind, config = sys.argv[1], Path(sys.argv[2])
    if kind == "hello":
        hello()
    elif kind == "app":
        pos_app(config)
    else:
        from bench.ui_flows import run_flow

        run_flow(kind, config, ROUNDS)


if __name__ == "__main__":
    main()
