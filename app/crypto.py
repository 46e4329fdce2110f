"""Symmetric primitives the host protocol uses, in one place: AES-CMAC, AES key check values, AES-GCM sealing.

Importing this module also silences one known warning: pyemv and psec build Triple-DES ciphers through the
pre-48 `cryptography` path, which warns on every call. The versions are pinned in pyproject.toml; the filter
is narrow (that message, from those two packages) so any other deprecation still shows.
"""

from __future__ import annotations

import base64
import binascii
import os
import warnings

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.utils import CryptographyDeprecationWarning

warnings.filterwarnings(
    "ignore", message=".*TripleDES.*", category=CryptographyDeprecationWarning, module=r"(pyemv|psec)\."
)


class CryptoError(ValueError):
    """A MAC, seal or key that does not verify."""


def cmac(key: bytes, data: bytes) -> bytes:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def cmac_ok(key: bytes, data: bytes, mac: bytes) -> bool:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    try:
        c.verify(mac)
    except InvalidSignature:
        return False
    return True


def aes_kcv(key: bytes) -> str:
    """Key check value: the first 3 bytes of the AES-CMAC of a zero block (ANSI X9.24-1:2017)."""
    return cmac(key, bytes(16))[:3].hex().upper()


def seal(key: bytes, plaintext: bytes, context: bytes) -> str:
    """AES-GCM with a random nonce; the context (terminal id, trace) is authenticated but not encrypted."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, context)).decode("ascii")


def unseal(key: bytes, token: str, context: bytes) -> bytes:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("sealed data is not base64") from None
    if len(raw) < 12 + 16:
        raise CryptoError("sealed data is too short")
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], context)
    except InvalidTag:
        raise CryptoError("sealed data does not verify") from None
