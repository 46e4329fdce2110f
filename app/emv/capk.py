"""Certification authority public keys (CAPK): the roots of offline data authentication.

Keys come from a TOML file of `[[key]]` entries (rid, index, modulus, exponent, expiry, checksum). The test keys
for the emulated cards ship in app/emv/capk_test.toml; a production terminal names the payment networks' file in
its configuration. Each key's SHA-1 checksum is checked when loaded, and an expired key is not used.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.errors import UserFacingError

TEST_KEYS = Path(__file__).with_name("capk_test.toml")


class CapkFileError(UserFacingError, ValueError):
    """A CA key file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class CaPublicKey:
    rid: str
    index: int
    modulus: bytes
    exponent: bytes
    expiry: date

    def __repr__(self) -> str:
        return f"CaPublicKey({self.rid}/{self.index:02X}, {len(self.modulus) * 8} bits)"


class CapkStore:
    def __init__(self, keys: list[CaPublicKey]) -> None:
        self._keys = {(k.rid, k.index): k for k in keys}

    def find(self, rid: str, index: int, today: date) -> CaPublicKey | None:
        key = self._keys.get((rid.upper(), index))
        return key if key is not None and key.expiry >= today else None

    def __len__(self) -> int:
        return len(self._keys)

    @classmethod
    def load(cls, *paths: Path) -> CapkStore:
        keys: list[CaPublicKey] = []
        for path in paths:
            keys += _load_file(path)
        return cls(keys)


def _load_file(path: Path) -> list[CaPublicKey]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CapkFileError(f"{path}: cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CapkFileError(f"{path}: not valid TOML ({exc})") from None
    entries = data.get("key")
    if not isinstance(entries, list):
        raise CapkFileError(f"{path}: no [[key]] entries")
    return [_entry(path, n, e) for n, e in enumerate(entries, start=1)]


def _entry(path: Path, n: int, e: object) -> CaPublicKey:
    where = f"{path}: [[key]] #{n}"
    if not isinstance(e, dict):
        raise CapkFileError(f"{where}: not a table")

    def hex_field(name: str, pattern: str) -> bytes:
        value = e.get(name)
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise CapkFileError(f"{where}: {name} is missing or malformed")
        return bytes.fromhex(value)

    rid = hex_field("rid", r"[0-9A-Fa-f]{10}")
    index = hex_field("index", r"[0-9A-Fa-f]{2}")
    modulus = hex_field("modulus", r"(?:[0-9A-Fa-f]{2}){64,248}")
    exponent = hex_field("exponent", r"01|03|010001")
    checksum = hex_field("checksum", r"[0-9A-Fa-f]{40}")
    if hashlib.sha1(rid + index + modulus + exponent).digest() != checksum:  # noqa: S324 (EMV specifies SHA-1)
        raise CapkFileError(f"{where}: checksum does not match the key")
    try:
        expiry = date.fromisoformat(str(e.get("expiry")))
    except ValueError:
        raise CapkFileError(f"{where}: expiry must be a date like 2030-12-31") from None
    return CaPublicKey(rid.hex().upper(), index[0], modulus, exponent, expiry)
