"""设备自检: every part of the terminal checked on its own (readers, printer, acquirer and certificates, clock,
journal, disk), each with one line a shop owner or installer can act on; a test print and the diagnostics slip."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from app.ui import i18n
from app.ui.screens.office import OfficeScreen

if TYPE_CHECKING:
    from app.services.health import Check
    from app.services.printing import Printed


class CheckRow(BoxLayout):
    mark = StringProperty("")  # OK, WARN, FAIL
    detail = StringProperty("")
    ok = BooleanProperty(True)
    warning = BooleanProperty(False)


class HealthScreen(OfficeScreen):
    screen_name = "health"
    checks = ListProperty([])
    slip = StringProperty("")
    printer_error = StringProperty("")
    came_from = StringProperty("supervisor")

    def on_params(self, **params: Any) -> None:
        self.came_from = params.get("back_to", "supervisor")
        self.checks, self.slip, self.printer_error, self.notice = [], "", "", ""
        self.run_checks()

    def run_checks(self) -> None:
        self.job(lambda t: t.self_test(), self._checked)

    def _checked(self, checks: list[Check]) -> None:
        self.checks = checks
        rows = self.ids.rows
        rows.clear_widgets()
        for c in checks:
            rows.add_widget(CheckRow(mark=c.mark, detail=c.detail, ok=c.ok, warning=c.warning))

    def test_print(self) -> None:
        self.job(lambda t: t.test_print(), self._printed)

    def diagnostics(self) -> None:
        checks = list(self.checks) or None
        self.job(lambda t: t.print_diagnostics(checks), self._printed)

    def _printed(self, printed: Printed) -> None:
        pictures = [s for s in printed.slips if s.endswith(".png")]
        self.slip = ""  # the same file printed again: let the picture reload
        self.slip = pictures[0] if pictures else ""
        self.printer_error = printed.error or ""
        self.notice = "" if printed.slips or printed.error else self.pos_app.tr("health_not_printed")

    def summary(self, checks: list[Any], lang: str) -> str:
        if not checks:
            return i18n.tr("health_checking", lang)
        failed = sum(1 for c in checks if not c.ok)
        warned = sum(1 for c in checks if c.ok and c.warning)
        if failed:
            return i18n.tr("health_failed", lang, n=failed, total=len(checks))
        if warned:
            return i18n.tr("health_warned", lang, n=warned, total=len(checks))
        return i18n.tr("health_all_ok", lang, total=len(checks))

    def back(self) -> None:
        if self.came_from == "supervisor":
            self.pos_app.go("supervisor", back=True)
        else:
            self.pos_app.go(self.came_from)


i18n.add(
    {
        "health_title": ("Health / devices", "设备自检"),
        "health_checking": ("Checking every part…", "正在逐项检查…"),
        "health_all_ok": ("All {total} checks passed.", "全部 {total} 项检查通过。"),
        "health_warned": ("{n} of {total} need attention soon.", "{total} 项中有 {n} 项需尽快处理。"),
        "health_failed": (
            "{n} of {total} failed: see the lines in orange/red.",
            "{total} 项中有 {n} 项未通过，见红色条目。",
        ),
        "health_again": ("Check again", "重新检查"),
        "health_test_print": ("Test print", "打印测试"),
        "health_diagnostics": ("Print diagnostics", "打印诊断报告"),
        "health_not_printed": ("Nothing was printed (no printer configured).", "未打印（未配置打印机）。"),
        "health_words_note": ("The lines come from the checks themselves, in English.", "检查结果原文为英文。"),
    }
)
