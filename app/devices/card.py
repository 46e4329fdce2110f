"""The card input seam: how the engine gets a card for an amount, and hands the card the acquirer's answer.

A `CardSource` (simulated profiles today; PC/SC, NFC and swipe readers behind the same interface) returns a
`CardSession`. The engine reads `session.card`, goes online, then calls `session.complete(answer)` so a chip
card can check the issuer's cryptogram and give its final word (second GENERATE AC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.domain.cards import CardBrand, Cvm, EntryMode, Funding, mask_pan
from app.domain.money import Money
from app.domain.transaction import TxnKind
from app.errors import UserFacingError


class CardError(UserFacingError):
    """The card could not be used. The message is for the cashier; it never contains card data."""


class CardRemoved(CardError):
    def __init__(self) -> None:
        super().__init__("card removed too early: nothing was charged by the card")


class InsertCardInstead(CardError):
    def __init__(self, why: str) -> None:
        super().__init__(f"please insert the card ({why})")


class PinCancelled(CardError):
    def __init__(self) -> None:
        super().__init__("the PIN entry was cancelled: nothing was charged")


@dataclass(frozen=True)
class CardRequest:
    kind: TxnKind
    amount: Money
    when: datetime  # terminal local time: EMV 9A / 9F21
    country_numeric: int
    terminal_id: str


@dataclass(frozen=True)
class SensitiveCardData:
    """Lives in memory for one transaction and travels only inside the sealed host message."""

    pan: str
    expiry: str  # YYMM
    psn: str | None = None
    track2: str | None = None

    def __repr__(self) -> str:
        return f"SensitiveCardData({mask_pan(self.pan)})"

    __str__ = __repr__


# EMV tags that may be kept in the journal and printed: none of them carries the PAN or track data.
SLIP_TAGS = ("84", "50", "9F12", "95", "9B", "9F26", "9F27", "9F36", "9F34", "82")


@dataclass(frozen=True)
class CardRead:
    sensitive: SensitiveCardData = field(repr=False)
    brand: CardBrand
    funding: Funding
    entry_mode: EntryMode
    cvm: Cvm
    app_label: str = ""
    aid: str = ""
    # ICC data for the acquirer (field 55): tag -> hex. Never includes 5A, 57 or 9F1F.
    icc: dict[str, str] = field(default_factory=dict)
    # ISO 9564 format 4 PIN block under the PIN key, when the cardholder entered an online PIN.
    pin_block: bytes | None = field(default=None, repr=False)

    @property
    def masked_pan(self) -> str:
        return mask_pan(self.sensitive.pan)

    def slip_emv(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        tags = {**self.icc, **(extra or {})}
        return {t: tags[t] for t in SLIP_TAGS if t in tags}


@dataclass(frozen=True)
class HostAnswer:
    """What the card needs from the acquirer's response."""

    approved: bool
    response_code: str
    icc: dict[str, str] = field(default_factory=dict)  # tag -> hex: 91 issuer authentication data, 8A ...
    scripts: tuple[bytes, ...] = ()  # issuer script templates (71 before, 72 after the final GENERATE AC), whole


@dataclass(frozen=True)
class CardCompletion:
    accepted: bool  # the card's last word: TC (accepted) or AAC (refused)
    icc: dict[str, str] = field(default_factory=dict)
    reason: str = ""


class PinPad(Protocol):
    def online_pin_block(self, pan: str, amount: Money) -> bytes:
        """Ask the cardholder for their PIN and return it enciphered; raise PinCancelled if they cancel."""
        ...

    def offline_pin_block(self, amount: Money, tries_left: int | None) -> bytes:
        """Ask for the PIN the chip checks itself (offline plaintext PIN, EMV VERIFY): an ISO 9564 format 2
        block that goes straight to the card. Raise PinCancelled if the cardholder cancels."""
        ...


class CardSession(Protocol):
    card: CardRead

    def complete(self, answer: HostAnswer | None) -> CardCompletion:
        """Give the card the acquirer's answer; None means the terminal could not get one."""
        ...

    def close(self) -> None: ...


class CardSource(Protocol):
    def present(self, request: CardRequest, pin_pad: PinPad) -> CardSession:
        """Wait for a card, read it and (for chip) obtain the first cryptogram. Raises CardError."""
        ...
