"""首次使用: a terminal with no supervisor yet. The merchant, terminal id and acquirer come from the configuration
file (the engine reads nothing else), so this screen shows what it says and where to change it; then the
supervisor chooses the supervisor password (twice) and the first operator (number and PIN, twice), and the
terminal goes to sign-in. Without a first operator nobody could sign in, and the supervisor menu needs one."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from app.domain.operators import SUPERVISOR_ID, CredentialError, Role, check_new_pin, check_operator_id
from app.ui import i18n
from app.ui.screens.office import OfficeScreen, password_ok


class FirstRunScreen(OfficeScreen):
    screen_name = "first_run"
    step = StringProperty("facts")  # facts, password, operator
    fields = ("password", "password2", "op_id", "pin", "pin2")

    def on_params(self, **params: Any) -> None:
        self.step, self.notice, self.working = "facts", "", False
        self.clear_fields()

    def facts(self, lang: str) -> str:
        s = self.pos_app.settings
        t, a = s.terminal, s.acquirer
        tr = i18n.tr
        mode = tr("first_run_training", lang) if t.training else tr("first_run_live", lang)
        rows = [
            (tr("first_run_merchant", lang), f"{t.merchant_name} ({t.merchant_id})"),
            (tr("first_run_terminal", lang), t.terminal_id),
            (tr("first_run_acquirer", lang), a.url),
            (tr("first_run_certificates", lang), f"{a.client_cert.name}, {a.ca_file.name}"),
            (tr("first_run_mode", lang), mode),
        ]
        return "\n".join(f"[color=#b0b4ba]{label}[/color]  {value}" for label, value in rows)

    def config_path(self) -> str:
        return str(self.pos_app.settings.path)

    def to_password(self) -> None:
        self.step, self.notice = "password", ""
        self.focus("password")

    def key(self, key: str) -> None:
        super().key(key)
        field = self.active_field()
        if field is self.field("op_id") and len(field.value) == 2:
            self.focus("pin")

    def to_operator(self) -> None:
        first, again = self.field("password").value, self.field("password2").value
        if not password_ok(first):
            self.notice = self.pos_app.tr("office_enter_password")
            self.focus("password")
            return
        if first != again:
            self.notice = self.pos_app.tr("first_run_differ")
            self.field("password2").value = ""
            self.focus("password2")
            return
        self.step, self.notice = "operator", ""
        self.focus("op_id")

    def back(self) -> None:
        self.notice = ""
        if self.step == "operator":
            self.step = "password"
            self.focus("password")
        else:
            self.step = "facts"
            self.focus("")

    def finish(self) -> None:
        password = self.field("password").value
        operator, pin, again = self.field("op_id").value, self.field("pin").value, self.field("pin2").value
        try:  # checked here, before anything is written: a set-up without an operator could not be signed into
            check_operator_id(operator)
            check_new_pin(Role.OPERATOR, pin)
        except CredentialError as exc:
            self.notice = str(exc)
            return
        if operator == SUPERVISOR_ID:
            self.notice = self.pos_app.tr("first_run_not_00")
            return
        if pin != again:
            self.notice = self.pos_app.tr("first_run_differ")
            self.field("pin2").value = ""
            self.focus("pin2")
            return

        def set_up(t: Any) -> None:
            t.set_up(password, (operator, pin))

        self.job(set_up, lambda _r: self._done(operator))

    def _done(self, operator: str) -> None:
        self.clear_fields()
        self.pos_app.go("signin", notice=self.pos_app.tr("first_run_done", op=operator))


i18n.add(
    {
        "first_run_title": ("First use: set up this terminal", "首次使用：设置本终端"),
        "first_run_from_config": (
            "From the configuration file. To change them, edit it and restart:",
            "以下来自配置文件。如需修改，请编辑该文件后重启：",
        ),
        "first_run_merchant": ("Merchant", "商户"),
        "first_run_terminal": ("Terminal ID", "终端号"),
        "first_run_acquirer": ("Acquirer", "收单机构"),
        "first_run_certificates": ("Certificates", "证书"),
        "first_run_mode": ("Mode", "模式"),
        "first_run_training": ("TRAINING / demo: no real money", "演示/培训：不涉及真实资金"),
        "first_run_live": ("LIVE: real cards, real money", "正式：真实卡片与资金"),
        "first_run_next": ("Next: supervisor password", "下一步：主管密码"),
        "first_run_choose_password": (
            "The supervisor chooses the supervisor password (6–12 digits): voids, refunds and staff need it.",
            "请主管设置主管密码（6–12位）：撤销、退货和操作员管理都需要它。",
        ),
        "first_run_password": ("Supervisor password", "主管密码"),
        "first_run_password_again": ("Supervisor password again", "再次输入主管密码"),
        "first_run_differ": ("The two entries differ: type it again.", "两次输入不一致，请重新输入。"),
        "first_run_first_operator": (
            "The first operator, who signs in and takes sales (more in the supervisor menu later).",
            "第一位操作员，用于签到收款（之后可在主管菜单中增加）。",
        ),
        "first_run_not_00": (
            "00 is the supervisor's number; operators are 01 to 99.",
            "00 为主管编号，操作员为 01–99。",
        ),
        "first_run_finish": ("Finish set-up", "完成设置"),
        "first_run_done": (
            "Set up. Operator {op} can sign in now.",
            "设置完成。操作员 {op} 现在可以签到。",
        ),
    }
)
