"""The two MACs an acquirer may ask for over an ISO 8583 message (F64): the UnionPay "POS ECB" MAC and the
ANSI X9.19 retail MAC. `psec` supplies the DES primitives and the retail MAC itself.

The bytes a MAC covers (the MAB) are the message from the MTI to the end of the field before F64; the codec
cuts them, this module only computes.
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from psec import des
from psec import mac as psec_mac

import app.crypto  # noqa: F401  (silences the known TripleDES warning psec raises; see app/crypto.py)

BLOCK = 8


class MacAlgorithm(StrEnum):
    UNIONPAY_ECB = "unionpay-ecb"
    X919 = "x9.19"


class MacKeyError(ValueError):
    """A MAC key of a length the algorithm cannot use."""


def _tdes_key(key: bytes) -> bytes:
    # A single-length DES key is TDES with K1 = K2: psec's TDES accepts 16 or 24 bytes only.
    if len(key) == BLOCK:
        return key + key
    if len(key) in (16, 24):
        return key
    raise MacKeyError(f"a MAC key is 8, 16 or 24 bytes, not {len(key)}")


def xor_blocks(data: bytes) -> bytes:
    """XOR of the data's 8-byte blocks, the last one padded with zero bytes (none added to a full block)."""
    if len(data) % BLOCK:
        data += bytes(BLOCK - len(data) % BLOCK)
    acc = 0
    for i in range(0, len(data), BLOCK):
        acc ^= int.from_bytes(data[i : i + BLOCK], "big")
    return acc.to_bytes(BLOCK, "big")


def unionpay_ecb(key: bytes, mab: bytes) -> bytes:
    """The UnionPay POS ECB MAC: XOR the 8-byte blocks; take the result as 16 upper-case hex characters;
    encrypt the first 8 under the key, XOR with the last 8, encrypt again; the MAC is the first 8 hex
    characters of that block, as ASCII."""
    k = _tdes_key(key)
    text = xor_blocks(mab).hex().upper().encode("ascii")
    first = des.encrypt_tdes_ecb(k, text[:BLOCK])
    mixed = bytes(a ^ b for a, b in zip(first, text[BLOCK:], strict=True))
    final = des.encrypt_tdes_ecb(k, mixed)
    return final.hex().upper()[:BLOCK].encode("ascii")


def x919(key: bytes, mab: bytes) -> bytes:
    """ANSI X9.19 (ISO 9797-1 algorithm 3, padding method 1): single-DES CBC under the left half, the last
    block through TDES with both halves."""
    if len(key) != 16:
        raise MacKeyError(f"an X9.19 MAC key is 16 bytes, not {len(key)}")
    return psec_mac.generate_retail_mac(key[:BLOCK], key[BLOCK:], mab, padding=1)


def compute(algorithm: MacAlgorithm, key: bytes, mab: bytes) -> bytes:
    if algorithm is MacAlgorithm.UNIONPAY_ECB:
        return unionpay_ecb(key, mab)
    return x919(key, mab)


def verify(algorithm: MacAlgorithm, key: bytes, mab: bytes, mac: bytes) -> bool:
    return hmac.compare_digest(compute(algorithm, key, mab), mac)
