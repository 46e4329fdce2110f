"""`pos demo` (what `make run` starts until the touchscreen lands): a counter day, narrated, in demo mode.

Every step is a real transaction against the in-process acquirer simulator; at the end the terminal's figures
are compared with the simulator's ledger.
"""

from __future__ import annotations

from app.bootstrap import build_terminal, card_input
from app.cli.io import Output
from app.config import Settings
from app.demo import demo_home
from app.domain.money import Money
from app.domain.operators import DEMO_OPERATOR, DEMO_SUPERVISOR
from app.domain.transaction import TxnState
from app.services.context import CardInput
from app.services.errors import PosError
from app.services.results import TxnResult
from app.services.terminal import Terminal
from app.sim.ledger import Ledger


class Tour:
    def __init__(self, terminal: Terminal, settings: Settings, out: Output) -> None:
        self.t = terminal
        self.settings = settings
        self.out = out

    def say(self, text: str) -> None:
        self.out.result({}, text)

    def money(self, text: str) -> Money:
        return Money.parse(text, self.settings.terminal.currency)

    def signed(self, minor: int) -> str:
        return f"{'-' if minor < 0 else ''}{Money(abs(minor), self.settings.terminal.currency)}"

    def card(self, profile: str, entry: str | None = None) -> CardInput:
        return card_input(self.settings, profile, entry)

    def show(self, title: str, result: TxnResult) -> int:
        r = result.record
        detail = f"voucher {r.trace:06d}, {r.masked_pan or 'no card'}" if r else ""
        self.say(f"  {title}\n    -> {result.status.value.upper()}: {result.message}\n       {detail}")
        for slip in result.slips:
            self.say(f"       slip: {slip}")
        if r is None:
            raise PosError(f"{title}: no transaction was recorded")
        return r.trace

    def run(self) -> int:
        t, say, money, card = self.t, self.say, self.money, self.card
        say("KioskPOS demo: a counter day against the built-in acquirer simulator (training mode).")
        say(f"Data: {demo_home()}\n")
        if t.status().keys:
            waiting, _ = t.recover()
            if waiting:
                say(f"(an earlier demo left {len(waiting)} reversal(s) waiting; they will be retried)")
        say("1. 签到 Sign in: operator 01, PIN 0000 (the terminal also signs on to the acquirer for fresh keys)")
        t.sign_in(*DEMO_OPERATOR)
        say(f"   signed in; batch {t.status().batch:06d}\n")

        say("2. 消费 Sales")
        first = self.show("CNY 128.00, Visa credit, chip, signature", t.sale(money("128.00"), card("visa-credit")))
        second = self.show(
            "CNY 35.50, UnionPay debit, contactless (below the CVM limit: no PIN)",
            t.sale(money("35.50"), card("unionpay-debit", "contactless")),
        )
        self.show("CNY 20.51, Mastercard debit with PIN: magic .51", t.sale(money("20.51"), card("mastercard-debit")))
        self.show("CNY 88.68, Visa: magic .68, the answer is lost", t.sale(money("88.68"), card("visa-credit")))
        say("")

        supervisor = DEMO_SUPERVISOR[1]
        say(f"3. 撤销 Void voucher {second:06d} (supervisor password {supervisor})")
        self.show("void", t.void(second, supervisor))
        say("")

        say("4. 结算 Settlement: totals to the acquirer; the batch closes")
        settled = t.settle()
        say(f"   {settled.message}; slip: {settled.slip}\n")

        say(f"5. 退货 Refund CNY 50.00 of voucher {first:06d} (in yesterday's batch now), with the same card")
        self.show("refund", t.refund(first, money("50.00"), supervisor, card("visa-credit")))
        self.show("余额查询 Balance inquiry, UnionPay debit (PIN 123456)", t.balance(card("unionpay-debit")))
        say(f"   {t.settle().message}\n")

        ledger = Ledger(demo_home() / "ledger.sqlite")
        try:
            acquirer_net = ledger.net_for_terminal(self.settings.terminal.terminal_id)
        finally:
            ledger.close()
        terminal_net = self.terminal_net()
        agree = "agree" if acquirer_net == terminal_net else "DISAGREE"
        say(
            "6. Books: the terminal's approved sales minus refunds since the demo began come to "
            f"{self.signed(terminal_net)}; the acquirer's ledger says {self.signed(acquirer_net)}: they {agree}."
        )
        say("\nTry it yourself:  .venv/bin/pos cards   |   .venv/bin/pos sale 12.34 --card mastercard-debit")
        return 0 if acquirer_net == terminal_net else 1

    def terminal_net(self) -> int:
        row = self.t.ctx.journal.store.query_one(
            """SELECT COALESCE(SUM(CASE WHEN kind IN ('sale', 'completion') THEN amount_minor
                                      WHEN kind = 'refund' THEN -amount_minor ELSE 0 END), 0)
               FROM transactions WHERE state = ?""",
            (TxnState.APPROVED.value,),
        )
        return int(row[0]) if row else 0


def run_tour(settings: Settings, out: Output) -> int:
    if out.as_json:
        raise PosError("the demo tour talks to people; run it without --json")
    terminal = build_terminal(settings, progress=lambda m: out.result({}, f"       … {m}"))
    try:
        return Tour(terminal, settings, out).run()
    finally:
        terminal.close()
