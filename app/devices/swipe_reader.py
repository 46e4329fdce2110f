"""A magnetic stripe reader that types the tracks like a USB keyboard ("keyboard wedge").

`EvdevSwipeReader` reads the reader's key lines through app/devices/key_lines.py (evdev, grabbed, shared with the
barcode scanner) so that a swipe never also types into the kiosk UI.
A swipe is one line: optional track 1 `%B...^NAME^...?`, track 2 `;PAN=YYMMSSS...?`, then Enter.
`parse_tracks` turns that line into a Track2. Error messages never contain track data.
"""

from __future__ import annotations

import re
import threading

from app.devices.card import CardError
from app.devices.key_lines import KeyLineError, KeyLineReader
from app.devices.readers import Track2
from app.domain.cards import luhn_ok

UNREADABLE = "could not read the stripe: swipe again"

# Track 1 is removed first: its name field may contain characters that look like track 2's sentinels.
_TRACK1 = re.compile(r"%[^?]*\?")
_TRACK2 = re.compile(r";([0-9=]*)\?")
_DISCRETIONARY = re.compile(r"[0-9]*")


def parse_tracks(text: str) -> Track2:
    """Track 2 from a swipe line (which may also hold track 1). Raises CardError if it is not a valid track 2."""
    match = _TRACK2.search(_TRACK1.sub("", text))
    if match is None or "=" not in match.group(1):
        raise CardError(UNREADABLE)
    pan, _, rest = match.group(1).partition("=")
    expiry, service_code, discretionary = rest[:4], rest[4:7], rest[7:]
    valid = (
        12 <= len(pan) <= 19
        and pan.isdigit()
        and luhn_ok(pan)
        and len(expiry) == 4
        and expiry.isdigit()
        and 1 <= int(expiry[2:]) <= 12
        and len(service_code) == 3
        and service_code.isdigit()
        and _DISCRETIONARY.fullmatch(discretionary) is not None
    )
    if not valid:
        raise CardError(UNREADABLE)
    return Track2(pan=pan, expiry=expiry, service_code=service_code, discretionary=discretionary)


class EvdevSwipeReader:
    """SwipeReader on a Linux input device: the shared key-line reader (grabbed, so a swipe never types into the
    UI) with track parsing on top. `grab=False` is for pipes and files in tests."""

    def __init__(self, device_path: str, *, grab: bool = True) -> None:
        self.name = device_path
        try:
            self._keys = KeyLineReader(device_path, kind="swipe reader", grab=grab)
        except KeyLineError as error:
            raise CardError(str(error)) from None

    def wait_for_swipe(self, timeout_s: float, cancel: threading.Event | None = None) -> Track2 | None:
        """The next complete swipe; None on timeout or cancel. Raises CardError for an unreadable swipe."""
        try:
            line = self._keys.wait_for_line(timeout_s, cancel)
        except KeyLineError as error:
            raise CardError(str(error)) from None
        return None if line is None else parse_tracks(line)

    def discard_pending(self) -> None:
        """Forget anything swiped before now (call it when the card prompt appears, so a stray earlier swipe can
        never pay for this sale)."""
        try:
            self._keys.discard_pending()
        except KeyLineError as error:
            raise CardError(str(error)) from None

    def close(self) -> None:
        self._keys.close()

    def __enter__(self) -> EvdevSwipeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
