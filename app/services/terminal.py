"""The payment terminal as one object: what the touchscreen and the `pos` command both drive.

Where things happen:  a sale -> payments.py -> online.py;  void/refund/completion -> adjustments.py;
reversals -> recovery.py;  end of day -> settlement.py;  sign-in and staff -> shift.py.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from app.domain.money import Money
from app.domain.operators import Role
from app.domain.receipt import Receipt
from app.domain.settlement import BatchTotals, compute_totals
from app.domain.transaction import TxnKind
from app.host.keys import KeyExchangeError
from app.journal.records import TxnRecord
from app.journal.settlements import SettlementRecord
from app.services.adjustments import Adjustments
from app.services.context import CardInput, Context
from app.services.errors import PosError
from app.services.gate import Gate
from app.services.health import Check, Health, StartupCheck, in_use, software_version
from app.services.health.journal import SALES_BLOCKED, CleanClose
from app.services.lock import TerminalLock
from app.services.online import OnlineTransaction, describe
from app.services.payment import Payments
from app.services.printing import Printed
from app.services.recovery import Recovery
from app.services.results import STATUS_OF_STATE, TxnResult
from app.services.settlement import Settlement, SettlementResult
from app.services.shift import Shift
from app.services.slips import DiagnosticsFacts, diagnostics_slip, printer_test_slip

if TYPE_CHECKING:
    from app.devices.emv_source import ReaderCardSource

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    sales_blocked: str | None = None  # why money may not move (the journal is damaged), for the screen to show

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
            "sales_blocked": self.sales_blocked,
        }


@dataclass(frozen=True)
class StaffMember:
    """A staff account as a screen may see it: never its PIN hash."""

    id: str
    role: Role
    locked: bool
    signed_in: bool


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
        self._journal_check: StartupCheck | None = None
        self._damage: str | None = None  # what a journal check, or a read that failed, found wrong with the file
        self._clean_close = CleanClose(ctx.journal.store.path)
        self._check_first = True  # money waits for the quick_check's verdict: unless the last stop was clean
        ctx.journal.store.on_damage = self._heard_damage
        self.journal_check_started = threading.Event()  # this run's check is under way (or done)

    # -- life cycle -----------------------------------------------------------------------------------------

    def start(self) -> TerminalStatus:
        """Open for work: demo accounts if configured, working keys from the journal, then (when this process
        owns the terminal) anything a crash left in flight is resolved. Reads no more than a few index rows.

        The journal's quick_check runs beside it (health/journal.py says why): the status returned here does not
        wait for its verdict. After an unclean stop, status() and everything that moves money do; after a clean
        one, the check waits for an idle moment (at_idle) or a settlement."""
        if self._lock is not None:  # only the owner's own clean close vouches for the file
            self._check_first = not self._clean_close.take()
        if self._check_first:
            self._start_journal_check()
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
        return self._status(SALES_BLOCKED if self._damage is not None else None)

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
        checked = False
        if self._journal_check is not None:
            self._journal_check.stop()
            self._damage = self._damage or self._journal_check.known_problem()
            checked = self._journal_check.complete()
        self.ctx.host.close()
        self.ctx.journal.close()
        if self._lock is not None:
            # A clean close vouches for the file only if this run trusted it rightly: it started from a clean close,
            # or its own check finished. A run after a crash that stops before its verdict leaves the next one to
            # check first. Before the lock goes: nobody else can have written in between.
            if self._damage is None and (checked or not self._check_first):
                self._clean_close.record()
            self._lock.release()

    def at_idle(self) -> None:
        """Nothing is happening at the counter: a good moment for the journal's check, if it has not run yet."""
        self._start_journal_check()

    def status(self) -> TerminalStatus:
        return self._status(self.sales_blocked())

    def _status(self, sales_blocked: str | None) -> TerminalStatus:
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
            sales_blocked,
        )

    # -- the counter day ------------------------------------------------------------------------------------

    def sign_in(self, operator_id: str, pin: str) -> str:
        op = self.shift.sign_in(operator_id, pin)
        self.recovery.resolve_all()  # fresh keys: a good moment to clear reversals left from before
        return op.id

    def sign_out(self) -> str | None:
        return self.shift.sign_out()

    def sale(self, amount: Money, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        self._open_for_business()
        return self.payments.sale(amount, card, cancel)

    def preauth(self, amount: Money, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        self._open_for_business()
        return self.payments.preauth(amount, card, cancel)

    def balance(self, card: CardInput, cancel: threading.Event | None = None) -> TxnResult:
        self._open_for_business()
        return self.payments.balance(card, cancel)

    def void(self, trace: int, supervisor_password: str) -> TxnResult:
        self._open_for_business()
        return self.adjustments.void(trace, supervisor_password)

    def refund(
        self,
        trace: int,
        amount: Money,
        supervisor_password: str,
        card: CardInput,
        cancel: threading.Event | None = None,
    ) -> TxnResult:
        self._open_for_business()
        return self.adjustments.refund(trace, amount, supervisor_password, card, cancel)

    def complete(self, trace: int, amount: Money) -> TxnResult:
        self._open_for_business()
        return self.adjustments.complete(trace, amount)

    def preauth_void(self, trace: int, supervisor_password: str) -> TxnResult:
        self._open_for_business()
        return self.adjustments.preauth_void(trace, supervisor_password)

    def settle(self) -> SettlementResult:
        self._open_for_business(checked=True)
        return self.settlement.settle()

    def recover(self) -> tuple[list[TxnRecord], SettlementResult | None]:
        """Finish whatever was left in flight: reversals first, then an interrupted settlement."""
        if self.ctx.host.keys is None:
            raise PosError("no working keys from the acquirer: sign in first, then recover")
        waiting = self.recovery.resolve_all()
        settled = None
        if not waiting and self.ctx.journal.settlements.unfinished() is not None:
            # Reversals protect the customer; a settlement waits for a journal checked sound.
            self._open_for_business(checked=True)
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

    def batch_totals(self, batch: int | None = None) -> BatchTotals:
        """What settling a batch (the open one unless named) would send, counted by the settlement's own rule."""
        number = self.ctx.journal.txns.current_batch() if batch is None else batch
        return compute_totals(self.ctx.settings.terminal.currency.code, self.ctx.journal.txns.batch_groups(number))

    def refund_left(self, trace: int) -> Money:
        """How much of a sale may still be refunded; refuses (PosError) what `refund` would refuse before it asks
        for the card, so the cashier learns it before the card comes out. `refund` checks all of it again."""
        return self.adjustments.refundable(trace)[1]

    # -- set-up and staff (主管) ----------------------------------------------------------------------------

    def set_up(self, supervisor_password: str, first_operator: tuple[str, str] | None = None) -> None:
        """First run: the supervisor password (6 to 12 digits) and the first operator (number, PIN), together."""
        self.shift.set_up(supervisor_password, first_operator)

    def verify_supervisor(self, password: str, purpose: str) -> None:
        """Check the supervisor password before a screen asks for more; wrong tries count towards the lockout."""
        self.shift.verify_supervisor(password, purpose)

    def operators(self) -> list[StaffMember]:
        staff = self.ctx.journal.staff
        signed_in = staff.signed_in()
        return [StaffMember(op.id, op.role, op.locked, op.id == signed_in) for op in staff.all()]

    def add_operator(self, supervisor_password: str, operator_id: str, pin: str) -> None:
        self.shift.add_operator(supervisor_password, operator_id, pin)

    def remove_operator(self, supervisor_password: str, operator_id: str) -> None:
        self.shift.remove_operator(supervisor_password, operator_id)

    def reset_pin(self, supervisor_password: str, operator_id: str, new_pin: str) -> None:
        """A new PIN chosen with the supervisor's authority; it also unlocks a locked account."""
        self.shift.change_pin(operator_id, supervisor_password, new_pin, by_supervisor=True)

    # -- self-test and health (自检) -------------------------------------------------------------------------

    def _start_journal_check(self) -> None:
        if self._journal_check is None:
            self._journal_check = StartupCheck(self.ctx.journal.store.path)
            self.journal_check_started.set()

    def sales_blocked(self) -> str | None:
        """Why no money may move now, in one line, or None. After an unclean stop this waits for the journal
        check's verdict; after a clean one it takes what is known now (a verdict, or a read that met damage)."""
        if self._damage is None:
            if self._check_first:
                self._damage = self.journal_verdict()
            elif self._journal_check is not None:
                self._damage = self._journal_check.known_problem()
        return SALES_BLOCKED if self._damage is not None else None

    def journal_verdict(self) -> str | None:
        """Waits for the journal check, starting it if it has not run: its complaint, or None."""
        self._start_journal_check()
        assert self._journal_check is not None
        return self._journal_check.problem()

    def _heard_damage(self, problem: str) -> None:
        if self._damage is None:
            log.error("journal damage met while reading: %s; sales are disabled", problem)
            self._damage = problem

    def _open_for_business(self, checked: bool = False) -> None:
        """Sales, voids, refunds, completions and settlement write money into the journal: not into a damaged one.
        Look-ups and reprints stay available for whatever can still be read. `checked`: wait for the journal
        check's verdict whatever the last stop was (a settlement reports the day from the journal)."""
        if checked and self._damage is None:
            self._damage = self.journal_verdict()
        blocked = self.sales_blocked()
        if blocked is not None:
            raise PosError(blocked)

    def self_test(self, held: ReaderCardSource | None = None) -> list[Check]:
        """Every part, each on its own: a failing part never stops the others, and nothing raises. `held`: the card
        source the app keeps open, if any; its contactless reader is asked rather than opened a second time."""
        health = Health(
            self.ctx.settings,
            journal=self.ctx.journal,
            printer=self.ctx.printing.printer,
            clock=self.ctx.clock,
            held_contactless=held.tap if held is not None else None,
            terminal_elsewhere=self._lock is None and in_use(self.ctx.settings.terminal.data_dir),
        )
        checks = health.checks()
        if health.damage is not None:
            self._damage = health.damage  # damage found after start-up stops sales from now on too
        return checks

    def test_print(self) -> Printed:
        """打印测试: a short slip through the configured printer; the printer's fault, if any, in `error`."""
        return self.ctx.printing.report(printer_test_slip(self.ctx.merchant, self.ctx.now()))

    def print_diagnostics(self, checks: Sequence[Check] | None = None) -> Printed:
        """The diagnostics slip (诊断报告): every check (run now unless given), version, terminal, batch, last
        settlement. No secrets and no card numbers."""
        return self.ctx.printing.report(self.diagnostics_slip(self.self_test() if checks is None else checks))

    def diagnostics_slip(self, checks: Sequence[Check]) -> Receipt:
        j = self.ctx.journal
        facts = DiagnosticsFacts(
            software_version(),
            _readable(j.txns.current_batch),
            _readable(j.txns.next_trace),
            _readable(j.settlements.last_settled),
            self.sales_blocked(),
        )
        return diagnostics_slip(checks, facts, self.ctx.merchant, self.ctx.now())


def _readable(read: Callable[[], T]) -> T | None:
    """A fact for the diagnostics slip, or None where the journal cannot give it: the slip matters most then."""
    try:
        return read()
    except sqlite3.DatabaseError as exc:
        log.warning("diagnostics: the journal could not be read (%s)", exc)
        return None
