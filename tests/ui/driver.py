"""Drive the real KioskApp in this process: the real window (SDL offscreen), real frames, real touches.

Kivy has one window per process; each test gets a fresh app in it. `idle()` runs one turn of Kivy's event loop
(clock, input, drawing), exactly what `App.run()` does forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from app.config import Settings
from app.ui.app import KioskApp
from app.ui.screens.base import PosScreen

WAIT_S = 30.0  # a generous ceiling on waiting for the engine; a wait that ends early is the normal case


class UiTimeout(AssertionError):
    pass


class Driver:
    def __init__(self, settings: Settings) -> None:
        EventLoop.ensure_window()
        self.app = KioskApp(settings)
        App._running_app = self.app  # what App.run() sets: kv's `app` and App.get_running_app() rely on it
        self.root = self.app.build()
        self.app.root = self.root
        Window.add_widget(self.root)
        self._shot: Path | None = None
        Window.bind(on_flip=self._on_flip)

    def close(self) -> None:
        self.app.dispatch("on_stop")  # also lets kv's `app` move on to the next test's app
        Window.unbind(on_flip=self._on_flip)
        Window.remove_widget(self.root)
        App._running_app = None

    # -- time passes ---------------------------------------------------------------------------------------------

    def idle(self, frames: int = 1) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def wait_for(self, what: Callable[[], Any], describe: str, timeout_s: float = WAIT_S) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.idle()
            value = what()
            if value:
                self.idle(2)
                return value
            time.sleep(0.01)
        raise UiTimeout(f"waited {timeout_s:g} s for {describe}; on screen: {self.current} {self.texts()}")

    def wait_screen(self, name: str, timeout_s: float = WAIT_S) -> PosScreen:
        self.wait_for(lambda: self.current == name and not self.app.manager.transition.is_active, f"screen {name}",
                      timeout_s)  # fmt: skip
        return self.screen

    # -- what is on screen ---------------------------------------------------------------------------------------

    @property
    def settled(self) -> bool:
        """No screen transition under way."""
        return not self.app.manager.transition.is_active

    @property
    def current(self) -> str:
        return str(self.app.manager.current)

    @property
    def screen(self) -> PosScreen:
        screen: PosScreen = self.app.manager.current_screen
        return screen

    def shown(self, root: Widget | None = None) -> Iterator[Widget]:
        """Widgets a person can see: on the window, not transparent, not squeezed to nothing."""
        stack = [root or self.root]
        while stack:
            widget = stack.pop()
            if widget.opacity <= 0 or widget.width <= 0 or widget.height <= 0:
                continue
            if widget is not self.root and not _on_window(widget):
                continue
            if isinstance(widget, PosScreen) and widget is not self.screen:
                continue
            yield widget
            stack.extend(widget.children)

    def texts(self) -> list[str]:
        return [w.text for w in self.shown() if isinstance(w, Label) and w.text.strip()]

    def sees(self, text: str) -> bool:
        return any(text in shown for shown in self.texts())

    def wait_text(self, text: str, timeout_s: float = WAIT_S) -> None:
        self.wait_for(lambda: self.sees(text), f"{text!r} on screen", timeout_s)

    # -- a finger ------------------------------------------------------------------------------------------------

    def tap(self, widget: Widget) -> None:
        assert any(w is widget for w in self.shown()), f"{widget!r} is not on screen"
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.idle()
        touch.touch_up()
        self.idle(2)

    def tap_id(self, widget_id: str, screen: Widget | None = None) -> None:
        self.tap(self.find(widget_id, screen))

    def find(self, widget_id: str, screen: Widget | None = None) -> Widget:
        holder = screen or self.screen
        widget = holder.ids.get(widget_id)
        if widget is None:
            raise AssertionError(f"no widget {widget_id!r} on {self.current}")
        real: Widget = widget.__self__  # ids hold weak proxies; the tree holds the widgets
        return real

    def tap_text(self, text: str) -> None:
        """Press the button that shows `text` (the way a person finds it)."""
        from kivy.uix.button import Button

        buttons = [w for w in self.shown() if isinstance(w, Button) and not w.disabled and text in w.text]
        assert buttons, f"no button {text!r} on {self.current}: {self.texts()}"
        self.tap(buttons[0])

    def keys(self, digits: str, keypad_id: str = "keypad") -> None:
        keypad = self.find(keypad_id)
        for digit in digits:
            button = next(b for b in keypad.children if b.key == digit)
            self.tap(button)

    # -- pictures ------------------------------------------------------------------------------------------------

    def screenshot(self, path: Path) -> Path:
        """Taken while the frame is drawn (after the loop's drawing, the buffer reads back black)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._shot = path
        Window.canvas.ask_update()
        self.wait_for(lambda: self._shot is None, f"screenshot {path.name}")
        return path

    def _on_flip(self, window: Any) -> None:
        if self._shot is not None:
            saved = Path(window.screenshot(str(self._shot)))
            saved.replace(self._shot)  # Kivy numbers its screenshots: keep the name asked for
            self._shot = None


def _on_window(widget: Widget) -> bool:
    x, y = widget.to_window(widget.x, widget.y)
    return bool(x < Window.width and y < Window.height and x + widget.width > 0 and y + widget.height > 0)
