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


class WrongCryptogram(CardError):
    """The card answered GENERATE AC with a cryptogram above the one asked for (AAC < TC < ARQC), or of no known
    type. EMV lets a card step down, never up: this is a card error, a decline, and after an approval a reversal.

    `cid` is the card's Cryptogram Information Data, kept for the record (9F27)."""

    def __init__(self, asked: str, got: str, cid: int) -> None:
        super().__init__(f"the card answered {got} where the terminal asked for {asked}: a card error")
        self.cid = cid
