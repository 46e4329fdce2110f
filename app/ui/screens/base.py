"""What every screen has: a name, the app, and `on_params` for what the previous screen handed over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from kivy.app import App
from kivy.uix.screenmanager import Screen

if TYPE_CHECKING:
    from app.ui.app import KioskApp


class PosScreen(Screen):
    screen_name: ClassVar[str] = ""
    # Screens a card transaction or a question passes through: the idle lock waits until they are done.
    busy_screen: ClassVar[bool] = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(name=self.screen_name, **kwargs)

    @property
    def pos_app(self) -> KioskApp:
        app: KioskApp = App.get_running_app()
        return app

    def on_params(self, **params: Any) -> None:
        """Called by `app.go(name, **params)` before the screen shows."""
