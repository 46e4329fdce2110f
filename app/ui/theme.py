"""Colours, sizes and fonts: readable at arm's length, targets a finger can hit."""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import LabelBase
from kivy.metrics import dp

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)

SYMBOL_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # ⌫ and friends, which the CJK font lacks

# Colours (RGBA), high contrast on a dark counter.
BACKGROUND = (0.09, 0.10, 0.12, 1)
PANEL = (0.16, 0.17, 0.20, 1)
PANEL_LIGHT = (0.25, 0.27, 0.31, 1)
TEXT = (0.96, 0.96, 0.96, 1)
MUTED = (0.65, 0.67, 0.70, 1)
PRIMARY = (0.11, 0.45, 0.85, 1)
APPROVED = (0.13, 0.62, 0.32, 1)
DECLINED = (0.80, 0.20, 0.18, 1)
WARNING = (0.93, 0.62, 0.10, 1)

TOUCH_TARGET = dp(64)  # the smallest thing a finger must hit
BAR_HEIGHT = dp(44)
WIDE_BAR = dp(700)  # narrower status bars (portrait) show only training, operator and language
FONT_SMALL = dp(18)
FONT_SIZE = dp(22)
FONT_LARGE = dp(34)
FONT_HUGE = dp(64)


class FontMissing(RuntimeError):
    pass


def register_fonts() -> None:
    """Make the CJK font the default, so every label can show Chinese and English alike."""
    font = next((f for f in CJK_FONTS if f.exists()), None)
    if font is None:
        raise FontMissing("no Chinese font found: apt install fonts-wqy-microhei")
    LabelBase.register("Roboto", str(font))  # Kivy's default font name: every widget uses it
    LabelBase.register("Symbols", str(SYMBOL_FONT if SYMBOL_FONT.exists() else font))
