"""The printer: its status over ESC/POS (DLE EOT) where the transport answers, or the slip directory for the
picture and text printers."""

from __future__ import annotations

import tempfile
from pathlib import Path

from escpos.exceptions import Error as EscposError

from app.config import PrinterSettings
from app.devices.printer import PrinterError, SlipPrinter, TextFilePrinter
from app.devices.printing.escpos_printer import EscposSlipPrinter, open_transport
from app.devices.printing.preview import PreviewPrinter
from app.services.health.check import Check, failed, passed

PART = "printer"


def printer_check(settings: PrinterSettings, printer: SlipPrinter) -> Check:
    if settings.transport == "none":
        return passed(PART, "none configured: slips are not printed (reprint them once there is one)", warning=True)
    if isinstance(printer, PreviewPrinter):
        return _directory(printer.directory, "slip pictures")
    if isinstance(printer, TextFilePrinter):
        return _directory(printer.directory, "slip text files")
    if isinstance(printer, EscposSlipPrinter):
        return _escpos(printer)
    return passed(PART, f"{type(printer).__name__} has no status to ask")


def _directory(directory: Path, what: str) -> Check:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".selftest-"):
            pass
    except OSError as exc:
        return failed(PART, f"cannot write {what} to {directory} ({exc.strerror or type(exc).__name__})")
    return passed(PART, f"{what} go to {directory}")


def where(settings: PrinterSettings) -> str:
    if settings.transport == "network":
        return f"{settings.host}:{settings.port}"
    if settings.transport == "usb":
        return f"USB {settings.usb_vendor:04x}:{settings.usb_product:04x}"
    return settings.device


def _escpos(printer: EscposSlipPrinter) -> Check:
    at = where(printer.settings)
    if not printer.profile.status:
        return _reachable(printer.settings, at)
    status = printer.status()
    if status.online is False and status.paper is None and status.cover_open is None:
        return failed(PART, f"not reachable at {at}: check that it is on, its cable, and [printer] settings")
    if status.problem:
        return failed(PART, status.problem)
    if status.online is None:
        return passed(
            PART, f"reachable at {at}, but it does not report paper and cover (no status answer)", warning=True
        )
    if status.paper == "low":
        return passed(PART, "paper low: put in a new roll soon", warning=True)
    return passed(PART, f"online at {at}, paper ok")


def _reachable(settings: PrinterSettings, at: str) -> Check:
    """A model that cannot answer DLE EOT (its profile says so): being able to open it is all there is to know."""
    try:
        device = open_transport(settings)
        device.open()
        device.close()
    except (PrinterError, EscposError, OSError) as exc:
        return failed(
            PART, f"not reachable at {at} ({str(exc).splitlines()[0][:100]}): check that it is on and its cable"
        )
    return passed(PART, f"reachable at {at} (this model reports no paper status)")
