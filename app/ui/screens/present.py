"""插卡/挥卡/刷卡: the amount in large type, the card asked for, what the engine is doing, and a Cancel that is
safe at every moment. In demo mode, the drawer of test cards stands in for the readers.

Cancel sets one Event that both the card readers and the engine watch. Until the request is sent that stops the
transaction with nothing charged; once it is sent the engine finishes it (or reverses it), and this screen says
so. It says "cancelled" only when the engine itself ended without sending.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label

from app.domain.money import Money
from app.services.results import TxnResult
from app.services.terminal import Terminal
from app.sim.magic import describe
from app.ui import engine_words, i18n
from app.ui.bilingual import both
from app.ui.screens.base import PosScreen

PURPOSES = ("sale", "preauth", "refund", "balance")


class DrawerButton(Button):
    card = StringProperty("")
    way = StringProperty("")


class DrawerRow(BoxLayout):
    label = StringProperty("")


class CardDrawer(BoxLayout):
    """The emulated cards, each with a button per way it can be presented."""

    cards = ListProperty([])  # app.demo_cards: DrawerCard(name, label, ways)
    tap_allowed = BooleanProperty(True)  # over the contactless limit the tap reader is not listening
    magic = ListProperty([])
    __events__ = ("on_present",)

    def on_cards(self, _drawer: Any, cards: list[Any]) -> None:
        rows = self.ids.rows
        rows.clear_widgets()
        for card in cards:
            row = DrawerRow(label=card.label)
            for way in card.ways:
                button = DrawerButton(card=card.name, way=way)
                button.bind(on_release=lambda b: self.dispatch("on_present", b.card, b.way))
                self.bind(
                    tap_allowed=lambda _d, allowed, b=button: setattr(b, "disabled", b.way == "tap" and not allowed)
                )
                row.add_widget(button)
            rows.add_widget(row)

    def buttons(self) -> list[DrawerButton]:
        return [w for row in self.ids.rows.children for w in row.children if isinstance(w, DrawerButton)]

    def on_present(self, card: str, way: str) -> None:
        pass


class MagicAmounts(GridLayout):
    """The simulator's magic cents, small: how a newcomer shows a decline or a lost answer."""

    lines = ListProperty([])

    def on_lines(self, _grid: Any, lines: list[str]) -> None:
        self.clear_widgets()
        for line in lines:
            self.add_widget(MagicLine(text=line))


class MagicLine(Label):
    pass


class PresentScreen(PosScreen):
    screen_name = "present"
    busy_screen = True
    purpose = StringProperty("sale")
    amount_text = StringProperty("")
    running = BooleanProperty(False)  # the engine's job is under way
    stopping = BooleanProperty(False)  # Cancel was pressed
    sent = BooleanProperty(False)  # the engine has started sending the request: Cancel can no longer stop it
    presented = BooleanProperty(False)  # a card came out of the drawer

    def __init__(self, **kwargs: Any) -> None:
        self._amount: Money | None = None
        self._extra: dict[str, Any] = {}
        self._cancel = threading.Event()
        self._listening = False
        super().__init__(**kwargs)  # after: the kv rules, applied in there, read these

    def on_params(self, **params: Any) -> None:
        """`purpose`: sale, preauth, refund or balance; `amount` (none for a balance); a refund also brings
        `trace` and `password`."""
        purpose = params.pop("purpose", "sale")
        if purpose not in PURPOSES:
            raise ValueError(f"no card transaction called {purpose!r}")
        app = self.pos_app
        if not self._listening:
            app.bind(progress=self._heard)
            self._listening = True
        self.purpose = purpose
        self._amount = params.pop("amount", None)
        self._extra = params
        self.amount_text = self._amount.format() if self._amount is not None else ""
        self._cancel = threading.Event()
        self.stopping = self.sent = self.presented = False
        limit = app.settings.cards.contactless_limit
        self.ids.drawer.tap_allowed = self._amount is None or self._amount.minor <= limit.minor
        app.progress = ""  # the last transaction's words are not this one's
        self.running = True
        app.run_job(self._job(), self._done, self._failed)

    def _job(self) -> Callable[[Terminal], TxnResult]:
        app, cancel, amount, extra = self.pos_app, self._cancel, self._amount, self._extra
        purpose = self.purpose

        def job(t: Terminal) -> TxnResult:
            card = app.card_input(cancel)  # on the engine's thread: opening real readers may take a moment
            if purpose == "balance":
                return t.balance(card, cancel)
            assert amount is not None, f"a {purpose} needs an amount"
            if purpose == "refund":
                return t.refund(int(extra["trace"]), amount, str(extra["password"]), card, cancel)
            if purpose == "preauth":
                return t.preauth(amount, card, cancel)
            return t.sale(amount, card, cancel)

        return job

    def _heard(self, _app: Any, line: str) -> None:
        if self.running and engine_words.is_sending(line):
            self.sent = True

    # -- the person at the counter ----------------------------------------------------------------------------

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.stopping = True

    def present_card(self, card: str, way: str) -> None:
        demo = self.pos_app.demo
        if demo is None or not self.running or self.stopping or self.presented:
            return
        self.presented = True  # one card per transaction: a second would pull the first out mid-read
        demo.present(card, way)

    def status(self, progress: str, lang: str) -> str:
        if not progress or engine_words.is_asking_for_card(progress):
            return ""  # the prompt above says it already
        return engine_words.words(progress, lang)

    def note(self, stopping: bool, sent: bool, lang: str) -> str:
        if sent and stopping:
            return i18n.tr("present_sent_cannot_cancel", lang)
        if stopping:
            return i18n.tr("present_stopping", lang)
        return ""

    def prompt(self, lang: str) -> str:
        return both("present_prompt", lang)

    def magic_lines(self, lang: str) -> list[str]:
        lines = []
        for cents, text in describe():  # the simulator's own list: a line it adds shows in its words until ours exist
            key = f"present_magic_{cents.lstrip('.')}"
            lines.append(f"{cents} {i18n.tr(key, lang) if i18n.known(key) else text}")
        return lines

    # -- the engine's answer ----------------------------------------------------------------------------------

    def _end(self) -> None:
        self.running = False
        self._extra = {}  # a refund's supervisor password stays no longer than its transaction
        if self.pos_app.demo is not None:
            self.pos_app.demo.take_back()

    def _done(self, result: TxnResult) -> None:
        self._end()
        self.pos_app.go("result", result=result, purpose=self.purpose, amount=self._amount)

    def _failed(self, message: str) -> None:
        cancelled = self._cancel.is_set() and not self.sent
        self._end()
        if cancelled:
            self.pos_app.go("result", cancelled=True, purpose=self.purpose, amount=self._amount)
        else:
            self.pos_app.go("result", error=message, purpose=self.purpose, amount=self._amount, sent=self.sent)


i18n.add(
    {
        "present_prompt": ("Insert, tap or swipe the card", "请插卡、挥卡或刷卡"),
        "present_cancel": ("Cancel", "取消"),
        "present_stopping": (
            "Stopping… if the request was already sent, the terminal waits for the answer.",
            "正在取消…如请求已发出，终端将等待应答。",
        ),
        "present_sent_cannot_cancel": (
            "Already sent: waiting for the answer. The terminal finishes or reverses it; nothing is charged twice.",
            "请求已发出，正在等待应答。终端将完成或冲正该交易，不会重复扣款。",
        ),
        "present_drawer_title": ("Test cards (demo)", "测试卡（演示）"),
        "present_way_insert": ("Insert", "插卡"),
        "present_way_tap": ("Tap", "挥卡"),
        "present_way_swipe": ("Swipe", "刷卡"),
        "present_over_tap_limit": (
            "Over the contactless limit: insert or swipe",
            "超过非接限额：请插卡或刷卡",
        ),
        "present_magic_title": ("Simulator: amounts ending in", "模拟器：金额尾数"),
        "present_magic_05": ("do not honour", "不予承兑"),
        "present_magic_51": ("insufficient funds", "余额不足"),
        "present_magic_54": ("expired card", "过期卡"),
        "present_magic_55": ("incorrect PIN", "密码错"),
        "present_magic_61": ("over the amount limit", "超出金额限制"),
        "present_magic_91": ("issuer unavailable", "发卡方不能操作"),
        "present_magic_68": ("lost answer → reversal", "应答丢失→冲正"),
        "present_magic_98": ("late answer → reversal", "应答超时→冲正"),
    }
)
