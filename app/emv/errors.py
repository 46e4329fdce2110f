"""What can go wrong between the kernel and a card, in words for the cashier. Never with card data inside."""

from __future__ import annotations

from app.devices.card import CardError


class CardReadError(CardError):
    """The chip answered something that is not well-formed EMV data, or nothing usable at all.

    After one of these the card may be swiped instead (chip fallback)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the chip could not be read ({detail})")
        self.detail = detail


class NoApplication(CardError):
    def __init__(self) -> None:
        super().__init__("this card has no application the terminal accepts")


class CardDeclinedOffline(CardError):
    """The card (or the terminal's risk rules) declined before going online: nothing was charged."""

    def __init__(self, why: str) -> None:
        super().__init__(f"declined by the card before going online: {why}")
