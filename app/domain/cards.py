"""What the terminal may know and keep about a card: brand, funding, entry mode, the masked PAN and a token.

The full PAN lives only in memory while a card is being read and sent; at rest there is only the masked PAN
(first 6, last 4) and a keyed token that lets a refund be matched to its sale without storing the number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum


class CardBrand(StrEnum):
    VISA = "visa"
    MASTERCARD = "mastercard"
    UNIONPAY = "unionpay"
    AMEX = "amex"
    JCB = "jcb"
    OTHER = "other"

    @property
    def label(self) -> str:
        return BRAND_LABELS[self]


BRAND_LABELS = {
    CardBrand.VISA: "VISA",
    CardBrand.MASTERCARD: "MASTERCARD",
    CardBrand.UNIONPAY: "UNIONPAY 银联",
    CardBrand.AMEX: "AMEX",
    CardBrand.JCB: "JCB",
    CardBrand.OTHER: "OTHER",
}


class Funding(StrEnum):
    DEBIT = "debit"  # 借记卡
    CREDIT = "credit"  # 信用卡


class EntryMode(StrEnum):
    CHIP = "chip"
    CONTACTLESS = "contactless"
    SWIPE = "swipe"
    FALLBACK = "fallback"  # swiped after the chip could not be read


class Cvm(StrEnum):
    """How the cardholder was verified; decides whether the merchant copy needs a signature."""

    ONLINE_PIN = "online_pin"
    OFFLINE_PIN = "offline_pin"
    SIGNATURE = "signature"
    NO_CVM = "no_cvm"


class CardDataError(ValueError):
    """Card data that cannot be right (bad PAN length, failed Luhn check, impossible expiry)."""


PAN_PATTERN = re.compile(r"[0-9]{12,19}")


def luhn_ok(pan: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(pan)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_pan(pan: str) -> str:
    if not PAN_PATTERN.fullmatch(pan):
        raise CardDataError("card number has the wrong length or characters")
    if not luhn_ok(pan):
        raise CardDataError("card number fails its check digit")
    return pan


def mask_pan(pan: str) -> str:
    """First 6 and last 4 digits, the rest as '*': the most any screen, slip, log or journal may show."""
    if len(pan) < 10:
        return "*" * len(pan)
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def pan_token(pan: str, secret: bytes) -> str:
    """A keyed, one-way token of the PAN: equal for the same card, useless without the terminal's secret."""
    return hmac.new(secret, pan.encode("ascii"), hashlib.sha256).hexdigest()[:32]


# Issuer identification ranges; enough for brand checks and labels, not a BIN table. No two ranges overlap.
# Maestro is Mastercard's debit brand and is routed as Mastercard: its ranges (5018, 5020, 5038, 56-58 with 5893,
# 6304, 6390, 67; the Maestro UK 6759/6767 ranges are inside 67) give CardBrand.MASTERCARD, which is what the
# Maestro AID (A0000000043060) is configured with. Visa Electron and V PAY are inside Visa's 4.
_BRAND_RANGES: tuple[tuple[str, str, CardBrand], ...] = (
    ("62", "62", CardBrand.UNIONPAY),
    ("81", "81", CardBrand.UNIONPAY),
    ("34", "34", CardBrand.AMEX),
    ("37", "37", CardBrand.AMEX),
    ("3528", "3589", CardBrand.JCB),
    ("2221", "2720", CardBrand.MASTERCARD),
    ("51", "55", CardBrand.MASTERCARD),
    ("5018", "5018", CardBrand.MASTERCARD),  # Maestro
    ("5020", "5020", CardBrand.MASTERCARD),  # Maestro
    ("5038", "5038", CardBrand.MASTERCARD),  # Maestro
    ("56", "58", CardBrand.MASTERCARD),  # Maestro
    ("6304", "6304", CardBrand.MASTERCARD),  # Maestro
    ("6390", "6390", CardBrand.MASTERCARD),  # Maestro
    ("67", "67", CardBrand.MASTERCARD),  # Maestro
    ("4", "4", CardBrand.VISA),
)


def brand_of(pan: str) -> CardBrand:
    for low, high, brand in _BRAND_RANGES:
        head = pan[: len(low)]
        if len(head) == len(low) and low <= head <= high:
            return brand
    return CardBrand.OTHER
