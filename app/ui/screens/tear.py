"""撕纸: between the copies. The merchant copy is out; the cashier tears it off, then the customer copy prints.

In demo mode the "printer" writes pictures, and the picture of the copy just printed is shown here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.properties import StringProperty

from app.ui import i18n
from app.ui.bilingual import both
from app.ui.screens.base import PosScreen


def picture_of(path: str) -> str:
    """The slip's picture when the printer is the PNG preview, else ""."""
    return path if path.endswith(".png") and Path(path).is_file() else ""


class TearScreen(PosScreen):
    screen_name = "tear"
    busy_screen = True
    picture = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._reply: Callable[[bool], None] | None = None
        super().__init__(**kwargs)  # after: the kv rules, applied in there, read these

    def on_params(self, **params: Any) -> None:
        """`printed`: where the copy just printed went; `reply(True)` prints the next copy, `reply(False)` not now."""
        self._reply = params["reply"]
        self.picture = ""  # the same path may hold a new picture (a reprint): make the Image load it again
        self.picture = picture_of(str(params.get("printed") or ""))
        self.ids.scroll.scroll_y = 1

    def answer(self, print_next: bool) -> None:
        reply, self._reply = self._reply, None
        if reply is None:
            return
        reply(print_next)
        self.pos_app.go("processing", words_key="tear_printing" if print_next else "processing_working")

    def prompt(self, lang: str) -> str:
        return both("tear_prompt", lang, "16sp")


i18n.add(
    {
        "tear_prompt": (
            "Merchant copy printed — tear it off, then press to print the customer copy",
            "商户存根已打印，请撕下后按键打印持卡人存根",
        ),
        "tear_print_next": ("Print the customer copy", "打印持卡人存根"),
        "tear_not_now": ("Don't print it now", "暂不打印"),
        "tear_printing": ("Printing the customer copy…", "正在打印持卡人存根…"),
    }
)
