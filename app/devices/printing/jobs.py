"""A whole print job written to files instead of a printer: `--escpos` (the exact bytes) and `--preview` (a picture).

The bytes come from the same EscposSlipPrinter a real printer gets, driven into python-escpos' Dummy, so a file
holds exactly what the printer would have received: every copy, with its cut or tear feed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from escpos.printer import Dummy
from PIL import Image, ImageDraw

from app.config import PrinterSettings
from app.devices.printer import PrinterError, replace_whole
from app.devices.printing.escpos_printer import EscposSlipPrinter
from app.devices.printing.profile import PrinterProfile
from app.devices.printing.render_png import render_png
from app.domain.receipt import Receipt

GAP = 24  # pixels between copies in a picture: where the paper is torn or cut


def job_bytes(receipts: list[Receipt], settings: PrinterSettings) -> bytes:
    sink = Dummy()  # its open and close do nothing, so every copy lands in the same buffer
    offline = replace(settings, profile=replace(settings.profile, status=False))  # a file cannot answer DLE EOT
    printer = EscposSlipPrinter(offline, opener=lambda: sink)
    for receipt in receipts:
        printer.print_slip(receipt)
    return bytes(sink.output)


def job_picture(receipts: list[Receipt], profile: PrinterProfile) -> Image.Image:
    pages = [render_png(r, profile).convert("L") for r in receipts]
    height = sum(p.height for p in pages) + GAP * (len(pages) - 1)
    sheet = Image.new("L", (profile.dots, max(height, 1)), 255)
    y = 0
    draw = ImageDraw.Draw(sheet)
    for i, page in enumerate(pages):
        sheet.paste(page, (0, y))
        y += page.height
        if i < len(pages) - 1:
            for x in range(0, profile.dots, 12):  # a dashed line: cut here
                draw.line([(x, y + GAP // 2), (x + 6, y + GAP // 2)], fill=128)
            y += GAP
    return sheet


def write_job(
    receipts: list[Receipt], settings: PrinterSettings, preview: Path | None, escpos: Path | None
) -> list[str]:
    written = []
    try:
        if preview is not None:
            replace_whole(preview, lambda tmp: job_picture(receipts, settings.profile).save(tmp, format="PNG"))
            written.append(str(preview))
        if escpos is not None:
            data = job_bytes(receipts, settings)
            replace_whole(escpos, lambda tmp: tmp.write_bytes(data))
            written.append(str(escpos))
    except OSError as exc:
        raise PrinterError(f"could not write the slip file: {exc.strerror}") from None
    return written
