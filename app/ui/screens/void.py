"""撤销: cancel a sale of today's open batch. The cashier picks it from the list or types its voucher number,
checks the original against the customer's slip, and the supervisor types the password. Every refusal is one
line on this screen; the engine decides what is allowed (same batch, approved, the right password)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.journal.records import TxnRecord
from app.ui import i18n
from app.ui.screens.office import OPEN, SALE_KINDS, TraceScreen, money_of

if TYPE_CHECKING:
    from app.services.results import TxnResult
    from app.services.terminal import Terminal


class VoidScreen(TraceScreen):
    screen_name = "void"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(title_key="void_title", pick_key="void_pick", none_key="void_none", note_key="void_note",
                         **kwargs)  # fmt: skip

    def listing(self, t: Terminal) -> list[TxnRecord]:
        """Today's (the open batch's) approved sales and completions: what a void may cancel."""
        batch = t.status().batch
        return [r for r in t.find(batch=batch, limit=200) if r.kind in SALE_KINDS and r.state is OPEN]

    def act_label(self, lang: str, original: TxnRecord | None) -> str:
        return i18n.tr("void_confirm", lang, amount=money_of(original) if original else "")

    def act(self, password: str) -> None:
        assert self.original is not None
        trace = self.original.trace
        self.job(lambda t: t.void(trace, password), self._voided, self.refused)

    def _voided(self, result: TxnResult) -> None:
        self.pos_app.go("result", result=result, purpose="void")


i18n.add(
    {
        "void_title": ("Void · same day", "撤销 · 当日交易"),
        "void_pick": (
            "Today's approved sales: tap one, or type its voucher number.",
            "今日成功的消费：点选一笔，或输入凭证号。",
        ),
        "void_none": ("No approved sales in today's batch.", "今日批次没有可撤销的消费。"),
        "void_confirm": ("Void {amount}", "撤销 {amount}"),
        "void_note": (
            "The whole amount goes back to the card and the sale leaves today's totals.",
            "全额退回原卡，该笔消费从当日总计中扣除。",
        ),
    }
)
