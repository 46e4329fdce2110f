"""What a service hands back to the screen or the CLI after a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.domain.transaction import TxnState
from app.journal.records import TxnRecord


class Status(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"  # the acquirer's answer never came: reversed, or a reversal is pending
    ERROR = "error"


STATUS_OF_STATE = {
    TxnState.APPROVED: Status.APPROVED,
    TxnState.DECLINED: Status.DECLINED,
    TxnState.REVERSED: Status.UNKNOWN,
    TxnState.REVERSAL_PENDING: Status.UNKNOWN,
    TxnState.PENDING: Status.UNKNOWN,
    TxnState.UNANSWERED: Status.ERROR,
    # Approved first; what happened later (a void, a completion) does not change that the payment was approved.
    TxnState.VOIDED: Status.APPROVED,
    TxnState.COMPLETED: Status.APPROVED,
}


@dataclass(frozen=True)
class TxnResult:
    status: Status
    message: str  # what to tell the cashier, in plain words
    record: TxnRecord | None = None
    slips: tuple[str, ...] = ()
    printer_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        r = self.record
        out: dict[str, Any] = {
            "status": self.status.value,
            "message": self.message,
            "response_code": r.response_code if r else None,
            "trace": r.trace if r else None,
            "batch": r.batch if r else None,
            "kind": r.kind.value if r else None,
            "state": r.state.value if r else None,
            "amount_minor": r.amount_minor if r else None,
            "currency": r.currency if r else None,
            "masked_pan": r.masked_pan if r else None,
            "auth_code": r.auth_code if r else None,
            "rrn": r.rrn if r else None,
            "orig_trace": r.orig_trace if r else None,
            "slips": list(self.slips),
        }
        if r and r.balance_minor is not None:
            out["balance_minor"] = r.balance_minor
        if self.printer_error:
            out["printer_error"] = self.printer_error
        return out
