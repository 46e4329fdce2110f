"""Merchant-presented payloads for the QR tests: the specification's published example, an order of ours, and an
independent CRC so that a test can make a payload whose only fault is the one under test."""

from __future__ import annotations

from app.qr import mpm

# The example payload published in EMV® QR Code Specification for Payment Systems (EMV QRCPS): Merchant-Presented
# Mode, v1.1 (EMVCo, 2017), in its informative example appendix: two merchant account templates (29, 31), MCC
# 4111, CNY 23.72, "BEST TRANSPORT" in BEIJING, the Chinese names in template 64, additional data 62, an
# unreserved template 91, and its CRC A13A. Lengths there count characters (64 is 20 long with 最佳运输 in it).
SPEC_EXAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN"
    "5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***"
    "0708A60086670902ME91320016A0112233449988770708123456786304A13A"
)

UNIONPAY_AID = "A000000333010101"


def crc_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE written out bit by bit, independently of the terminal's (which uses binascii)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def with_crc(body: str) -> str:
    """A payload whose CRC is right, so that only the rule under test can refuse it."""
    body += "6304"
    return body + f"{crc_ccitt_false(body.encode()):04X}"


def order(**changes: object) -> mpm.DynamicOrder:
    fields: dict[str, object] = {
        "account": mpm.MerchantAccount("26", UNIONPAY_AID, (("01", "898310012345678"),)),
        "mcc": "5411",
        "amount_minor": 12345,
        "merchant_name": "KIOSK CORNER SHOP",
        "merchant_city": "SHANGHAI",
        "order_reference": "T0001B000123V0042",
        "terminal_label": "T0001",
    }
    fields.update(changes)
    return mpm.DynamicOrder(**fields)  # type: ignore[arg-type]
