"""The payment terminal as one object: what the touchscreen and the `pos` command both drive.

Where things happen:  a sale -> payments.py -> online.py;  void/refund/completion -> adjustments.py;
reversals -> recovery.py;  end of day -> settlement.py;  sign-in and staff -> shift.py.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from app.domain.money import Money
from app.domain.transaction import TxnKind
from app.host.keys import KeyExchangeError
from app.journal.records import TxnRecord
from app.journal.settlements import SettlementRecord
from app.services.adjustments import Adjustments
from app.services.context import CardInput, Context
from app.services.errors import PosError
from app.services.gate import Gate
from app.services.lock import TerminalLock
from app.services.online import OnlineTransaction, describe
from app.services.payment import Payments
from app.services.printing import Printed
from app.services.recovery import Recovery
from app.services.results import STATUS_OF_STATE, TxnResult
from app.services.settlement import Settlement, SettlementResult
from app.services.shift import Shift

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TerminalStatus:
    operator: str | None
    batch: int
    next_trace: int
    in_flight: tuple[TxnRecord, ...]
    unfinished_settlement: SettlementRecord | None
    keys: bool
    set_up: bool
    training: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "operator": self.operator,
            "batch": self.batch,
            "next_trace": self.next_trace,
            "in_flight": [r.trace for r in self.in_flight],
            "unfinished_settlement": self.unfinished_settlement.batch if self.unfinished_settlement else None,
            "keys": self.keys,
            "set_up": self.set_up,
            "training": self.training,
        }


class Terminal:
    def __init__(self, ctx: Context, lock: TerminalLock | None = None) -> None:
        self.ctx = ctx
        self._lock = lock
        self.recovery = Recovery(ctx)
        self.shift = Shift(ctx)
        self.gate = Gate(ctx, self.shift, self.recovery)
        self.online = OnlineTransaction(ctx, self.recovery)
        self.payments = Payments(ctx, self.gate, self.online)
        self.adjustments = Adjustments(ctx, self.gate, self.shift, self.online, self.payments)
        self.settlement = Settlement(ctx, self.gate, self.recovery)

    # -- life cycle -----------------------------------------------------------------------------------------

    def start(self) -> TerminalStatus:
        """Open for work: demo accounts if configured, working keys from the journal, then (when this process
        owns the terminal) anything a crash left in flight is resolved. Reads no more than a few index rows."""
        if self._lock is not None:  # only the process that owns the terminal writes at start
            self._note_configuration()
            if self.ctx.settings.seed_demo_accounts:
                self.shift.seed_demo_accounts()
        blocks = self.ctx.journal.keyring.load()
        if blocks:
            try:
                self.ctx.host.install_keys(blocks)
            except KeyExchangeError as exc:
                log.warning("stored working keys unusable (%s): a sign-in will fetch new ones", exc)
                self.ctx.journal.keyring.clear()
        if self._lock is not None and self.ctx.host.keys is not None and self.ctx.journal.txns.in_flight():
            self.recovery.resolve_all()
        return self.status()

    def _note_configuration(self) -> None:
        """Audit which sections of the configuration changed since the last start (their values stay out)."""
        journal, digests = self.ctx.journal, self.ctx.settings.section_digests
        before = json.loads(journal.meta.get("config_digests") or "{}")
        if before == digests:
            return
        changed = sorted(k for k in digests if before.get(k) != digests[k]) if before else ["first use"]
        journal.audit.add("system", "configuration_changed", ", ".join(changed), self.ctx.now())
        journal.meta.put("config_digests", json.dumps(digests, sort_keys=True))

    def close(self) -> None:
        self.ctx.host.close()
        self.ctx.journal.close()
        if self._lock is not None:
            self._lock.release()

    def status(self) -> TerminalStatus:
        j = self.ctx.journal
        return TerminalStatus(
            j.staff.signed_in(),
            j.txns.current_batch(),
            j.txns.next_trace(),
            tuple(j.txns.in_flight()),
            j.settlements.unfinished(),
            self.ctx.host.keys is not None,
            self.shift.is_set_up(),
            self.ctx.settings.terminal.training,
        )

    # -- the counter day ------------------------------------------------------------------------------------

    def sign_in(self, operator_id: str, pin: str) -> str:
        op = self.shift.sign_in(operator_id, pin)
        self.recovery.resolve_all()  # fresh keys: a good moment to clear reversals left from before
        return op.id

    def sign_out(self) -> str | None:
        return self.shift.sign_out()

    def sale(self, amount: Money, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        return self.payments.sale(amount, card, cancel)

    def preauth(self, amount: Money, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        return self.payments.preauth(amount, card, cancel)

    def balance(self, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        return self.payments.balance(card, cancel)

    def void(self, trace: int, supervisor_password: str) -> TxnResult:
        return self.adjustments.void(trace, supervisor_password)

    def refund(self, trace: int, amount: Money, supervisor_password: str, card: CardInput) -> TxnResult:
        return self.adjustments.refund(trace, amount, supervisor_password, card)

    def complete(self, trace: int, amount: Money) -> TxnResult:
        return self.adjustments.complete(trace, amount)

    def preauth_void(self, trace: int, supervisor_password: str) -> TxnResult:
        return self.adjustments.preauth_void(trace, supervisor_password)

    def settle(self) -> SettlementResult:
        return self.settlement.settle()

    def recover(self) -> tuple[list[TxnRecord], SettlementResult | None]:
        """Finish whatever was left in flight: reversals first, then an interrupted settlement."""
        if self.ctx.host.keys is None:
            raise PosError("no working keys from the acquirer: sign in first, then recover")
        waiting = self.recovery.resolve_all()
        settled = None
        if not waiting and self.ctx.journal.settlements.unfinished() is not None:
            settled = self.settlement.settle()
        return waiting, settled

    # -- the journal ----------------------------------------------------------------------------------------

    def find(
        self,
        *,
        batch: int | None = None,
        local_date: str | None = None,
        amount: Money | None = None,
        kind: TxnKind | None = None,
        limit: int = 50,
    ) -> list[TxnRecord]:
        return self.ctx.journal.txns.search(
            batch=batch,
            local_date=local_date,
            amount_minor=amount.minor if amount else None,
            kind=kind,
            limit=limit,
        )

    def get(self, trace: int) -> TxnRecord:
        record = self.ctx.journal.txns.get(trace)
        if record is None:
            raise PosError(f"no transaction with voucher number {trace:06d}")
        return record

    def reprint(self, trace: int | None = None) -> TxnResult:
        """重打印: the last slip, or any by voucher number, marked DUPLICATE."""
        record = self.ctx.journal.txns.last() if trace is None else self.get(trace)
        if record is None:
            raise PosError("nothing to reprint: the journal is empty")
        printed = self.ctx.printing.transaction(record, duplicate=True)
        return TxnResult(STATUS_OF_STATE[record.state], describe(record), record, printed.slips, printed.error)

    def settlement_record(self, batch: int | None = None) -> SettlementRecord:
        settlements = self.ctx.journal.settlements
        record = settlements.last_settled() if batch is None else settlements.get(batch)
        if record is None:
            raise PosError("no settlement to reprint" if batch is None else f"no settlement of batch {batch:06d}")
        return record

    def reprint_settlement(self, batch: int | None = None) -> Printed:
        return self.ctx.printing.settlement(self.settlement_record(batch))

    def print_detail(self, batch: int | None = None) -> Printed:
        """明细: every transaction of a batch (the open one unless named)."""
        number = self.ctx.journal.txns.current_batch() if batch is None else batch
        return self.ctx.printing.detail(self.batch_records(number), number)

    def batch_records(self, batch: int) -> list[TxnRecord]:
        return self.ctx.journal.txns.search(batch=batch, limit=100_000)
