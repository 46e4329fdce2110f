"""签到: operator number and PIN on the big keypad. Five wrong PINs lock the operator (the engine decides)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from app.ui import i18n
from app.ui.screens.base import PosScreen

OPERATOR_DIGITS = 2


class SignInScreen(PosScreen):
    screen_name = "signin"
    notice = StringProperty("")
    working = BooleanProperty(False)

    def on_params(self, **params: Any) -> None:
        self.notice = params.get("notice", "")
        self.ids.operator.value = ""
        self.ids.pin.value = ""
        self.focus("operator")

    def focus(self, name: str) -> None:
        self.ids.operator.active = name == "operator"
        self.ids.pin.active = name == "pin"

    def key(self, key: str) -> None:
        field = self.ids.operator if self.ids.operator.active else self.ids.pin
        field.key(key)
        if field is self.ids.operator and len(field.value) == OPERATOR_DIGITS:
            self.focus("pin")

    def sign_in(self) -> None:
        operator, pin = self.ids.operator.value, self.ids.pin.value
        if len(operator) != OPERATOR_DIGITS or not pin:
            self.notice = self.pos_app.tr("signin_incomplete")
            return
        self.working, self.notice = True, ""
        self.pos_app.run_job(lambda t: t.sign_in(operator, pin), self._signed_in, self._refused)

    def _signed_in(self, _operator: str) -> None:
        self.working = False
        self.pos_app.go("home")

    def _refused(self, message: str) -> None:
        self.working = False
        self.notice = message
        self.ids.pin.value = ""
        self.focus("pin")


i18n.add(
    {
        "signin_title": ("Sign in", "签到"),
        "operator_number": ("Operator number", "操作员号"),
        "operator_pin": ("PIN", "密码"),
        "sign_in": ("Sign in", "签到"),
        "signin_incomplete": ("Enter the two-digit operator number and the PIN.", "请输入两位操作员号和密码。"),
        "signin_demo_hint": (
            "Demo: operator 01, PIN 0000 · supervisor password 123456",
            "演示：操作员 01，密码 0000 · 主管密码 123456",
        ),
    }
)
