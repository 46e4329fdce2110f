"""The printer of demo mode and of `--preview`: each slip becomes a PNG that looks like the paper."""

from __future__ import annotations

from pathlib import Path

from app.devices.printer import PrinterError
from app.devices.printing.profile import PrinterProfile
from app.devices.printing.render_png import save_png
from app.domain.receipt import Receipt


class PreviewPrinter:
    def __init__(self, directory: Path, profile: PrinterProfile) -> None:
        self.directory = directory
        self.profile = profile

    def print_slip(self, receipt: Receipt) -> str:
        path = self.directory / f"{receipt.name}.png"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            save_png(receipt, self.profile, path)
        except OSError as exc:
            raise PrinterError(f"slip picture could not be written: {exc.strerror}") from None
        return str(path)
