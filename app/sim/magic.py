"""Magic amounts: the last two digits of the minor units choose an outcome, so every path can be shown."""

from __future__ import annotations

from enum import StrEnum


class Delivery(StrEnum):
    NORMAL = "normal"
    LOST = "lost"  # decided and recorded, then the connection closes without an answer (every time)
    LATE = "late"  # decided and recorded, answered only after the terminal's read timeout (every time)


MAGIC_DECLINES: dict[int, str] = {
    5: "05",  # do not honour
    51: "51",  # insufficient funds
    54: "54",  # expired card
    55: "55",  # incorrect PIN
    61: "61",  # exceeds amount limit
    91: "91",  # issuer unavailable
}
MAGIC_DELIVERY: dict[int, Delivery] = {68: Delivery.LOST, 98: Delivery.LATE}


def magic_decline(amount_minor: int) -> str | None:
    return MAGIC_DECLINES.get(amount_minor % 100)


def magic_delivery(amount_minor: int) -> Delivery:
    return MAGIC_DELIVERY.get(amount_minor % 100, Delivery.NORMAL)


def describe() -> list[tuple[str, str]]:
    """(cents, outcome) pairs for help screens and `pos cards`."""
    return [
        (".05", "05 do not honour"),
        (".51", "51 insufficient funds"),
        (".54", "54 expired card"),
        (".55", "55 incorrect PIN"),
        (".61", "61 exceeds amount limit"),
        (".91", "91 issuer unavailable"),
        (".68", "approved by the acquirer, answer lost: the terminal reverses it"),
        (".98", "approved by the acquirer, answer too late: the terminal reverses it"),
    ]
