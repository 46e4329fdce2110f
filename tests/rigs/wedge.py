"""What a USB keyboard-wedge device writes to /dev/input/eventN, as real `struct input_event` bytes, and a FIFO to
write them through. Key codes are from Linux input-event-codes.h, written out independently of the reader's map."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KEY = {
    **{str(d): 1 + d for d in range(1, 10)},
    "0": 11,
    "=": 13,
    ";": 39,
    "/": 53,
    " ": 57,
    ".": 52,
    "\n": 28,
    **{c: code for c, code in zip("QWERTYUIOP", range(16, 26), strict=True)},
    **{c: code for c, code in zip("ASDFGHJKL", range(30, 39), strict=True)},
    **{c: code for c, code in zip("ZXCVBNM", range(44, 51), strict=True)},
}
SHIFTED = {"%": 6, "^": 7, "?": 53, ":": 39}
KEYPAD = {**{str(d): code for d, code in zip("789456123", (71, 72, 73, 75, 76, 77, 79, 80, 81), strict=True)}}
KEYPAD.update({"0": 82, "\n": 96})
LEFTSHIFT = 42
EV_SYN, EV_KEY, EV_MSC = 0, 1, 4
INPUT_EVENT = struct.Struct("llHHi")  # 24 bytes on 64-bit Linux


class Typist:
    """Types text as a wedge device does, with kernel timestamps it controls: `key_s` between keys of one burst;
    `pause(s)` moves its clock on (a scan cut off, a person picking the scanner up again)."""

    def __init__(self, start_s: float = 1_700_000_000.0, key_s: float = 0.004, keypad: bool = False) -> None:
        self._us = int(start_s * 1_000_000)
        self._key_us = int(key_s * 1_000_000)
        self._keypad = keypad

    def pause(self, seconds: float) -> None:
        self._us += int(seconds * 1_000_000)

    def type(self, text: str) -> bytes:
        out: list[bytes] = []

        def emit(kind: int, code: int, value: int) -> None:
            out.append(INPUT_EVENT.pack(self._us // 1_000_000, self._us % 1_000_000, kind, code, value))

        for char in text:
            if self._keypad and char in KEYPAD:
                shifted, code = False, KEYPAD[char]
            else:
                shifted = char in SHIFTED or char.isupper()
                code = SHIFTED.get(char) or KEY[char.upper() if char.isalpha() else char]
            if shifted:
                emit(EV_KEY, LEFTSHIFT, 1)
            emit(EV_MSC, 4, 0x70000 + code)  # scan code report, ignored by the reader
            emit(EV_KEY, code, 1)
            emit(EV_SYN, 0, 0)
            emit(EV_KEY, code, 0)
            emit(EV_SYN, 0, 0)
            if shifted:
                emit(EV_KEY, LEFTSHIFT, 0)
            self._us += self._key_us
        return b"".join(out)


@contextmanager
def event_fifo(directory: Path) -> Iterator[tuple[str, int]]:
    """A FIFO standing in for /dev/input/eventN, and the writer's end of it."""
    path = str(directory / "event0")
    os.mkfifo(path)
    placeholder = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer open without blocking
    writer = os.open(path, os.O_WRONLY)
    os.close(placeholder)
    try:
        yield path, writer
    finally:
        os.close(writer)
