"""`pos doctor`: the terminal's self-test from the command line, for installers and support.

It runs beside the app (it takes the terminal lock only to print on the real printer), and it still reports
every other part when the journal cannot even be opened.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from app.bootstrap import build_terminal, slip_printer
from app.cli.io import Output
from app.config import Settings
from app.devices.printer import PrinterError
from app.devices.printing.jobs import write_job
from app.domain.receipt import Receipt
from app.journal.store import JournalError
from app.services.clock import SystemClock
from app.services.context import merchant_of
from app.services.health import SALES_BLOCKED, Check, Health, in_use, is_damage, software_version
from app.services.printing import Printed, Printing
from app.services.slips import DiagnosticsFacts, diagnostics_slip


def cmd_doctor(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    to_files = args.preview is not None or args.escpos is not None
    try:
        terminal = build_terminal(settings, exclusive=args.print_slip and not to_files)
    except JournalError as exc:
        return _without_journal(args, out, settings, str(exc))
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        return _without_journal(args, out, settings, f"journal damaged: cannot be read at start ({exc})")
    try:
        checks = terminal.self_test()
        return _report(args, out, settings, checks, terminal.diagnostics_slip, terminal.ctx.printing.report)
    finally:
        terminal.close()


def _without_journal(args: argparse.Namespace, out: Output, settings: Settings, error: str) -> int:
    printer = slip_printer(settings)
    checks = Health(
        settings,
        journal=None,
        printer=printer,
        clock=SystemClock(),
        journal_error=error,
        terminal_elsewhere=in_use(settings.terminal.data_dir),
    ).checks()
    merchant = merchant_of(settings)

    def slip(results: Sequence[Check]) -> Receipt:
        facts = DiagnosticsFacts(software_version(), None, None, None, SALES_BLOCKED)
        return diagnostics_slip(results, facts, merchant, datetime.now().astimezone())

    return _report(args, out, settings, checks, slip, Printing(printer, merchant).report)


def _report(
    args: argparse.Namespace,
    out: Output,
    settings: Settings,
    checks: list[Check],
    slip: Callable[[Sequence[Check]], Receipt],
    print_slip: Callable[[Receipt], Printed],
) -> int:
    failed = [c.name for c in checks if not c.ok]
    warned = [c.name for c in checks if c.ok and c.warning]
    lines = [f"{c.mark:<4}  {c.detail}" for c in checks]
    if failed:
        lines.append(f"{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}")
    else:
        lines.append(f"all {len(checks)} checks passed" + (f" ({len(warned)} with a warning)" if warned else ""))
    data: dict[str, Any] = {
        "status": "error" if failed else "ok",
        "checks": [c.to_json() for c in checks],
        "failed": failed,
        "warnings": warned,
    }
    code = 1 if failed else 0
    if args.preview is not None or args.escpos is not None:
        try:
            data["files"] = write_job([slip(checks)], settings.printer, args.preview, args.escpos)
        except PrinterError as exc:
            data["files"], data["printer_error"] = [], str(exc)
            lines.append(f"diagnostics slip not written: {exc}")
            code = 1
        lines += [f"wrote {f}" for f in data["files"]]
    elif args.print_slip:
        printed = print_slip(slip(checks))
        data["slips"], data["printer_error"] = list(printed.slips), printed.error
        lines += [f"slip: {s}" for s in printed.slips]
        if printed.error:
            lines.append(f"diagnostics slip not printed: {printed.error}")
            code = 1
    out.result(data, "\n".join(lines))
    return code
