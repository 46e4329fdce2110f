"""The fonts slip pictures are drawn with, found where Debian's packages put them; nothing is ever downloaded.

DejaVu Sans Mono has the proportions of a receipt printer's font A (one cell is 0.6 em wide, so 20 px gives the
12-dot cell of a 203 dpi printer); WenQuanYi Micro Hei has the Han characters and full-width punctuation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

from PIL import ImageFont


class FontMissing(RuntimeError):
    """A font file the slip pictures need is not installed; the message names the Debian package."""


@dataclass(frozen=True)
class FontFile:
    path: Path
    package: str
    index: int = 0  # face inside a .ttc collection


class Face(Enum):
    LATIN = FontFile(Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"), "fonts-dejavu-core")
    LATIN_BOLD = FontFile(Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"), "fonts-dejavu-core")
    CJK = FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), "fonts-wqy-microhei")


def locate(font: FontFile) -> Path:
    """The font's file, or FontMissing with a one-line message saying which apt package installs it."""
    if not font.path.is_file():
        raise FontMissing(f"font {font.path} is missing: install it with `apt-get install {font.package}`")
    return font.path


@cache
def load(face: Face, size: int) -> ImageFont.FreeTypeFont:
    # The basic layout engine: one glyph at a time is all we draw, and libraqm (when present) must not make
    # pictures differ between machines.
    font: FontFile = face.value
    return ImageFont.truetype(str(locate(font)), size, index=font.index, layout_engine=ImageFont.Layout.BASIC)
