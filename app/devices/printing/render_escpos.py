"""A slip as ESC/POS, through python-escpos: text wherever the printer can print it, pictures where it cannot.

`render_escpos` initialises the printer once and prints the slip's lines; cutting, feeding to the tear bar and
closing the transport are the printing service's business. With `Chinese.NATIVE` the slip is framed by FS & ...
FS . (the printer's Chinese mode) and every line goes as text, GB18030-encoded; with `Chinese.IMAGE` a line with
anything but ASCII is drawn by render_png and sent as a raster picture, and ASCII lines go as text (a picture
line is ~50-70 times the bytes, and serial printers print as fast as the bytes arrive).
"""

from __future__ import annotations

import copy
from typing import Any

from escpos.capabilities import Profile as EscposProfile
from escpos.constants import QR_ECLEVEL_M, QR_MODEL_2
from escpos.escpos import Escpos
from escpos.printer import Dummy

from app.devices.printing.layout import QrRow, Row, clean_controls, layout
from app.devices.printing.profile import Chinese, PrinterProfile
from app.devices.printing.render_png import draw_row, measure_for
from app.domain.receipt import Align, Receipt

CHINESE_ON = b"\x1c\x26"  # FS &: double bytes >= 0x81 are GB18030 characters from here on
CHINESE_OFF = b"\x1c\x2e"  # FS .
# python-escpos' magic encoder writes a line as GB18030 only if it has one of these (and then the whole line).
MAGIC_GB18030 = range(0x4E00, 0x9FA6)


def render_escpos(receipt: Receipt, profile: PrinterProfile, printer: Escpos) -> None:
    """Print `receipt` on `printer` (any python-escpos printer, opened); no cut, no feed after the last line."""
    native = profile.chinese is Chinese.NATIVE
    measure = measure_for(profile)
    printer.hw("INIT")
    if native:
        printer._raw(CHINESE_ON)
    else:
        _tell_paper_width(printer, profile)
    for block in layout(receipt, profile, measure, _clean_native if native else clean_controls):
        if isinstance(block, QrRow):
            _qr(printer, block)
        elif native or block.text.isascii():
            _text_row(printer, block)
        else:
            _picture_row(printer, block, profile)
    if native:
        printer._raw(CHINESE_OFF)


def escpos_bytes(receipt: Receipt, profile: PrinterProfile) -> bytes:
    """The bytes `render_escpos` sends, captured with python-escpos' Dummy printer."""
    printer = Dummy(profile=escpos_profile(profile))
    render_escpos(receipt, profile, printer)
    return bytes(printer.output)


def escpos_profile(profile: PrinterProfile) -> Any:
    """A python-escpos profile that knows the paper: its default one says "Unknown" and then prints a notice to
    standard output for every picture."""
    escpos_profile = EscposProfile(columns=profile.columns)
    escpos_profile.profile_data = _with_paper_width(escpos_profile.profile_data, profile)
    return escpos_profile


def _tell_paper_width(printer: Escpos, profile: PrinterProfile) -> None:
    # Only this printer's own profile object is changed (its class data is shared by every printer of the model).
    width = printer.profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    if not isinstance(width, int):
        printer.profile.profile_data = _with_paper_width(printer.profile.profile_data, profile)


def _with_paper_width(data: dict[str, Any], profile: PrinterProfile) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["media"] = {"dpi": 203, "width": {"mm": profile.paper_mm, "pixels": profile.dots}}
    return data


def _clean_native(text: str) -> str:
    """What the printer's Chinese mode can print: ASCII and double-byte GB18030 (GBK); the rest becomes '?'."""
    return "".join(ch if _printable_native(ch) else "?" for ch in clean_controls(text))


def _printable_native(ch: str) -> bool:
    if ch.isascii():
        return True
    try:
        encoded = ch.encode("gb18030")
    except UnicodeEncodeError:
        return False
    # Four-byte GB18030 (emoji, rare Han, C1 controls) is beyond printer fonts; 0xAAA1-0xAFFE, 0xF8A1-0xFEFE and
    # 0xA140-0xA7A0 are the user-defined areas private-use characters map to, which print as blanks or garbage.
    return len(encoded) == 2 and not 0xE000 <= ord(ch) <= 0xF8FF


def _text_row(printer: Escpos, row: Row) -> None:
    align = row.align.value if row.align is not Align.LEFT else None
    bold = True if row.bold else None
    size = 2 if row.size > 1 else None
    styled = bool(align or bold or size)
    if styled:
        _style(printer, align, bold, size)
    if row.text.isascii() or any(ord(ch) in MAGIC_GB18030 for ch in row.text):
        printer.text(row.text + "\n")
    else:
        # Full-width punctuation, 'é', '·' and the like without a Han character: the magic encoder would look
        # for a single-byte code page for them (and print '?', or switch code pages mid Chinese mode).
        printer._raw(row.text.encode("gb18030") + b"\n")
    if styled:  # back to normal, undoing only what was set
        _style(printer, "left" if align else None, False if bold else None, 1 if size else None)


def _style(printer: Escpos, align: str | None, bold: bool | None, size: int | None) -> None:
    if size is None:
        printer.set(align=align, bold=bold)
    else:
        # GS ! (custom_size), not `double_width`/`double_height`: those send ESC !, which Chinese mode ignores for
        # Han characters (and ESC ! 0 would not undo a GS !).
        printer.set(align=align, bold=bold, custom_size=True, width=size, height=size)


def _picture_row(printer: Escpos, row: Row, profile: PrinterProfile) -> None:
    # The very strip the picture of the slip has: full paper width, the line spacing included, so the paper
    # advances exactly as for a text line.
    printer.image(draw_row(row, profile, measure_for(profile)), impl="bitImageRaster", center=False)


def _qr(printer: Escpos, block: QrRow) -> None:
    # python-escpos refuses `center=True` with `native=True`: ESC a 1 centres the printed symbol instead.
    printer.set(align="center")
    printer.qr(block.data, ec=QR_ECLEVEL_M, size=block.module_dots, model=QR_MODEL_2, native=True)
    printer.set(align="left")
