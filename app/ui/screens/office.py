"""What the back-office screens share: a screen with keypad-filled fields and one notice line, the list of
transactions a finger picks from, the card that shows an original transaction, and the words for kinds, states
and card brands. Not a screen itself (no `screen_name`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from app.domain.money import Money, currency
from app.domain.transaction import TxnKind, TxnState
from app.journal.records import TxnRecord
from app.ui import i18n
from app.ui.screens.base import PosScreen
from app.ui.widgets import EntryField

T = TypeVar("T")

VOUCHER_DIGITS = 6  # 凭证号 as printed: 000012
# The kinds a void or refund may point at, and the state they must be in: the engine checks again; these only
# keep the lists short.
SALE_KINDS = (TxnKind.SALE, TxnKind.COMPLETION)
OPEN = TxnState.APPROVED


def password_ok(value: str) -> bool:
    """The supervisor password's shape (6 to 12 digits); whether it is right is the engine's to say."""
    return value.isdigit() and 6 <= len(value) <= 12


def money_of(record: TxnRecord, minor: int | None = None) -> Money:
    return Money(record.amount_minor if minor is None else minor, currency(record.currency))


def local_time(utc_text: str, with_date: bool = False) -> str:
    moment = datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def kind_word(kind: str, lang: str) -> str:
    return i18n.tr(f"office_kind_{kind}", lang)


def state_word(state: str, lang: str) -> str:
    return i18n.tr(f"office_state_{state}", lang)


def card_word(key: str, lang: str) -> str:
    """ "visa/credit" -> "Visa credit" or "Visa 信用卡"; the settlement's totals are kept by brand and funding."""
    brand, _, funding = key.partition("/")
    name = i18n.tr(f"office_brand_{brand}", lang) if i18n.known(f"office_brand_{brand}") else brand.upper() or "?"
    kind = i18n.tr(f"office_funding_{funding}", lang) if i18n.known(f"office_funding_{funding}") else funding
    return f"{name} {kind}".strip()


def describe(record: TxnRecord | None, lang: str, *, left: Money | None = None) -> str:
    """The original transaction, as the cashier checks it against the slip the customer holds."""
    if record is None:
        return ""
    tr = i18n.tr
    lines = [
        f"{tr('office_voucher', lang)} {record.trace:06d} · {kind_word(record.kind.value, lang)}"
        f" · {state_word(record.state.value, lang)}",
        f"[size=30sp][b]{money_of(record)}[/b][/size]",
        f"{tr('office_card', lang)} {record.masked_pan or '-'}"
        f" · {tr('office_auth_code', lang)} {record.auth_code or '-'}",
        f"{local_time(record.created_at, with_date=True)} · {tr('office_batch', lang)} {record.batch:06d}",
    ]
    if left is not None:
        lines.append(f"[b]{tr('office_left_to_refund', lang, left=left)}[/b]")
    return "\n".join(lines)


class TxnRow(ButtonBehavior, BoxLayout):
    """One transaction in a list: voucher, time, kind and amount above; card and state below."""

    trace = NumericProperty(0)
    time = StringProperty("")
    kind = StringProperty("")
    state = StringProperty("")
    amount = StringProperty("")
    pan = StringProperty("")


class TxnList(ScrollView):
    """Rows a finger picks; `on_pick(trace)` says which."""

    records = ListProperty([])
    __events__ = ("on_pick",)

    def on_records(self, _list: Any, records: list[TxnRecord]) -> None:
        rows = self.ids.rows
        rows.clear_widgets()
        for r in records:
            row = TxnRow(
                trace=r.trace,
                time=local_time(r.created_at),
                kind=r.kind.value,
                state=r.state.value,
                amount=str(money_of(r)),
                pan=r.masked_pan or "",
            )
            row.bind(on_release=lambda row: self.dispatch("on_pick", int(row.trace)))
            rows.add_widget(row)
        self.scroll_y = 1

    def on_pick(self, trace: int) -> None:
        pass


class SlipPicture(ScrollView):
    """A printed slip as its picture (demo mode's printer), scrolled when it is longer than the screen."""

    source = StringProperty("")


class OfficeScreen(PosScreen):
    """A screen whose keypad fills one field at a time and whose refusals are one line (`notice`)."""

    notice = StringProperty("")
    working = BooleanProperty(False)
    original = ObjectProperty(None, allownone=True)  # the TxnRecord being acted on
    fields: tuple[str, ...] = ()

    def field(self, name: str) -> EntryField:
        found: EntryField = self.ids[name]
        return found

    def focus(self, name: str) -> None:
        for other in self.fields:
            self.field(other).active = other == name

    def active_field(self) -> EntryField | None:
        return next((self.field(n) for n in self.fields if self.field(n).active), None)

    def key(self, key: str) -> None:
        self.notice = ""
        field = self.active_field()
        if field is not None:
            field.key(key)

    def clear_fields(self) -> None:
        for name in self.fields:
            self.field(name).value = ""

    def job(
        self, job: Callable[[Any], T], done: Callable[[T], None], failed: Callable[[str], None] | None = None
    ) -> None:
        """Run `job` on the engine; a refusal lands in the notice line and the screen stays as it was."""
        if self.working:
            return
        self.working, self.notice = True, ""

        def finished(result: T) -> None:
            self.working = False
            done(result)

        def refused(message: str) -> None:
            self.working = False
            (failed or self.refuse)(message)

        self.pos_app.run_job(job, finished, refused)

    def refuse(self, message: str) -> None:
        self.notice = message

    def voucher(self, name: str = "voucher") -> int | None:
        """The voucher number typed, or None (with a notice) when there is none."""
        text = self.field(name).value
        if not text or int(text) == 0:
            self.notice = self.pos_app.tr("office_enter_voucher")
            return None
        return int(text)

    def home(self) -> None:
        self.pos_app.go("home")

    def on_leave(self, *args: Any) -> None:
        # Passwords typed here leave the screen with it (the widgets live on; their values must not).
        for name in self.fields:
            if self.field(name).secret:
                self.field(name).value = ""


class TraceScreen(OfficeScreen):
    """Find a transaction by its voucher number (typed, or picked from a list), check it against the customer's
    slip, then act on it (with the supervisor password where the job needs one). Void, refund, completion and
    pre-auth void are this with different words and a different act; the layout is office.kv's <TraceScreen>."""

    step = StringProperty("find")  # find: which transaction; confirm: check it, then act
    records = ListProperty([])
    left = ObjectProperty(None, allownone=True)  # a refund's Money still refundable
    needs_password = BooleanProperty(True)
    danger = BooleanProperty(True)  # the act gives money back or releases a hold: the red button
    # i18n keys: the title, the hint above the list (and when it is empty), the note under the original
    title_key = StringProperty("")
    pick_key = StringProperty("office_pick")
    none_key = StringProperty("office_none")
    note_key = StringProperty("")
    fields = ("voucher", "password")

    def on_params(self, **params: Any) -> None:
        self.step, self.notice, self.original, self.left, self.working = "find", "", None, None, False
        self.clear_fields()
        self.focus("voucher")
        self.records = []
        self.job(self.listing, self._listed)

    def listing(self, t: Any) -> list[TxnRecord]:
        """On the engine's thread: the transactions worth listing."""
        return []

    def lookup(self, t: Any, trace: int) -> Any:
        """On the engine's thread: the original (a PosError if there is none); `found` gets what this returns."""
        return t.get(trace)

    def act_label(self, lang: str, original: TxnRecord | None) -> str:
        """The confirm button's words (kv passes `original` so that the button follows it)."""
        return ""

    def act(self, password: str) -> None:
        """Do the job on `self.original` (the password is "" when the job needs none)."""

    def _listed(self, records: list[TxnRecord]) -> None:
        self.records = records

    def pick(self, trace: int) -> None:
        self.field("voucher").value = str(trace)
        self.find()

    def find(self) -> None:
        trace = self.voucher()
        if trace is not None:
            self.job(lambda t: self.lookup(t, trace), self.found)

    def found(self, record: TxnRecord) -> None:
        self.original, self.step = record, "confirm"
        self.field("password").value = ""
        self.focus("password" if self.needs_password else "")

    def back(self) -> None:
        self.step, self.original, self.left, self.notice = "find", None, None, ""
        self.field("password").value = ""
        self.focus("voucher")

    def confirm(self) -> None:
        password = self.field("password").value
        if self.original is None:
            return
        if self.needs_password and not password_ok(password):
            self.notice = self.pos_app.tr("office_enter_password")
            return
        self.act(password)

    def refused(self, message: str) -> None:
        """One line, the password gone, the original still shown: nothing changed."""
        self.notice = message
        self.field("password").value = ""


i18n.add(
    {
        "office_kind_sale": ("Sale", "消费"),
        "office_kind_void": ("Void", "撤销"),
        "office_kind_refund": ("Refund", "退货"),
        "office_kind_preauth": ("Pre-auth", "预授权"),
        "office_kind_completion": ("Completion", "预授权完成"),
        "office_kind_preauth_void": ("Pre-auth void", "预授权撤销"),
        "office_kind_balance": ("Balance", "余额查询"),
        "office_state_pending": ("In progress", "处理中"),
        "office_state_approved": ("Approved", "成功"),
        "office_state_declined": ("Declined", "拒绝"),
        "office_state_reversal_pending": ("Reversal pending", "待冲正"),
        "office_state_reversed": ("Reversed", "已冲正"),
        "office_state_unanswered": ("No answer", "无应答"),
        "office_state_voided": ("Voided", "已撤销"),
        "office_state_completed": ("Completed", "已完成"),
        "office_brand_visa": ("Visa", "Visa"),
        "office_brand_mastercard": ("Mastercard", "万事达"),
        "office_brand_unionpay": ("UnionPay", "银联"),
        "office_brand_amex": ("Amex", "美国运通"),
        "office_brand_jcb": ("JCB", "JCB"),
        "office_brand_other": ("Other", "其他"),
        "office_funding_credit": ("credit", "信用卡"),
        "office_funding_debit": ("debit", "借记卡"),
        "office_entry_chip": ("chip", "插卡"),
        "office_entry_contactless": ("contactless", "挥卡"),
        "office_entry_swipe": ("swipe", "刷卡"),
        "office_entry_fallback": ("swipe after chip failure", "降级刷卡"),
        "office_voucher": ("Voucher", "凭证号"),
        "office_voucher_number": ("Voucher number", "凭证号"),
        "office_card": ("Card", "卡号"),
        "office_time": ("Time", "时间"),
        "office_auth_code": ("Auth code", "授权码"),
        "office_batch": ("Batch", "批次"),
        "office_left_to_refund": ("Left to refund: {left}", "可退金额：{left}"),
        "office_supervisor_password": ("Supervisor password", "主管密码"),
        "office_enter_voucher": ("Enter the voucher number first.", "请先输入凭证号。"),
        "office_enter_password": ("Enter the supervisor password (6–12 digits).", "请输入主管密码（6–12位）。"),
        "office_find": ("Find", "查找"),
        "office_pick": (
            "Tap a transaction, or type its voucher number.",
            "点选一笔交易，或输入凭证号。",
        ),
        "office_none": ("Type the voucher number.", "请输入凭证号。"),
        "office_check": ("check the slip", "请核对签购单"),
        "office_nothing_listed": ("Nothing to list.", "没有可列出的交易。"),
        "office_other_voucher": ("Another voucher", "换一笔"),
        "office_printer_problem": ("Printer: {problem}", "打印机：{problem}"),
        "office_slip_printed": ("Printed:", "已打印："),
        "office_done": ("Done", "完成"),
    }
)
