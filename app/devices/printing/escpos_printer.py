"""A receipt printer spoken to in ESC/POS through python-escpos: USB, serial, network (TCP 9100) or a device file.

python-escpos builds every command; this module only opens the transport, asks the printer how it is (DLE EOT),
prints one slip, cuts or feeds for tearing, and turns every transport failure into a PrinterError a cashier
can act on. A printer that does not answer a status query is "unknown", never "fine".
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from escpos import printer as escpos_printers
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError

from app.config import PrinterSettings
from app.devices.printer import PrinterError
from app.devices.printing.profile import PrinterProfile
from app.devices.printing.render_escpos import render_escpos
from app.domain.receipt import Receipt

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
# DLE EOT n answers (ESC/POS): one byte; bits 1 and 4 are always set (0x12), so a real answer is recognisable.
PRINTER_OFFLINE = 0x08  # n = 1
COVER_OPEN = 0x04  # n = 2
PAPER_NEAR_END = 0x0C  # n = 4, bits 2-3
PAPER_OUT = 0x60  # n = 4, bits 5-6
FIXED_BITS = 0x12
TEAR_FEED_LINES = 4  # no cutter: feed the slip past the tear bar


@dataclass(frozen=True)
class PrinterStatus:
    online: bool | None  # None: the printer did not say
    paper: str | None  # "ok", "low", "out", or None
    cover_open: bool | None = None

    @property
    def problem(self) -> str | None:
        """What stops printing, in the words the cashier sees; None when nothing does (or nothing is known)."""
        if self.paper == "out":
            return "out of paper"
        if self.cover_open:
            return "cover open"
        if self.online is False:
            return "offline"
        return None


UNKNOWN = PrinterStatus(None, None, None)


class _Network(escpos_printers.Network):  # type: ignore[misc]
    """python-escpos 3.1 drops its socket unclosed when the printer refuses the connection; this one closes it."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise DeviceNotFoundError(
                f"no printer answers at {self.host}:{self.port} ({exc.strerror or exc})"
            ) from None
        self.device = sock


def open_transport(settings: PrinterSettings) -> Escpos:
    """The python-escpos printer for the configured transport, opened. Raises PrinterError."""
    t = settings.transport
    try:
        if t == "network":
            return _Network(settings.host, settings.port, timeout=settings.timeout_s)
        if t == "usb":
            return escpos_printers.Usb(
                settings.usb_vendor, settings.usb_product, timeout=int(settings.timeout_s * 1000)
            )
        if t == "serial":
            return escpos_printers.Serial(settings.device, baudrate=settings.baudrate, timeout=settings.timeout_s)
        if t == "file":
            return escpos_printers.File(settings.device)
    except (EscposError, OSError, ValueError) as exc:
        raise PrinterError(f"printer not reachable ({_why(exc)})") from None
    raise PrinterError(f"printer transport {t!r} is not an ESC/POS transport")


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


class EscposSlipPrinter:
    def __init__(self, settings: PrinterSettings, opener: Callable[[], Escpos] | None = None) -> None:
        self.settings = settings
        self.profile: PrinterProfile = settings.profile
        self._open = opener or (lambda: open_transport(settings))
        self.name = f"{settings.transport} printer"

    def print_slip(self, receipt: Receipt) -> str:
        printer = self._connect()
        try:
            problem = self._status(printer).problem if self.profile.status else None
            if problem:
                raise PrinterError(f"printer: {problem}")
            render_escpos(receipt, self.profile, printer)
            if self.profile.cutter:
                printer.cut()
            else:
                printer.ln(TEAR_FEED_LINES)
            _flush(printer)
        except PrinterError:
            raise
        except (EscposError, OSError, ValueError) as exc:
            raise PrinterError(f"printer stopped while printing ({_why(exc)}): reprint the slip") from None
        finally:
            _close(printer)
        return f"{self.name}: {receipt.name}"

    def status(self) -> PrinterStatus:
        try:
            printer = self._connect()
        except PrinterError as exc:
            log.info("printer status: %s", exc)
            return PrinterStatus(False, None, None)
        try:
            return self._status(printer)
        finally:
            _close(printer)

    def _connect(self) -> Escpos:
        printer = self._open()
        try:
            printer.open()
        except (EscposError, OSError, ValueError) as exc:
            raise PrinterError(f"printer not reachable ({_why(exc)})") from None
        return printer

    def _status(self, printer: Escpos) -> PrinterStatus:
        online = _ask(printer, 1)
        if online is None:
            return UNKNOWN
        offline_cause = _ask(printer, 2)
        paper = _ask(printer, 4)
        paper_state = None
        if paper is not None:
            paper_state = "out" if paper & PAPER_OUT else "low" if paper & PAPER_NEAR_END else "ok"
        cover = None if offline_cause is None else bool(offline_cause & COVER_OPEN)
        return PrinterStatus(not online & PRINTER_OFFLINE, paper_state, cover)


def _ask(printer: Escpos, n: int) -> int | None:
    """One DLE EOT query. None when the printer gives no answer in time, or an answer that is not a status byte."""
    try:
        printer._raw(DLE_EOT + bytes([n]))
        answer = printer._read()
    except (TimeoutError, OSError, EscposError, NotImplementedError, AttributeError):
        return None
    if not answer or answer[0] & FIXED_BITS != FIXED_BITS:
        return None
    return int(answer[0])


def _flush(printer: Escpos) -> None:
    flush = getattr(printer, "flush", None)
    if callable(flush):
        flush()


def _close(printer: Escpos) -> None:
    with contextlib.suppress(EscposError, OSError, AttributeError):
        printer.close()
