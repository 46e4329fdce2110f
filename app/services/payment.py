"""Card-present transactions: 消费 sale, 预授权 pre-authorisation, 余额查询 balance inquiry."""

from __future__ import annotations

import threading

from app.devices.card import CardError, CardRequest, CardSession
from app.devices.pin_entry import EncryptingPinPad
from app.domain.money import Money
from app.domain.transaction import TxnKind
from app.services.context import CardInput, Context
from app.services.errors import PosError
from app.services.gate import Gate
from app.services.online import OnlineRequest, OnlineTransaction, summarise
from app.services.results import TxnResult


class Cancelled(PosError):
    def __init__(self) -> None:
        super().__init__("cancelled before anything was sent: nothing was charged")


class Payments:
    def __init__(self, ctx: Context, gate: Gate, online: OnlineTransaction) -> None:
        self.ctx = ctx
        self.gate = gate
        self.online = online

    def sale(self, amount: Money, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        return self._card_present(TxnKind.SALE, self._checked(amount), card, cancel)

    def preauth(self, amount: Money, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        return self._card_present(TxnKind.PREAUTH, self._checked(amount), card, cancel)

    def balance(self, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        return self._card_present(TxnKind.BALANCE, self.ctx.money(0), card, cancel)

    def _checked(self, amount: Money) -> Money:
        limits = self.ctx.settings.limits
        if amount.currency != self.ctx.settings.terminal.currency:
            raise PosError(f"this terminal takes {self.ctx.settings.terminal.currency.code} only")
        if amount.is_zero:
            raise PosError("the amount must be more than zero")
        if amount > limits.max_amount:
            raise PosError(f"{amount} is over this terminal's limit of {limits.max_amount}: check the amount")
        return amount

    def _card_present(self, kind: TxnKind, amount: Money, card: CardInput, cancel: threading.Event | None) -> TxnResult:
        operator = self.gate.operator()
        self.gate.clear_reversals()
        session = self.read_card(kind, amount, card)
        try:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            summary = summarise(session.card, self.ctx.pan_token(session.card.sensitive.pan))
            return self.online.run(OnlineRequest(kind, amount.minor, operator, session, summary))
        finally:
            session.close()

    def read_card(self, kind: TxnKind, amount: Money, card: CardInput) -> CardSession:
        ctx = self.ctx
        keys = ctx.host.require_keys()
        request = CardRequest(
            kind, amount, ctx.now(), ctx.settings.terminal.country_numeric, ctx.settings.terminal.terminal_id
        )
        ctx.say("Present the card: insert, tap or swipe")
        try:
            return card.source.present(request, EncryptingPinPad(card.pin_entry, keys.pin))
        except CardError as exc:
            raise PosError(f"card: {exc}") from None
