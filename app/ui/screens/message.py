"""One message and one button: errors, confirmations, "everything is resolved"."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from app.ui.screens.base import PosScreen


class MessageScreen(PosScreen):
    screen_name = "message"
    title = StringProperty("")
    text = StringProperty("")
    then = StringProperty("")  # the screen the button leads to; "" when there is nowhere to go (a fatal error)

    def on_params(self, **params: Any) -> None:
        self.title = params.get("title") or self.pos_app.tr("error")
        self.text = params.get("text", "")
        self.then = params.get("then") or ""

    def carry_on(self) -> None:
        if self.then:
            self.pos_app.go(self.then)
