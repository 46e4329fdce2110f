"""Application cryptograms (ARQC/TC/AAC) and issuer authentication (ARPC), by cryptogram version.

One object per card and issuer key, used on both sides of the wire: simulated and emulated cards generate
with it, and the acquirer simulator verifies by generating the same cryptogram. pyemv does the cryptography;
this module knows which bytes each CVN feeds it and how tag 91 is laid out.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from pyemv import cvn as _cvn

import app.crypto  # noqa: F401  (filters the known TDES deprecation warnings from pyemv)


class CryptogramError(ValueError):
    """Data that a cryptogram cannot be computed from (wrong lengths, unsupported CVN)."""


# CVN -> (pyemv class, how the 9F10 bytes feed generate_ac, ARPC method)
_VISA_FULL_IAD = {18: _cvn.VisaCVN18, 22: _cvn.VisaCVN22}
_MASTERCARD = {
    16: _cvn.MasterCardCVN16,
    17: _cvn.MasterCardCVN17,
    20: _cvn.MasterCardCVN20,
    21: _cvn.MasterCardCVN21,
}
SUPPORTED_CVNS = (10, 16, 17, 18, 20, 21, 22)

# Tags the ARQC covers, in the order every CVN here feeds them (EMV Book 2, recommended minimum set).
AC_TAGS = ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37", "82", "9F36")

# Card Status Update (Visa ARPC method 2): byte 2 bit 8 says "issuer approves".
CSU_APPROVED = bytes.fromhex("00800000")
CSU_DECLINED = bytes.fromhex("00000000")


def default_iad(cvn: int) -> bytes:
    """Issuer Application Data (9F10) as a card of this CVN would send it, with a neutral CVR."""
    if cvn == 10:
        return bytes.fromhex("06010A03A00000")
    if cvn == 18:
        return bytes.fromhex("06011203A00000")
    if cvn == 22:
        return bytes.fromhex("1F2201" + "03A0000000" + "00" * 26)
    if cvn in _MASTERCARD:
        # DKI, CVN, CVR (6), DAC (2), counters (8: offline amount 6, offline count 1, FF)
        return bytes([0x01, cvn]) + bytes.fromhex("A00000000000") + b"\x00\x00" + b"\x00" * 7 + b"\xff"
    raise CryptogramError(f"unsupported cryptogram version {cvn}")


@dataclass
class CardCryptograms:
    """The application cryptogram keys of one card (derived from the issuer master key) and their use."""

    cvn: int
    impl: Any

    @classmethod
    def for_card(cls, cvn: int, imk_ac: bytes, pan: str, psn: str | None) -> CardCryptograms:
        if cvn not in SUPPORTED_CVNS:
            raise CryptogramError(f"unsupported cryptogram version {cvn} (supported: {SUPPORTED_CVNS})")
        if len(imk_ac) != 16:
            raise CryptogramError("issuer master key must be 16 bytes")
        klass = _VISA_FULL_IAD.get(cvn) or _MASTERCARD.get(cvn) or _cvn.VisaCVN10
        # Script integrity/confidentiality keys are not used here; pyemv wants them, so the AC key stands in.
        return cls(cvn, klass(imk_ac, imk_ac, imk_ac, pan, (psn or "00")[-2:].rjust(2, "0")))

    def generate_ac(self, tags: dict[str, bytes]) -> bytes:
        try:
            args = [tags[t] for t in AC_TAGS]
            iad = tags["9F10"]
        except KeyError as missing:
            raise CryptogramError(f"cryptogram data lacks tag {missing.args[0]}") from None
        if self.cvn == 10:
            extra = [iad[3:7]]
        elif self.cvn in _VISA_FULL_IAD:
            extra = [iad]
        elif self.cvn in (17, 21):
            extra = [iad[2:8], iad[10:18]]
        else:
            extra = [iad[2:8]]
        try:
            ac: bytes = self.impl.generate_ac(*args, *extra)
        except (ValueError, TypeError) as exc:
            raise CryptogramError(f"cannot compute cryptogram: {exc}") from None
        return ac

    def issuer_authentication_data(self, arqc: bytes, atc: bytes, response_code: str, approve: bool) -> bytes:
        """Tag 91 as the issuer sends it: ARPC plus CSU (Visa method 2) or plus ARC (method 1)."""
        arc = response_code.encode("ascii", "replace")[:2].ljust(2, b"0")
        return self._tag_91(arqc, atc, CSU_APPROVED if approve else CSU_DECLINED, arc)

    def _tag_91(self, arqc: bytes, atc: bytes, csu: bytes, arc: bytes) -> bytes:
        if self.cvn in _VISA_FULL_IAD:
            return bytes(self.impl.generate_arpc(arqc, atc, csu)) + csu
        if self.cvn in (20, 21):
            return bytes(self.impl.generate_arpc(arqc, atc, arc)) + arc
        return bytes(self.impl.generate_arpc(arqc, arc)) + arc

    def check_issuer_authentication(self, arqc: bytes, atc: bytes, tag_91: bytes) -> bool | None:
        """The card's side: True if the issuer approves and the ARPC is genuine, False if the issuer declined,
        None if the ARPC is not genuine (issuer authentication failed)."""
        if self.cvn in _VISA_FULL_IAD:
            if len(tag_91) != 8:
                return None
            csu, arc, approves = tag_91[4:], b"", tag_91[4:] == CSU_APPROVED
        else:
            if len(tag_91) != 10:
                return None
            csu, arc, approves = b"", tag_91[8:], tag_91[8:] == b"00"
        if not hmac.compare_digest(self._tag_91(arqc, atc, csu, arc), tag_91):
            return None
        return approves
