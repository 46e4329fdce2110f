"""The scheduled end-of-day settlement, done by the app when `pos settle --auto` asked for it.

The request waits (app/system/settle_request.py) until the counter is idle at the home screen with an operator
signed in: the engine settles only for a signed-in operator, and a settlement must never cut into a sale. If
nobody is signed in at the scheduled time, it runs after the next sign-in, before that day's first sale.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock

from app.system import settle_request
from app.ui import i18n

log = logging.getLogger(__name__)
CHECK_EVERY_S = 5.0
IDLE_SCREEN = "home"


class AutoSettle:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._checker: Any = None

    @property
    def data_dir(self) -> Any:
        return self.app.settings.terminal.data_dir

    def start(self) -> None:
        self._checker = Clock.schedule_interval(self._check, CHECK_EVERY_S)

    def stop(self) -> None:
        if self._checker is not None:
            self._checker.cancel()

    def _idle(self) -> bool:
        app = self.app
        bridge = app.bridge
        return bool(
            app.operator and not app.busy and bridge is not None and not bridge.busy and app.current == IDLE_SCREEN
        )

    def _check(self, _dt: float) -> None:
        if not settle_request.pending(self.data_dir) or not self._idle():
            return
        asked = settle_request.take(self.data_dir)
        if asked is None:
            return
        app = self.app
        current = app.status.batch if app.status is not None else None
        what = f"scheduled settlement of batch {asked.batch:06d} (asked at {asked.requested_at})"
        if current != asked.batch:
            log.info("%s: that batch is already closed", what)
            return
        log.info("%s: settling now", what)
        app.go("processing", words_key="autosettle_running")
        app.run_job(lambda t: t.settle(), self._settled, self._failed)

    def _settled(self, result: Any) -> None:
        log.info("scheduled settlement of batch %06d: %s", result.record.batch, result.message)
        if self.app.knows("settlement"):
            self.app.go("settlement", result=result)
        else:
            self.app.go("message", title=self.app.tr("autosettle_title"), text=result.message, then=IDLE_SCREEN)

    def _failed(self, message: str) -> None:
        log.warning("scheduled settlement did not happen: %s", message)
        self.app.go("message", title=self.app.tr("autosettle_title"), text=message, then=IDLE_SCREEN)


i18n.add(
    {
        "autosettle_title": ("Scheduled settlement", "定时结算"),
        "autosettle_running": ("Scheduled end-of-day settlement…", "正在进行定时日终结算…"),
    }
)
