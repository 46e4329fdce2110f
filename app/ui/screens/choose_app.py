"""选择应用: a card with several payment applications (debit and credit, say); the cardholder picks one.

The buttons come in the order the kernel gives them (the card's priorities). Cancel stops the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import NumericProperty
from kivy.uix.button import Button
from kivy.utils import escape_markup

from app.emv.selection import Candidate
from app.ui import i18n
from app.ui.screens.base import PosScreen


class AppButton(Button):
    index = NumericProperty(0)


class ChooseAppScreen(PosScreen):
    screen_name = "choose_app"
    busy_screen = True

    def __init__(self, **kwargs: Any) -> None:
        self._reply: Callable[[int | None], None] | None = None
        self._candidates: list[Candidate] = []
        super().__init__(**kwargs)  # after: the kv rules, applied in there, read these

    def on_params(self, **params: Any) -> None:
        """`candidates` (list of Candidate, in priority order) and `reply(index | None)`."""
        self._reply = params["reply"]
        self._candidates = list(params["candidates"])
        self._fill(self.pos_app.lang)

    def on_kv_post(self, base_widget: Any) -> None:
        super().on_kv_post(base_widget)
        # Labels name the card's own words, with ours in the language shown: redrawn when it changes.
        self.pos_app.bind(lang=lambda _app, lang: self._fill(lang))

    def _fill(self, lang: str) -> None:
        box = self.ids.apps
        box.clear_widgets()
        for index, candidate in enumerate(self._candidates):
            button = AppButton(index=index, text=self.label(candidate, lang))
            button.bind(on_release=lambda b: self.choose(int(b.index)))
            box.add_widget(button)

    def label(self, candidate: Candidate, lang: str) -> str:
        config = candidate.config
        kind = i18n.tr(f"choose_app_{config.funding.value}", lang) if config.funding else ""
        brand = " · ".join(part for part in (config.brand.label, kind) if part)
        return f"{escape_markup(candidate.label)}\n[size=16sp][color=#d8dce2]{escape_markup(brand)}[/color][/size]"

    def choose(self, index: int | None) -> None:
        reply, self._reply = self._reply, None
        if reply is None:
            return
        if index is None:
            self.pos_app.cancel_card_transaction()  # the engine must see the cancel before the empty answer
        reply(index)
        self.pos_app.go("processing", words_key="processing_card")

    def cancel(self) -> None:
        self.choose(None)


i18n.add(
    {
        "choose_app_title": ("Choose how to pay with this card", "请选择卡片应用"),
        "choose_app_hint": ("The card has more than one account.", "此卡有多个账户。"),
        "choose_app_debit": ("Debit", "借记卡"),
        "choose_app_credit": ("Credit", "信用卡"),
        "choose_app_cancel": ("Cancel", "取消"),
    }
)
