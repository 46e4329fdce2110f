"""No screen may show more of a card number than the first 6 and last 4 digits: every widget of every screen the
app has built is read, shown or not (a hidden label is one layout change away from being seen)."""

from __future__ import annotations

import re

from kivy.core.window import Window
from kivy.uix.widget import Widget

from app.domain.cards import luhn_ok
from app.sim.card_profiles import CARD_PROFILES
from app.sim.emulator.profiles import EMULATED_CARDS

KNOWN_PANS = {p.pan for p in CARD_PROFILES.values()} | {a.pan for c in EMULATED_CARDS.values() for a in c.apps}
DIGIT_RUN = re.compile(r"\d[\d ]{11,}\d")


def card_numbers_in(text: str) -> list[str]:
    """Known test card numbers, and any 13–19 digit run (spaces allowed) that passes the Luhn check."""
    found = {pan for pan in KNOWN_PANS if pan in text.replace(" ", "")}
    for run in DIGIT_RUN.findall(text):
        digits = run.replace(" ", "")
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.add(digits)
    return sorted(found)


def every_widget(root: Widget) -> list[Widget]:
    out, stack = [], [root]
    while stack:
        widget = stack.pop()
        out.append(widget)
        stack.extend(widget.children)
        stack.extend(getattr(widget, "screens", []))  # a ScreenManager's screens that are not on show
    return out


def assert_no_card_number_on_screen() -> int:
    """Returns how many texts were read, so a test can show the walk was not empty."""
    read = 0
    for widget in every_widget(Window):
        for name in ("text", "source", "label", "value", "shown"):
            value = getattr(widget, name, None)
            if isinstance(value, str) and value:
                read += 1
                found = card_numbers_in(value)
                assert not found, f"{type(widget).__name__}.{name} shows a full card number: {value!r}"
    return read
