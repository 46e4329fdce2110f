"""Widgets more than one screen uses: the keypad, the entry field it fills, and the bar chart of settlement totals.

Their looks are in kv/widgets.kv; what they do is here.
"""

from __future__ import annotations

import secrets
from typing import Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout

DIGITS = "1234567890"
CLEAR, BACK = "clear", "back"


class KeypadButton(Button):
    key = StringProperty("")


class Keypad(GridLayout):
    """Digits, clear and backspace. `shuffled` redraws the digits in a random order (cardholder PIN entry),
    so that smudges and a watcher's eyes learn nothing from where a finger went."""

    shuffled = BooleanProperty(False)
    clear_label = StringProperty("C")
    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cols = 3
        self._buttons = [KeypadButton() for _ in range(12)]
        for button in self._buttons:
            button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
            self.add_widget(button)
        self.bind(shuffled=lambda *_a: self.arrange(), clear_label=lambda *_a: self.arrange())
        self.arrange()

    def arrange(self) -> None:
        digits = list(DIGITS)
        if self.shuffled:
            digits = [digits.pop(secrets.randbelow(len(digits))) for _ in range(len(DIGITS))]
        keys = [*digits[:9], CLEAR, digits[9], BACK]
        for button, key in zip(self._buttons, keys, strict=True):
            button.key = key
            button.text = {CLEAR: self.clear_label, BACK: "⌫"}.get(key, key)

    def press(self, key: str) -> None:
        """What a finger on `key` does (tests press through touches; this is for the hardware keyboard)."""
        self.dispatch("on_key", key)

    def on_key(self, key: str) -> None:
        pass


class EntryField(ButtonBehavior, BoxLayout):
    """A field the keypad fills. Never a TextInput: no system keyboard ever pops up at the counter.
    A `secret` field shows one dot per digit and nothing else."""

    label = StringProperty("")
    value = StringProperty("")
    shown = StringProperty("")
    secret = BooleanProperty(False)
    active = BooleanProperty(False)
    max_length = NumericProperty(12)

    def on_value(self, _field: Any, value: str) -> None:
        self.shown = "●" * len(value) if self.secret else value

    def on_secret(self, _field: Any, _secret: bool) -> None:
        self.on_value(self, self.value)

    def key(self, key: str) -> None:
        if key == CLEAR:
            self.value = ""
        elif key == BACK:
            self.value = self.value[:-1]
        elif key.isdigit() and len(self.value) < self.max_length:
            self.value += key


class BarRow(BoxLayout):
    label = StringProperty("")
    text = StringProperty("")
    share = NumericProperty(0.0)  # of the longest bar, 0..1


class BarChart(BoxLayout):
    """Horizontal bars, one per row: settlement totals at a glance."""

    bars = ListProperty([])  # [(label, value, text shown beside the bar)]

    def on_bars(self, _chart: Any, bars: list[tuple[str, int, str]]) -> None:
        self.clear_widgets()
        longest = max((abs(value) for _label, value, _text in bars), default=0) or 1
        for label, value, text in bars:
            self.add_widget(BarRow(label=label, text=text, share=abs(value) / longest))
