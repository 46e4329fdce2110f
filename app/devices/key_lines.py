"""Lines typed by a USB keyboard-wedge device (magstripe reader, barcode scanner), read from Linux evdev.

One reader of key lines, several parsers: `KeyLineReader` reads /dev/input/eventN itself (plain os.read +
struct, no third-party evdev package), grabs the device (EVIOCGRAB) so that nothing it types ever reaches the
kiosk UI, turns key presses into characters with a US keymap, and hands back one line per Enter. What a line
means (track data, a payment code) is the caller's business. Error messages name the device, never its data.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import select
import struct
import threading
import time

log = logging.getLogger(__name__)

EVENT = struct.Struct("llHHi")  # struct input_event: struct timeval, __u16 type, __u16 code, __s32 value
EV_KEY = 1
KEY_DOWN = 1  # 0 is up, 2 is autorepeat
EVIOCGRAB = 0x40044590
EVIOCSCLOCKID = 0x400445A0
CLOCK_MONOTONIC = 1
SLICE_S = 0.1  # select() slice: how soon cancel and the deadline are noticed

KEY_ENTER, KEY_KPENTER = 28, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT = 42, 54
_SHIFTS = (KEY_LEFTSHIFT, KEY_RIGHTSHIFT)


def _keymap() -> dict[int, tuple[str, str]]:
    """US layout: keycode -> (unshifted, shifted) character, for what a wedge device types."""
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


class KeyLineError(Exception):
    """The device cannot be opened or has failed (unplugged). The message names the device only."""


class KeyLineReader:
    """Lines typed on a Linux input device. `grab=True` takes the device exclusively; on something that is not an
    evdev device (a pipe or file in tests) the grab fails and is skipped.

    `max_key_gap_s`: a wedge device types a whole line in a burst, so a key that comes later than this after the
    previous one (by the kernel's own event timestamps) starts a new line, and the torn start of a scan that never
    got its Enter cannot be glued to the front of the next one. None keeps every key.
    """

    def __init__(
        self,
        device_path: str,
        *,
        kind: str,
        grab: bool = True,
        max_key_gap_s: float | None = None,
    ) -> None:
        self.name = device_path
        self._kind = kind
        self._max_gap_us = None if max_key_gap_s is None else int(max_key_gap_s * 1_000_000)
        try:
            self._fd: int | None = os.open(device_path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as error:
            raise KeyLineError(f"{kind} {device_path!r}: {os.strerror(error.errno or 0)}") from None
        self._grabbed = grab and self._grab(1)
        self._monotonic_timestamps()
        self._raw = b""  # bytes of a partly read input_event
        self._line: list[str] = []  # characters of the line being typed
        self._shift = False
        self._last_key_us: int | None = None

    def wait_for_line(self, timeout_s: float, cancel: threading.Event | None = None) -> str | None:
        """The next complete, non-empty line; None on timeout or cancel."""
        deadline = time.monotonic() + timeout_s
        pause = cancel or threading.Event()
        while not pause.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            line = self._read_line(min(SLICE_S, remaining), pause)
            if line:
                return line
        return None

    def discard_pending(self) -> None:
        """Forget everything typed before now, finished lines and a torn one alike."""
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

    # -- internals -------------------------------------------------------------------------------------------

    def _grab(self, on: int) -> bool:
        try:
            fcntl.ioctl(self._device(), EVIOCGRAB, on)
        except OSError as error:
            log.debug("no exclusive grab of %s: %s", self.name, os.strerror(error.errno or 0))
            return False
        return True

    def _monotonic_timestamps(self) -> None:
        """Event times from the monotonic clock: the gap between keys must not jump when NTP sets the wall clock."""
        # Not an evdev device (tests): its timestamps are whatever the writer put there.
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._device(), EVIOCSCLOCKID, struct.pack("i", CLOCK_MONOTONIC))

    def _device(self) -> int:
        if self._fd is None:
            raise KeyLineError(f"{self._kind} {self.name!r} is closed")
        return self._fd

    def _read_line(self, wait_s: float, pause: threading.Event) -> str | None:
        """Wait up to wait_s for input; return a line once Enter has been typed."""
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
            raise KeyLineError(f"{self._kind} {self.name!r} failed: {os.strerror(error.errno or 0)}") from None
        if not data:
            return False
        self._raw += data
        whole = len(self._raw) - len(self._raw) % EVENT.size
        for sec, usec, kind, code, value in EVENT.iter_unpack(self._raw[:whole]):
            if kind == EV_KEY:
                self._key(code, value, sec * 1_000_000 + usec)
        self._raw = self._raw[whole:]
        return True

    def _key(self, code: int, value: int, at_us: int) -> None:
        if code in _SHIFTS:
            self._shift = value != 0
            return
        if value != KEY_DOWN:
            return
        gap = None if self._last_key_us is None else at_us - self._last_key_us
        if self._max_gap_us is not None and gap is not None and gap > self._max_gap_us:
            self._drop_torn_line()
        self._last_key_us = at_us
        if code in (KEY_ENTER, KEY_KPENTER):
            self._line.append("\n")
        elif code in KEYMAP:
            self._line.append(KEYMAP[code][self._shift])

    def _drop_torn_line(self) -> None:
        """Drop the characters after the last Enter: the start of a line whose Enter never came."""
        end = len(self._line) - self._line[::-1].index("\n") if "\n" in self._line else 0
        if end < len(self._line):
            log.info("%s %s: dropped a line that was cut off", self._kind, self.name)
            del self._line[end:]

    def _take_line(self) -> str | None:
        if "\n" not in self._line:
            return None
        end = self._line.index("\n")
        line = "".join(self._line[:end])
        del self._line[: end + 1]
        return line
