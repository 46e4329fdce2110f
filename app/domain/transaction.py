"""Transaction kinds, the states a transaction can be in, and the only moves between them.

Every row of the journal is in exactly one of these states; after a crash, whatever state a row is found in
names what recovery must do with it. Nothing outside this table may change a state.
"""

from __future__ import annotations

from enum import StrEnum


class TxnKind(StrEnum):
    SALE = "sale"  # 消费
    VOID = "void"  # 撤销: cancels a sale or completion of the open batch
    REFUND = "refund"  # 退货: returns (part of) a sale from an earlier batch
    PREAUTH = "preauth"  # 预授权: holds an amount on the card
    COMPLETION = "completion"  # 预授权完成: charges up to the held amount
    PREAUTH_VOID = "preauth_void"  # 预授权撤销: releases the hold
    BALANCE = "balance"  # 余额查询: moves no money

    @property
    def moves_money(self) -> bool:
        """Whether an unknown outcome of this kind must be reversed (a balance inquiry has nothing to undo)."""
        return self is not TxnKind.BALANCE

    @property
    def needs_card(self) -> bool:
        return self in (TxnKind.SALE, TxnKind.PREAUTH, TxnKind.BALANCE, TxnKind.REFUND)

    @property
    def needs_supervisor(self) -> bool:
        return self in (TxnKind.VOID, TxnKind.REFUND, TxnKind.PREAUTH_VOID)

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    TxnKind.SALE: "SALE 消费",
    TxnKind.VOID: "VOID 撤销",
    TxnKind.REFUND: "REFUND 退货",
    TxnKind.PREAUTH: "PRE-AUTH 预授权",
    TxnKind.COMPLETION: "PRE-AUTH COMPLETION 预授权完成",
    TxnKind.PREAUTH_VOID: "PRE-AUTH VOID 预授权撤销",
    TxnKind.BALANCE: "BALANCE 余额查询",
}

# Which original kinds each reference-based kind may point at.
ORIGINAL_KINDS: dict[TxnKind, tuple[TxnKind, ...]] = {
    TxnKind.VOID: (TxnKind.SALE, TxnKind.COMPLETION),
    TxnKind.REFUND: (TxnKind.SALE, TxnKind.COMPLETION),
    TxnKind.COMPLETION: (TxnKind.PREAUTH,),
    TxnKind.PREAUTH_VOID: (TxnKind.PREAUTH,),
}


class TxnState(StrEnum):
    # The intent is committed and a reversal is armed; the request may or may not have reached the acquirer.
    # Found after a crash, it means "outcome unknown".
    PENDING = "pending"
    # The acquirer approved and, for chip, the card accepted the answer. Final unless later voided or completed.
    APPROVED = "approved"
    # The acquirer (or a status inquiry) said no. Final; no money moved.
    DECLINED = "declined"
    # The outcome is unknown, or the acquirer approved but the card refused or was pulled out: this must be
    # undone at the acquirer. The reversal is re-sent until acknowledged; settlement waits for it.
    REVERSAL_PENDING = "reversal_pending"
    # The acquirer acknowledged the reversal: whatever it had recorded is undone. Final.
    REVERSED = "reversed"
    # A non-financial request (balance inquiry) got no answer: nothing to undo. Final.
    UNANSWERED = "unanswered"
    # An approved sale, completion or pre-auth later cancelled by an approved void / pre-auth void. Final.
    VOIDED = "voided"
    # An approved pre-auth whose completion was approved. Final.
    COMPLETED = "completed"

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self]

    @property
    def in_flight(self) -> bool:
        """Left in this state, the transaction still needs the acquirer before it can be called final."""
        return self in (TxnState.PENDING, TxnState.REVERSAL_PENDING)


TRANSITIONS: dict[TxnState, frozenset[TxnState]] = {
    TxnState.PENDING: frozenset({TxnState.APPROVED, TxnState.DECLINED, TxnState.REVERSAL_PENDING, TxnState.UNANSWERED}),
    # A status inquiry may prove the acquirer declined, in which case there is nothing to reverse.
    TxnState.REVERSAL_PENDING: frozenset({TxnState.REVERSED, TxnState.DECLINED}),
    TxnState.APPROVED: frozenset({TxnState.VOIDED, TxnState.COMPLETED}),
    TxnState.DECLINED: frozenset(),
    TxnState.REVERSED: frozenset(),
    TxnState.UNANSWERED: frozenset(),
    TxnState.VOIDED: frozenset(),
    TxnState.COMPLETED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A programming error: some code tried a move the table forbids."""


def check_transition(current: TxnState, target: TxnState) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"transaction cannot go from {current} to {target}")
