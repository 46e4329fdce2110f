"""预授权: the menu of the three pre-auth jobs. A new pre-auth holds an amount on the card (the amount screen, then
the card); 预授权完成 charges up to the held amount; 预授权撤销 releases the hold (supervisor password)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.domain.transaction import TxnKind
from app.journal.records import TxnRecord
from app.ui import bilingual, i18n
from app.ui.screens.base import PosScreen
from app.ui.screens.office import OPEN, TraceScreen, money_of

if TYPE_CHECKING:
    from app.domain.money import Money
    from app.services.results import TxnResult
    from app.services.terminal import Terminal


class PreauthScreen(PosScreen):
    screen_name = "preauth"

    def new(self) -> None:
        self.pos_app.go("amount", purpose="preauth")

    def complete(self) -> None:
        self.pos_app.go("preauth_complete")

    def release(self) -> None:
        self.pos_app.go("preauth_void")

    def label(self, key: str, lang: str) -> str:
        return bilingual.both(key, lang, size="16sp")


def open_preauths(t: Terminal) -> list[TxnRecord]:
    """Approved pre-auths not yet completed or released, newest first (validity is the engine's to judge)."""
    return [r for r in t.find(kind=TxnKind.PREAUTH, limit=200) if r.state is OPEN]


class PreauthCompleteScreen(TraceScreen):
    """预授权完成: the pre-auth, then the amount (at most what is held), then the acquirer; no card, no password."""

    screen_name = "preauth_complete"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(title_key="preauth_complete_title", pick_key="preauth_pick", none_key="preauth_none",
                         note_key="preauth_complete_note", needs_password=False, danger=False, **kwargs)  # fmt: skip

    def listing(self, t: Terminal) -> list[TxnRecord]:
        return open_preauths(t)

    def act_label(self, lang: str, original: TxnRecord | None) -> str:
        return i18n.tr("preauth_complete_next", lang)

    def act(self, password: str) -> None:
        assert self.original is not None
        original = self.original
        app = self.pos_app
        title = app.tr("preauth_complete_amount", trace=f"{original.trace:06d}", held=money_of(original))
        app.go("amount", purpose="complete", limit_minor=original.amount_minor, title=title,
               then=lambda amount: self._complete(original.trace, amount))  # fmt: skip

    def _complete(self, trace: int, amount: Money) -> None:
        app = self.pos_app
        app.go("processing", words=app.tr("preauth_completing"))
        app.run_job(
            lambda t: t.complete(trace, amount),
            lambda result: self._finished(result, amount),
            lambda message: app.go("result", result=None, error=message, purpose="complete", amount=amount),
        )

    def _finished(self, result: TxnResult, amount: Money) -> None:
        self.pos_app.go("result", result=result, purpose="complete", amount=amount)


class PreauthVoidScreen(TraceScreen):
    """预授权撤销: the pre-auth and the supervisor password; the whole hold is released."""

    screen_name = "preauth_void"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(title_key="preauth_void_title", pick_key="preauth_pick", none_key="preauth_none",
                         note_key="preauth_void_note", **kwargs)  # fmt: skip

    def listing(self, t: Terminal) -> list[TxnRecord]:
        return open_preauths(t)

    def act_label(self, lang: str, original: TxnRecord | None) -> str:
        return i18n.tr("preauth_void_confirm", lang, amount=money_of(original) if original else "")

    def act(self, password: str) -> None:
        assert self.original is not None
        trace = self.original.trace
        self.job(lambda t: t.preauth_void(trace, password), self._released, self.refused)

    def _released(self, result: TxnResult) -> None:
        self.pos_app.go("result", result=result, purpose="preauth_void")


i18n.add(
    {
        "preauth_title": ("Pre-authorisation", "预授权"),
        "preauth_new": ("New pre-auth", "新预授权"),
        "preauth_complete": ("Completion", "预授权完成"),
        "preauth_void": ("Release (void)", "预授权撤销"),
        "preauth_hint": (
            "Hold an amount on the card now (hotels, rentals); complete it later for up to that amount, or release it.",
            "先冻结卡上金额（酒店、租赁），之后在该金额内完成扣款，或撤销释放。",
        ),
        "preauth_complete_title": ("Pre-auth completion", "预授权完成"),
        "preauth_void_title": ("Pre-auth void", "预授权撤销"),
        "preauth_pick": (
            "Open pre-auths: tap one, or type its voucher number.",
            "未完成的预授权：点选一笔，或输入凭证号。",
        ),
        "preauth_none": ("No open pre-auths: type the voucher number.", "没有未完成的预授权：请输入凭证号。"),
        "preauth_complete_note": (
            "Next, the amount to charge: at most the amount held. No card is needed.",
            "下一步输入完成金额：不超过预授权金额，无需刷卡。",
        ),
        "preauth_complete_next": ("Next: amount", "下一步：金额"),
        "preauth_complete_amount": ("Complete {trace} · at most {held}", "预授权完成 {trace} · 最多 {held}"),
        "preauth_completing": ("Completing the pre-auth…", "正在进行预授权完成…"),
        "preauth_void_note": ("The whole hold is released on the card.", "卡上冻结金额将全部释放。"),
        "preauth_void_confirm": ("Release {amount}", "撤销 {amount}"),
    }
)
