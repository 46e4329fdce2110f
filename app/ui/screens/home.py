"""The home screen: one large button per counter job, in the language shown and, smaller, in the other."""

from __future__ import annotations

from typing import Any

from app.ui import bilingual, i18n
from app.ui.screens.base import PosScreen

# (button, where it leads, what that screen is handed)
JOBS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("job_sale", "amount", {"purpose": "sale"}),
    ("job_void", "void", {}),
    ("job_refund", "refund", {}),
    ("job_preauth", "preauth", {}),
    ("job_balance", "present", {"purpose": "balance"}),
    ("job_settle", "settlement", {}),
    ("job_history", "history", {}),
    ("job_supervisor", "supervisor", {}),
)


class HomeScreen(PosScreen):
    screen_name = "home"

    def open(self, job: str) -> None:
        for key, screen, params in JOBS:
            if key == job:
                self.pos_app.go(screen, **params)
                return
        raise KeyError(job)

    def sign_out(self) -> None:
        self.pos_app.run_job(lambda t: t.sign_out(), lambda _op: self.pos_app.go("signin"), self.pos_app.fatal)

    def label(self, key: str, lang: str) -> str:
        return bilingual.both(key, lang, size="16sp")


i18n.add(
    {
        "job_sale": ("Sale", "消费"),
        "job_void": ("Void", "撤销"),
        "job_refund": ("Refund", "退货"),
        "job_preauth": ("Pre-auth", "预授权"),
        "job_balance": ("Balance", "余额查询"),
        "job_settle": ("Settlement", "结算"),
        "job_history": ("History / Reprint", "交易查询/重打印"),
        "job_supervisor": ("Supervisor", "主管菜单"),
        "job_sign_out": ("Sign out", "签退"),
    }
)
