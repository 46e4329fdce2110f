"""Data object lists (PDOL, CDOL1/2, DDOL): what the card asks for, and the bytes the terminal answers with.

EMV Book 3, 5.4: a value shorter than asked is padded (numeric: zeros on the left; everything else: zeros on
the right), a longer one is cut (numeric: from the left; everything else: from the right), and a value the
terminal does not have is sent as zeros.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.emv.errors import CardReadError

# Format n (numeric, BCD right-aligned) tags the terminal supplies; the rest are b/an/cn and pad on the right.
NUMERIC_TAGS = frozenset(
    {"9F02", "9F03", "5F2A", "9F1A", "9A", "9C", "9F21", "9F35", "9F41", "5F36", "9F1B", "9F3C", "9F15"}
)


def read_tag(data: bytes, i: int) -> tuple[str, int]:
    if i >= len(data):
        raise CardReadError("a data object list ends inside a tag")
    start = i
    i += 1
    if data[start] & 0x1F == 0x1F:
        while True:
            if i >= len(data):
                raise CardReadError("a data object list ends inside a tag")
            i += 1
            if not data[i - 1] & 0x80:
                break
            if i - start > 3:
                raise CardReadError("a tag in a data object list is too long")
    return data[start:i].hex().upper(), i


def parse_dol(dol: bytes) -> list[tuple[str, int]]:
    """[(tag, length)] in the card's order. Lengths are one byte (EMV)."""
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(dol):
        tag, i = read_tag(dol, i)
        if i >= len(dol):
            raise CardReadError("a data object list ends before a length")
        out.append((tag, dol[i]))
        i += 1
    return out


def dol_length(dol: bytes) -> int:
    return sum(length for _, length in parse_dol(dol))


def fit(tag: str, value: bytes, length: int) -> bytes:
    if len(value) == length:
        return value
    if tag in NUMERIC_TAGS:
        return value[-length:] if len(value) > length else bytes(length - len(value)) + value
    return value[:length] if len(value) > length else value + bytes(length - len(value))


def build_dol_data(dol: bytes, values: Mapping[str, bytes]) -> bytes:
    return b"".join(fit(tag, values.get(tag, b""), length) for tag, length in parse_dol(dol))


def split_dol_data(dol: bytes, data: bytes) -> dict[str, bytes]:
    """The values the terminal sent, tag by tag (to rebuild what a cryptogram was computed over)."""
    out: dict[str, bytes] = {}
    i = 0
    for tag, length in parse_dol(dol):
        out[tag] = data[i : i + length]
        i += length
    return out
