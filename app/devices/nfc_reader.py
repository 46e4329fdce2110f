"""A contactless reader through nfcpy: ISO/IEC 14443-4 (ISO-DEP) cards only, which is what EMV contactless uses.

Polling: each slice is one `clf.sense(...)` pass (iterations=1, so nfcpy never sleeps inside) followed by a pause
of POLL_INTERVAL_S with the RF field off, on an Event so that cancel wakes it at once. nfcpy's own `connect()`
default (5 iterations, 0.5 s apart) would leave a card unseen for up to half a second and ignore cancel for 2.5 s.
On USB hardware a pass without a card should take milliseconds (not measured: the rig has no reader), so a card
is found within about POLL_INTERVAL_S plus a pass. Over nfcpy's udp transport (tests) a pass without a card blocks
for 1 s waiting for a SENS_RES that never comes: measured, a card already in the field is found in < 1 ms, one
arriving during the wait in 0.3-1.0 s (mean 0.6 s), and a timeout or cancel may be noticed up to 1 s late.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time

import nfc
import nfc.clf
import nfc.tag
import nfc.tag.tt4

from app.devices.card import CardError, CardRemoved

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.05  # field off between polling passes
DESELECT_TIMEOUT_S = 0.1

# Everything nfcpy raises when the card stops answering or is pulled away mid-exchange.
_CARD_GONE: tuple[type[BaseException], ...] = (nfc.tag.TagCommandError, nfc.clf.CommunicationError)


def _os_error_text(error: OSError) -> str:
    return os.strerror(error.errno) if error.errno else type(error).__name__


class NfcCard:
    """The CardTransport of an activated ISO-DEP card."""

    def __init__(self, reader: NfcReader, tag: nfc.tag.tt4.Type4Tag) -> None:
        self._reader = reader
        self._tag: nfc.tag.tt4.Type4Tag | None = tag

    def transmit(self, command: bytes) -> bytes:
        # transceive() returns the whole response APDU, data + SW1 SW2 (send_apdu() would split the status word
        # off and raise on anything but 9000, which is the kernel's business, not the transport's).
        if self._tag is None:
            raise CardError(f"contactless reader {self._reader.name!r}: the card session is closed")
        try:
            response = self._tag.transceive(bytearray(command))
        except _CARD_GONE as error:
            log.debug("contactless card lost: %s", type(error).__name__)
            raise CardRemoved() from None
        except OSError as error:
            raise CardError(f"contactless reader {self._reader.name!r} failed: {_os_error_text(error)}") from None
        if response is None or len(response) < 2:
            raise CardError(f"contactless reader {self._reader.name!r}: the card sent no status word")
        return bytes(response)

    def close(self) -> None:
        """Deselect the card (best effort: it may already have left the field). Safe to call twice."""
        if self._tag is None:
            return
        self._tag = None
        self._reader.deselect()

    def __enter__(self) -> NfcCard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NfcReader:
    """ContactlessReader over nfcpy. `path` is an nfcpy device path: "usb", "usb:072f:2200", "udp:localhost:PORT"."""

    def __init__(self, path: str = "usb", *, technologies: tuple[str, ...] = ("106A",)) -> None:
        self.name = path
        # EMV contactless also polls type B: pass ("106A", "106B") on hardware. Over udp every technology costs a
        # full second per pass without a card, so the default is A only.
        self._targets = [nfc.clf.RemoteTarget(brty) for brty in technologies]
        try:
            self._clf: nfc.ContactlessFrontend | None = nfc.ContactlessFrontend(path)
        except OSError as error:
            if error.errno == errno.ENODEV:
                raise CardError(f"contactless reader {path!r} not found: check that it is plugged in") from None
            raise CardError(f"contactless reader {path!r} could not be opened: {_os_error_text(error)}") from None

    def wait_for_card(self, timeout_s: float, cancel: threading.Event | None = None) -> NfcCard | None:
        deadline = time.monotonic() + timeout_s
        pause = cancel or threading.Event()
        while not pause.is_set() and time.monotonic() < deadline:
            card = self._poll_once()
            if card is not None:
                return card
            pause.wait(min(POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))
        return None

    def close(self) -> None:
        if self._clf is not None:
            clf, self._clf = self._clf, None
            clf.close()

    @property
    def is_open(self) -> bool:
        """For the self-test: a reader the terminal holds is asked, never opened a second time."""
        return self._clf is not None

    def __enter__(self) -> NfcReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deselect(self) -> None:
        """Send S(DESELECT) to the active card, ignoring a card that no longer answers."""
        if self._clf is None:
            return
        with contextlib.suppress(nfc.clf.CommunicationError, OSError):  # gone already: nothing to deselect
            self._clf.exchange(bytearray([0xC2]), DESELECT_TIMEOUT_S)

    def _poll_once(self) -> NfcCard | None:
        clf = self._frontend()
        try:
            target = clf.sense(*self._targets, iterations=1, interval=0)
            if target is None:
                return None
            tag = nfc.tag.activate(clf, target)
        except _CARD_GONE:
            return None  # left the field during activation: keep polling
        except OSError as error:
            raise CardError(f"contactless reader {self.name!r} failed: {_os_error_text(error)}") from None
        except (IndexError, ValueError):
            return None  # a malformed ATS or anticollision answer: treat like no card (nfcpy indexes blindly)
        if isinstance(tag, nfc.tag.tt4.Type4Tag):
            return NfcCard(self, tag)
        log.debug("ignoring a contactless tag that is not ISO-DEP: %s", type(tag).__name__)
        return None

    def _frontend(self) -> nfc.ContactlessFrontend:
        if self._clf is None:
            raise CardError(f"contactless reader {self.name!r} is closed")
        return self._clf
