"""Random counter days: sales (including lost answers and declines), voids, partial refunds, settlements, and
crashes at any durable step followed by a restart. After every step the books must hold:

- the terminal's approved sales minus refunds equal the acquirer's ledger;
- every settled batch's totals equal the acquirer's totals for it;
- refunds of a sale never exceed it;
- after recovery, nothing is left in flight.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app import faults
from app.domain.transaction import TxnKind, TxnState
from app.faults import CRASH_POINTS
from app.services.errors import PosError
from tests.conftest import Rig, start_rig

AMOUNTS = st.sampled_from(["12.34", "5.00", "99.99", "10.05", "10.68", "0.51", "250.00"])
CARDS = st.sampled_from(["visa-credit", "mastercard-credit", "unionpay-credit"])


class SimulatedCrash(BaseException):
    """Raised at a checkpoint: the process 'dies' there. A BaseException so no handler in the engine eats it."""


class CounterDay(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="kioskpos-prop-"))
        self.rig: Rig = start_rig(self.dir)
        self.terminal = self.rig.terminal()
        self.terminal.sign_in("01", "0000")
        self.crashed = False

    def teardown(self) -> None:
        faults.hook = None
        self.terminal.close()
        self.rig.server.stop()
        self.rig.home.ledger.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------------------

    def _records(self):
        return self.terminal.ctx.journal.txns.search(limit=10_000)

    def _approved(self, kind: TxnKind, current_batch: bool):
        batch = self.terminal.status().batch
        return [
            r
            for r in self._records()
            if r.kind is kind and r.state is TxnState.APPROVED and (r.batch == batch) == current_batch
        ]

    def _run(self, action, crash_at: str | None) -> None:
        def hook(point: str) -> None:
            if point == crash_at:
                raise SimulatedCrash(point)

        faults.hook = hook if crash_at else None
        try:
            action()
        except SimulatedCrash:
            self.crashed = True
        except PosError:
            pass  # refusals are allowed; the invariants say whether anything changed that should not have
        finally:
            faults.hook = None

    # -- rules ----------------------------------------------------------------------------------------------

    @precondition(lambda self: not self.crashed)
    @rule(amount=AMOUNTS, card=CARDS, crash_at=st.none() | st.sampled_from(CRASH_POINTS))
    def sale(self, amount, card, crash_at):
        self._run(lambda: self.terminal.sale(self.rig.money(amount), self.rig.card(card)), crash_at)

    @precondition(lambda self: not self.crashed)
    @rule(data=st.data(), crash_at=st.none() | st.sampled_from(CRASH_POINTS))
    def void(self, data, crash_at):
        candidates = self._approved(TxnKind.SALE, current_batch=True)
        if candidates:
            target = data.draw(st.sampled_from(candidates))
            self._run(lambda: self.terminal.void(target.trace, "123456"), crash_at)

    @precondition(lambda self: not self.crashed)
    @rule(data=st.data(), crash_at=st.none() | st.sampled_from(CRASH_POINTS))
    def refund(self, data, crash_at):
        candidates = self._approved(TxnKind.SALE, current_batch=False)
        if candidates:
            target = data.draw(st.sampled_from(candidates))
            cents = data.draw(st.integers(1, target.amount_minor))
            card = {"476173": "visa-credit", "541333": "mastercard-credit", "625094": "unionpay-credit"}[
                target.masked_pan[:6]
            ]
            amount = self.rig.money(f"{cents // 100}.{cents % 100:02d}")
            self._run(lambda: self.terminal.refund(target.trace, amount, "123456", self.rig.card(card)), crash_at)

    @precondition(lambda self: not self.crashed)
    @rule(crash=st.booleans())
    def settle(self, crash):
        self._run(self.terminal.settle, "during_settlement" if crash else None)

    @precondition(lambda self: self.crashed)
    @rule()
    def restart(self):
        # The old process is gone: drop its objects without any further writes, start a new terminal on the files.
        self.terminal.ctx.journal.close()
        self.terminal.ctx.host.close()
        self.terminal._lock.release()  # the kernel would release a dead process's lock
        self.terminal = self.rig.terminal()
        self.terminal.recover()
        self.crashed = False
        assert not self.terminal.ctx.journal.txns.in_flight()

    # -- invariants -----------------------------------------------------------------------------------------

    @invariant()
    def the_books_agree(self):
        if self.crashed:
            return  # until the restart, the dead process's last step may be half done: that is the point
        net = 0
        for r in self._records():
            if r.state is TxnState.APPROVED and r.kind is TxnKind.SALE:
                net += r.amount_minor
            elif r.state is TxnState.APPROVED and r.kind is TxnKind.REFUND:
                net -= r.amount_minor
        assert net == self.rig.acquirer_net

    @invariant()
    def refunds_never_exceed_their_sale(self):
        for r in self._records():
            if r.kind is TxnKind.SALE:
                assert self.terminal.ctx.journal.txns.refunds_of(r.trace) <= r.amount_minor

    @invariant()
    def settled_batches_match_the_acquirer(self):
        record = self.terminal.ctx.journal.settlements.last_settled()
        if record is not None:
            assert record.matched is True
            assert record.acquirer_totals == record.terminal_totals

    @invariant()
    def nothing_in_flight_between_steps(self):
        if not self.crashed:
            assert not self.terminal.ctx.journal.txns.in_flight()


CounterDay.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_random_counter_days_keep_the_books = CounterDay.TestCase
