"""KioskApp: the touchscreen terminal. One ScreenManager; the engine on a worker thread (bridge.py).

What screens may use: `go(name, **params)`, `run_job(job, done, failed)`, `tr(key, lang)`, the properties below
(kv binds to them), `card_input(cancel)` for card-present flows, and `settings`. Screens never import services.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import FadeTransition, ScreenManager

from app.bootstrap import Readers, build_terminal, kernel_config, reader_source
from app.config import Settings
from app.devices.emv_source import ReaderCardSource
from app.domain.money import Money
from app.emv.selection import Candidate
from app.services.context import CardInput
from app.services.terminal import Terminal, TerminalStatus
from app.ui import i18n, theme
from app.ui.autosettle import AutoSettle
from app.ui.bridge import Bridge
from app.ui.devices import DemoReaders, TouchPinEntry, touch_chooser, touch_confirm
from app.ui.screens import discover
from app.ui.screens.base import PosScreen
from app.ui.service import ServiceLink

log = logging.getLogger(__name__)
T = TypeVar("T")
KV = Path(__file__).resolve().parent / "kv"
KIOSK_KEYS = {27, 282, 283, 284, 285, 286, 287, 288, 289, 290, 291, 292, 293}  # Esc, F1-F12
HOME_AFTER_SIGN_IN = "home"
SCREENS_OF_A_SALE = ("home", "amount", "present", "processing", "pin", "tear", "result")


class Root(FloatLayout):  # the screen manager, with the banner and the dimming veil above it (kv)
    pass


class KioskApp(App):
    lang = StringProperty("zh")
    operator = StringProperty("")  # signed-in operator, "" when nobody
    batch = StringProperty("")
    banner = StringProperty("")  # something waiting: a reversal, an unfinished settlement
    banner_action = StringProperty("")  # what the banner's button resolves: "recover" or "settle"
    progress = StringProperty("")  # the engine's latest words
    training = BooleanProperty(False)
    busy = BooleanProperty(False)
    dimmed = BooleanProperty(False)
    demo_cards = ListProperty([])  # the card drawer, in demo mode
    touch_pin_approved = BooleanProperty(False)
    clock_text = StringProperty("")

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.title = "KioskPOS"
        self.lang = settings.ui.language
        self.training = settings.terminal.training
        self.touch_pin_approved = settings.ui.touchscreen_pin_approved
        self.demo = DemoReaders() if settings.cards.source == "simulated" else None
        self.status: TerminalStatus | None = None
        self.manager: ScreenManager | None = None
        self.bridge: Bridge | None = None
        self._last_touch = time.monotonic()
        # The Cancel of the card transaction under way: the PIN and application screens stop it through this.
        self.card_cancel: threading.Event | None = None

    # -- building ---------------------------------------------------------------------------------------------

    def build(self) -> Root:
        theme.register_fonts()
        Window.clearcolor = theme.BACKGROUND
        self.clock_text = time.strftime("%H:%M")
        # Loaded twice, every rule would apply twice (the UI tests build many apps in one process, and each frame
        # drew every shared widget once per app built so far).
        if str(KV / "widgets.kv") not in Builder.files:
            Builder.load_file(str(KV / "widgets.kv"))
        self.manager = ScreenManager(transition=FadeTransition(duration=0.1))
        # Each screen is built the first time it is shown: building all twenty up front doubled the cold start.
        self._screen_classes = {screen_class.screen_name: screen_class for screen_class in discover()}
        root = Root()
        root.ids.stage.add_widget(self.manager)
        if self.demo is not None:
            from app.ui.devices import drawer_cards

            self.demo_cards = drawer_cards()
        self._window_bindings = {"on_touch_down": self._on_any_touch, **self._kiosk_guards()}
        Window.bind(**self._window_bindings)
        self._ticker = Clock.schedule_interval(self._idle_tick, 1.0)
        self.bridge = Bridge(self._make_terminal)
        self.bridge.start()
        self.service = ServiceLink(self)  # systemd: READY=1 and the watchdog (nothing outside systemd)
        self.service.start()
        self.autosettle = AutoSettle(self)  # the settlement timer's requests (pos settle --auto)
        self.autosettle.start()
        self.run_job(lambda t: t.status(), self._started, self.fatal)
        return root

    def _make_terminal(self) -> Terminal:
        return build_terminal(
            self.settings,
            progress=lambda words: Clock.schedule_once(lambda _dt: setattr(self, "progress", words), 0),
            confirm_copy=touch_confirm(self._ask_next_copy),
        )

    def _started(self, status: TerminalStatus) -> None:
        self._show_status(status)
        if not status.set_up:
            self.go("first_run")
        elif status.operator:
            self.go(HOME_AFTER_SIGN_IN)
        else:
            self.go("signin")
        self.service.ready(self.current)
        self._warm_up(list(SCREENS_OF_A_SALE))

    def _warm_up(self, names: list[str]) -> None:
        """Build the screens of a sale one per frame while nobody is touching yet, so the first sale never waits
        for a screen to be built."""
        if names:
            self.screen(names.pop(0))
            Clock.schedule_once(lambda _dt: self._warm_up(names), 0.05)

    def on_stop(self) -> None:
        self.service.stop()
        self.autosettle.stop()
        Window.unbind(**self._window_bindings)
        self._ticker.cancel()
        if self.demo is not None:
            self.demo.take_back()
        if self.bridge is not None:
            self.bridge.stop()

    # -- what screens use -------------------------------------------------------------------------------------

    def tr(self, key: str, lang: str | None = None, **values: Any) -> str:
        return i18n.tr(key, lang or self.lang, **values)

    def switch_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def go(self, name: str, **params: Any) -> None:
        assert self.manager is not None
        self.screen(name).on_params(**params)
        self.manager.current = name

    def screen(self, name: str) -> PosScreen:
        assert self.manager is not None
        if not self.manager.has_screen(name):
            self.manager.add_widget(self._screen_classes[name]())
        screen: PosScreen = self.manager.get_screen(name)
        return screen

    def knows(self, name: str) -> bool:
        return name in self._screen_classes

    @property
    def current(self) -> str:
        return str(self.manager.current) if self.manager is not None else ""

    def run_job(self, job: Callable[[Terminal], T], done: Callable[[T], None], failed: Callable[[str], None]) -> None:
        """The engine does `job` on its thread; `done` or `failed` comes back here. The status follows every job."""
        assert self.bridge is not None
        self.busy = True

        def finished(result: T) -> None:
            self.busy = False
            done(result)
            self.refresh_status()

        def broke(message: str) -> None:
            self.busy = False
            failed(message)
            self.refresh_status()

        self.bridge.submit(job, finished, broke)

    def refresh_status(self) -> None:
        assert self.bridge is not None
        self.bridge.submit(lambda t: t.status(), self._show_status, lambda _msg: None)

    def _show_status(self, status: TerminalStatus) -> None:
        self.status = status
        self.operator = status.operator or ""
        self.batch = f"{status.batch:06d}"
        if status.unfinished_settlement is not None:
            self.banner, self.banner_action = self.tr("banner_settlement"), "settle"
        elif status.in_flight:
            self.banner, self.banner_action = self.tr("banner_reversal", n=len(status.in_flight)), "recover"
        else:
            self.banner, self.banner_action = "", ""

    def resolve_banner(self) -> None:
        """The banner's one button: send the waiting reversals, then finish the settlement."""
        if not self.operator:
            self.go("message", title=self.tr("banner_title"), text=self.tr("sign_in_first"), then="signin")
            return
        self.go("processing", words=self.tr("resolving"))
        self.run_job(lambda t: t.recover(), self._resolved, lambda msg: self.go("message", text=msg, then="home"))

    def _resolved(self, outcome: tuple[list[Any], Any]) -> None:
        waiting, settled = outcome
        if waiting:
            self.go(
                "message", title=self.tr("banner_title"), text=self.tr("still_waiting", n=len(waiting)), then="home"
            )
        elif settled is not None:
            self.go("settlement", result=settled)
        else:
            self.go("message", title=self.tr("banner_title"), text=self.tr("all_resolved"), then="home")

    def fatal(self, message: str) -> None:
        self.go("message", title=self.tr("error"), text=message, then=None)

    def money(self, minor: int) -> Money:
        return Money(minor, self.settings.terminal.currency)

    def card_input(self, cancel: threading.Event) -> CardInput:
        """The readers for one card-present transaction: the demo drawer, or the configured readers."""
        self.card_cancel = cancel
        choose = touch_chooser(self._ask_application, cancel)
        if self.demo is not None:
            source = ReaderCardSource(
                kernel_config(self.settings), chip=self.demo.chip, tap=self.demo.tap, swipe=self.demo.swipe,
                wait_s=300, choose=choose, cancel=cancel,
            )  # fmt: skip
        else:
            source = reader_source(self.settings, Readers.configured(self.settings))
            source.choose, source.cancel, source.wait_s = choose, cancel, 120
        return CardInput(source, TouchPinEntry(self._ask_pin, cancel))

    # -- the engine asks a person -----------------------------------------------------------------------------

    def cancel_card_transaction(self) -> None:
        """The cardholder cancelled (PIN or application choice): stop the whole transaction. A PIN left unentered
        would otherwise let the kernel fall through to the card's next method, often a signature."""
        if self.card_cancel is not None:
            self.card_cancel.set()

    def _ask_pin(self, amount: Money, tries_left: int | None, reply: Callable[[str | None], None]) -> None:
        self.go("pin", amount=amount, tries_left=tries_left, reply=reply)

    def _ask_application(self, candidates: list[Candidate], reply: Callable[[int | None], None]) -> None:
        self.go("choose_app", candidates=candidates, reply=reply)

    def _ask_next_copy(self, prompt: str, printed: str, reply: Callable[[bool], None]) -> None:
        self.go("tear", printed=printed, reply=reply)

    # -- kiosk: no way out ------------------------------------------------------------------------------------

    def _kiosk_guards(self) -> dict[str, Callable[..., bool]]:
        if not self.settings.ui.kiosk:
            return {}
        return {
            "on_keyboard": lambda _w, key, *_rest: key in KIOSK_KEYS,  # True: the key goes no further
            "on_request_close": lambda *_a, **_k: True,  # Alt+F4 and the window manager's close are refused
        }

    def open_settings(self, *largs: Any) -> bool:
        return False  # F1 and Kivy's settings panel would show internals; never in a shop

    # -- idle: dim, then lock ---------------------------------------------------------------------------------

    def _on_any_touch(self, _window: Any, _touch: Any) -> bool:
        self._last_touch = time.monotonic()
        if self.dimmed:
            self.dimmed = False
            self._backlight(bright=True)
            return True  # the waking touch presses nothing
        return False

    def _idle_tick(self, _dt: float) -> None:
        self.clock_text = time.strftime("%H:%M")
        idle = time.monotonic() - self._last_touch
        screen = self.manager.current_screen if self.manager is not None else None
        if isinstance(screen, PosScreen) and screen.busy_screen:
            self._last_touch = time.monotonic()  # a card transaction in progress is not idleness
            return
        if not self.dimmed and idle >= self.settings.ui.dim_after_s:
            self.dimmed = True
            self._backlight(bright=False)
        if self.operator and idle >= self.settings.ui.lock_after_s and not self.busy:
            self.run_job(lambda t: t.sign_out(), lambda _op: self.go("signin"), lambda _msg: None)

    def _backlight(self, bright: bool) -> None:
        path = self.settings.ui.backlight
        if path is None:
            return
        try:
            path.write_text("255" if bright else "20")
        except OSError as exc:
            log.info("backlight %s not writable: %s", path, exc.strerror)


i18n.add(
    {
        "banner_reversal": (
            "{n} transaction(s) wait for a reversal: touch to send it now",
            "{n} 笔交易待冲正：点击立即发送",
        ),
        "banner_title": ("Waiting work", "待处理"),
        "sign_in_first": (
            "Sign in first: the acquirer needs a signed-in terminal.",
            "请先签到：与收单机构通讯需要签到。",
        ),
        "resolving": ("Sending reversals and finishing the settlement…", "正在发送冲正并完成结算…"),
        "still_waiting": (
            "{n} reversal(s) could not be sent yet. The terminal keeps trying; nothing was charged twice.",
            "{n} 笔冲正暂未送达。终端会继续重试，不会重复扣款。",
        ),
        "all_resolved": ("Everything is resolved.", "全部处理完毕。"),
        "banner_settlement": (
            "Settlement not finished: touch to finish it",
            "结算未完成：点击继续结算",
        ),
    }
)
