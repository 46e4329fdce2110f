"""The working keys a UnionPay sign-on answer carries in F62, encrypted under the terminal master key (TMK),
each followed by the first 4 bytes of its check value (the key encrypting 8 zero bytes).

60.3 of the sign-on says which layout to expect:
  001  single-length DES: PIN key (8) + KCV (4), MAC key (8) + KCV (4)                        24 bytes
  003  double-length TDES: PIN key (16) + KCV (4), MAC key (16) + KCV (4)                     40 bytes
  004  as 003, then a track-data key (16) + KCV (4)                                          60 bytes
Every KCV is checked before anything is returned: one wrong check value and no key is installed.
Also here: the F52 PIN block, ISO 9564 format 0 under the PIN working key.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from psec import des, pinblock

import app.crypto  # noqa: F401  (silences the known TripleDES warning psec raises; see app/crypto.py)

KCV_BYTES = 4


class KeyScheme(StrEnum):
    """60.3 of the sign-on request: which working keys the terminal asks for."""

    SINGLE = "001"
    DOUBLE = "003"
    DOUBLE_WITH_TRACK_KEY = "004"


_KEY_LENGTH = {KeyScheme.SINGLE: 8, KeyScheme.DOUBLE: 16, KeyScheme.DOUBLE_WITH_TRACK_KEY: 16}
_KEY_COUNT = {KeyScheme.SINGLE: 2, KeyScheme.DOUBLE: 2, KeyScheme.DOUBLE_WITH_TRACK_KEY: 3}


class WorkingKeyError(ValueError):
    """F62 working keys that cannot be installed: wrong length, wrong master key or a check value mismatch."""


@dataclass(frozen=True)
class IsoWorkingKeys:
    pin: bytes
    mac: bytes
    track: bytes | None = None

    def __repr__(self) -> str:
        return "IsoWorkingKeys(<hidden>)"

    __str__ = __repr__


def _tdes(key: bytes) -> bytes:
    return key + key if len(key) == 8 else key


def kcv(key: bytes) -> bytes:
    """The 4-byte check value of a DES or TDES key."""
    return des.generate_kcv(_tdes(key), KCV_BYTES)


def wrap(master: bytes, key: bytes) -> bytes:
    """A working key encrypted under the TMK with its KCV: what an acquirer puts in F62 (the simulator side)."""
    return des.encrypt_tdes_ecb(_tdes(master), key) + kcv(key)


def unwrap_f62(master: bytes, scheme: KeyScheme, f62: bytes) -> IsoWorkingKeys:
    if len(master) not in (16, 24):
        raise WorkingKeyError("the terminal master key must be a 16- or 24-byte TDES key")
    size = _KEY_LENGTH[scheme]
    step = size + KCV_BYTES
    if len(f62) != step * _KEY_COUNT[scheme]:
        raise WorkingKeyError(
            f"F62 has {len(f62)} bytes; scheme {scheme.value} carries {step * _KEY_COUNT[scheme]}: nothing installed"
        )
    names = ("PIN", "MAC", "track")
    keys: list[bytes] = []
    for i in range(_KEY_COUNT[scheme]):
        chunk = f62[i * step : (i + 1) * step]
        key = des.decrypt_tdes_ecb(master, chunk[:size])
        if not hmac.compare_digest(kcv(key), chunk[size:]):
            raise WorkingKeyError(f"the {names[i]} working key fails its check value: nothing installed")
        keys.append(key)
    return IsoWorkingKeys(keys[0], keys[1], keys[2] if len(keys) == 3 else None)


def pin_block(pin_key: bytes, pin: str, pan: str) -> bytes:
    """F52: the ISO 9564 format 0 PIN block encrypted under the PIN working key."""
    return des.encrypt_tdes_ecb(_tdes(pin_key), pinblock.encode_pinblock_iso_0(pin, pan))
