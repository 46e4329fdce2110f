"""Money as integer minor units of an ISO 4217 currency. Never a float anywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.errors import UserFacingError


class AmountError(UserFacingError, ValueError):
    """An amount a person typed or a message carried that cannot be money."""


@dataclass(frozen=True)
class Currency:
    code: str
    numeric: int  # ISO 4217 numeric code: what EMV tag 5F2A carries
    exponent: int  # digits after the decimal point

    @property
    def numeric_text(self) -> str:
        return f"{self.numeric:03d}"


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("CNY", 156, 2),
        Currency("HKD", 344, 2),
        Currency("USD", 840, 2),
        Currency("EUR", 978, 2),
        Currency("GBP", 826, 2),
        Currency("SGD", 702, 2),
        Currency("JPY", 392, 0),
        Currency("KRW", 410, 0),
        Currency("KWD", 414, 3),
    )
}

# EMV amounts are n12 (tag 9F02): twelve decimal digits of minor units at most.
MAX_MINOR = 10**12 - 1


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code.upper()]
    except KeyError:
        raise AmountError(f"unknown currency {code!r} (known: {', '.join(sorted(CURRENCIES))})") from None


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: Currency

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise AmountError("an amount must be a whole number of minor units")
        if not 0 <= self.minor <= MAX_MINOR:
            raise AmountError(f"amount out of range: {self.minor} minor units")

    @classmethod
    def parse(cls, text: str, cur: Currency) -> Money:
        """Parse what a cashier types: "12", "12.3", "12.34" (at most the currency's exponent in decimals)."""
        text = text.strip()
        decimals = f"(?:\\.([0-9]{{1,{cur.exponent}}}))?" if cur.exponent else ""
        match = re.fullmatch(f"([0-9]{{1,12}}){decimals}", text)
        if not match:
            places = f"at most {cur.exponent} decimal places" if cur.exponent else "no decimal places"
            raise AmountError(f"not an amount: {text!r} (a positive number with {places}, e.g. {_example(cur)})")
        whole, frac = match.group(1), (match.group(2) if cur.exponent else None) or ""
        minor = int(whole) * 10**cur.exponent + (int(frac.ljust(cur.exponent, "0")) if frac else 0)
        if minor > MAX_MINOR:
            raise AmountError(f"amount too large: {text}")
        return cls(minor, cur)

    def __str__(self) -> str:
        return f"{self.currency.code} {self.format()}"

    def format(self) -> str:
        exp = self.currency.exponent
        if exp == 0:
            return f"{self.minor:,}"
        whole, frac = divmod(self.minor, 10**exp)
        return f"{whole:,}.{frac:0{exp}d}"

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise AmountError(f"cannot mix {self.currency.code} and {other.currency.code}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    @property
    def is_zero(self) -> bool:
        return self.minor == 0


def _example(cur: Currency) -> str:
    return "12." + "345"[: cur.exponent] if cur.exponent else "1234"
