"""结算: end of day. Before: the open batch's count and net total, and one big "Settle now". After: the totals by
type and by card (bars), whether the acquirer agreed (and, if not, which transactions differ), the settlement
slip as printed, and reprint / 明细 detail. `go("settlement", result=SettlementResult)` shows a result at once:
the banner's "finish the interrupted settlement" ends here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from app.domain.money import Currency, Money, currency
from app.domain.settlement import BatchTotals, SettlementState
from app.ui import i18n
from app.ui.screens.office import OfficeScreen, card_word, kind_word

if TYPE_CHECKING:
    from app.journal.settlements import SettlementRecord
    from app.services.printing import Printed
    from app.services.settlement import SettlementResult
    from app.services.terminal import TerminalStatus

KIND_ORDER = ("sale", "completion", "refund", "void", "preauth", "preauth_void")


def kind_bars(totals: BatchTotals, lang: str) -> list[tuple[str, int, str]]:
    cur = currency(totals.currency)
    ordered = sorted(totals.by_kind.items(), key=lambda kv: KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER else 99)
    return [
        (kind_word(k, lang), v.amount_minor, f"×{v.count}  {Money(v.amount_minor, cur).format()}") for k, v in ordered
    ]


def card_bars(totals: BatchTotals, lang: str) -> list[tuple[str, int, str]]:
    cur = currency(totals.currency)
    return [
        (card_word(k, lang), v.amount_minor, f"×{v.count}  {signed(v.amount_minor, cur)}")
        for k, v in sorted(totals.by_card.items())
    ]


def signed(minor: int, cur: Currency) -> str:
    return ("-" if minor < 0 else "") + Money(abs(minor), cur).format()


def side_words(described: str | None, cur: Currency, lang: str) -> str:
    """One side's view of a differing transaction ("sale approved 1200", as the protocol says it)."""
    if not described:
        return i18n.tr("settlement_missing", lang)
    kind, _, rest = described.partition(" ")
    state, _, minor = rest.partition(" ")
    state_text = i18n.tr(f"office_state_{state}", lang) if i18n.known(f"office_state_{state}") else state
    amount = Money(int(minor), cur).format() if minor.isdigit() and len(minor) <= 12 else minor
    return f"{kind_word(kind, lang)} {state_text} {amount}"


class SettlementScreen(OfficeScreen):
    screen_name = "settlement"
    phase = StringProperty("before")  # before: the open batch and "Settle now"; after: a settlement's result
    batch = NumericProperty(0)  # before: the open batch; after: the settled one
    totals = ObjectProperty(None, allownone=True)  # BatchTotals shown
    finishing = BooleanProperty(False)  # an interrupted settlement waits: the button finishes it
    matched = ObjectProperty(None, allownone=True)  # True, False, or None (not settled)
    differences = ListProperty([])
    slip = StringProperty("")  # the printed picture shown
    printer_error = StringProperty("")
    message = StringProperty("")

    def on_params(self, **params: Any) -> None:
        self.notice, self.working, self.slip, self.printer_error = "", False, "", ""
        result: SettlementResult | None = params.get("result")
        if result is not None:
            self._settled(result)
            return
        self.phase, self.totals, self.matched, self.differences = "before", None, None, []
        self.job(lambda t: (t.status(), t.batch_totals()), self._previewed)

    def _previewed(self, found: tuple[TerminalStatus, BatchTotals]) -> None:
        status, totals = found
        unfinished = status.unfinished_settlement
        self.finishing = unfinished is not None
        self.batch = unfinished.batch if unfinished else status.batch
        self.totals = unfinished.terminal_totals if unfinished else totals

    # -- what the supervisor or cashier presses -------------------------------------------------------------

    def settle(self) -> None:
        self.job(lambda t: t.settle(), self._settled)

    def last(self) -> None:
        """The last settlement, to look at again or reprint (yesterday's, once today's batch is open)."""
        self.job(lambda t: t.settlement_record(), self._show_record)

    def reprint(self) -> None:
        batch = self.batch
        self.job(lambda t: t.reprint_settlement(batch), self._printed)

    def detail(self) -> None:
        batch = self.batch
        self.job(lambda t: t.print_detail(batch), self._printed)

    # -- what comes back -------------------------------------------------------------------------------------

    def _settled(self, result: SettlementResult) -> None:
        self._show_record(result.record)
        self.message = result.message
        self._show_slip(result.slip, result.printer_error)

    def _show_record(self, record: SettlementRecord) -> None:
        self.phase, self.batch, self.totals = "after", record.batch, record.terminal_totals
        self.matched = record.matched if record.state is SettlementState.SETTLED else None
        self.differences = list(record.differences)
        self.message, self.slip, self.printer_error = "", "", ""

    def _printed(self, printed: Printed) -> None:
        self._show_slip(printed.slips[0] if printed.slips else None, printed.error)

    def _show_slip(self, slip: str | None, error: str | None) -> None:
        self.slip = ""  # the same file printed again: let the picture reload
        self.slip = slip or ""
        self.printer_error = error or ""

    # -- words -----------------------------------------------------------------------------------------------

    def summary(self, totals: BatchTotals | None, lang: str) -> str:
        if totals is None:
            return i18n.tr("working", lang)
        count = sum(line.count for line in totals.by_kind.values())
        net = signed(totals.net_minor, currency(totals.currency))
        return i18n.tr("settlement_summary", lang, count=count, net=f"{totals.currency} {net}")

    def verdict(self, matched: bool | None, differences: list[Any], lang: str) -> str:
        if matched:
            return i18n.tr("settlement_matched", lang)
        if matched is False:
            return i18n.tr("settlement_not_matched", lang, n=len(differences))
        return i18n.tr("settlement_unfinished", lang)

    def difference_lines(self, differences: list[Any], totals: BatchTotals | None, lang: str) -> str:
        if totals is None:
            return ""
        cur = currency(totals.currency)
        return "\n".join(
            i18n.tr(
                "settlement_difference",
                lang,
                trace=f"{d.trace:06d}",
                ours=side_words(d.terminal, cur, lang),
                theirs=side_words(d.acquirer, cur, lang),
            )
            for d in differences
        )

    def bars(self, which: str, totals: BatchTotals | None, lang: str) -> list[tuple[str, int, str]]:
        if totals is None:
            return []
        return kind_bars(totals, lang) if which == "kind" else card_bars(totals, lang)

    def settle_label(self, finishing: bool, batch: int, lang: str) -> str:
        key = "settlement_finish" if finishing else "settlement_settle_now"
        return i18n.tr(key, lang, batch=f"{batch:06d}")


i18n.add(
    {
        "settlement_title": ("Settlement · end of day", "结算 · 日终"),
        "settlement_open_batch": ("Open batch {batch}", "当前批次 {batch}"),
        "settlement_summary": ("{count} transaction(s) · net {net}", "共 {count} 笔 · 净额 {net}"),
        "settlement_settle_now": ("Settle now", "立即结算"),
        "settlement_finish": ("Finish the settlement of batch {batch}", "完成批次 {batch} 的结算"),
        "settlement_explain": (
            "Sends the totals to the acquirer, prints the settlement slip and opens a new batch.",
            "向收单机构发送总计，打印结算单，并开始新批次。",
        ),
        "settlement_last": ("Last settlement", "上次结算"),
        "settlement_done_title": ("Batch {batch} settled", "批次 {batch} 已结算"),
        "settlement_matched": ("Matched: the totals agree with the acquirer", "对账平：与收单机构总计一致"),
        "settlement_not_matched": (
            "Totals did not match: the batch detail was uploaded; {n} transaction(s) differ",
            "对账不平：已上送批明细，{n} 笔交易不一致",
        ),
        "settlement_unfinished": ("Not finished: settle again to finish it", "结算未完成：请再次结算"),
        "settlement_by_kind": ("By type", "按交易类型"),
        "settlement_by_card": ("By card", "按卡种"),
        "settlement_difference": (
            "{trace}: terminal {ours} · acquirer {theirs}",
            "{trace}：终端 {ours} · 收单 {theirs}",
        ),
        "settlement_missing": ("none", "无"),
        "settlement_reprint": ("Reprint", "重打印"),
        "settlement_detail": ("Print detail 明细", "打印明细"),
        "settlement_nothing_yet": ("Nothing in this batch yet.", "本批次暂无交易。"),
    }
)
