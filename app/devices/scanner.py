"""Payment-code scanners (付款码, "B扫C"): one small interface, a USB keyboard-wedge scanner and a simulated one.

The wedge scanner is the shared key-line reader (app/devices/key_lines.py, the swipe reader's too) with payment
code recognition on top. It grabs the device, so a code scanned while no sale is waiting is never typed into the
kiosk UI; the sale calls `discard_pending()` when it starts waiting, so such a code is dropped and cannot pay for
the next sale. The camera scanner (app/devices/camera_scanner.py) has the same interface.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Protocol

from app.devices.key_lines import KeyLineError, KeyLineReader
from app.qr.errors import QrError
from app.qr.payment_code import PaymentCode, recognise

# A scanner types a whole code in a burst of a few milliseconds a key; a pause longer than this inside a line means
# the scan was cut off and the next key starts a new one.
SCAN_GAP_S = 0.3
SLICE_S = 0.1


class CodeScanner(Protocol):
    name: str

    def wait_for_code(self, timeout_s: float, cancel: threading.Event | None = None) -> PaymentCode | None:
        """The next payment code scanned; None on timeout or cancel. Raises QrError for a code that is not a
        payment code (nothing is sent) or a scanner that failed."""
        ...

    def discard_pending(self) -> None:
        """Forget whatever was scanned before now."""
        ...

    def close(self) -> None: ...


def scanner_failed(error: Exception) -> QrError:
    return QrError(str(error), f"扫码枪无法使用：{error}")


class EvdevScanner:
    """A USB barcode scanner that types like a keyboard, on /dev/input/eventN. `grab=False` is for pipes in tests."""

    def __init__(self, device_path: str, *, grab: bool = True) -> None:
        self.name = device_path
        try:
            self._keys = KeyLineReader(device_path, kind="barcode scanner", grab=grab, max_key_gap_s=SCAN_GAP_S)
        except KeyLineError as error:
            raise scanner_failed(error) from None

    def wait_for_code(self, timeout_s: float, cancel: threading.Event | None = None) -> PaymentCode | None:
        try:
            line = self._keys.wait_for_line(timeout_s, cancel)
        except KeyLineError as error:
            raise scanner_failed(error) from None
        return None if line is None else recognise(line)

    def discard_pending(self) -> None:
        try:
            self._keys.discard_pending()
        except KeyLineError as error:
            raise scanner_failed(error) from None

    def close(self) -> None:
        self._keys.close()

    def __enter__(self) -> EvdevScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimulatedScanner:
    """A scanner for demo and training: `scan(text)` is the cashier pointing it at a phone."""

    def __init__(self, name: str = "simulated scanner") -> None:
        self.name = name
        self._scans: queue.SimpleQueue[str] = queue.SimpleQueue()

    def scan(self, text: str) -> None:
        self._scans.put(text)

    def wait_for_code(self, timeout_s: float, cancel: threading.Event | None = None) -> PaymentCode | None:
        deadline = time.monotonic() + timeout_s
        pause = cancel or threading.Event()
        while not pause.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                return recognise(self._scans.get(timeout=min(SLICE_S, remaining)))
            except queue.Empty:
                continue
        return None

    def discard_pending(self) -> None:
        while not self._scans.empty():
            self._scans.get_nowait()

    def close(self) -> None:
        self.discard_pending()
