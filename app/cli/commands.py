"""One function per `pos` command. Each returns the exit status: 0 only for approved, settled or done."""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from app.bootstrap import Readers, build_terminal, card_input
from app.cli.doctor import cmd_doctor
from app.cli.io import Output, read_secret
from app.cli.tour import run_tour
from app.config import Settings
from app.devices.printing.jobs import write_job
from app.domain.money import Money, currency
from app.domain.operators import SUPERVISOR_ID
from app.domain.receipt import Receipt
from app.services.context import CardInput
from app.services.errors import PosError
from app.services.lock import TerminalLock
from app.services.printing import Printed, transaction_slips
from app.services.results import Status, TxnResult
from app.services.settlement import SettlementResult
from app.services.slips import detail_slip, settlement_slip
from app.services.terminal import Terminal
from app.sim import magic
from app.sim.card_profiles import CARD_PROFILES
from app.sim.emulator.isodep import IsoDepCard
from app.sim.emulator.profiles import EMULATED_CARDS, make_card
from app.sim.emulator.vpcd import VpcdCard
from app.sim.home import SimOptions, SimulatorHome
from app.sim.issuers import load_issuer_keys
from app.system import settle_request


def _amount(text: str, settings: Settings) -> Money:
    return Money.parse(text, settings.terminal.currency)


def _day(text: str) -> str:
    """The journal keeps days as 2026-12-03; every spelling fromisoformat takes (20261203 too) means that day."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise PosError(f"--date must be a day like 2026-11-20 (got {text!r})") from None


def _supervisor() -> str:
    return read_secret("POS_SUPERVISOR_PIN", "Supervisor password")


def _print_txn(out: Output, result: TxnResult) -> int:
    r = result.record
    lines = [f"{result.status.value.upper()}: {result.message}"]
    if r is not None:
        amount = Money(r.amount_minor, currency(r.currency))
        lines.append(f"  {r.kind.label}  {amount}  voucher {r.trace:06d}  batch {r.batch:06d}")
        if r.masked_pan:
            lines.append(f"  card {r.masked_pan} {r.brand or ''} {r.funding or ''} {r.entry_mode or ''}".rstrip())
        if r.rrn:
            lines.append(f"  reference {r.rrn}  auth {r.auth_code or '-'}")
    for slip in result.slips:
        lines.append(f"  slip: {slip}")
    if result.printer_error:
        lines.append(f"  printer: {result.printer_error} (reprint with: pos reprint {r.trace if r else ''})")
    out.result(result.to_json(), "\n".join(lines))
    return 0 if result.status is Status.APPROVED else 1


def _card_command(
    args: argparse.Namespace, out: Output, settings: Settings, act: Callable[[Terminal, CardInput], TxnResult]
) -> int:
    """A command that reads a card: a simulated test card, or the readers named on the command line."""
    card = card_input(settings, args.card, args.entry, readers=Readers(args.reader, args.nfc, args.swipe))
    try:
        return _with_terminal(settings, lambda t: _print_txn(out, act(t, card)))
    finally:
        closer = getattr(card.source, "close", None)
        if closer is not None:
            closer()


def _with_terminal(settings: Settings, work: Callable[[Terminal], int], exclusive: bool = True) -> int:
    terminal = build_terminal(settings, exclusive=exclusive, confirm_copy=_tear_and_continue)
    try:
        return work(terminal)
    finally:
        terminal.close()


def _tear_and_continue(prompt: str, printed: str) -> bool:
    """Between copies: at a terminal, wait for the cashier; in a script, go straight on."""
    if not sys.stdin.isatty():
        return True
    sys.stderr.write(f"{prompt}: press Enter (or type n to stop) ")
    sys.stderr.flush()
    return not sys.stdin.readline().strip().lower().startswith("n")


def _report_printed(out: Output, printed: Printed) -> int:
    """A slip that is not a transaction's (detail list, settlement): where it went, or why it did not print."""
    out.result(
        {
            "status": "ok" if printed.error is None else "error",
            "slips": list(printed.slips),
            "printer_error": printed.error,
        },
        "\n".join(f"slip: {s}" for s in printed.slips) or f"printer: {printed.error}",
    )
    return 0 if printed.error is None else 1


def _wants_files(args: argparse.Namespace) -> bool:
    return args.preview is not None or args.escpos is not None


def _slips_to_files(args: argparse.Namespace, out: Output, settings: Settings, receipts: list[Receipt]) -> bool:
    """--preview / --escpos: the slips go to files instead of the printer. False when neither was asked for."""
    if not _wants_files(args):
        return False
    written = write_job(receipts, settings.printer, args.preview, args.escpos)
    out.result({"status": "ok", "files": written}, "\n".join(f"wrote {w}" for w in written))
    return True


# -- commands ------------------------------------------------------------------------------------------------


def cmd_setup(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        password = read_secret("POS_SUPERVISOR_PIN", "Choose the supervisor password (6-12 digits)")
        t.shift.set_up(password)
        out.result(
            {"status": "ok", "message": "supervisor password set"},
            "Supervisor password set. Next: pos operator add 01",
        )
        return 0

    return _with_terminal(settings, work)


def cmd_operator(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        if args.action == "list":
            ops = t.ctx.journal.staff.all()
            out.result(
                {
                    "status": "ok",
                    "operators": [{"id": o.id, "role": o.role.value, "locked": o.locked} for o in ops],
                },
                "\n".join(f"{o.id}  {o.role.value}{'  LOCKED' if o.locked else ''}" for o in ops) or "no operators",
            )
            return 0
        if args.action == "add":
            supervisor = _supervisor()
            pin = read_secret("POS_NEW_PIN", f"PIN for operator {args.id}")
            t.shift.add_operator(supervisor, args.id, pin)
            message = f"operator {args.id} added"
        elif args.action == "remove":
            t.shift.remove_operator(_supervisor(), args.id)
            message = f"operator {args.id} removed"
        else:
            by_supervisor = args.by_supervisor or args.id == SUPERVISOR_ID
            authority = _supervisor() if by_supervisor else read_secret("POS_PIN", f"Current PIN of {args.id}")
            new_pin = read_secret("POS_NEW_PIN", f"New PIN for {args.id}")
            t.shift.change_pin(args.id, authority, new_pin, by_supervisor=by_supervisor)
            message = f"new PIN set for {args.id}"
        out.result({"status": "ok", "message": message}, message)
        return 0

    return _with_terminal(settings, work)


def cmd_signin(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        prompt = f"PIN for operator {args.operator}"
        if settings.seed_demo_accounts:
            prompt += " (demo terminal: operator 01 PIN 0000, supervisor 00 password 123456)"
        operator = t.sign_in(args.operator, read_secret("POS_PIN", prompt))
        st = t.status()
        out.result(
            {
                "status": "ok",
                "operator": operator,
                "batch": st.batch,
                "in_flight": [r.trace for r in st.in_flight],
            },
            f"Signed in: operator {operator}, batch {st.batch:06d}"
            + (f" ({len(st.in_flight)} transaction(s) still await the acquirer)" if st.in_flight else ""),
        )
        return 0

    return _with_terminal(settings, work)


def cmd_signout(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        who = t.sign_out()
        message = f"operator {who} signed out" if who else "nobody was signed in"
        out.result({"status": "ok", "message": message}, message)
        return 0

    return _with_terminal(settings, work)


def _cancel_on_sigterm() -> threading.Event:
    """SIGTERM before the request is sent cancels cleanly; after it, the transaction runs to its outcome."""
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    return cancel


def cmd_sale(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    amount = _amount(args.amount, settings)
    return _card_command(args, out, settings, lambda t, card: t.sale(amount, card, _cancel_on_sigterm()))


def cmd_preauth(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    amount = _amount(args.amount, settings)
    return _card_command(args, out, settings, lambda t, card: t.preauth(amount, card, _cancel_on_sigterm()))


def cmd_balance(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    return _card_command(args, out, settings, lambda t, card: t.balance(card))


def cmd_void(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    return _with_terminal(settings, lambda t: _print_txn(out, t.void(args.trace, _supervisor())))


def cmd_refund(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    amount = _amount(args.amount, settings)
    return _card_command(args, out, settings, lambda t, card: t.refund(args.trace, amount, _supervisor(), card))


def cmd_complete(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    amount = _amount(args.amount, settings)
    return _with_terminal(settings, lambda t: _print_txn(out, t.complete(args.trace, amount)))


def cmd_preauth_void(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    return _with_terminal(settings, lambda t: _print_txn(out, t.preauth_void(args.trace, _supervisor())))


def _print_settlement(out: Output, result: SettlementResult, settings: Settings) -> int:
    r = result.record
    cur = settings.terminal.currency
    lines = [f"SETTLED: {result.message}"]
    for kind, line in sorted(r.terminal_totals.by_kind.items()):
        lines.append(f"  {kind:<13} x{line.count:<5} {Money(line.amount_minor, cur).format():>14}")
    for key, line in sorted(r.terminal_totals.by_card.items()):
        sign = "-" if line.amount_minor < 0 else ""
        lines.append(f"  {key:<20} x{line.count:<5} {sign + Money(abs(line.amount_minor), cur).format():>14}")
    net = r.terminal_totals.net_minor
    lines.append(f"  net {'-' if net < 0 else ''}{Money(abs(net), cur)}")
    for d in r.differences:
        lines.append(f"  differs: voucher {d.trace:06d} terminal={d.terminal or '-'} acquirer={d.acquirer or '-'}")
    if result.slip:
        lines.append(f"  slip: {result.slip}")
    if result.printer_error:
        lines.append(f"  printer: {result.printer_error} (reprint with: pos reprint --settlement)")
    out.result(result.to_json(), "\n".join(lines))
    return 0


def cmd_settle(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    if args.auto and _ask_the_app_to_settle(out, settings):
        return 0

    def work(t: Terminal) -> int:
        result = t.settle()
        code = _print_settlement(out, result, settings)
        if _wants_files(args):
            write_job([settlement_slip(result.record, t.ctx.merchant)], settings.printer, args.preview, args.escpos)
        return code

    return _with_terminal(settings, work)


def _ask_the_app_to_settle(out: Output, settings: Settings) -> bool:
    """The settlement timer's run while the app holds the terminal: leave it a request (app/system/settle_request.py)
    rather than wait for a lock the app keeps all day. False when the terminal is free: settle here and now."""
    data_dir = settings.terminal.data_dir
    try:
        TerminalLock(data_dir).release()
    except PosError:
        reader = build_terminal(settings, exclusive=False)  # WAL: reading beside the app is safe
        try:
            batch = reader.status().batch
        finally:
            reader.close()
        where = settle_request.leave(data_dir, batch, datetime.now(UTC))
        out.result(
            {"status": "requested", "batch": batch, "request": str(where)},
            f"the app is running: it will settle batch {batch:06d} when the counter is next idle with an operator "
            "signed in",
        )
        return True
    return False


def cmd_journal(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        if args.detail:
            batch = args.batch or t.ctx.journal.txns.current_batch()
            receipt = detail_slip(t.batch_records(batch), batch, t.ctx.merchant)
            if _slips_to_files(args, out, settings, [receipt]):
                return 0
            return _report_printed(out, t.print_detail(batch))
        if args.trace is not None:
            records = [t.get(args.trace)]
        else:
            amount = _amount(args.amount, settings) if args.amount else None
            day = _day(args.date) if args.date is not None else None
            records = t.find(batch=args.batch, local_date=day, amount=amount, limit=args.limit)
        cur = settings.terminal.currency
        text = [
            f"{r.trace:06d}  b{r.batch:06d}  {r.created_at[:19].replace('T', ' ')}Z  {r.kind.value:<12} "
            f"{Money(r.amount_minor, cur).format():>12}  {r.state.value:<16} {r.masked_pan or '':<19} "
            f"{r.response_code or '':<2} {r.auth_code or ''}"
            for r in records
        ]
        out.result(
            {"status": "ok", "transactions": [r.to_json() for r in records]},
            "\n".join(text) or "no transactions",
        )
        return 0

    return _with_terminal(settings, work, exclusive=False)


def cmd_reprint(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        merchant = t.ctx.merchant
        if args.settlement:
            settled = t.settlement_record(args.trace)
            if _slips_to_files(args, out, settings, [settlement_slip(settled, merchant)]):
                return 0
            return _report_printed(out, t.reprint_settlement(args.trace))
        record = t.get(args.trace) if args.trace is not None else t.ctx.journal.txns.last()
        if record is None:
            raise PosError("nothing to reprint: the journal is empty")
        if _slips_to_files(args, out, settings, transaction_slips(record, merchant, settings.printer.copies, True)):
            return 0
        result = t.reprint(record.trace)
        _print_txn(out, result)
        return 0 if not result.printer_error else 1

    return _with_terminal(settings, work)


def cmd_recover(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        waiting, settled = t.recover()
        data: dict[str, Any] = {
            "status": "ok" if not waiting else "error",
            "waiting": [r.trace for r in waiting],
            "settlement": settled.to_json() if settled else None,
        }
        if waiting:
            text = "still waiting for the acquirer: " + ", ".join(f"{r.trace:06d}" for r in waiting)
        else:
            text = "nothing left in flight" + (f"; {settled.message}" if settled else "")
        out.result(data, text)
        return 0 if not waiting else 1

    return _with_terminal(settings, work)


def cmd_status(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    def work(t: Terminal) -> int:
        st = t.status()
        text = [
            f"terminal {settings.terminal.terminal_id}  merchant {settings.terminal.merchant_name}"
            + ("  TRAINING" if st.training else ""),
            f"operator {st.operator or '(nobody signed in)'}  batch {st.batch:06d}  next voucher {st.next_trace:06d}",
        ]
        if st.in_flight:
            text.append(
                "waiting for the acquirer: " + ", ".join(f"{r.trace:06d} ({r.state.value})" for r in st.in_flight)
            )
        if settings.seed_demo_accounts:
            text.append("demo accounts: operator 01 PIN 0000, supervisor 00 password 123456")
        if st.unfinished_settlement:
            text.append(f"settlement of batch {st.unfinished_settlement.batch:06d} unfinished: pos settle")
        if st.sales_blocked:
            text.append(st.sales_blocked)
        out.result({"status": "ok", **st.to_json()}, "\n".join(text))
        return 0

    return _with_terminal(settings, work, exclusive=False)


def cmd_cards(args: argparse.Namespace, out: Output) -> int:
    cards = [
        {
            "name": c.name,
            "description": c.description,
            "masked_pan": c.pan[:6] + "******" + c.pan[-4:],
            "pin": c.pin,
        }
        for c in CARD_PROFILES.values()
    ]
    text = ["Test cards (--card NAME):"]
    text += [f"  {c['name']:<18} {c['masked_pan']}  {c['description']}" for c in cards]
    text.append("Magic amounts (the last two digits):")
    text += [f"  {cents:<5} {what}" for cents, what in magic.describe()]
    out.result({"status": "ok", "cards": cards, "magic": dict(magic.describe())}, "\n".join(text))
    return 0


def cmd_acquirer_sim(args: argparse.Namespace, out: Output) -> int:
    keys = tuple(load_issuer_keys(args.issuer_keys)) if args.issuer_keys else ()
    if not 0 <= args.port <= 65535:
        raise PosError(f"--port must be 0 to 65535 (got {args.port})")
    home = SimulatorHome(args.data_dir)
    server = home.start(SimOptions(args.port, args.read_timeout, args.late_seconds, keys))
    out.result(
        {"status": "ok", "url": server.url, "terminal_config": str(home.terminal_config)},
        f"acquirer simulator on {server.url}\nterminal configuration: {home.terminal_config}\n"
        f"try: pos --config {home.terminal_config} signin --operator 01   (PIN 0000)",
    )
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


def cmd_card_emulator(args: argparse.Namespace, out: Output) -> int:
    """Holds one emulated card in pcscd's virtual reader (vpcd) or in nfcpy's udp field until stopped."""
    if args.profile not in EMULATED_CARDS:
        raise PosError(f"no emulated card called {args.profile!r}; known: {', '.join(EMULATED_CARDS)}")
    card = make_card(args.profile)
    holder: VpcdCard | IsoDepCard
    if args.nfc:
        match = re.fullmatch(r"udp:([\w.-]+):([0-9]{1,5})", args.nfc)
        if not match:
            raise PosError(f"--nfc must look like udp:localhost:54321 (got {args.nfc!r})")
        holder = IsoDepCard(card, int(match.group(2)), host=match.group(1))
        where = f"the nfcpy field {args.nfc}"
    else:
        holder = VpcdCard(card, port=args.vpcd_port)
        where = f"the virtual PC/SC reader on port {args.vpcd_port}"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        holder.start()
    except OSError as exc:
        raise PosError(f"cannot reach {where}: {exc.strerror or exc} (is pcscd running with vpcd?)") from None
    out.result({"status": "ok", "card": args.profile, "where": where}, f"card {args.profile} is in {where}")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    holder.stop()
    return 0


def cmd_demo(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    return run_tour(settings, out)


def cmd_app(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    from app.ui.kivy_env import NoScreen
    from app.ui.launch import run_app

    try:
        # Demo mode runs on somebody's desktop: a window they can close, not a kiosk they cannot leave.
        return run_app(settings, windowed=args.windowed or args.config is None, headless=args.headless)
    except NoScreen as exc:
        out.error(str(exc))
        if args.config is None and not out.as_json:
            # `make run` on a machine without a screen (a server, CI) still shows the terminal at work.
            out.result({}, "Meanwhile, here is a counter day on the same engine, narrated in this terminal:\n")
            return run_tour(settings, out)
        return 1


HANDLERS: dict[str, Callable[..., int]] = {
    "setup": cmd_setup,
    "operator": cmd_operator,
    "signin": cmd_signin,
    "signout": cmd_signout,
    "sale": cmd_sale,
    "preauth": cmd_preauth,
    "balance": cmd_balance,
    "void": cmd_void,
    "refund": cmd_refund,
    "complete": cmd_complete,
    "preauth-void": cmd_preauth_void,
    "settle": cmd_settle,
    "journal": cmd_journal,
    "reprint": cmd_reprint,
    "recover": cmd_recover,
    "status": cmd_status,
    "cards": cmd_cards,
    "acquirer-sim": cmd_acquirer_sim,
    "card-emulator": cmd_card_emulator,
    "demo": cmd_demo,
    "app": cmd_app,
    "doctor": cmd_doctor,
}
NO_TERMINAL = ("cards", "acquirer-sim", "card-emulator")
