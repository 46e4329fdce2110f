"""The terminal's side of the cryptogram data: amount, currency, country, date, type, unpredictable number."""

from __future__ import annotations

import secrets

from app.devices.card import CardRequest
from app.domain.transaction import TxnKind

# EMV tag 9C, transaction type (ISO 8583 processing code, first two digits; 03 is UnionPay's pre-auth).
TRANSACTION_TYPE = {
    TxnKind.SALE: "00",
    TxnKind.PREAUTH: "03",
    TxnKind.REFUND: "20",
    TxnKind.BALANCE: "30",
}


def n_bcd(value: int, digits: int) -> bytes:
    """EMV numeric format n: right-aligned BCD, left-padded with zeros."""
    text = f"{value:0{digits}d}"
    if len(text) != digits:
        raise ValueError(f"{value} does not fit in {digits} digits")
    return bytes.fromhex(text)


def unpredictable_number() -> bytes:
    return secrets.token_bytes(4)


def terminal_tags(request: CardRequest, tvr: bytes, un: bytes) -> dict[str, bytes]:
    return {
        "9F02": n_bcd(request.amount.minor, 12),
        "9F03": n_bcd(0, 12),
        "9F1A": n_bcd(request.country_numeric, 4),
        "95": tvr,
        "5F2A": n_bcd(request.amount.currency.numeric, 4),
        "9A": bytes.fromhex(request.when.strftime("%y%m%d")),
        "9F21": bytes.fromhex(request.when.strftime("%H%M%S")),
        "9C": bytes.fromhex(TRANSACTION_TYPE.get(request.kind, "00")),
        "9F37": un,
        "9F35": bytes.fromhex("22"),  # attended, online with offline capability, merchant-operated
        "9F33": bytes.fromhex("E0E8C8"),  # manual key, magstripe, chip; offline and online PIN, signature, no CVM
    }
