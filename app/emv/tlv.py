"""BER-TLV for ICC data (ISO 8583 field 55 style), over pyemv's codec, with one error type."""

from __future__ import annotations

from pyemv import tlv as _tlv


class TlvError(ValueError):
    """Bytes that are not well-formed BER-TLV."""


def encode(tags: dict[str, bytes]) -> bytes:
    try:
        return bytes(_tlv.encode(tags))
    except (_tlv.EncodeError, ValueError, TypeError) as exc:
        raise TlvError(f"cannot encode TLV: {exc}") from None


def decode(data: bytes) -> dict[str, bytes]:
    """Flattened tag -> value (constructed templates are opened). Raises TlvError for anything malformed."""
    try:
        decoded = _tlv.decode(bytes(data), flatten=True)
    except (_tlv.DecodeError, ValueError, TypeError, IndexError) as exc:
        raise TlvError(f"malformed TLV: {exc}") from None
    return {str(tag): bytes(value) for tag, value in decoded.items()}


def icc_hex(tags: dict[str, str]) -> str:
    """Hex tag map (as CardRead.icc holds it) -> the hex TLV string a host message carries."""
    return encode({t: bytes.fromhex(v) for t, v in tags.items()}).hex().upper()


def icc_tags(text: str) -> dict[str, bytes]:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise TlvError("ICC data is not hex") from None
    return decode(raw)
