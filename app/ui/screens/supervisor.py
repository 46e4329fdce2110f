"""主管菜单: the supervisor password first (checked by the engine; wrong tries count towards its lockout), then
operators (add with a PIN, remove, reset a PIN), the screen's language, dimming and locking for this run, and the
way to the health and devices screen. The password is kept only while this screen is open."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from app.domain.operators import CredentialError, Role, check_new_pin, check_operator_id
from app.ui import i18n
from app.ui.screens.office import OfficeScreen, password_ok

if TYPE_CHECKING:
    from app.services.terminal import StaffMember

DIM_CHOICES = (10, 15, 30, 60, 120, 300, 600)
LOCK_CHOICES = (60, 120, 300, 600, 900, 1800, 3600)


class StaffRow(ButtonBehavior, BoxLayout):
    operator = StringProperty("")
    role = StringProperty("")
    locked = BooleanProperty(False)
    signed_in = BooleanProperty(False)
    chosen = BooleanProperty(False)


def step(choices: tuple[int, ...], now: int, by: int) -> int:
    """The next choice up or down from `now` (which may be a configured value between two choices)."""
    if by > 0:
        return next((c for c in choices if c > now), now)
    return next((c for c in reversed(choices) if c < now), now)


def seconds_words(seconds: int, lang: str) -> str:
    if seconds % 60 == 0:
        return i18n.tr("supervisor_minutes", lang, n=seconds // 60)
    return i18n.tr("supervisor_seconds", lang, n=seconds)


class SupervisorScreen(OfficeScreen):
    screen_name = "supervisor"
    mode = StringProperty("password")  # password, menu, operators, form, language, screen
    form = StringProperty("add")  # add: a new operator; reset: a new PIN for the chosen one
    staff = ListProperty([])  # StaffMember rows
    chosen = StringProperty("")  # the operator the buttons act on
    removing = BooleanProperty(False)  # Remove pressed once: the second press removes
    dim_s = NumericProperty(30)
    lock_s = NumericProperty(300)
    fields = ("password", "op_id", "pin", "pin2")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._password = ""

    def on_params(self, **params: Any) -> None:
        """`back=True`: back from the health screen, to the menu (the password was given a moment ago)."""
        if params.get("back") and self._password:
            self.mode, self.notice = "menu", ""
            return
        self._password = ""
        self.mode, self.notice, self.working, self.chosen, self.removing = "password", "", False, "", False
        self.clear_fields()
        self.focus("password")

    def on_leave(self, *args: Any) -> None:
        super().on_leave(*args)
        if self.pos_app.current != "health":  # the health screen comes back here; anywhere else, ask again
            self._password = ""

    # -- the password ----------------------------------------------------------------------------------------

    def enter(self) -> None:
        password = self.field("password").value
        if not password_ok(password):
            self.notice = self.pos_app.tr("office_enter_password")
            return
        self.job(lambda t: t.verify_supervisor(password, "supervisor menu"), lambda _r: self._opened(password),
                 self._wrong)  # fmt: skip

    def _opened(self, password: str) -> None:
        self._password = password
        self.field("password").value = ""
        self.mode = "menu"

    def _wrong(self, message: str) -> None:
        self.notice = message
        self.field("password").value = ""

    def open(self, mode: str) -> None:
        self.notice, self.removing = "", False
        if mode == "operators":
            self._load_staff()
        if mode == "screen":
            ui = self.pos_app.settings.ui
            self.dim_s, self.lock_s = ui.dim_after_s, ui.lock_after_s
        if mode == "health":
            self.pos_app.go("health")
            return
        self.mode = mode

    # -- operators -------------------------------------------------------------------------------------------

    def _load_staff(self) -> None:
        self.job(lambda t: t.operators(), self._listed)

    def _listed(self, staff: list[StaffMember]) -> None:
        self.staff = [s for s in staff if s.role is Role.OPERATOR]
        if self.chosen not in {s.id for s in self.staff}:
            self.chosen = ""
        self._fill_rows()

    def _fill_rows(self) -> None:
        rows = self.ids.staff_rows
        rows.clear_widgets()
        for s in self.staff:
            row = StaffRow(operator=s.id, role=s.role.value, locked=s.locked, signed_in=s.signed_in,
                           chosen=s.id == self.chosen)  # fmt: skip
            row.bind(on_release=lambda r: self.choose(r.operator))
            rows.add_widget(row)

    def choose(self, operator: str) -> None:
        self.chosen, self.removing, self.notice = operator, False, ""
        for row in self.ids.staff_rows.children:
            row.chosen = row.operator == operator

    def add(self) -> None:
        self._open_form("add")

    def reset(self) -> None:
        if not self.chosen:
            self.notice = self.pos_app.tr("supervisor_choose_first")
            return
        self._open_form("reset")

    def _open_form(self, form: str) -> None:
        self.form, self.mode, self.notice = form, "form", ""
        for name in ("op_id", "pin", "pin2"):
            self.field(name).value = ""
        self.focus("op_id" if form == "add" else "pin")

    def key(self, key: str) -> None:
        super().key(key)
        field = self.active_field()
        if field is self.field("op_id") and len(field.value) == 2:
            self.focus("pin")

    def save(self) -> None:
        operator = self.field("op_id").value if self.form == "add" else self.chosen
        pin, again = self.field("pin").value, self.field("pin2").value
        try:
            check_operator_id(operator)
            check_new_pin(Role.OPERATOR, pin)
        except CredentialError as exc:
            self.notice = str(exc)
            return
        if pin != again:
            self.notice = self.pos_app.tr("supervisor_pins_differ")
            self.field("pin2").value = ""
            self.focus("pin2")
            return
        password = self._password
        if self.form == "add":
            self.job(
                lambda t: t.add_operator(password, operator, pin), lambda _r: self._saved("supervisor_added", operator)
            )
        else:
            self.job(
                lambda t: t.reset_pin(password, operator, pin), lambda _r: self._saved("supervisor_pin_reset", operator)
            )

    def _saved(self, key: str, operator: str) -> None:
        for name in ("op_id", "pin", "pin2"):
            self.field(name).value = ""
        self.chosen = operator
        self.mode = "operators"
        self._load_staff()
        self.notice = self.pos_app.tr(key, op=operator)

    def remove(self) -> None:
        if not self.chosen:
            self.notice = self.pos_app.tr("supervisor_choose_first")
            return
        if self.chosen == self.pos_app.operator:
            # The one signed in is the one using this menu; removing them would leave nobody able to sign in.
            self.notice = self.pos_app.tr("supervisor_not_yourself", op=self.chosen)
            return
        if not self.removing:
            self.removing = True
            return
        operator, password = self.chosen, self._password
        self.removing = False
        self.job(lambda t: t.remove_operator(password, operator), lambda _r: self._removed(operator))

    def _removed(self, operator: str) -> None:
        self.chosen = ""
        self._load_staff()
        self.notice = self.pos_app.tr("supervisor_removed", op=operator)

    # -- language and screen ---------------------------------------------------------------------------------

    def language(self, lang: str) -> None:
        self.pos_app.lang = lang

    def change(self, which: str, by: int) -> None:
        self.notice = ""
        if which == "dim":
            self.dim_s = step(DIM_CHOICES, int(self.dim_s), by)
        else:
            self.lock_s = step(LOCK_CHOICES, int(self.lock_s), by)

    def apply_screen(self) -> None:
        if self.lock_s <= self.dim_s:
            self.notice = self.pos_app.tr("supervisor_lock_after_dim")
            return
        app = self.pos_app
        # For this run only: a frozen copy with the new values; the configuration file decides at the next start.
        app.settings = replace(app.settings, ui=replace(app.settings.ui, dim_after_s=int(self.dim_s),
                                                        lock_after_s=int(self.lock_s)))  # fmt: skip
        self.notice = app.tr("supervisor_screen_applied")

    def config_path(self) -> str:
        return str(self.pos_app.settings.path)

    def seconds(self, seconds: int, lang: str) -> str:
        return seconds_words(seconds, lang)

    def home(self) -> None:
        self._password = ""
        super().home()


i18n.add(
    {
        "supervisor_title": ("Supervisor", "主管菜单"),
        "supervisor_enter": ("Open", "进入"),
        "supervisor_why": (
            "Operators, language, screen and the terminal's health. The supervisor password is needed.",
            "操作员、语言、屏幕与设备自检：需输入主管密码",
        ),
        "supervisor_operators": ("Operators", "操作员管理"),
        "supervisor_language": ("Language", "语言"),
        "supervisor_screen": ("Screen dimming and lock", "屏幕变暗与锁定"),
        "supervisor_health": ("Health / devices", "设备自检"),
        "supervisor_operator": ("Operator {op}", "操作员 {op}"),
        "supervisor_signed_in": ("signed in", "已签到"),
        "supervisor_locked": ("LOCKED", "已锁定"),
        "supervisor_add": ("Add", "新增"),
        "supervisor_remove": ("Remove", "删除"),
        "supervisor_remove_sure": ("Tap again: remove {op}", "再按一次删除 {op}"),
        "supervisor_reset": ("New PIN", "重置密码"),
        "supervisor_choose_first": ("Tap an operator first.", "请先点选一位操作员。"),
        "supervisor_not_yourself": (
            "Operator {op} is signed in now: sign in as someone else to remove {op}.",
            "操作员 {op} 正在使用：请换其他操作员签到后再删除。",
        ),
        "supervisor_new_operator": ("New operator", "新增操作员"),
        "supervisor_new_pin_for": ("New PIN for operator {op}", "操作员 {op} 的新密码"),
        "supervisor_op_number": ("Operator number (01–99)", "操作员号（01–99）"),
        "supervisor_pin": ("PIN (4–6 digits)", "密码（4–6位）"),
        "supervisor_pin_again": ("PIN again", "再次输入密码"),
        "supervisor_pins_differ": ("The two PINs differ: type it again.", "两次输入的密码不一致，请重新输入。"),
        "supervisor_save": ("Save", "保存"),
        "supervisor_added": ("Operator {op} added: they can sign in now.", "已新增操作员 {op}，现在即可签到。"),
        "supervisor_pin_reset": (
            "Operator {op} has a new PIN (and is unlocked).",
            "操作员 {op} 的密码已重置（并已解锁）。",
        ),
        "supervisor_removed": ("Operator {op} removed.", "已删除操作员 {op}。"),
        "supervisor_language_note": (
            "Also on the status bar at any time. The configuration's [ui] language is the one at start.",
            "也可随时在状态栏切换。启动时使用配置文件 [ui] language 的语言。",
        ),
        "supervisor_dim_after": ("Dim after", "变暗时间"),
        "supervisor_lock_after": ("Sign out after", "自动签退时间"),
        "supervisor_seconds": ("{n} s", "{n} 秒"),
        "supervisor_minutes": ("{n} min", "{n} 分钟"),
        "supervisor_apply": ("Apply for now", "本次生效"),
        "supervisor_screen_note": (
            "For this run only. After a restart the configuration file decides "
            "([ui] dim_after_s, lock_after_s in {path}).",
            "仅本次运行有效。重启后以配置文件为准（{path} 中的 [ui] dim_after_s、lock_after_s）。",
        ),
        "supervisor_lock_after_dim": ("Sign-out must come after dimming.", "自动签退时间须晚于变暗时间。"),
        "supervisor_screen_applied": ("Applied until the next restart.", "已生效，直至下次重启。"),
        "supervisor_backlight": ("Backlight: {path}", "背光：{path}"),
        "supervisor_no_backlight": (
            "No backlight control configured ([ui] backlight): dimming darkens the picture only.",
            "未配置背光控制（[ui] backlight）：变暗仅降低画面亮度。",
        ),
    }
)
