"""Printing the slips: which copies, in which order, with a cut and the cashier's go-ahead between them.

Printing happens only after the outcome is committed, and a printer fault never touches the transaction: the
journal keeps it, the cashier sees what is wrong with the printer, and the slip can be reprinted. Nothing is
ever re-authorised to get a slip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.devices.printer import PrinterError, SlipPrinter
from app.domain.receipt import Copy, Receipt
from app.domain.transaction import TxnKind, TxnState
from app.journal.records import TxnRecord
from app.journal.settlements import SettlementRecord
from app.services.slips import Merchant, detail_slip, settlement_slip, transaction_slip

WAS_APPROVED = (TxnState.APPROVED, TxnState.VOIDED, TxnState.COMPLETED)
TEAR_PROMPT = "Tear off the {done} copy, then continue for the {next} copy"


@dataclass(frozen=True)
class Printed:
    slips: tuple[str, ...]
    error: str | None = None  # what the cashier should know about the printer; the transaction is unaffected


def copies_for(record: TxnRecord, copies: int) -> tuple[Copy, ...]:
    """Approved: merchant (to sign and keep), customer, and a bank copy if configured. Otherwise one slip that
    says it is not a receipt. A balance inquiry is only the customer's business."""
    if record.kind is TxnKind.BALANCE:
        return (Copy.CUSTOMER,)
    if record.state not in WAS_APPROVED:
        return (Copy.MERCHANT,)
    return (Copy.MERCHANT, Copy.CUSTOMER, Copy.BANK)[:copies]


def transaction_slips(record: TxnRecord, merchant: Merchant, copies: int, duplicate: bool) -> list[Receipt]:
    return [transaction_slip(record, merchant, c, duplicate=duplicate) for c in copies_for(record, copies)]


class Printing:
    def __init__(
        self,
        printer: SlipPrinter,
        merchant: Merchant,
        copies: int = 2,
        confirm: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.printer = printer
        self.merchant = merchant
        self.copies = copies
        # Asked between copies ("tear, then press"), with where the copy just printed went (a picture, in demo
        # mode); False means: do not print the rest now (reprint later).
        self.confirm = confirm

    def transaction(self, record: TxnRecord, duplicate: bool = False) -> Printed:
        return self._run(transaction_slips(record, self.merchant, self.copies, duplicate))

    def settlement(self, record: SettlementRecord) -> Printed:
        return self._run([settlement_slip(record, self.merchant)])

    def detail(self, records: Iterable[TxnRecord], batch: int) -> Printed:
        return self._run([detail_slip(records, batch, self.merchant)])

    def report(self, receipt: Receipt) -> Printed:
        """One slip of the terminal's own (a printer test, diagnostics): no copies, nothing to tear between."""
        return self._run([receipt])

    def _run(self, receipts: list[Receipt]) -> Printed:
        printed: list[str] = []
        for i, receipt in enumerate(receipts):
            if i and self.confirm is not None:
                prompt = TEAR_PROMPT.format(done=receipts[i - 1].copy.value, next=receipt.copy.value)
                if not self.confirm(prompt, printed[-1] if printed else ""):
                    return Printed(tuple(printed), f"the {receipt.copy.value} copy was not printed: reprint it")
            try:
                printed.append(self.printer.print_slip(receipt))
            except PrinterError as exc:
                return Printed(tuple(printed), str(exc))
        return Printed(tuple(printed))
