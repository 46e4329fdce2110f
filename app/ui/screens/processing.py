"""处理中: what the engine is doing, in plain words, with a spinner that turns on the UI's clock.

The engine works on its own thread, so nothing here can hold it up; the spinner only shows the UI is alive.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from app.ui import engine_words, i18n
from app.ui.screens.base import PosScreen

TURN_DEGREES_PER_S = 300.0


class BusySpinner(Widget):
    angle = NumericProperty(0.0)
    active = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._turning = Clock.schedule_interval(self._turn, 1 / 30)

    def _turn(self, dt: float) -> None:
        if self.active and self.opacity > 0 and self.get_root_window() is not None:
            self.angle = (self.angle + TURN_DEGREES_PER_S * dt) % 360


class ProcessingScreen(PosScreen):
    screen_name = "processing"
    busy_screen = True
    words = StringProperty("")  # fixed words from whoever sent us here; "" shows the engine's own
    words_key = StringProperty("")  # or an i18n key, so that switching language redraws them
    live = StringProperty("")  # the engine's latest line since this screen showed

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listening = False

    def on_params(self, **params: Any) -> None:
        if not self._listening:
            self.pos_app.bind(progress=self._heard)
            self._listening = True
        self.words = params.get("words") or ""
        self.words_key = params.get("words_key") or ""
        self.live = ""  # a line from before we came here describes a moment that is over

    def _heard(self, _app: Any, line: str) -> None:
        self.live = line

    def heading(self, words: str, words_key: str, lang: str) -> str:
        if words:
            return words
        return i18n.tr(words_key or "processing_working", lang)

    def detail(self, live: str, lang: str) -> str:
        return engine_words.words(live, lang) if live else ""


i18n.add(
    {
        "processing_working": ("Working… please wait", "处理中，请稍候…"),
        # After the PIN or the application choice the card is still needed (the second GENERATE AC), whatever the
        # line below says the engine is doing.
        "processing_card": ("Processing — leave the card in the reader", "交易处理中，请勿拔卡"),
    }
)
