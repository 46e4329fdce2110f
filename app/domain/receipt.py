"""A slip as a list of lines with styles: what every renderer (text, ESC/POS, picture) draws from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Text:
    text: str
    align: Align = Align.LEFT
    bold: bool = False
    size: int = 1  # 1 normal, 2 double width and height


@dataclass(frozen=True)
class Pair:
    """A label on the left, its value on the right: "AMOUNT ........ CNY 12.34"."""

    label: str
    value: str
    bold: bool = False
    size: int = 1


@dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True)
class SignatureBox:
    label: str


@dataclass(frozen=True)
class Qr:
    data: str


Line = Text | Pair | Rule | SignatureBox | Qr


class Copy(StrEnum):
    MERCHANT = "merchant"  # 商户存根
    CUSTOMER = "customer"  # 持卡人存根
    BANK = "bank"  # 银行存根
    REPORT = "report"  # settlement and detail slips


@dataclass(frozen=True)
class Receipt:
    name: str  # e.g. "000012-merchant": used for file names
    copy: Copy
    lines: tuple[Line, ...]
