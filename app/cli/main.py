"""`pos`: the headless terminal. The same engine as the touchscreen, one command per counter action."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from app import datadir, logs
from app.cli import commands
from app.cli.io import Output
from app.config import Settings, load_settings
from app.errors import UserFacingError
from app.services.health import UNREADABLE, is_damage

log = logging.getLogger("app.cli")


class UsageError(Exception):
    """The command line itself is wrong: reported like any other error (JSON too), with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see: {self.prog} --help)")


def _trace(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) == 0:
        raise argparse.ArgumentTypeError(f"not a voucher (trace) number: {text!r}")
    return int(text)


# Beyond a day's worth of look-ups a listing is no longer a look-up; SQLite's LIMIT is a 64-bit integer.
MAX_LIMIT = 10_000


def _limit(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_LIMIT} (got {text!r})")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pos", description="KioskPOS headless terminal. Without --config: demo mode.")
    p.add_argument("--config", type=Path, help="terminal configuration (TOML); default: demo mode")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def card_options(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--card", metavar="PROFILE", help="test card to present (see: pos cards)")
        cmd.add_argument("--entry", choices=("chip", "contactless", "swipe"), help="how the card is presented")
        cmd.add_argument("--reader", metavar="NAME", help='read a chip card in this PC/SC reader ("" = the first)')
        cmd.add_argument("--nfc", metavar="PATH", help="read a tapped card on this nfcpy device (usb, udp:HOST:PORT)")
        cmd.add_argument("--swipe", metavar="DEVICE", type=Path, help="read a swiped card from this input device")

    sub.add_parser("setup", help="first run: choose the supervisor password")
    op = sub.add_parser("operator", help="add, remove or re-PIN operators (supervisor)")
    op_sub = op.add_subparsers(dest="action", required=True, parser_class=_Parser)
    op_sub.add_parser("add", help="add an operator").add_argument("id")
    op_sub.add_parser("remove", help="remove an operator").add_argument("id")
    passwd = op_sub.add_parser("passwd", help="change a PIN (own PIN, or --by-supervisor to reset)")
    passwd.add_argument("id")
    passwd.add_argument("--by-supervisor", action="store_true", help="authorise with the supervisor password")
    op_sub.add_parser("list", help="list operators")
    signin = sub.add_parser("signin", help="签到: operator sign-in and host sign-on")
    signin.add_argument("--operator", required=True, metavar="ID")
    sub.add_parser("signout", help="签退")
    for name, helptext in (("sale", "消费"), ("preauth", "预授权")):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("amount")
        card_options(cmd)
    card_options(sub.add_parser("balance", help="余额查询"))
    void = sub.add_parser("void", help="撤销 (same batch; supervisor)")
    void.add_argument("trace", type=_trace)
    refund = sub.add_parser("refund", help="退货 (earlier batch; supervisor; the original card)")
    refund.add_argument("trace", type=_trace)
    refund.add_argument("amount")
    card_options(refund)
    complete = sub.add_parser("complete", help="预授权完成")
    complete.add_argument("trace", type=_trace)
    complete.add_argument("amount")
    sub.add_parser("preauth-void", help="预授权撤销 (supervisor)").add_argument("trace", type=_trace)

    def slip_files(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--preview", metavar="FILE.png", type=Path, help="write the slip's picture instead of printing"
        )
        cmd.add_argument("--escpos", metavar="FILE", type=Path, help="write the slip's exact ESC/POS bytes instead")

    settle = sub.add_parser("settle", help="结算: end of day")
    slip_files(settle)
    settle.add_argument(
        "--auto", action="store_true", help="the settlement timer: if the app is running, ask it to settle when idle"
    )
    journal = sub.add_parser("journal", help="look up transactions")
    journal.add_argument("--trace", type=_trace)
    journal.add_argument("--date", metavar="YYYY-MM-DD")
    journal.add_argument("--amount")
    journal.add_argument("--batch", type=_trace)
    journal.add_argument("--limit", type=_limit, default=20)
    journal.add_argument("--detail", action="store_true", help="the batch's detail list (明细) as a slip")
    slip_files(journal)
    reprint = sub.add_parser("reprint", help="重打印: last slip or by voucher number")
    reprint.add_argument("trace", nargs="?", type=_trace)
    reprint.add_argument("--settlement", action="store_true", help="reprint the last settlement slip")
    slip_files(reprint)
    sub.add_parser("recover", help="resolve anything left in flight (reversals, settlement)")
    sub.add_parser("status", help="who is signed in, batch, anything in flight")
    doctor = sub.add_parser("doctor", help="self-test: readers, printer, acquirer, certificates, clock, journal, disk")
    doctor.add_argument("--print", dest="print_slip", action="store_true", help="also print the diagnostics slip")
    slip_files(doctor)
    sub.add_parser("cards", help="the test cards and magic amounts")
    sim = sub.add_parser("acquirer-sim", help="run the acquirer simulator (HTTPS, mutual TLS, 127.0.0.1)")
    sim.add_argument("--data-dir", type=Path, required=True)
    sim.add_argument("--port", type=int, default=0)
    sim.add_argument("--issuer-keys", type=Path, metavar="FILE")
    sim.add_argument("--read-timeout", type=float, default=5.0, help="read timeout written into terminal.toml")
    sim.add_argument("--late-seconds", type=float, help="how late .98 answers (default: read timeout + 3)")
    emulator = sub.add_parser("card-emulator", help="hold an emulated EMV card in a virtual reader (tests, demos)")
    emulator.add_argument("profile", help="emulated card (see: pos cards)")
    where = emulator.add_mutually_exclusive_group()
    where.add_argument("--vpcd-port", type=int, default=35963, help="pcscd's vpcd port (default 35963)")
    where.add_argument("--nfc", metavar="udp:HOST:PORT", help="hold the card in nfcpy's udp field instead")
    sub.add_parser("demo", help="a guided counter day in demo mode, on the console")
    touch = sub.add_parser("app", help="the touchscreen terminal (demo mode without --config: in a window)")
    touch.add_argument("--windowed", action="store_true", help="in a window, not full screen (kiosk mode off)")
    touch.add_argument("--headless", action="store_true", help="draw off screen (SDL offscreen): tests, smoke tests")
    return p


@contextmanager
def _settings(config: Path | None) -> Iterator[Settings]:
    if config is not None:
        yield load_settings(config)
        return
    from app.demo import demo_settings

    with demo_settings() as settings:
        yield settings


# Journal, log, slips, keys, settle requests: everything the terminal writes is the shop's and no one else's.
# Set once for the whole process, so a file created by any part (SQLite's -wal and -shm too) is born private.
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        # --json is a top-level option: before the command word, where a script puts it.
        Output("--json" in argv).error(str(exc), prefix=False)
        return 2
    out = Output(args.json)
    logs.configure("WARNING", None, console_level=logging.CRITICAL)  # until the configuration names a log file
    handler: Callable[..., int] = commands.HANDLERS[args.command]
    try:
        if args.command in commands.NO_TERMINAL:
            return handler(args, out)
        with _settings(args.config) as settings:
            datadir.prepare(settings)
            logs.configure(settings.log_level, settings.log_path, console_level=logging.CRITICAL)
            return handler(args, out, settings)
    except UserFacingError as exc:
        out.error(str(exc))
        return 1
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except Exception as exc:
        log.exception("internal error in %s", args.command)
        if is_damage(exc):  # SQLite found the journal damaged while reading it: say so, not "internal error"
            out.error(UNREADABLE)
            return 1
        out.error(f"internal error ({type(exc).__name__}); details are in the log")
        return 1


if __name__ == "__main__":
    sys.exit(main())
