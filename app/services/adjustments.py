"""Transactions that refer to an earlier one by its voucher (trace) number:
撤销 void, 退货 refund, 预授权完成 pre-auth completion, 预授权撤销 pre-auth void.

Every rule is checked before anything is committed; a refusal is a PosError and changes nothing.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from app.domain.money import Money, currency
from app.domain.transaction import ORIGINAL_KINDS, TxnKind, TxnState
from app.journal.records import CardSummary, TxnRecord
from app.services.context import CardInput, Context
from app.services.errors import PosError
from app.services.gate import Gate
from app.services.online import OnlineRequest, OnlineTransaction, summarise
from app.services.payment import Cancelled, Payments
from app.services.results import TxnResult
from app.services.shift import Shift


def _words(kind: TxnKind) -> str:
    return kind.value.replace("_", " ")


def _inherited(original: TxnRecord) -> CardSummary | None:
    if original.masked_pan is None:
        return None
    return CardSummary(
        original.masked_pan,
        original.pan_token or "",
        original.brand or "",
        original.funding or "",
        original.entry_mode or "",
        "",
        {},
    )


class Adjustments:
    def __init__(self, ctx: Context, gate: Gate, shift: Shift, online: OnlineTransaction, payments: Payments) -> None:
        self.ctx = ctx
        self.gate = gate
        self.shift = shift
        self.online = online
        self.payments = payments

    def void(self, trace: int, supervisor_password: str) -> TxnResult:
        operator = self.gate.operator()
        original = self._original(trace, TxnKind.VOID)
        current = self.ctx.journal.txns.current_batch()
        if original.batch != current:
            raise PosError(
                f"voucher {trace:06d} is in batch {original.batch:06d}, which is settled: use a refund (退货) instead"
            )
        return self._cancel_whole(TxnKind.VOID, original, operator, supervisor_password)

    def refundable(self, trace: int) -> tuple[TxnRecord, Money]:
        """The sale a refund of `trace` would go against, and how much of it is left to refund (refunds in progress
        count as taken). Refuses what a refund would refuse before the card is asked for."""
        original = self._original(trace, TxnKind.REFUND)
        if original.batch == self.ctx.journal.txns.current_batch():
            raise PosError(f"voucher {trace:06d} is in today's open batch: void it instead (撤销)")
        window = self.ctx.settings.limits.refund_window_days
        if self._age(original) > timedelta(days=window):
            raise PosError(f"voucher {trace:06d} is older than the {window}-day refund window")
        left = original.amount_minor - self.ctx.journal.txns.refunds_of(trace)
        if left <= 0:
            raise PosError(f"voucher {trace:06d} is already refunded in full")
        return original, Money(left, currency(original.currency))

    def refund(
        self,
        trace: int,
        amount: Money,
        supervisor_password: str,
        card: CardInput,
        cancel: threading.Event | None = None,
    ) -> TxnResult:
        operator = self.gate.operator()
        original, left_money = self.refundable(trace)
        if amount.currency.code != original.currency:
            raise PosError(f"voucher {trace:06d} was in {original.currency}")
        left = left_money.minor
        if amount.is_zero or amount.minor > left:
            raise PosError(
                f"a refund of voucher {trace:06d} can be at most {Money(max(left, 0), amount.currency)} "
                f"(sale {Money(original.amount_minor, amount.currency)}, already refunded or in progress "
                f"{Money(original.amount_minor - left, amount.currency)})"
            )
        self.gate.clear_reversals()
        supervisor = self.shift.verify_supervisor(supervisor_password, f"refund of {trace:06d}")
        session = self.payments.read_card(TxnKind.REFUND, amount, card)
        try:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            token = self.ctx.pan_token(session.card.sensitive.pan)
            if token != original.pan_token:
                raise PosError(f"this is not the card that paid voucher {trace:06d}: refunds go back to that card")
            summary = summarise(session.card, token)
            return self.online.run(
                OnlineRequest(TxnKind.REFUND, amount.minor, operator, session, summary, original, None, supervisor)
            )
        finally:
            session.close()

    def complete(self, trace: int, amount: Money) -> TxnResult:
        operator = self.gate.operator()
        original = self._original(trace, TxnKind.COMPLETION)
        self._within_preauth_validity(original)
        if amount.is_zero or amount.minor > original.amount_minor:
            raise PosError(
                f"a completion of pre-auth {trace:06d} must be more than zero and at most "
                f"{Money(original.amount_minor, amount.currency)}"
            )
        self.gate.clear_reversals()
        return self.online.run(
            OnlineRequest(
                TxnKind.COMPLETION,
                amount.minor,
                operator,
                None,
                _inherited(original),
                original,
                TxnState.COMPLETED,
            )
        )

    def preauth_void(self, trace: int, supervisor_password: str) -> TxnResult:
        operator = self.gate.operator()
        original = self._original(trace, TxnKind.PREAUTH_VOID)
        self._within_preauth_validity(original)
        return self._cancel_whole(TxnKind.PREAUTH_VOID, original, operator, supervisor_password)

    def _cancel_whole(self, kind: TxnKind, original: TxnRecord, operator: str, supervisor_password: str) -> TxnResult:
        """A void or a pre-auth void: the whole amount goes back, and the original becomes VOIDED."""
        self.gate.clear_reversals()
        supervisor = self.shift.verify_supervisor(supervisor_password, f"{_words(kind)} of {original.trace:06d}")
        return self.online.run(
            OnlineRequest(
                kind, original.amount_minor, operator, None, _inherited(original), original, TxnState.VOIDED, supervisor
            )
        )

    # -- checks ---------------------------------------------------------------------------------------------

    def _original(self, trace: int, kind: TxnKind) -> TxnRecord:
        original = self.ctx.journal.txns.get(trace)
        if original is None:
            raise PosError(f"no transaction with voucher number {trace:06d}")
        allowed = ORIGINAL_KINDS[kind]
        if original.kind not in allowed:
            names = " or ".join(_words(k) for k in allowed)
            raise PosError(f"voucher {trace:06d} is a {_words(original.kind)}; a {_words(kind)} needs a {names}")
        if original.state is not TxnState.APPROVED:
            state = original.state.value.replace("_", " ")
            raise PosError(f"voucher {trace:06d} is {state}, not approved: nothing to {_words(kind)}")
        return original

    def _age(self, original: TxnRecord) -> timedelta:
        created = datetime.fromisoformat(original.created_at.replace("Z", "+00:00"))
        return self.ctx.now() - created

    def _within_preauth_validity(self, original: TxnRecord) -> None:
        days = self.ctx.settings.limits.preauth_validity_days
        if self._age(original) > timedelta(days=days):
            raise PosError(f"pre-auth {original.trace:06d} is older than {days} days and has lapsed")
