"""A slip as a picture of the paper: 1-bit, `profile.dots` wide, black print on white, in the printer's grid.

A thermal printer's font A is a 12 x 24 dot cell (Han characters 24 x 24), double size doubles every dot, and
bold strikes twice. The picture is built the same way: one glyph per cell, size 2 is the size-1 row scaled up
pixel for pixel. Demo mode shows it and saves it; printers that print Chinese as pictures get the same rows.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from app.devices.printer import replace_whole
from app.devices.printing.fonts import Face, load
from app.devices.printing.layout import (
    Block,
    Measure,
    QrRow,
    Row,
    clean_controls,
    display_width,
    layout,
    native_width,
)
from app.devices.printing.profile import Chinese, PrinterProfile
from app.domain.receipt import Align, Receipt

LINE_GAP = 6  # dots fed after each line: ~30 dots per line of font A, the usual default line spacing
TOP_MARGIN = 12  # blank paper above the first line, as the slip comes out of the printer
BOTTOM_MARGIN = 24  # and below the last, up to the tear bar or cutter
INK, PAPER = 0, 1  # pixel values in mode "1"
LATIN_EM_PER_CELL = 0.6  # a monospace font's advance is 0.6 em: the cell width fixes the font size
NOTDEF = "\U0010fffd"  # a private-use character no font has: what "no glyph" looks like in a font


def render_png(receipt: Receipt, profile: PrinterProfile) -> Image.Image:
    """The slip as it comes out of the printer (mode "1"; save it as PNG)."""
    measure = measure_for(profile)
    strips = [draw_block(block, profile, measure) for block in layout(receipt, profile, measure, clean_controls)]
    page = Image.new("1", (profile.dots, TOP_MARGIN + sum(s.height for s in strips) + BOTTOM_MARGIN), PAPER)
    y = TOP_MARGIN
    for strip in strips:
        page.paste(strip, (0, y))
        y += strip.height
    return page


def save_png(receipt: Receipt, profile: PrinterProfile, path: Path) -> Path:
    """Write the picture to `path` (replaced whole, never half-written). Raises OSError."""
    return replace_whole(path, lambda tmp: render_png(receipt, profile).save(tmp, format="PNG"))


def measure_for(profile: PrinterProfile) -> Measure:
    """Cells per character on this printer's paper (see layout.native_width)."""
    return native_width if profile.chinese is Chinese.NATIVE else display_width


def draw_block(block: Block, profile: PrinterProfile, measure: Measure) -> Image.Image:
    return _draw_qr(block, profile) if isinstance(block, QrRow) else draw_row(block, profile, measure)


def draw_row(row: Row, profile: PrinterProfile, measure: Measure) -> Image.Image:
    """One printed line, `profile.dots` wide, with the line spacing below it."""
    cell = profile.dots // profile.columns
    strip = Image.new("1", (profile.dots // row.size, 2 * cell), PAPER)
    text_width = measure(row.text) * cell
    x = {Align.LEFT: 0, Align.CENTER: (strip.width - text_width) // 2, Align.RIGHT: strip.width - text_width}
    _draw_text(strip, max(0, x[row.align]), row, measure, cell)
    if row.size > 1:
        strip = strip.resize((strip.width * row.size, strip.height * row.size), Image.Resampling.NEAREST)
    line = Image.new("1", (profile.dots, strip.height + LINE_GAP), PAPER)
    line.paste(strip, (0, 0))
    return line


def _draw_text(strip: Image.Image, x: int, row: Row, measure: Measure, cell: int) -> None:
    for ch in row.text:
        cells = measure(ch)
        if not ch.isspace():
            strip.paste(INK, (x, 0), _glyph(ch, cells, row.bold, cell))
        x += cells * cell


@lru_cache(maxsize=4096)
def _glyph(ch: str, cells: int, bold: bool, cell: int) -> Image.Image:
    """The ink of one character in its cells, as a mode "1" mask (1 = ink)."""
    face, strike_twice = _face_for(ch, cells, bold)
    font = load(face, round(cell / LATIN_EM_PER_CELL) if face is not Face.CJK else 2 * cell)
    coverage = Image.new("L", (cells * cell, 2 * cell), 0)
    draw = ImageDraw.Draw(coverage)
    x = (coverage.width - font.getlength(ch)) / 2
    # "lm": the middle between ascender and descender on the cell's middle line centres both Han characters
    # (24 px WenQuanYi) and Latin ones (baseline 19 of 24 in 20 px DejaVu) the way printer fonts sit.
    for dx in (0, 1) if strike_twice else (0,):
        draw.text((x + dx, coverage.height / 2), ch, font=font, fill=255, anchor="lm")
    # Thermal dots are on or off: keep what is at least half covered.
    return coverage.point(lambda v: 255 if v >= 128 else 0).convert("1")


def _face_for(ch: str, cells: int, bold: bool) -> tuple[Face, bool]:
    """Which font draws `ch`, and whether to strike it twice (one dot apart) for bold, as printers do."""
    if cells == 1:
        latin = Face.LATIN_BOLD if bold else Face.LATIN
        if _has_glyph(latin, ch) or not _has_glyph(Face.CJK, ch):
            return latin, False
    return Face.CJK, bold


@lru_cache(maxsize=4096)
def _has_glyph(face: Face, ch: str) -> bool:
    # Pillow does not expose a font's character map; a glyph that renders as the missing-glyph box is missing.
    font = load(face, 20)
    return _ink(font, ch) != _ink(font, NOTDEF)


def _ink(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    image = Image.new("L", (48, 48), 0)
    ImageDraw.Draw(image).text((8, 24), ch, font=font, fill=255, anchor="lm")
    return image.tobytes()


def _draw_qr(block: QrRow, profile: PrinterProfile) -> Image.Image:
    side = block.modules * block.module_dots
    image = Image.new("1", (profile.dots, side), PAPER)
    draw = ImageDraw.Draw(image)
    left = (profile.dots - side) // 2  # the printer centres it (ESC a 1)
    for y, line in enumerate(block.matrix):
        for x, dark in enumerate(line):
            if dark:
                x0, y0 = left + x * block.module_dots, y * block.module_dots
                draw.rectangle((x0, y0, x0 + block.module_dots - 1, y0 + block.module_dots - 1), fill=INK)
    return image
