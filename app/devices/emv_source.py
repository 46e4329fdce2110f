"""Card sources backed by real readers and the EMV kernel: insert (chip), tap (contactless), swipe (magstripe).

`ReaderCardSource` waits on whichever readers the terminal has and takes the first card presented. A chip that
cannot be read arms magstripe fallback for that card's next swipe; a chip card swiped without that is told to
be inserted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.devices.card import (
    CardCompletion,
    CardError,
    CardRead,
    CardRequest,
    HostAnswer,
    InsertCardInstead,
    PinPad,
    SensitiveCardData,
)
from app.devices.readers import ChipReader, ContactlessReader, SwipeReader, Track2
from app.domain.cards import CardBrand, Cvm, EntryMode, Funding, brand_of
from app.domain.transaction import TxnKind
from app.emv import contactless, kernel
from app.emv.apdu import CardChannel
from app.emv.config import KernelConfig
from app.emv.errors import CardReadError
from app.emv.selection import Chooser, highest_priority
from app.emv.trace import ApduTrace
from app.emv.transport import CardTransport

POLL_S = 0.1  # each reader is asked in turn for this long: a card is noticed within a few tenths of a second
FALLBACK_WINDOW_S = 120.0
# Service code, third digit (ISO 7813): these ask for a PIN.
PIN_SERVICE_CODES = frozenset("03567")


class SwipeSession:
    """A stripe has nothing to say after the acquirer answers."""

    def __init__(self, card: CardRead) -> None:
        self.card = card

    def complete(self, answer: HostAnswer | None) -> CardCompletion:
        approved = answer is not None and answer.approved
        return CardCompletion(approved, {}, "" if approved else "declined")

    def close(self) -> None:
        pass


@dataclass
class ReaderCardSource:
    config: KernelConfig
    chip: ChipReader | None = None
    tap: ContactlessReader | None = None
    swipe: SwipeReader | None = None
    wait_s: float = 60.0
    choose: Chooser = highest_priority
    cancel: threading.Event | None = None
    on_trace: Callable[[ApduTrace], None] | None = None  # support hook: the masked APDU trace of each card
    _fallback_until: float = 0.0

    def present(
        self, request: CardRequest, pin_pad: PinPad
    ) -> kernel.EmvSession | contactless.TapSession | SwipeSession:
        tap = self.tap if self.tap and not contactless.over_contactless_limit(request, self.config) else None
        if not (self.chip or tap or self.swipe):
            raise InsertCardInstead("the amount is over the contactless limit") if self.tap else CardError("no reader")
        for reader in (self.chip, tap):
            check = getattr(reader, "check", None)
            if check is not None:
                check()
        if [self.chip, tap, self.swipe].count(None) == 2:
            return self._only_reader(tap, request, pin_pad)
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline:
            if self.cancel is not None and self.cancel.is_set():
                raise CardError("cancelled while waiting for the card")
            if self.chip and (transport := self.chip.wait_for_card(POLL_S, self.cancel)):
                return self._chip(transport, request, pin_pad)
            if tap and (transport := tap.wait_for_card(POLL_S, self.cancel)):
                return self._tap(transport, request, pin_pad)
            if self.swipe and (track := self.swipe.wait_for_swipe(POLL_S, self.cancel)):
                return self._swiped(track, request, pin_pad)
        raise CardError("no card was presented in time")

    def _only_reader(
        self, tap: ContactlessReader | None, request: CardRequest, pin_pad: PinPad
    ) -> kernel.EmvSession | contactless.TapSession | SwipeSession:
        """With one reader there is nothing to take turns with: wait on it, and let it report its own faults."""
        if self.chip and (transport := self.chip.wait_for_card(self.wait_s, self.cancel)):
            return self._chip(transport, request, pin_pad)
        if tap and (transport := tap.wait_for_card(self.wait_s, self.cancel)):
            return self._tap(transport, request, pin_pad)
        if self.swipe and (track := self.swipe.wait_for_swipe(self.wait_s, self.cancel)):
            return self._swiped(track, request, pin_pad)
        raise CardError("no card was presented in time")

    def close(self) -> None:
        for reader in (self.chip, self.tap, self.swipe):
            closer = getattr(reader, "close", None)
            if closer is not None:
                closer()

    def _channel(self, transport: CardTransport) -> CardChannel:
        trace = ApduTrace()
        if self.on_trace:
            self.on_trace(trace)
        return CardChannel(transport, trace)

    def _chip(self, transport: CardTransport, request: CardRequest, pin_pad: PinPad) -> kernel.EmvSession:
        channel = self._channel(transport)
        try:
            return kernel.read_card(channel, request, pin_pad, self.config, self.choose)
        except CardReadError:
            self._fallback_until = time.monotonic() + FALLBACK_WINDOW_S
            transport.close()
            raise
        except BaseException:
            transport.close()
            raise

    def _tap(self, transport: CardTransport, request: CardRequest, pin_pad: PinPad) -> contactless.TapSession:
        channel = self._channel(transport)
        try:
            return contactless.read_tap(channel, request, pin_pad, self.config)
        except BaseException:
            transport.close()
            raise

    def _swiped(self, track: Track2, request: CardRequest, pin_pad: PinPad) -> SwipeSession:
        fallback = time.monotonic() < self._fallback_until
        if track.service_code[:1] in ("2", "6") and not fallback:
            raise InsertCardInstead("this is a chip card")
        self._fallback_until = 0.0
        brand = brand_of(track.pan)
        if brand is CardBrand.OTHER or self.config.aid_for_brand(brand) is None:
            raise CardError("this terminal does not accept this card")
        wants_pin = request.kind is TxnKind.BALANCE or track.service_code[2:3] in PIN_SERVICE_CODES
        cvm = Cvm.ONLINE_PIN if wants_pin else Cvm.SIGNATURE
        pin_block = pin_pad.online_pin_block(track.pan, request.amount) if wants_pin else None
        sensitive = SensitiveCardData(
            track.pan, track.expiry, None, f"{track.pan}={track.expiry}{track.service_code}{track.discretionary}"
        )
        funding = Funding.DEBIT if wants_pin and brand is CardBrand.UNIONPAY else Funding.CREDIT
        entry = EntryMode.FALLBACK if fallback else EntryMode.SWIPE
        return SwipeSession(CardRead(sensitive, brand, funding, entry, cvm, brand.label, "", {}, pin_block))
