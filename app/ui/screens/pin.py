"""输入密码: the cardholder's PIN on the big keypad, dots only, then handed to the engine and cleared at once.

No "no PIN" key: a PIN the card asks for is entered or the transaction is cancelled. Cancel stops the whole
transaction (the card's next way of verifying, often a signature, is not a way round the PIN).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import NumericProperty, StringProperty

from app.ui import i18n
from app.ui.bilingual import both
from app.ui.screens.base import PosScreen

PIN_MIN, PIN_MAX = 4, 12


class PinScreen(PosScreen):
    screen_name = "pin"
    busy_screen = True
    amount_text = StringProperty("")
    tries_left = NumericProperty(-1)  # -1: the card did not say
    notice = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._reply: Callable[[str | None], None] | None = None
        super().__init__(**kwargs)  # after: the kv rules, applied in there, read these

    def on_params(self, **params: Any) -> None:
        """`amount` (Money; zero for a balance inquiry), `tries_left` (None when unknown), `reply(digits|None)`."""
        self._reply = params["reply"]
        amount = params.get("amount")
        self.amount_text = str(amount) if amount is not None and not amount.is_zero else ""
        tries = params.get("tries_left")
        self.tries_left = -1 if tries is None else int(tries)
        self.notice = ""
        self.ids.pin.value = ""
        keypad = self.ids.keypad
        keypad.shuffled = self.pos_app.settings.ui.shuffle_pin_keypad
        if keypad.shuffled:
            keypad.arrange()  # a new order for every PIN, not only the first

    def key(self, key: str) -> None:
        self.notice = ""
        self.ids.pin.key(key)

    def enter(self) -> None:
        digits = self.ids.pin.value
        if not PIN_MIN <= len(digits) <= PIN_MAX:
            self.notice = self.pos_app.tr("pin_length")
            return
        self._hand_over(digits)

    def cancel(self) -> None:
        self.pos_app.cancel_card_transaction()  # first: the engine must see the cancel before the empty answer
        self._hand_over(None)

    def _hand_over(self, answer: str | None) -> None:
        self.ids.pin.value = ""
        reply, self._reply = self._reply, None
        if reply is None:
            return  # a second tap after the answer went
        reply(answer)
        self.pos_app.go("processing", words_key="processing_card")

    def tries_text(self, tries_left: int, lang: str) -> str:
        return i18n.tr("pin_tries_left", lang, n=tries_left) if tries_left >= 0 else ""

    def heading(self, lang: str) -> str:
        return both("pin_title", lang, sep="  ")


i18n.add(
    {
        "pin_title": ("Enter the PIN", "请输入密码"),
        "pin_field": ("PIN", "密码"),
        "pin_enter": ("Enter", "确认"),
        "pin_cancel": ("Cancel", "取消"),
        "pin_length": ("A PIN has 4 to 12 digits.", "密码为 4 至 12 位数字。"),
        "pin_tries_left": ("{n} tries left", "还可尝试 {n} 次"),
        "pin_not_certified": (
            "Demo/test only: this touchscreen is not a certified PIN pad",
            "仅供演示/测试：本触摸屏不是认证的密码键盘",
        ),
    }
)
