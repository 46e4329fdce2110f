"""What must be true before a transaction may start: set up, signed in, keys, no settlement half done, and
no reversal waiting. Checked before a card is even read, so a refusal changes nothing."""

from __future__ import annotations

from app.journal.store import NO_SALE
from app.services.clock import behind_journal
from app.services.context import Context
from app.services.errors import PosError
from app.services.health.system import newest_entry
from app.services.recovery import Recovery
from app.services.shift import Shift


class Gate:
    def __init__(self, ctx: Context, shift: Shift, recovery: Recovery) -> None:
        self.ctx = ctx
        self.shift = shift
        self.recovery = recovery

    def operator(self) -> str:
        """Read-only checks. Returns the signed-in operator, or raises PosError saying what to do first."""
        self.shift.require_set_up()
        operator = self.shift.signed_in()
        self.require_journal_room()
        self.clock_in_step()
        unfinished = self.ctx.journal.settlements.unfinished()
        if unfinished is not None:
            raise PosError(f"settlement of batch {unfinished.batch:06d} is not finished: settle again to finish it")
        if self.ctx.host.keys is None:
            raise PosError("no working keys from the acquirer: sign in again (签到)")
        return operator

    def require_journal_room(self) -> None:
        """A sale must be able to commit its intent and its outcome; a journal that cannot take them stops it
        here, before a card is read or a byte is sent. (A disk that fills later is caught by the commits.)"""
        if not self.ctx.journal.store.has_room_for_a_sale():
            raise PosError(f"the journal cannot be written: disk full — {NO_SALE}")

    def clock_in_step(self) -> None:
        """The clock is not behind the journal: every money-moving step passes here, so none writes a date
        earlier than one already written."""
        behind = behind_journal(self.ctx.clock.now(), newest_entry(self.ctx.journal.store))
        if behind is not None:
            raise PosError(behind)

    def clear_reversals(self) -> None:
        """Reversals go before anything new (冲正 first). If one cannot be delivered, nothing new starts."""
        waiting = self.recovery.resolve_all()
        if waiting:
            first = waiting[0]
            raise PosError(
                f"a reversal for voucher {first.trace:06d} is waiting for the acquirer "
                f"({first.reversal_error or 'not yet acknowledged'}); nothing new was started"
            )
