"""Fields <-> bytes: pyiso8583 with our spec, the F64 MAC, and the checks pyiso8583 leaves to us (digits in
numeric fields, no fields outside the UnionPay POS layout). Any failure is one `BadAnswer` line."""

from __future__ import annotations

from dataclasses import dataclass

import iso8583
from iso8583.decoder import DecodeError
from iso8583.encoder import EncodeError

from app.host.iso8583 import framing, mac
from app.host.iso8583.spec import KNOWN_FIELDS, NUMERIC, SPEC, TRACK2

MAC_FIELD = "64"
MAC_BYTES = 8
_DIGITS = frozenset("0123456789")
_TRACK2 = _DIGITS | {"D"}


class BadAnswer(ValueError):
    """An acquirer answer the terminal must not act on. The engine maps it to the unknown outcome (reversed)."""


class BadRequest(ValueError):
    """A request the terminal cannot put on the wire (a value that does not fit its field): nothing sent."""


@dataclass(frozen=True)
class MacKey:
    algorithm: mac.MacAlgorithm
    key: bytes

    def __repr__(self) -> str:
        return f"MacKey({self.algorithm.value}, <hidden>)"


def pack(fields: dict[str, str], mac_key: MacKey | None) -> bytes:
    """The message bytes (MTI onwards). With a key, F64 is appended: the MAC covers everything before it."""
    doc = dict(fields)
    if mac_key is not None:
        doc[MAC_FIELD] = "00" * MAC_BYTES
    try:
        raw, _ = iso8583.encode(doc, SPEC)
    except EncodeError as exc:
        raise BadRequest(f"request field {exc.field} does not fit: {exc.msg}") from None
    if mac_key is None:
        return bytes(raw)
    mab = bytes(raw[:-MAC_BYTES])
    return mab + mac.compute(mac_key.algorithm, mac_key.key, mab)


@dataclass(frozen=True)
class Unpacked:
    fields: dict[str, str]
    mac_ok: bool | None  # None: the message carries no F64


def unpack(message: bytes, mac_key: MacKey | None) -> Unpacked:
    try:
        fields, encoded = iso8583.decode(message, SPEC)
    except DecodeError as exc:
        raise BadAnswer(f"answer is malformed: {exc.msg} (field {exc.field})") from None
    except KeyError:
        raise BadAnswer("answer bitmap names a field outside the UnionPay POS layout") from None
    if "1" in fields:
        raise BadAnswer("answer has a secondary bitmap, which UnionPay POS messages never carry")
    present = set(fields) - {"t", "p"}
    unknown = present - KNOWN_FIELDS
    if unknown:
        raise BadAnswer(f"answer carries field(s) {', '.join(sorted(unknown, key=int))} outside the layout")
    for key in (present & (NUMERIC | TRACK2)) | {"t"}:
        allowed = _TRACK2 if key in TRACK2 else _DIGITS
        if not set(fields[key]) <= allowed:
            raise BadAnswer(f"answer field {key} holds BCD nibbles that are not digits")
    mac_ok = None
    if MAC_FIELD in fields:
        mac_ok = mac_key is not None and mac.verify(
            mac_key.algorithm, mac_key.key, message[:-MAC_BYTES], encoded[MAC_FIELD]["data"]
        )
    return Unpacked(fields, mac_ok)


def frame(tpdu: framing.Tpdu, header: framing.Header, fields: dict[str, str], mac_key: MacKey | None) -> bytes:
    return framing.pack(tpdu, header, pack(fields, mac_key))


def unframe(raw: bytes, tpdu: framing.Tpdu, mac_key: MacKey | None) -> tuple[framing.Frame, Unpacked]:
    """An answer frame to a request sent with `tpdu`: framing checked, addresses swapped, then unpacked."""
    try:
        parsed = framing.parse(raw)
    except framing.FramingError as exc:
        raise BadAnswer(f"answer frame refused: {exc}") from None
    if parsed.tpdu != tpdu.answer():
        raise BadAnswer("answer TPDU is not addressed back to this terminal")
    return parsed, unpack(parsed.message, mac_key)
