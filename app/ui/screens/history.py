"""交易查询 / 重打印: today's batch and earlier ones, found by voucher number or amount (typed on the keypad),
each transaction in detail, and a reprint marked DUPLICATE (the engine marks it) with the printed picture in demo
mode and the printer's problem, if any, in one line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.properties import NumericProperty, ObjectProperty, StringProperty

from app.domain.money import Money
from app.domain.responses import meaning
from app.journal.records import TxnRecord
from app.ui import i18n
from app.ui.screens.office import OfficeScreen, describe, kind_word, money_of, state_word
from app.ui.widgets import BACK, CLEAR

if TYPE_CHECKING:
    from app.services.results import TxnResult
    from app.services.terminal import TerminalStatus

LISTED = 200  # newest first; older ones are found by voucher number or amount


def entry_word(entry_mode: str | None, lang: str) -> str:
    key = f"office_entry_{entry_mode}"
    return i18n.tr(key, lang) if i18n.known(key) else (entry_mode or "")


def detail_text(record: TxnRecord | None, lang: str) -> str:
    """Everything the journal may show about one transaction (never more than the masked card number)."""
    if record is None:
        return ""
    tr = i18n.tr
    lines = [describe(record, lang)]
    extra = [
        (tr("history_entry", lang), entry_word(record.entry_mode, lang)),
        (tr("history_rrn", lang), record.rrn or ""),
        (tr("history_operator", lang), record.operator),
        (tr("history_original", lang), f"{record.orig_trace:06d}" if record.orig_trace else ""),
    ]
    lines += [f"{label} {value}" for label, value in extra if value]
    if record.response_code and record.response_code != "00":
        m = meaning(record.response_code)
        lines.append(f"{m.chinese if lang == 'zh' else m.english} ({record.response_code})")
    if record.reason:
        lines.append(record.reason)
    return "\n".join(lines)


class HistoryScreen(OfficeScreen):
    screen_name = "history"
    mode = StringProperty("list")  # list, search (the keypad), detail (one transaction)
    search_by = StringProperty("voucher")  # voucher or amount
    batch = NumericProperty(0)  # the batch listed
    open_batch = NumericProperty(0)
    rows = ObjectProperty([])  # the TxnRecords listed
    filter_text = StringProperty("")  # what the list is narrowed to ("" for the whole batch)
    slip = StringProperty("")
    printer_error = StringProperty("")
    fields = ("query",)

    def on_params(self, **params: Any) -> None:
        if params.get("keep"):  # back from the tear-off screen during a reprint: carry on where we were
            return
        self.mode, self.notice, self.working, self.original = "list", "", False, None
        self.slip, self.printer_error, self.filter_text = "", "", ""
        self.rows = []
        self.job(lambda t: t.status(), self._opened)

    def _opened(self, status: TerminalStatus) -> None:
        self.open_batch = status.batch
        self.show_batch(status.batch)

    # -- the list ----------------------------------------------------------------------------------------------

    def show_batch(self, batch: int) -> None:
        if not 1 <= batch <= self.open_batch:
            return
        self.batch, self.filter_text, self.mode = batch, "", "list"
        self.job(lambda t: t.find(batch=batch, limit=LISTED), self._listed)

    def earlier(self) -> None:
        self.show_batch(self.batch - 1)

    def later(self) -> None:
        self.show_batch(self.batch + 1)

    def _listed(self, records: list[TxnRecord]) -> None:
        self.rows = records

    def pick(self, trace: int) -> None:
        self.job(lambda t: t.get(trace), self._detail)

    # -- searching -----------------------------------------------------------------------------------------

    def search(self, by: str) -> None:
        self.search_by, self.mode, self.notice = by, "search", ""
        self.field("query").value = ""
        self.focus("query")
        self._show_query()

    def key(self, key: str) -> None:
        self.notice = ""
        query = self.field("query")
        if self.search_by == "amount" and key not in (CLEAR, BACK) and not query.value and key == "0":
            return  # like the till: no leading zeros
        query.key(key)
        self._show_query()

    def _show_query(self) -> None:
        query = self.field("query")
        if self.search_by == "amount":
            query.shown = self.pos_app.money(int(query.value or "0")).format()

    def run_search(self) -> None:
        value = self.field("query").value
        if self.search_by == "voucher":
            trace = self.voucher("query")
            if trace is not None:
                self.job(lambda t: t.get(trace), self._detail)
            return
        if not value:
            self.notice = self.pos_app.tr("amount_enter")
            return
        amount = self.pos_app.money(int(value))
        self.job(lambda t: t.find(amount=amount, limit=LISTED), lambda found: self._found_amount(amount, found))

    def _found_amount(self, amount: Money, records: list[TxnRecord]) -> None:
        self.rows, self.mode = records, "list"
        self.filter_text = self.pos_app.tr("history_amount_filter", amount=amount, n=len(records))

    def cancel_search(self) -> None:
        self.mode, self.notice = "list", ""

    # -- one transaction ---------------------------------------------------------------------------------------

    def _detail(self, record: TxnRecord) -> None:
        self.original, self.mode = record, "detail"
        self.slip, self.printer_error, self.notice = "", "", ""

    def reprint(self) -> None:
        if self.original is None:
            return
        trace = self.original.trace
        self.job(lambda t: t.reprint(trace), self._reprinted, self._reprint_failed)

    def _reprinted(self, result: TxnResult) -> None:
        self._back_here()
        pictures = [s for s in result.slips if s.endswith(".png")]
        self.slip = ""  # the same file printed again: let the picture reload
        self.slip = pictures[0] if pictures else ""
        self.printer_error = result.printer_error or ""
        self.notice = "" if result.slips else self.pos_app.tr("history_not_printed")

    def _reprint_failed(self, message: str) -> None:
        self._back_here()
        self.notice = message

    def _back_here(self) -> None:
        if self.pos_app.current != self.screen_name:  # the tear-off screen came between the copies
            self.pos_app.go(self.screen_name, keep=True)

    def to_list(self) -> None:
        self.mode, self.original, self.notice = "list", None, ""

    # -- words -----------------------------------------------------------------------------------------------

    def batch_label(self, batch: int, open_batch: int, lang: str) -> str:
        key = "history_batch_open" if batch == open_batch else "history_batch_settled"
        return i18n.tr(key, lang, batch=f"{batch:06d}")

    def detail(self, record: TxnRecord | None, lang: str) -> str:
        return detail_text(record, lang)

    def title(self, record: TxnRecord | None, lang: str) -> str:
        if record is None:
            return ""
        return f"{kind_word(record.kind.value, lang)} {money_of(record)} · {state_word(record.state.value, lang)}"


i18n.add(
    {
        "history_title": ("History / Reprint", "交易查询 / 重打印"),
        "history_batch_open": ("Batch {batch} · today, open", "批次 {batch} · 当日未结算"),
        "history_batch_settled": ("Batch {batch} · settled", "批次 {batch} · 已结算"),
        "history_by_voucher": ("Voucher no.", "按凭证号"),
        "history_by_amount": ("Amount", "按金额"),
        "history_all": ("Whole batch", "全部"),
        "history_search": ("Search", "查询"),
        "history_search_voucher": ("Find by voucher number", "按凭证号查询"),
        "history_search_amount": ("Find by amount (all batches)", "按金额查询（所有批次）"),
        "history_amount": ("Amount", "金额"),
        "history_amount_filter": ("Amount {amount}: {n} found in all batches", "金额 {amount}：所有批次共 {n} 笔"),
        "history_empty": ("No transactions here.", "没有交易。"),
        "history_entry": ("Entry", "读卡方式"),
        "history_rrn": ("Reference (RRN)", "参考号"),
        "history_operator": ("Operator", "操作员"),
        "history_original": ("Original voucher", "原凭证号"),
        "history_reprint": ("Reprint (duplicate)", "重打印"),
        "history_to_list": ("Back to the list", "返回列表"),
        "history_not_printed": ("Nothing was printed.", "未打印。"),
        "history_duplicate_note": (
            "Reprints are marked DUPLICATE 重打印 on the slip.",
            "重打印的签购单上标有“重打印 DUPLICATE”。",
        ),
    }
)
