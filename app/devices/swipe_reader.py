"""A magnetic stripe reader that types the tracks like a USB keyboard ("keyboard wedge").

`EvdevSwipeReader` reads the reader's key events straight from /dev/input/eventN (plain os.read + struct, no
third-party evdev package) and grabs the device (EVIOCGRAB) so that a swipe never also types into the kiosk UI.
A swipe is one line: optional track 1 `%B...^NAME^...?`, track 2 `;PAN=YYMMSSS...?`, then Enter.
`parse_tracks` turns that line into a Track2. Error messages never contain track data.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import select
import struct
import threading
import time

from app.devices.card import CardError
from app.devices.readers import Track2
from app.domain.cards import luhn_ok

log = logging.getLogger(__name__)

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


# --- Linux input events ---------------------------------------------------------------------------------------

EVENT = struct.Struct("llHHi")  # struct input_event: struct timeval, __u16 type, __u16 code, __s32 value
EV_KEY = 1
KEY_DOWN = 1  # 0 is up, 2 is autorepeat
EVIOCGRAB = 0x40044590
SLICE_S = 0.1  # select() slice: how soon cancel and the deadline are noticed

KEY_ENTER, KEY_KPENTER = 28, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT = 42, 54
_SHIFTS = (KEY_LEFTSHIFT, KEY_RIGHTSHIFT)


def _keymap() -> dict[int, tuple[str, str]]:
    """US layout: keycode -> (unshifted, shifted) character, for what a wedge reader types."""
    keys: dict[int, tuple[str, str]] = {}
    for code, (plain, shifted) in zip(range(2, 14), zip("1234567890-=", "!@#$%^&*()_+", strict=True), strict=True):
        keys[code] = (plain, shifted)
    for first, row in ((16, "qwertyuiop"), (30, "asdfghjkl"), (44, "zxcvbnm")):
        for offset, letter in enumerate(row):
            keys[first + offset] = (letter, letter.upper())
    keys.update(
        {
            26: ("[", "{"),
            27: ("]", "}"),
            39: (";", ":"),
            40: ("'", '"'),
            41: ("`", "~"),
            43: ("\\", "|"),
            51: (",", "<"),
            52: (".", ">"),
            53: ("/", "?"),
            57: (" ", " "),
        }
    )
    keypad = {71: "7", 72: "8", 73: "9", 74: "-", 75: "4", 76: "5", 77: "6", 78: "+", 79: "1", 80: "2", 81: "3"}
    keypad.update({82: "0", 83: ".", 55: "*", 98: "/"})
    keys.update({code: (char, char) for code, char in keypad.items()})
    return keys


KEYMAP = _keymap()


class EvdevSwipeReader:
    """SwipeReader on a Linux input device. `grab=True` takes the device exclusively; on something that is not an
    evdev device (a pipe or file in tests) the grab fails and is skipped."""

    def __init__(self, device_path: str, *, grab: bool = True) -> None:
        self.name = device_path
        try:
            self._fd: int | None = os.open(device_path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as error:
            raise CardError(f"swipe reader {device_path!r}: {os.strerror(error.errno or 0)}") from None
        self._grabbed = grab and self._grab(1)
        self._raw = b""  # bytes of a partly read input_event
        self._line: list[str] = []  # characters of the swipe being typed
        self._shift = False

    def wait_for_swipe(self, timeout_s: float, cancel: threading.Event | None = None) -> Track2 | None:
        """The next complete swipe; None on timeout or cancel. Raises CardError for an unreadable swipe."""
        deadline = time.monotonic() + timeout_s
        pause = cancel or threading.Event()
        while not pause.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            line = self._read_line(min(SLICE_S, remaining), pause)
            if line:
                return parse_tracks(line)
        return None

    def discard_pending(self) -> None:
        """Forget anything swiped before now (call it when the card prompt appears, so a stray earlier swipe can
        never pay for this sale)."""
        while self._read_available():
            pass
        self._line.clear()

    def close(self) -> None:
        if self._fd is None:
            return
        if self._grabbed:
            self._grab(0)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> EvdevSwipeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------------------

    def _grab(self, on: int) -> bool:
        try:
            fcntl.ioctl(self._device(), EVIOCGRAB, on)
        except OSError as error:
            log.debug("no exclusive grab of %s: %s", self.name, os.strerror(error.errno or 0))
            return False
        return True

    def _device(self) -> int:
        if self._fd is None:
            raise CardError(f"swipe reader {self.name!r} is closed")
        return self._fd

    def _read_line(self, wait_s: float, pause: threading.Event) -> str | None:
        """Wait up to wait_s for input; return a swipe line once Enter has been typed."""
        ready, _, _ = select.select([self._device()], [], [], wait_s)
        if ready and not self._read_available():
            pause.wait(wait_s)  # end of a pipe or file: select keeps saying "readable", so don't spin on it
        return self._take_line()

    def _read_available(self) -> bool:
        """Read and decode whatever is there; False if nothing was."""
        try:
            data = os.read(self._device(), EVENT.size * 64)
        except BlockingIOError:
            return False
        except OSError as error:  # ENODEV: unplugged
            raise CardError(f"swipe reader {self.name!r} failed: {os.strerror(error.errno or 0)}") from None
        if not data:
            return False
        self._raw += data
        whole = len(self._raw) - len(self._raw) % EVENT.size
        for _sec, _usec, kind, code, value in EVENT.iter_unpack(self._raw[:whole]):
            if kind == EV_KEY:
                self._key(code, value)
        self._raw = self._raw[whole:]
        return True

    def _key(self, code: int, value: int) -> None:
        if code in _SHIFTS:
            self._shift = value != 0
        elif value == KEY_DOWN:
            if code in (KEY_ENTER, KEY_KPENTER):
                self._line.append("\n")
            elif code in KEYMAP:
                self._line.append(KEYMAP[code][self._shift])

    def _take_line(self) -> str | None:
        if "\n" not in self._line:
            return None
        end = self._line.index("\n")
        line = "".join(self._line[:end])
        del self._line[: end + 1]
        return line
