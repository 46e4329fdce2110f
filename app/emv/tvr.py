"""Terminal Verification Results (95) and Transaction Status Information (9B), bit by bit (EMV Book 3, C5/C6).

Each bit is named once here; the kernel sets bits by name, and the bytes go to the card (CDOL), the acquirer
(field 55) and the slip.
"""

from __future__ import annotations

from enum import Enum


class TvrBit(Enum):
    # (byte index, mask)
    ODA_NOT_PERFORMED = (0, 0x80)
    SDA_FAILED = (0, 0x40)
    ICC_DATA_MISSING = (0, 0x20)
    DDA_FAILED = (0, 0x08)
    CDA_FAILED = (0, 0x04)
    SDA_SELECTED = (0, 0x02)
    VERSIONS_DIFFER = (1, 0x80)
    EXPIRED = (1, 0x40)
    NOT_YET_EFFECTIVE = (1, 0x20)
    SERVICE_NOT_ALLOWED = (1, 0x10)
    NEW_CARD = (1, 0x08)
    CVM_FAILED = (2, 0x80)
    UNRECOGNISED_CVM = (2, 0x40)
    PIN_TRY_LIMIT_EXCEEDED = (2, 0x20)
    PIN_PAD_NOT_WORKING = (2, 0x10)
    PIN_NOT_ENTERED = (2, 0x08)
    ONLINE_PIN_ENTERED = (2, 0x04)
    OVER_FLOOR_LIMIT = (3, 0x80)
    LOWER_OFFLINE_LIMIT_EXCEEDED = (3, 0x40)
    UPPER_OFFLINE_LIMIT_EXCEEDED = (3, 0x20)
    RANDOMLY_SELECTED_ONLINE = (3, 0x10)
    MERCHANT_FORCED_ONLINE = (3, 0x08)
    DEFAULT_TDOL_USED = (4, 0x80)
    ISSUER_AUTHENTICATION_FAILED = (4, 0x40)
    SCRIPT_FAILED_BEFORE_FINAL_GENAC = (4, 0x20)
    SCRIPT_FAILED_AFTER_FINAL_GENAC = (4, 0x10)


class TsiBit(Enum):
    ODA_PERFORMED = (0, 0x80)
    CVM_PERFORMED = (0, 0x40)
    CARD_RISK_MANAGEMENT_PERFORMED = (0, 0x20)
    ISSUER_AUTHENTICATION_PERFORMED = (0, 0x10)
    TERMINAL_RISK_MANAGEMENT_PERFORMED = (0, 0x08)
    SCRIPT_PROCESSING_PERFORMED = (0, 0x04)


class Bits:
    def __init__(self, size: int) -> None:
        self._bytes = bytearray(size)

    def set(self, bit: TvrBit | TsiBit) -> None:
        index, mask = bit.value
        self._bytes[index] |= mask

    def clear(self, bit: TvrBit | TsiBit) -> None:
        index, mask = bit.value
        self._bytes[index] &= ~mask & 0xFF

    def __contains__(self, bit: TvrBit | TsiBit) -> bool:
        index, mask = bit.value
        return bool(self._bytes[index] & mask)

    def __bytes__(self) -> bytes:
        return bytes(self._bytes)

    def hex(self) -> str:
        return self._bytes.hex().upper()

    def names(self) -> list[str]:
        kind: type[TvrBit] | type[TsiBit] = TvrBit if len(self._bytes) == 5 else TsiBit
        return [b.name for b in kind if b in self]


def new_tvr() -> Bits:
    return Bits(5)


def new_tsi() -> Bits:
    return Bits(2)
