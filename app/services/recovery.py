"""冲正: bringing every in-flight transaction to a final state, across crashes and outages.

A row left PENDING (the process died between intent and outcome) becomes REVERSAL_PENDING. For each
REVERSAL_PENDING row a status inquiry may show there is nothing to undo (the acquirer declined it); otherwise a
reversal is sent, under a key derived from the original's, until the acquirer acknowledges it. Every step is
safe to repeat: a second run after a crash finds each row where the first left it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace

from app.domain.responses import APPROVED
from app.domain.transaction import TxnState
from app.faults import checkpoint
from app.host.client import HostError
from app.host.protocol import MessageType
from app.journal.records import Outcome, TxnRecord
from app.journal.store import JournalWriteFailed
from app.services.context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reversed:
    record: TxnRecord  # as the acquirer left it (the journal may lag behind: see journal_error)
    journal_error: str | None = None  # set when the journal could not record the reversal


INTERRUPTED = "interrupted before its outcome was recorded"


def reversal_key(record: TxnRecord) -> str:
    return f"{record.idempotency_key}-rev"


class Recovery:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def resolve_all(self) -> list[TxnRecord]:
        """Try to finish every in-flight transaction; returns those still waiting for the acquirer."""
        return [r for r in map(self.resolve, self.ctx.journal.txns.in_flight()) if r.state.in_flight]

    def resolve(self, record: TxnRecord) -> TxnRecord:
        txns = self.ctx.journal.txns
        if record.state is TxnState.PENDING:
            if not record.kind.moves_money:
                return txns.record_outcome(
                    record.trace,
                    Outcome(TxnState.UNANSWERED, reason="interrupted before an answer"),
                    self.ctx.now(),
                )
            record = txns.record_outcome(
                record.trace,
                Outcome(TxnState.REVERSAL_PENDING, reason=INTERRUPTED),
                self.ctx.now(),
            )
        if record.state is not TxnState.REVERSAL_PENDING or self.ctx.host.keys is None:
            return record
        status = self._inquire(record)
        if status == TxnState.DECLINED.value:
            return txns.record_outcome(
                record.trace,
                Outcome(TxnState.DECLINED, reason="the acquirer had declined it"),
                self.ctx.now(),
            )
        return self._reverse(record)

    def _inquire(self, record: TxnRecord) -> str | None:
        host = self.ctx.host
        body = host.envelope(
            MessageType.INQUIRY,
            uuid.uuid4().hex,
            stan=record.trace,
            orig={"idempotency_key": record.idempotency_key},
        )
        try:
            answer = host.exchange(MessageType.INQUIRY, body, retries=0)
        except HostError:
            return None
        status = answer.get("status")
        return status if isinstance(status, str) else None

    def reverse_at_once(self, record: TxnRecord, journal_error: str | None = None) -> Reversed:
        """Reverse, right now, a transaction whose outcome is unknown. `journal_error`: the journal already
        failed to record this transaction's outcome.

        If the journal cannot record a step, the reversal is sent all the same: the row is still in flight in
        the journal (its intent was committed), so recovery finishes it at the next start, and the acquirer
        keys a reversal on its original, so sending it twice is harmless."""
        if journal_error is None:
            try:
                return Reversed(self.resolve(record))
            except JournalWriteFailed as exc:
                journal_error = str(exc)
        log.warning("voucher %06d: %s; reversing without the journal", record.trace, journal_error)
        # The acquirer answers a repeated reversal only if it is the same request: send what resolve() will send
        # from the journal's row at the next start.
        row = self.ctx.journal.txns.get(record.trace) or record
        if row.state is TxnState.PENDING:
            row = replace(row, reason=INTERRUPTED)
        error = self._send_reversal(row)
        # What the acquirer now knows, for the screen and the slip; the journal catches up at the next start.
        if error is None:
            return Reversed(replace(record, state=TxnState.REVERSED), journal_error)
        return Reversed(replace(record, state=TxnState.REVERSAL_PENDING, reversal_error=error), journal_error)

    def _reverse(self, record: TxnRecord) -> TxnRecord:
        txns = self.ctx.journal.txns
        error = self._send_reversal(record)
        if error is not None:
            txns.note_reversal_failure(record.trace, error, self.ctx.now())
            return txns.get(record.trace) or record
        return txns.record_outcome(record.trace, Outcome(TxnState.REVERSED), self.ctx.now())

    def _send_reversal(self, record: TxnRecord) -> str | None:
        """Send the reversal; None once the acquirer has acknowledged it, else why not."""
        host = self.ctx.host
        self.ctx.say(f"Sending reversal for voucher {record.trace:06d}")
        body = host.envelope(
            MessageType.REVERSAL,
            reversal_key(record),
            stan=record.trace,
            batch=record.batch,
            orig={
                "idempotency_key": record.idempotency_key,
                "kind": record.kind.value,
                "amount_minor": record.amount_minor,
                "currency": record.currency,
            },
            reason=(record.reason or "")[:120],
        )
        try:
            answer = host.exchange(MessageType.REVERSAL, body)
        except HostError as exc:
            log.warning("reversal of voucher %06d not delivered: %s", record.trace, exc)
            return str(exc)
        checkpoint("during_reversal")
        if answer["response_code"] != APPROVED:
            return f"acquirer refused the reversal ({answer['response_code']})"
        log.info("voucher %06d reversed (%s)", record.trace, answer.get("message", ""))
        return None
