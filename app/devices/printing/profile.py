"""What a receipt printer can do: paper width, characters per line, Chinese, a cutter, status answers.

Renderers read a profile and never a printer model's name; configurations pick a named profile or spell one out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Chinese(StrEnum):
    NATIVE = "native"  # GB18030 text in the printer's Chinese mode (FS & ... FS .): compact, fast
    IMAGE = "image"  # CJK text drawn with a font and sent as raster: for printers without Chinese fonts


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    paper_mm: int  # 58 or 80
    dots: int  # printable width in dots at 203 dpi: 384 (58 mm) or 576 (80 mm)
    columns: int  # characters of font A per line: 32 (58 mm) or 48 (80 mm)
    chinese: Chinese = Chinese.NATIVE
    cutter: bool = True
    status: bool = True  # answers DLE EOT status queries


PROFILES: dict[str, PrinterProfile] = {
    p.name: p
    for p in (
        PrinterProfile("58mm-chinese", 58, 384, 32, Chinese.NATIVE, cutter=False),
        PrinterProfile("80mm-chinese", 80, 576, 48, Chinese.NATIVE),
        PrinterProfile("58mm", 58, 384, 32, Chinese.IMAGE, cutter=False),
        PrinterProfile("80mm", 80, 576, 48, Chinese.IMAGE),
    )
}
DEFAULT_PROFILE = "80mm-chinese"
