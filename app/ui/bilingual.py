"""Words the customer reads too: in the language shown, and below (or beside) them, smaller, in the other one.
The cashier chose the screen's language; the cardholder may read the other."""

from __future__ import annotations

from app.ui import i18n

OTHER_COLOUR = "#b0b4ba"


def both(key: str, lang: str, size: str = "18sp", sep: str = "\n") -> str:
    """Kivy markup: set `markup: True` on the label that shows it."""
    other = "en" if lang == "zh" else "zh"
    return f"{i18n.tr(key, lang)}{sep}[size={size}][color={OTHER_COLOUR}]{i18n.tr(key, other)}[/color][/size]"
