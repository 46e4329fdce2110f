"""Offline data authentication (EMV Book 2): certificates recovered with plain RSA, hashes checked with SHA-1.

    CA key  --recovers-->  issuer key (tag 90 + 92 + 9F32)
    issuer key --recovers--> ICC key (9F46 + 9F48 + 9F47, hash covers the static data)   [DDA, CDA]
    issuer key --verifies--> signed static application data (93)                        [SDA]
    ICC key --verifies--> signed dynamic application data (9F4B)                         [DDA, CDA]

Every check that fails raises OdaFailure with the reason; the kernel turns that into the TVR bit.
"""

from __future__ import annotations

import hashlib
import hmac
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from app.emv.capk import CaPublicKey

HEADER, TRAILER = 0x6A, 0xBC
SHA1, RSA = 0x01, 0x01


class OdaFailure(Exception):
    """An offline data authentication check failed; str() says which (for logs, not for cashiers)."""


@dataclass(frozen=True)
class PublicKey:
    modulus: bytes
    exponent: bytes


def rsa_recover(data: bytes, key: PublicKey | CaPublicKey) -> bytes:
    if len(data) != len(key.modulus):
        raise OdaFailure(f"signed data is {len(data)} bytes, the key {len(key.modulus)}")
    n = int.from_bytes(key.modulus, "big")
    value = int.from_bytes(data, "big")
    if value >= n:
        raise OdaFailure("signed data is not smaller than the modulus")
    return pow(value, int.from_bytes(key.exponent, "big"), n).to_bytes(len(key.modulus), "big")


def _sha1(*parts: bytes) -> bytes:
    return hashlib.sha1(b"".join(parts)).digest()  # noqa: S324 (EMV Book 2 specifies SHA-1)


def _frame(recovered: bytes, fmt: int) -> bytes:
    """Checks header, format, trailer; returns the recovered hash's input prefix (format byte .. before hash)."""
    if recovered[0] != HEADER or recovered[-1] != TRAILER:
        raise OdaFailure("recovered data has the wrong header or trailer")
    if recovered[1] != fmt:
        raise OdaFailure(f"recovered data has format {recovered[1]:02X}, expected {fmt:02X}")
    return recovered[1:-21]


def _check_hash(recovered: bytes, *hashed: bytes) -> None:
    if not hmac.compare_digest(recovered[-21:-1], _sha1(*hashed)):
        raise OdaFailure("hash in the recovered data does not match")


def _not_expired(mmyy: bytes, today: date, what: str) -> None:
    text = mmyy.hex()
    try:
        month, year = int(text[:2]), 2000 + int(text[2:])
        last_day = date(year, month, monthrange(year, month)[1])
    except ValueError:
        raise OdaFailure(f"{what} has an impossible expiry date {text}") from None
    if last_day < today:
        raise OdaFailure(f"{what} expired {text[:2]}/{text[2:]}")


def _digits(bcd: bytes) -> str:
    return bcd.hex().upper().rstrip("F")


def _key_from(leftmost: bytes, remainder: bytes, length: int, exponent: bytes, exponent_length: int) -> PublicKey:
    modulus = (leftmost + remainder)[:length]
    if len(modulus) != length:
        raise OdaFailure("the public key remainder is missing")
    if exponent_length != len(exponent) or exponent not in (b"\x03", b"\x01\x00\x01"):
        raise OdaFailure("the public key exponent is not what the certificate says")
    return PublicKey(modulus, exponent)


def recover_issuer_key(
    ca: CaPublicKey, certificate: bytes, remainder: bytes, exponent: bytes, pan: str, today: date
) -> PublicKey:
    r = rsa_recover(certificate, ca)
    prefix = _frame(r, 0x02)
    _check_hash(r, prefix, remainder, exponent)
    issuer_id = _digits(r[2:6])
    if not issuer_id or not pan.startswith(issuer_id):
        raise OdaFailure("the issuer certificate is for other card numbers")
    _not_expired(r[6:8], today, "the issuer certificate")
    if r[11] != SHA1 or r[12] != RSA:
        raise OdaFailure("the issuer certificate uses an unknown algorithm")
    return _key_from(r[15:-21], remainder, r[13], exponent, r[14])


def recover_icc_key(
    issuer: PublicKey,
    certificate: bytes,
    remainder: bytes,
    exponent: bytes,
    pan: str,
    static_data: bytes,
    today: date,
) -> PublicKey:
    r = rsa_recover(certificate, issuer)
    prefix = _frame(r, 0x04)
    _check_hash(r, prefix, remainder, exponent, static_data)
    if _digits(r[2:12]) != pan:
        raise OdaFailure("the ICC certificate is for another card number")
    _not_expired(r[12:14], today, "the ICC certificate")
    if r[17] != SHA1 or r[18] != RSA:
        raise OdaFailure("the ICC certificate uses an unknown algorithm")
    return _key_from(r[21:-21], remainder, r[19], exponent, r[20])


def verify_static_signature(issuer: PublicKey, signed: bytes, static_data: bytes) -> bytes:
    """SDA: returns the data authentication code (9F45)."""
    r = rsa_recover(signed, issuer)
    prefix = _frame(r, 0x03)
    _check_hash(r, prefix, static_data)
    if r[2] != SHA1:
        raise OdaFailure("signed static data uses an unknown hash")
    return r[3:5]


def verify_dynamic_signature(icc: PublicKey, signed: bytes, terminal_dynamic_data: bytes) -> bytes:
    """DDA and CDA: returns the ICC dynamic data the card signed."""
    r = rsa_recover(signed, icc)
    prefix = _frame(r, 0x05)
    _check_hash(r, prefix, terminal_dynamic_data)
    if r[2] != SHA1:
        raise OdaFailure("signed dynamic data uses an unknown hash")
    length = r[3]
    if 4 + length > len(r) - 21:
        raise OdaFailure("signed dynamic data has an impossible length")
    return r[4 : 4 + length]


@dataclass(frozen=True)
class CdaData:
    icc_dynamic_number: bytes
    cid: int
    cryptogram: bytes
    transaction_hash: bytes


def cda_fields(dynamic: bytes) -> CdaData:
    if not dynamic:
        raise OdaFailure("CDA dynamic data is empty")
    n = dynamic[0]
    if len(dynamic) < 1 + n + 1 + 8 + 20:
        raise OdaFailure("CDA dynamic data is too short")
    return CdaData(dynamic[1 : 1 + n], dynamic[1 + n], dynamic[2 + n : 10 + n], dynamic[10 + n : 30 + n])


def transaction_hash(*parts: bytes) -> bytes:
    return _sha1(*parts)
