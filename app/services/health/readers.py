"""Card readers: the PC/SC chip reader through pcscd, the nfcpy contactless reader, the swipe reader's device."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import nfc

from app.devices.card import CardError
from app.devices.nfc_reader import NfcReader
from app.devices.pcsc_reader import list_readers
from app.devices.readers import ContactlessReader
from app.services.health.check import Check, failed, passed


def chip_reader(wanted: str) -> Check:
    """Asking pcscd for its reader list connects to no card, so it is safe while the terminal waits for one."""
    part = "chip reader"
    try:
        readers = list_readers()
    except CardError:
        return failed(part, "the PC/SC service (pcscd) does not answer: start it (systemctl enable --now pcscd)")
    if not readers:
        return failed(part, "pcscd sees no reader: check that it is plugged in")
    if not wanted:
        return passed(part, f"'{readers[0]}' ready (the first PC/SC reader)")
    if wanted not in readers:
        seen = ", ".join(f"'{r}'" for r in readers)
        return failed(part, f"no reader called '{wanted}' (pcscd sees {seen}): check [cards] chip_reader")
    return passed(part, f"'{wanted}' ready")


def contactless_reader(path: str, held: ContactlessReader | None, elsewhere: bool) -> Check:
    """Asks the reader the terminal holds, if it holds one: a USB reader opens for one process at a time, so
    opening it again would only report our own use of it. Otherwise opens it briefly and closes it."""
    part = "contactless reader"
    if isinstance(held, NfcReader):
        if held.is_open:
            return passed(part, f"'{path}' open in this terminal")
        return failed(part, f"'{path}' was closed after a fault: restart the terminal app")
    try:
        frontend = nfc.ContactlessFrontend(path)
    except OSError as exc:
        return _unopened(part, path, exc, elsewhere)
    try:
        device = str(frontend.device)
    finally:
        frontend.close()
    return passed(part, f"'{path}' opened: {device}")


def _unopened(part: str, path: str, exc: OSError, elsewhere: bool) -> Check:
    # nfcpy says ENODEV both for "not there" and, on a partial path like "usb", for "there but busy".
    if elsewhere and exc.errno in (errno.ENODEV, errno.EBUSY):
        return passed(
            part, f"'{path}' not opened: the running terminal app holds it (use the app's self-test)", warning=True
        )
    if exc.errno == errno.ENODEV:
        return failed(part, f"'{path}' not found: check that it is plugged in and not used by another program")
    if exc.errno == errno.EACCES:
        return failed(part, f"'{path}': no permission to open it: install the udev rule for the reader")
    if exc.errno == errno.EBUSY:
        return failed(part, f"'{path}' is in use by another program")
    return failed(part, f"'{path}' could not be opened ({os.strerror(exc.errno) if exc.errno else exc})")


def swipe_reader(device: Path) -> Check:
    part = "swipe reader"
    if not device.exists():
        return failed(part, f"{device} not found: check that it is plugged in and [cards] swipe_device")
    if not os.access(device, os.R_OK):
        return failed(part, f"no permission to read {device}: add the terminal's user to the input group")
    return passed(part, f"{device} present")


def simulated(training: bool) -> Check:
    text = "none: this terminal uses simulated test cards"
    if training:
        return passed("card readers", text)
    return passed("card readers", text + ', which take no real money: set [cards] source = "readers"', warning=True)
