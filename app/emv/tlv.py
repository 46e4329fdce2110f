"""BER-TLV (EMV Book 3, Annex B): an order-preserving parser with one error type, and pyemv's encoder.

Order and repetition matter in card data (a directory holds several `61` entries), so parsing is our own:
multi-byte tags, short and long (81/82/83) lengths, constructed objects, and the 00/FF padding EMV allows
between objects. Anything malformed raises TlvError and nothing else (the tests fuzz this).

Opening templates is iterative and bounded: EMV templates nest a handful of levels (6F > A5 > BF0C > 61 > ...),
so anything deeper than MAX_DEPTH is malformed card or host data, refused as such rather than left to blow the
interpreter's stack (a 3.8 KB input of nested templates used to raise RecursionError).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pyemv import tlv as _tlv

MAX_DEPTH = 8  # levels of templates, the top level counting as 1


class TlvError(ValueError):
    """Bytes that are not well-formed BER-TLV."""


@dataclass(frozen=True)
class Tlv:
    tag: str  # upper-case hex, e.g. "9F26"
    value: bytes

    def encoded(self) -> bytes:
        return _encode_one(self)

    @property
    def constructed(self) -> bool:
        return bool(bytes.fromhex(self.tag[:2])[0] & 0x20)

    def children(self) -> list[Tlv]:
        return parse(self.value) if self.constructed else []


def _tag(data: bytes, i: int) -> tuple[str, int]:
    start = i
    first = data[i]
    i += 1
    if first & 0x1F == 0x1F:
        while True:
            if i >= len(data):
                raise TlvError("data ends inside a tag")
            i += 1
            if not data[i - 1] & 0x80:
                break
            if i - start >= 4:
                raise TlvError("tag longer than 4 bytes")
    return data[start:i].hex().upper(), i


def _length(data: bytes, i: int) -> tuple[int, int]:
    if i >= len(data):
        raise TlvError("data ends before a length")
    first = data[i]
    i += 1
    if first < 0x80:
        return first, i
    count = first & 0x7F
    if count == 0 or count > 3:
        raise TlvError("unsupported length encoding")
    if i + count > len(data):
        raise TlvError("data ends inside a length")
    return int.from_bytes(data[i : i + count], "big"), i + count


def parse(data: bytes) -> list[Tlv]:
    """The top-level objects of `data`, in order."""
    out: list[Tlv] = []
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):  # padding between objects
            i += 1
            continue
        tag, i = _tag(data, i)
        length, i = _length(data, i)
        if i + length > len(data):
            raise TlvError(f"tag {tag} claims {length} bytes, only {len(data) - i} left")
        out.append(Tlv(tag, data[i : i + length]))
        i += length
    return out


def walk(data: bytes, *, opens: Callable[[Tlv], bool] = lambda item: True) -> Iterator[Tlv]:
    """Every object, depth first, constructed ones followed by their contents (those `opens` accepts).

    Raises TlvError for templates nested deeper than MAX_DEPTH."""
    stack: list[Iterator[Tlv]] = [iter(parse(data))]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        yield item
        if item.constructed and opens(item):
            if len(stack) >= MAX_DEPTH:
                raise TlvError(f"templates nested deeper than {MAX_DEPTH} levels")
            stack.append(iter(item.children()))


def primitives(data: bytes) -> dict[str, bytes]:
    """Primitive objects by tag, opening templates. A tag that appears twice is an error."""
    out: dict[str, bytes] = {}
    for item in walk(data):
        if item.constructed:
            continue
        if item.tag in out:
            raise TlvError(f"tag {item.tag} appears twice")
        out[item.tag] = item.value
    return out


def encode(tags: dict[str, bytes]) -> bytes:
    try:
        return bytes(_tlv.encode(tags))
    except (_tlv.EncodeError, ValueError, TypeError) as exc:
        raise TlvError(f"cannot encode TLV: {exc}") from None


def decode(data: bytes) -> dict[str, bytes]:
    return primitives(data)


def icc_hex(tags: dict[str, str]) -> str:
    """Hex tag map (as CardRead.icc holds it) -> the hex TLV string a host message carries."""
    return encode({t: bytes.fromhex(v) for t, v in tags.items()}).hex().upper()


def split_scripts(text: str) -> tuple[dict[str, bytes], tuple[bytes, ...]]:
    """An acquirer's ICC data: its primitive tags, and its issuer script templates (71/72) kept whole."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise TlvError("ICC data is not hex") from None
    scripts = []
    plain = bytearray()
    for item in parse(raw):
        encoded = _encode_one(item)
        if item.tag in ("71", "72"):
            scripts.append(encoded)
        else:
            plain += encoded
    return primitives(bytes(plain)), tuple(scripts)


def _encode_one(item: Tlv) -> bytes:
    length = len(item.value)
    if length < 0x80:
        size = bytes([length])
    elif length < 0x100:
        size = bytes([0x81, length])
    else:
        size = bytes([0x82]) + length.to_bytes(2, "big")
    return bytes.fromhex(item.tag) + size + item.value


def icc_tags(text: str) -> dict[str, bytes]:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise TlvError("ICC data is not hex") from None
    return decode(raw)
