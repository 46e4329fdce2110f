"""Column layout of a slip, shared by the ESC/POS and the picture renderers: which characters go on which printed
row, at which size and alignment.

Everything is counted in character cells of font A (`profile.columns` per line at size 1, half as many at size
2). How many cells a character takes depends on where it is printed, so the renderers pass a `measure`:
`display_width` on a screen or in a picture, `native_width` in a printer's Chinese mode. They also pass `clean`,
which turns what they cannot print into '?' before anything is measured, so the layout is of what prints.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import qrcode
from qrcode.exceptions import DataOverflowError

from app.devices.printing.profile import PrinterProfile
from app.domain.receipt import Align, Line, Pair, Qr, Receipt, Rule, SignatureBox, Text

Measure = Callable[[str], int]
Clean = Callable[[str], str]

SIGNATURE_BLANK_ROWS = 3  # room to sign, at normal size
QR_MAX_MODULE_DOTS = 6  # 0.75 mm modules at 203 dpi: scanned easily from thermal paper
QR_QUIET_MODULES = 4  # white modules each side of a QR code, by the standard
QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M  # thermal print fades and smudges


@dataclass(frozen=True)
class Row:
    """One printed line: at most `columns // size` cells of text."""

    text: str = ""
    align: Align = Align.LEFT
    bold: bool = False
    size: int = 1


QrMatrix = tuple[tuple[bool, ...], ...]  # dark (True) and light modules, rows top down, no quiet zone


@dataclass(frozen=True)
class QrRow:
    """A QR code, centred: `modules` squares across, each `module_dots` dots wide. The code is computed once, in
    the layout, and drawn from `matrix`: finding the best mask is most of what a slip picture costs."""

    data: str
    matrix: QrMatrix
    module_dots: int

    @property
    def modules(self) -> int:
        return len(self.matrix)


Block = Row | QrRow


def display_width(text: str) -> int:
    """Columns on a receipt printer or terminal: Han characters and full-width forms take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int, measure: Measure = display_width) -> list[str]:
    """Break at spaces where possible, else mid-word (Chinese has no spaces); never wider than `width`.
    Leading spaces indent the first line; lines after a break start with their first word."""
    words = text.lstrip(" ")
    lines: list[str] = []
    current = text[: len(text) - len(words)]
    for word in words.split(" "):
        candidate = f"{current} {word}" if current.strip(" ") else current + word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current.strip(" "):
            lines.append(current)
        current = ""
        for ch in word:
            # `current` is never empty when pushed: a lone character wider than the line stays on its own.
            if current and measure(current + ch) > width:
                lines.append(current)
                current = ""
            current += ch
    lines.append(current)
    return lines


def native_width(text: str) -> int:
    """Cells in a printer's Chinese mode (FS &): every double-byte GB18030 character is printed full-width from
    the printer's Han font, even those a screen shows narrow ('é', '·', '×', '…'); the rest as on a screen."""
    return sum(1 if ch.isascii() else 2 if _is_double_byte(ch) else display_width(ch) for ch in text)


def _is_double_byte(ch: str) -> bool:
    try:
        return len(ch.encode("gb18030")) == 2
    except UnicodeEncodeError:  # lone surrogates
        return False


def clean_controls(text: str) -> str:
    """Control characters and lone surrogates become '?': on paper they would be commands, in a picture nothing."""
    return "".join(" " if ch == "\t" else "?" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)


def layout(receipt: Receipt, profile: PrinterProfile, measure: Measure, clean: Clean) -> list[Block]:
    blocks: list[Block] = []
    for line in receipt.lines:
        blocks += _line_blocks(line, profile, measure, clean)
    return blocks


def _line_blocks(line: Line, profile: PrinterProfile, measure: Measure, clean: Clean) -> list[Block]:
    columns = profile.columns
    if isinstance(line, Text):
        return list(_text_rows(line, columns, measure, clean))
    if isinstance(line, Pair):
        return list(_pair_rows(line, columns, measure, clean))
    if isinstance(line, Rule):
        return [Row(_fill(clean(line.char) or "-", columns, measure))]
    if isinstance(line, SignatureBox):
        label = [Row(part) for part in wrap(clean(line.label), columns, measure)] if line.label else []
        return [*label, *[Row()] * SIGNATURE_BLANK_ROWS, Row(_fill("_", columns, measure))]
    return _qr_blocks(line, profile, measure, clean)


def _size(size: int) -> int:
    """Printers here know normal and double size; anything else in the model is taken as the nearer of them."""
    return 2 if size >= 2 else 1


def _text_rows(text: Text, columns: int, measure: Measure, clean: Clean) -> list[Row]:
    size = _size(text.size)
    rows = []
    # A line break in the model starts a new printed line; any other control character is cleaned away (not
    # str.splitlines, which also breaks at FS, GS and RS).
    for paragraph in text.text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        for part in wrap(clean(paragraph), columns // size, measure):
            # Trailing spaces would shift a centred or right-aligned line off centre.
            rows.append(Row(part if text.align is Align.LEFT else part.rstrip(" "), text.align, text.bold, size))
    return rows


def _pair_rows(pair: Pair, columns: int, measure: Measure, clean: Clean) -> list[Row]:
    size = _size(pair.size)
    cells = columns // size
    label, value = clean(pair.label), clean(pair.value)
    gap = cells - measure(label) - measure(value)
    if gap >= 1 or (gap == 0 and not (label and value)):
        return [Row(label + " " * gap + value, bold=pair.bold, size=size)]
    # Too long for one line: the label at normal size, the value right-aligned at its own size below it.
    rows = [Row(part, bold=pair.bold) for part in wrap(label, columns, measure)] if label else []
    for part in wrap(value, cells, measure) if value else []:
        rows.append(Row(" " * max(0, cells - measure(part)) + part, bold=pair.bold, size=size))
    return rows


def _fill(pattern: str, columns: int, measure: Measure) -> str:
    """`pattern` repeated to fill the line, never wider than it."""
    out = ""
    for ch in pattern * columns:  # enough: every character takes at least one cell
        if measure(out + ch) > columns:
            break
        out += ch
    return out


def _qr_blocks(qr: Qr, profile: PrinterProfile, measure: Measure, clean: Clean) -> list[Block]:
    # Surrogates cannot be encoded as UTF-8, which is what both the printer and the qrcode package are given.
    data = qr.data.encode("utf-8", "replace").decode("utf-8")
    if not data:
        return []
    matrix = qr_matrix(data)
    modules = len(matrix)
    module_dots = min(QR_MAX_MODULE_DOTS, profile.dots // (modules + 2 * QR_QUIET_MODULES)) if modules else 0
    if not module_dots:
        # More data than a QR code on this paper can hold: print what it says instead.
        return [Row(part) for part in wrap(clean(data), profile.columns, measure)]
    # A blank line above and below keeps the quiet zone white.
    return [Row(), QrRow(data, matrix, module_dots), Row()]


def qr_matrix(data: str) -> QrMatrix:
    """The smallest QR code holding `data`, or an empty matrix if none can."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=0)
    try:
        code.add_data(data)
        code.make(fit=True)
    except (DataOverflowError, ValueError):
        return ()
    return tuple(tuple(bool(cell) for cell in line) for line in code.get_matrix())
