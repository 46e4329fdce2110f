"""The channel framing around one ISO 8583 message: a 2-byte big-endian binary length, the 5-byte TPDU
(60 + destination + source) and the 6-byte UnionPay application header, then the message.

The TPDU and header values come from the configuration; an answer comes back with the TPDU's addresses
swapped. Parsing refuses anything that is not exactly one well-formed frame with `FramingError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TPDU_ID = 0x60
LENGTH_BYTES = 2
TPDU_BYTES = 5
HEADER_BYTES = 6
# MTI (2) + bitmap (8) is the smallest message; anything past a few KB is garbage (the largest UnionPay POS
# message, a sign-on answer with three working keys or a batch upload, is well under 1 KB).
MIN_MESSAGE = 10
MAX_MESSAGE = 4096


class FramingError(ValueError):
    """A frame that is short, oversized or garbled: never a message to act on."""


@dataclass(frozen=True)
class Tpdu:
    destination: bytes  # 2 bytes, the network access point the acquirer gave us
    source: bytes  # 2 bytes

    def __post_init__(self) -> None:
        if len(self.destination) != 2 or len(self.source) != 2:
            raise FramingError("TPDU addresses are 2 bytes each")

    @classmethod
    def from_hex(cls, text: str) -> Tpdu:
        """Configuration form: the 10 hex digits of the TPDU, e.g. "6000030000"."""
        if not re.fullmatch(r"60[0-9A-Fa-f]{8}", text):
            raise FramingError(f"TPDU {text!r} is not 60 followed by 8 hex digits")
        raw = bytes.fromhex(text)
        return cls(raw[1:3], raw[3:5])

    def pack(self) -> bytes:
        return bytes([TPDU_ID]) + self.destination + self.source

    def answer(self) -> Tpdu:
        """The TPDU an answer to this one carries."""
        return Tpdu(self.source, self.destination)


@dataclass(frozen=True)
class Header:
    """The 6-byte application header, BCD: application type (2 digits), software version (2), terminal
    status (1), processing request (1), software sub-version (6)."""

    application_type: str = "60"
    software_version: str = "31"
    terminal_status: str = "0"
    processing_request: str = "0"
    software_subversion: str = "000000"

    def __post_init__(self) -> None:
        widths = (2, 2, 1, 1, 6)
        values = (
            self.application_type,
            self.software_version,
            self.terminal_status,
            self.processing_request,
            self.software_subversion,
        )
        for value, width in zip(values, widths, strict=True):
            if len(value) != width or not value.isdigit() or not value.isascii():
                raise FramingError(f"header part {value!r} is not {width} digit(s)")

    @classmethod
    def from_digits(cls, text: str) -> Header:
        """Configuration form: the header's 12 digits, e.g. "603100000000"."""
        if not re.fullmatch(r"[0-9]{12}", text):
            raise FramingError(f"header {text!r} is not 12 digits")
        return cls(text[0:2], text[2:4], text[4], text[5], text[6:12])

    def pack(self) -> bytes:
        return bytes.fromhex(self.digits())

    def digits(self) -> str:
        return (
            self.application_type
            + self.software_version
            + self.terminal_status
            + self.processing_request
            + self.software_subversion
        )


@dataclass(frozen=True)
class Frame:
    tpdu: Tpdu
    header: Header
    message: bytes  # MTI, bitmap and fields: what pyiso8583 decodes


def pack(tpdu: Tpdu, header: Header, message: bytes) -> bytes:
    if not MIN_MESSAGE <= len(message) <= MAX_MESSAGE:
        raise FramingError(f"message of {len(message)} bytes is outside {MIN_MESSAGE}..{MAX_MESSAGE}")
    body = tpdu.pack() + header.pack() + message
    return len(body).to_bytes(LENGTH_BYTES, "big") + body


def body_length(prefix: bytes) -> int:
    """The length a 2-byte prefix announces, refused when no message of ours could be that long; for readers
    that take the prefix off a stream before the rest."""
    if len(prefix) != LENGTH_BYTES:
        raise FramingError("frame shorter than its 2-byte length")
    length = int.from_bytes(prefix, "big")
    if not TPDU_BYTES + HEADER_BYTES + MIN_MESSAGE <= length <= TPDU_BYTES + HEADER_BYTES + MAX_MESSAGE:
        raise FramingError(f"frame length {length} is not a possible message")
    return length


def parse(frame: bytes) -> Frame:
    """Exactly one frame, length prefix included."""
    length = body_length(frame[:LENGTH_BYTES])
    body = frame[LENGTH_BYTES:]
    if len(body) != length:
        raise FramingError(f"frame says {length} bytes but carries {len(body)}")
    if body[0] != TPDU_ID:
        raise FramingError(f"TPDU id is {body[0]:02X}, not 60")
    tpdu = Tpdu(body[1:3], body[3:5])
    header_raw = body[TPDU_BYTES : TPDU_BYTES + HEADER_BYTES]
    header = Header.from_digits(header_raw.hex())  # A-F nibbles are not digits: refused there
    return Frame(tpdu, header, body[TPDU_BYTES + HEADER_BYTES :])
