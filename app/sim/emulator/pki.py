"""The emulated cards' test PKI: CA private keys, issuer and ICC RSA keys, and EMV Book 2 certificates.

EMV signs with raw RSA in "recovery" mode: the verifier raises the signature to the public exponent and reads the
message back, so there is no padding scheme, only the EMV framing (header 6A, trailer BC, SHA-1 inside).

Keys are generated once per profile and process and then kept (module-level cache): key generation is the slow
part, and a card must present the same certificates on every read so a kernel can cache nothing wrongly.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CA_DIR = Path(__file__).parent / "test_ca"
CA_INDEX = "F1"
ISSUER_KEY_BITS = 1152
ICC_KEY_BITS = 1024
PUBLIC_EXPONENT = 3

HEADER, TRAILER = 0x6A, 0xBC
HASH_SHA1, PK_RSA = 0x01, 0x01
FORMAT_ISSUER_CERT, FORMAT_SSAD, FORMAT_ICC_CERT, FORMAT_SDAD = 0x02, 0x03, 0x04, 0x05
PAD = 0xBB
SHA1_LEN = 20


class PkiError(ValueError):
    """A key or certificate input that cannot make a valid EMV signature."""


@dataclass(frozen=True)
class RsaKey:
    n: int
    e: int
    d: int = field(repr=False)

    @property
    def size(self) -> int:
        """Modulus length in bytes (N_CA, N_I or N_IC in EMV Book 2)."""
        return (self.n.bit_length() + 7) // 8

    @property
    def modulus(self) -> bytes:
        return self.n.to_bytes(self.size, "big")

    @property
    def exponent(self) -> bytes:
        return self.e.to_bytes((self.e.bit_length() + 7) // 8, "big")

    def sign(self, message: bytes) -> bytes:
        if len(message) != self.size:
            raise PkiError(f"message is {len(message)} bytes, the modulus {self.size}")
        m = int.from_bytes(message, "big")
        if m >= self.n:
            raise PkiError("message is not smaller than the modulus")
        return pow(m, self.d, self.n).to_bytes(self.size, "big")

    def recover(self, signature: bytes) -> bytes:
        return pow(int.from_bytes(signature, "big"), self.e, self.n).to_bytes(self.size, "big")

    @classmethod
    def from_private(cls, key: rsa.RSAPrivateKey) -> RsaKey:
        numbers = key.private_numbers()
        return cls(numbers.public_numbers.n, numbers.public_numbers.e, numbers.d)


@dataclass(frozen=True)
class Certificate:
    """A public key certificate and the modulus bytes that did not fit in it (tags 92 / 9F48)."""

    signed: bytes
    remainder: bytes


_lock = threading.Lock()
_keys: dict[str, RsaKey] = {}


def _cached(label: str, bits: int = 0, pem: Path | None = None) -> RsaKey:
    # One lock for all: pcscd and nfcpy may drive two cards from two threads, and a key must exist only once.
    with _lock:
        key = _keys.get(label)
        if key is None:
            key = _load(pem) if pem is not None else _generate(bits)
            _keys[label] = key
        return key


def _load(pem: Path) -> RsaKey:
    try:
        private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PkiError(f"cannot load test CA key {pem.name}: {exc}") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise PkiError(f"{pem.name} is not an RSA key")
    return RsaKey.from_private(private)


def _generate(bits: int) -> RsaKey:
    return RsaKey.from_private(rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits))


def ca_key(rid: str) -> RsaKey:
    """The test CA key pair for a RID (index F1), from app/sim/emulator/test_ca/<RID>-F1.pem."""
    return _cached(f"ca:{rid}", pem=CA_DIR / f"{rid.upper()}-{CA_INDEX}.pem")


def issuer_key(profile: str) -> RsaKey:
    return _cached(f"issuer:{profile}", bits=ISSUER_KEY_BITS)


def icc_key(profile: str, aid: str) -> RsaKey:
    return _cached(f"icc:{profile}:{aid.upper()}", bits=ICC_KEY_BITS)


def _public_key_certificate(signer: RsaKey, fmt: int, head: bytes, subject: RsaKey, hashed_tail: bytes) -> Certificate:
    """EMV Book 2 tables 6 and 14: 6A | format | head | N | exponent length | modulus (leftmost) | hash | BC."""
    room = signer.size - (2 + len(head) + 2 + SHA1_LEN + 1)
    if room <= 0 or subject.size > 255:
        raise PkiError("the signing key is too small for this certificate")
    leftmost, remainder = subject.modulus[:room], subject.modulus[room:]
    body = bytes([fmt]) + head + bytes([subject.size, len(subject.exponent)]) + leftmost.ljust(room, bytes([PAD]))
    digest = hashlib.sha1(body + remainder + subject.exponent + hashed_tail, usedforsecurity=False).digest()
    return Certificate(signer.sign(bytes([HEADER]) + body + digest + bytes([TRAILER])), remainder)


def issuer_certificate(ca: RsaKey, issuer: RsaKey, issuer_id: bytes, expiry_mmyy: bytes, serial: bytes) -> Certificate:
    """Tag 90 (and 92), signed by the CA. issuer_id: leftmost PAN digits, F-padded, 4 bytes."""
    if len(issuer_id) != 4 or len(expiry_mmyy) != 2 or len(serial) != 3:
        raise PkiError("issuer id, expiry and serial must be 4, 2 and 3 bytes")
    head = issuer_id + expiry_mmyy + serial + bytes([HASH_SHA1, PK_RSA])
    return _public_key_certificate(ca, FORMAT_ISSUER_CERT, head, issuer, b"")


def icc_certificate(
    issuer: RsaKey, icc: RsaKey, pan_field: bytes, expiry_mmyy: bytes, serial: bytes, static_data: bytes
) -> Certificate:
    """Tag 9F46 (and 9F48), signed by the issuer; its hash also covers the static data to authenticate."""
    if len(pan_field) != 10 or len(expiry_mmyy) != 2 or len(serial) != 3:
        raise PkiError("PAN, expiry and serial must be 10, 2 and 3 bytes")
    head = pan_field + expiry_mmyy + serial + bytes([HASH_SHA1, PK_RSA])
    return _public_key_certificate(issuer, FORMAT_ICC_CERT, head, icc, static_data)


def signed_static_data(issuer: RsaKey, dac: bytes, static_data: bytes) -> bytes:
    """Tag 93 (SDA, Book 2 table 7): 6A 03 01 DAC BB..BB hash BC, signed by the issuer."""
    if len(dac) != 2:
        raise PkiError("the data authentication code is 2 bytes")
    body = bytes([FORMAT_SSAD, HASH_SHA1]) + dac + bytes([PAD]) * (issuer.size - 26)
    digest = hashlib.sha1(body + static_data, usedforsecurity=False).digest()
    return issuer.sign(bytes([HEADER]) + body + digest + bytes([TRAILER]))


def signed_dynamic_data(icc: RsaKey, icc_dynamic_data: bytes, terminal_dynamic_data: bytes) -> bytes:
    """Signed Dynamic Application Data (DDA tag 80 payload, CDA tag 9F4B; Book 2 tables 17 and 22)."""
    padding = icc.size - 25 - len(icc_dynamic_data)
    if padding < 0 or len(icc_dynamic_data) > 255:
        raise PkiError("ICC dynamic data does not fit in the ICC key")
    body = bytes([FORMAT_SDAD, HASH_SHA1, len(icc_dynamic_data)]) + icc_dynamic_data + bytes([PAD]) * padding
    digest = hashlib.sha1(body + terminal_dynamic_data, usedforsecurity=False).digest()
    return icc.sign(bytes([HEADER]) + body + digest + bytes([TRAILER]))
