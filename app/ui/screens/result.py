"""交易成功 / 交易失败: how the transaction ended, in words a cashier can act on.

An unknown outcome is never shown as approved: it says the reversal went (nothing was charged) or that it is
still pending (the terminal keeps trying). Amount, masked card number, voucher and authorisation code are the
ones the slip carries; a printer problem never changes the outcome and offers a reprint.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from app.domain.money import Money, currency
from app.domain.responses import meaning
from app.domain.transaction import TxnState
from app.services.results import Status, TxnResult
from app.ui import engine_words, i18n, theme
from app.ui.screens.base import PosScreen

OUTCOME_OF_STATUS = {
    Status.APPROVED: "approved",
    Status.DECLINED: "declined",
    Status.UNKNOWN: "unknown",
    Status.ERROR: "error",
}
COLOURS = {
    "approved": theme.APPROVED,
    "declined": theme.DECLINED,
    "unknown": theme.WARNING,
    "error": theme.WARNING,
    "cancelled": theme.PANEL_LIGHT,
}


def _signed(minor: int, code: str) -> str:
    amount = Money(abs(minor), currency(code))
    return f"{'-' if minor < 0 else ''}{amount}"


class ResultScreen(PosScreen):
    screen_name = "result"
    outcome = StringProperty("")  # approved, declined, unknown, error, cancelled
    picture = StringProperty("")  # the customer copy as printed, in demo mode
    printer_error = StringProperty("")
    reprinting = BooleanProperty(False)
    can_retry = BooleanProperty(False)
    stamp = NumericProperty(0)  # changes with every result: what the kv's words follow, with the language

    def __init__(self, **kwargs: Any) -> None:
        self._result: TxnResult | None = None
        self._error = ""
        self._purpose = "sale"
        self._amount: Money | None = None
        self._sent = False
        super().__init__(**kwargs)  # after: the kv rules, applied in there, read these

    def on_params(self, **params: Any) -> None:
        """`result` (TxnResult) or `error` (a message) or `cancelled=True`; `purpose`; `amount` for a retry;
        `sent` when the request had gone out before an error (then no "try again": check the history first)."""
        self._result = params.get("result")
        self._error = params.get("error") or ""
        self._purpose = params.get("purpose", "sale")
        self._amount = params.get("amount")
        self._sent = bool(params.get("sent"))
        result = self._result
        if params.get("cancelled"):
            self.outcome = "cancelled"
        elif result is None:
            self.outcome = "error"
        else:
            self.outcome = OUTCOME_OF_STATUS[result.status]
        self.printer_error = (result.printer_error or "") if result else ""
        pictures = [s for s in (result.slips if result else ()) if s.endswith(".png")]
        self.picture = ""  # a reprint may reuse a path: make the Image read the file again
        self.picture = pictures[-1] if pictures else ""
        self.reprinting = False
        self.can_retry = self._retry_target() is not None
        self.stamp += 1
        demo = self.pos_app.demo
        if demo is not None:
            demo.take_back()

    # -- words ------------------------------------------------------------------------------------------------

    def colour(self, outcome: str) -> tuple[float, ...]:
        return tuple(COLOURS.get(outcome, theme.PANEL_LIGHT))

    def headline(self, _stamp: int, lang: str) -> str:
        key = self._headline_key()
        other = "en" if lang == "zh" else "zh"
        return f"{i18n.tr(key, lang)}\n[size=16sp]{i18n.tr(key, other)}[/size]"

    def _headline_key(self) -> str:
        r = self._result
        if self.outcome == "unknown" and r is not None and r.record is not None:
            return "result_unknown_reversed" if r.record.state is TxnState.REVERSED else "result_unknown_pending"
        if self.outcome == "approved" and self._purpose == "balance":
            return "result_balance"
        return f"result_{self.outcome or 'error'}"

    def reason(self, _stamp: int, lang: str) -> str:
        """Why, and what to do next."""
        r = self._result
        if self.outcome == "cancelled":
            return i18n.tr("result_cancelled_detail", lang)
        if r is None:
            advice = i18n.tr("result_check_history", lang) if self._sent else ""
            return f"{engine_words.words(self._error, lang)}\n{advice}".strip()
        record = r.record
        if self.outcome == "declined" and record is not None:
            if record.response_code is None:
                return record.reason or r.message
            m = meaning(record.response_code)
            said, advice = (m.chinese, m.advice_zh) if lang == "zh" else (m.english, m.advice)
            return f"{said} ({record.response_code})\n{advice}".strip()
        if self.outcome == "unknown" and record is not None:
            key = (
                "result_unknown_reversed_detail"
                if record.state is TxnState.REVERSED
                else "result_unknown_pending_detail"
            )
            return i18n.tr(key, lang)
        if self.outcome == "error":
            return i18n.tr("result_no_answer_detail", lang, why=r.message)
        return ""

    def details(self, _stamp: int, lang: str) -> str:
        r = self._result
        if r is None:
            return f"{i18n.tr('result_amount', lang)}: {self._amount}" if self._amount is not None else ""
        record = r.record
        if record is None:
            return ""
        rows: list[tuple[str, str]] = []
        if record.balance_minor is not None:
            rows.append(("result_balance_amount", _signed(record.balance_minor, record.currency)))
        elif record.amount_minor:
            rows.append(("result_amount", _signed(record.amount_minor, record.currency)))
        if record.masked_pan:
            rows.append(("result_card", record.masked_pan))
        rows.append(("result_voucher", f"{record.trace:06d}"))
        if record.auth_code:
            rows.append(("result_auth", record.auth_code))
        return "\n".join(f"{i18n.tr(key, lang)}: [b]{value}[/b]" for key, value in rows)

    def printer_text(self, problem: str, reprinting: bool, lang: str) -> str:
        if reprinting:
            return i18n.tr("result_reprinting", lang)
        return i18n.tr("result_printer", lang, problem=problem) if problem else ""

    # -- buttons ----------------------------------------------------------------------------------------------

    def done(self) -> None:
        self.pos_app.go("home")

    def _retry_target(self) -> tuple[str, dict[str, Any]] | None:
        if self.outcome == "declined" or (self.outcome == "error" and self._result is None and not self._sent):
            again_with_amount = self.outcome != "declined" and self._amount is not None
            if self._purpose in ("sale", "preauth"):
                if again_with_amount:  # the amount was confirmed already; only the card failed
                    return "present", {"purpose": self._purpose, "amount": self._amount}
                return "amount", {"purpose": self._purpose}
            if self._purpose == "balance":
                return "present", {"purpose": "balance"}
            if self._purpose == "refund":
                return "refund", {}
        if self.outcome == "cancelled" and self._purpose in ("sale", "preauth") and self._amount is not None:
            return "present", {"purpose": self._purpose, "amount": self._amount}
        return None

    def retry(self) -> None:
        target = self._retry_target()
        if target is not None and self.pos_app.knows(target[0]):
            self.pos_app.go(target[0], **target[1])

    def reprint(self) -> None:
        r = self._result
        if r is None or r.record is None or self.reprinting:
            return
        trace, purpose, amount = r.record.trace, self._purpose, self._amount
        self.reprinting = True

        def reprinted(again: TxnResult) -> None:
            updated = replace(r, slips=again.slips, printer_error=again.printer_error)
            self.pos_app.go("result", result=updated, purpose=purpose, amount=amount)

        def refused(message: str) -> None:
            self.pos_app.go("result", result=replace(r, printer_error=message), purpose=purpose, amount=amount)

        self.pos_app.run_job(lambda t: t.reprint(trace), reprinted, refused)


i18n.add(
    {
        "result_approved": ("APPROVED", "交易成功"),
        "result_balance": ("BALANCE", "余额查询成功"),
        "result_declined": ("DECLINED", "交易失败"),
        "result_unknown_reversed": (
            "Result unknown — reversal sent, nothing was charged",
            "结果未知，已发起冲正\n未扣款",  # broken by hand: Kivy would leave one character alone on the line
        ),
        "result_unknown_pending": (
            "Result unknown — reversal pending, the terminal keeps trying",
            "结果未知，冲正待发送\n终端会继续重试",
        ),
        "result_unknown_reversed_detail": (
            "No answer came from the acquirer, so the terminal reversed the transaction. Ask for the payment again.",
            "收单机构未应答，终端已冲正本交易。请重新收款。",
        ),
        "result_unknown_pending_detail": (
            "The reversal is sent again before the next transaction. Do not take this payment twice.",
            "冲正将在下一笔交易前重新发送。请勿重复收款。",
        ),
        "result_error": ("Not completed", "交易未完成"),
        "result_no_answer_detail": (
            "No answer from the acquirer; nothing was charged. {why}",
            "收单机构无应答，未扣款。{why}",
        ),
        "result_check_history": (
            "The request may have reached the acquirer: check the history before trying again.",
            "请求可能已送达收单机构：重试前请先查询交易记录。",
        ),
        "result_cancelled": ("Cancelled — nothing was charged", "已取消，未扣款"),
        "result_cancelled_detail": ("Nothing was sent to the acquirer.", "未向收单机构发送任何请求。"),
        "result_amount": ("Amount", "金额"),
        "result_balance_amount": ("Available balance", "可用余额"),
        "result_card": ("Card", "卡号"),
        "result_voucher": ("Voucher", "凭证号"),
        "result_auth": ("Auth code", "授权码"),
        "result_printer": ("Printer: {problem}", "打印机：{problem}"),
        "result_reprinting": ("Printing…", "正在打印…"),
        "result_reprint": ("Reprint", "重打印"),
        "result_done": ("Done", "完成"),
        "result_retry": ("Try again", "重试"),
    }
)
