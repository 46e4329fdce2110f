"""Slip printers. A printer fault never changes a transaction: the slip can always be printed again later."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from app.devices.printing.layout import display_width, wrap
from app.domain.receipt import Align, Pair, Qr, Receipt, Rule, SignatureBox, Text
from app.errors import UserFacingError


class PrinterError(UserFacingError):
    """The slip did not print (paper out, cover open, offline). The message is for the cashier."""


class SlipPrinter(Protocol):
    def print_slip(self, receipt: Receipt) -> str:
        """Print one slip; returns where it went (a device name or a file). Raises PrinterError."""
        ...


def replace_whole(path: Path, write: Callable[[Path], object]) -> Path:
    """Write a slip file beside `path`, then rename it over: a reader never sees half a slip. Raises OSError."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def render_text(receipt: Receipt, columns: int = 42) -> str:
    """A plain-text picture of the slip, for consoles, logs of support sessions and text-only printers."""
    out: list[str] = []
    for line in receipt.lines:
        if isinstance(line, Text):
            text = line.text.upper() if line.size > 1 else line.text
            for part in wrap(text, columns):
                pad = columns - display_width(part)
                if line.align is Align.CENTER:
                    part = " " * (pad // 2) + part
                elif line.align is Align.RIGHT:
                    part = " " * pad + part
                out.append(part)
        elif isinstance(line, Pair):
            gap = columns - display_width(line.label) - display_width(line.value)
            if gap >= 1:
                out.append(line.label + " " * gap + line.value)
            else:
                out += wrap(line.label, columns)
                out.append(" " * max(0, columns - display_width(line.value)) + line.value)
        elif isinstance(line, Rule):
            out.append(line.char * columns)
        elif isinstance(line, SignatureBox):
            out += [line.label, "", "", "_" * columns]
        elif isinstance(line, Qr):
            out.append(f"[QR] {line.data}")
    return "\n".join(out) + "\n"


class TextFilePrinter:
    """Writes each slip as a text file: the headless preview until a real or picture printer is configured."""

    def __init__(self, directory: Path, columns: int = 42) -> None:
        self.directory = directory
        self.columns = columns

    def print_slip(self, receipt: Receipt) -> str:
        path = self.directory / f"{receipt.name}.txt"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            replace_whole(path, lambda tmp: tmp.write_text(render_text(receipt, self.columns), encoding="utf-8"))
        except OSError as exc:
            raise PrinterError(f"slip could not be written: {exc.strerror}") from None
        return str(path)
