"""结算 / 清机: end-of-day settlement, resumable at every step.

    STARTED   totals frozen, request armed      -> acquirer agrees: SETTLED (batch closes, next batch opens)
                                                -> acquirer's totals differ (95): MISMATCH
    MISMATCH  upload the batch detail            -> UPLOADED
    UPLOADED  settle again, after the upload     -> SETTLED (matched or not, with the differences)

Each step keeps its idempotency key in the journal, so a settlement cut off by a crash or an outage is
re-sent with the same key and the acquirer answers it once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.domain.responses import APPROVED, meaning
from app.domain.settlement import BatchItem, BatchTotals, Difference, SettlementState, compute_totals
from app.faults import checkpoint
from app.host.client import HostError
from app.host.protocol import MessageType
from app.journal.settlements import SettlementRecord
from app.services.context import Context
from app.services.errors import PosError
from app.services.gate import Gate
from app.services.recovery import Recovery

UPLOAD_CHUNK = 500


@dataclass(frozen=True)
class SettlementResult:
    record: SettlementRecord
    message: str
    slip: str | None
    printer_error: str | None
    purged: int

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "status": "settled" if r.state is SettlementState.SETTLED else "error",
            "message": self.message,
            "batch": r.batch,
            "matched": r.matched,
            "totals": r.terminal_totals.to_json(),
            "acquirer_totals": r.acquirer_totals.to_json() if r.acquirer_totals else None,
            "differences": [d.__dict__ for d in r.differences],
            "slip": self.slip,
            "printer_error": self.printer_error,
        }


class Settlement:
    def __init__(self, ctx: Context, gate: Gate, recovery: Recovery) -> None:
        self.ctx = ctx
        self.gate = gate
        self.recovery = recovery

    def settle(self) -> SettlementResult:
        ctx = self.ctx
        journal = ctx.journal
        record = journal.settlements.unfinished()
        if record is None:
            self.gate.operator()
            waiting = self.recovery.resolve_all()
            if waiting:
                raise PosError(
                    f"{len(waiting)} transaction(s) still await a reversal (first: voucher {waiting[0].trace:06d}): "
                    "settlement must wait until the acquirer confirms them"
                )
            batch = journal.txns.current_batch()
            totals = compute_totals(ctx.settings.terminal.currency.code, journal.txns.batch_groups(batch))
            first, last, _, _ = journal.txns.batch_span(batch)
            record = journal.settlements.start(batch, uuid.uuid4().hex, totals, (first, last), ctx.now())
            journal.audit.add(journal.staff.signed_in() or "-", "settlement_started", f"batch {batch:06d}", ctx.now())
        elif ctx.host.keys is None:
            raise PosError("no working keys from the acquirer: sign in again, then settle to finish")
        try:
            while record.state is not SettlementState.SETTLED:
                record = self._step(record)
        except HostError as exc:
            raise PosError(
                f"settlement of batch {record.batch:06d} interrupted ({exc}); it is kept: settle again to finish"
            ) from None
        except PosError:
            # The acquirer answered, but not with something usable: replaying the same request would only get
            # the same answer, so the next attempt is a new request under a new key.
            journal.settlements.renew_key(record.batch, uuid.uuid4().hex)
            raise
        return self._closed(record)

    def _step(self, record: SettlementRecord) -> SettlementRecord:
        ctx = self.ctx
        if record.state is SettlementState.MISMATCH:
            self._upload(record)
            return ctx.journal.settlements.move(
                record.batch, SettlementState.UPLOADED, ctx.now(), next_key=uuid.uuid4().hex
            )
        after_upload = record.state is SettlementState.UPLOADED
        ctx.say(f"Settling batch {record.batch:06d}" + (" after the batch upload" if after_upload else ""))
        answer = self._send(
            MessageType.SETTLEMENT,
            record.idempotency_key,
            batch=record.batch,
            totals=record.terminal_totals.to_json(),
            after_upload=after_upload,
        )
        checkpoint("during_settlement")
        code = answer["response_code"]
        acquirer_totals = self._totals(answer)
        if code == "95" and not after_upload:
            return ctx.journal.settlements.move(
                record.batch,
                SettlementState.MISMATCH,
                ctx.now(),
                next_key=uuid.uuid4().hex,
                acquirer_totals=acquirer_totals,
                matched=False,
            )
        if code != APPROVED:
            raise PosError(f"the acquirer refused the settlement: {meaning(code).english} ({code})")
        matched = answer.get("matched")
        if not isinstance(matched, bool):
            raise PosError("the acquirer's settlement answer does not say whether the totals matched")
        return ctx.journal.settlements.move(
            record.batch,
            SettlementState.SETTLED,
            ctx.now(),
            acquirer_totals=acquirer_totals,
            matched=matched,
            differences=self._differences(answer),
        )

    def _upload(self, record: SettlementRecord) -> None:
        items = self.ctx.journal.txns.batch_items(record.batch)
        parts = max(1, -(-len(items) // UPLOAD_CHUNK))
        self.ctx.say(f"Uploading {len(items)} transactions of batch {record.batch:06d}")
        for part in range(parts):
            chunk: list[BatchItem] = items[part * UPLOAD_CHUNK : (part + 1) * UPLOAD_CHUNK]
            answer = self._send(
                MessageType.BATCH_UPLOAD,
                f"{record.idempotency_key}-up{part + 1}",
                batch=record.batch,
                part=part + 1,
                parts=parts,
                items=[
                    {
                        "trace": i.trace,
                        "kind": i.kind.value,
                        "state": i.state.value,
                        "amount_minor": i.amount_minor,
                    }
                    for i in chunk
                ],
            )
            if answer["response_code"] != APPROVED:
                raise PosError(f"the acquirer refused the batch upload ({answer['response_code']})")

    def _send(self, kind: MessageType, key: str, **fields: Any) -> dict[str, Any]:
        host = self.ctx.host
        return host.exchange(kind, host.envelope(kind, key, **fields))

    @staticmethod
    def _totals(answer: dict[str, Any]) -> BatchTotals | None:
        raw = answer.get("totals")
        if raw is None:
            return None
        try:
            return BatchTotals.from_json(raw)
        except ValueError as exc:
            raise PosError(f"the acquirer's totals are unreadable: {exc}") from None

    @staticmethod
    def _differences(answer: dict[str, Any]) -> list[Difference]:
        raw = answer.get("differences") or []
        try:
            return [
                Difference(int(d["trace"]), d.get("terminal"), d.get("acquirer")) for d in raw if isinstance(d, dict)
            ]
        except (KeyError, TypeError, ValueError):
            raise PosError("the acquirer's list of differences is unreadable") from None

    def _closed(self, record: SettlementRecord) -> SettlementResult:
        ctx = self.ctx
        now = ctx.now()
        limits = ctx.settings.limits
        # Nothing may go while a refund or a pre-auth completion could still need it.
        window = timedelta(days=max(limits.refund_window_days, limits.preauth_validity_days))
        purged = ctx.journal.txns.purge_before(now - window, ctx.journal.txns.current_batch())
        ctx.journal.audit.add(
            ctx.journal.staff.signed_in() or "-",
            "settled",
            f"batch {record.batch:06d} {'matched' if record.matched else 'NOT matched'}; purged {purged}",
            now,
        )
        printed = ctx.printing.settlement(record)
        slip, printer_error = (printed.slips[0] if printed.slips else None), printed.error
        if record.matched:
            message = f"Batch {record.batch:06d} settled; totals match the acquirer"
        else:
            differ = len(record.differences)
            message = f"Batch {record.batch:06d} settled after a batch upload; {differ} transaction(s) differ"
        return SettlementResult(record, message, slip, printer_error, purged)
