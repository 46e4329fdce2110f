"""Amount entry like a cash register: digits shift in from the right (1 2 3 4 shows 12.34), and the amount is
confirmed once more in large type before any card is asked for. "One extra zero is trouble": this is the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from app.domain.money import MAX_MINOR, Money
from app.ui import i18n
from app.ui.screens.base import PosScreen
from app.ui.widgets import BACK, CLEAR


class AmountScreen(PosScreen):
    screen_name = "amount"
    title = StringProperty("")
    shown = StringProperty("")
    notice = StringProperty("")
    confirming = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._digits = ""
        self._limit: int | None = None
        self._then: Callable[[Money], None] | None = None
        self._purpose = "sale"
        self._extra: dict[str, Any] = {}

    def on_params(self, **params: Any) -> None:
        """`purpose` names the job (sale, preauth, refund, complete); `limit_minor` caps the amount (what is left
        to refund, the authorised amount); `then(amount)` runs on confirm, else the card is asked for."""
        self._purpose = params.pop("purpose", "sale")
        self._limit = params.pop("limit_minor", None)
        self._then = params.pop("then", None)
        self.title = params.pop("title", None) or self.pos_app.tr(f"job_{self._purpose}")
        self._extra = params
        self._digits, self.notice, self.confirming = "", "", False
        self._show()

    @property
    def amount(self) -> Money:
        return self.pos_app.money(int(self._digits or "0"))

    def key(self, key: str) -> None:
        self.notice = ""
        if key == CLEAR:
            self._digits = ""
        elif key == BACK:
            self._digits = self._digits[:-1]
        elif key.isdigit() and (self._digits or key != "0"):
            candidate = self._digits + key
            if int(candidate) > self._cap():
                self.notice = self.pos_app.tr("amount_too_large", most=self.pos_app.money(self._cap()).format())
                return
            self._digits = candidate
        self._show()

    def _cap(self) -> int:
        cap = min(MAX_MINOR, self.pos_app.settings.limits.max_amount.minor)
        return cap if self._limit is None else min(cap, self._limit)

    def _show(self) -> None:
        self.shown = self.amount.format()

    def ask_confirmation(self) -> None:
        if not self._digits:
            self.notice = self.pos_app.tr("amount_enter")
            return
        self.confirming = True

    def change(self) -> None:
        self.confirming = False

    def confirm(self) -> None:
        amount = self.amount
        self.confirming = False
        if self._then is not None:
            self._then(amount)
        else:
            self.pos_app.go("present", purpose=self._purpose, amount=amount, **self._extra)

    def cancel(self) -> None:
        self.pos_app.go("home")


i18n.add(
    {
        "job_complete": ("Pre-auth completion", "预授权完成"),
        "amount_enter": ("Enter the amount first.", "请先输入金额。"),
        "amount_too_large": ("At most {most} here.", "此处金额最多 {most}。"),
        "amount_is_right": ("Is this amount right?", "金额是否正确？"),
        "amount_change": ("Change", "修改"),
        "amount_ok": ("Amount right", "金额正确"),
        "next": ("Next", "下一步"),
    }
)
