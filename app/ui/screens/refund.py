"""退货: money back for a sale of an earlier (settled) batch, in part or in full, to the card that paid.

The cashier's order: the voucher number from the customer's slip → the original and what is left to refund →
the supervisor password (checked now, so nobody waits with a card out for a refusal) → the amount, capped at
what is left → the card (the `present` screen). The engine checks everything again when the card is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.journal.records import TxnRecord
from app.ui import i18n
from app.ui.screens.office import OPEN, SALE_KINDS, TraceScreen

if TYPE_CHECKING:
    from app.domain.money import Money
    from app.services.terminal import Terminal


class RefundScreen(TraceScreen):
    screen_name = "refund"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(title_key="refund_title", pick_key="refund_pick", none_key="refund_none",
                         note_key="refund_note", danger=False, **kwargs)  # fmt: skip

    def listing(self, t: Terminal) -> list[TxnRecord]:
        """Recent approved sales of settled batches (the refund window is the engine's to judge)."""
        batch = t.status().batch
        return [r for r in t.find(limit=200) if r.kind in SALE_KINDS and r.state is OPEN and r.batch != batch][:50]

    def lookup(self, t: Terminal, trace: int) -> tuple[TxnRecord, Money]:
        return t.get(trace), t.refund_left(trace)  # refund_left refuses what a refund would, before the card

    def found(self, record: tuple[TxnRecord, Money]) -> None:  # type: ignore[override]
        original, self.left = record
        super().found(original)

    def act_label(self, lang: str, original: TxnRecord | None) -> str:
        return i18n.tr("refund_next", lang)

    def act(self, password: str) -> None:
        assert self.original is not None
        assert self.left is not None
        trace, left = self.original.trace, self.left
        purpose = f"refund of {trace:06d} (before the card)"
        self.job(lambda t: t.verify_supervisor(password, purpose), lambda _r: self._amount(trace, left, password),
                 self.refused)  # fmt: skip

    def _amount(self, trace: int, left: Money, password: str) -> None:
        app = self.pos_app
        title = app.tr("refund_amount_title", trace=f"{trace:06d}", left=left)
        app.go("amount", purpose="refund", limit_minor=left.minor, trace=trace, password=password, title=title)


i18n.add(
    {
        "refund_title": ("Refund · earlier days", "退货 · 隔日交易"),
        "refund_pick": (
            "Type the voucher number on the customer's slip, or tap a recent sale.",
            "输入持卡人签购单上的凭证号，或点选近期消费。",
        ),
        "refund_none": (
            "Type the voucher number on the customer's slip (today's sales are voided instead).",
            "请输入持卡人签购单上的凭证号（当日交易请用撤销）。",
        ),
        "refund_next": ("Next: amount", "下一步：金额"),
        "refund_note": (
            "The money goes back to the card that paid, in a few working days.",
            "款项退回原卡，一般需数个工作日到账。",
        ),
        "refund_amount_title": ("Refund of {trace} · at most {left}", "退货 {trace} · 最多 {left}"),
    }
)
