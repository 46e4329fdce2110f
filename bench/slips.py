"""How big and how fast slips are: ESC/POS bytes and render times of the ESC/POS and picture renderers.

Run: .venv/bin/python -m bench.slips   [--runs N]

For a sale slip (merchant copy), a settlement slip and a 50-line detail-like slip, in each printer profile:
the ESC/POS bytes, how long those bytes take over a serial line at 19200 baud (the default) and 115200 baud
(10 bits per byte), and the median time of N renders, ESC/POS and PNG, after one warm-up render (the first
render of a process also loads the fonts, timed once at the start). Printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial

from app.devices.printing.profile import PROFILES
from app.devices.printing.render_escpos import escpos_bytes
from app.devices.printing.render_png import render_png
from app.domain.money import CURRENCIES
from app.domain.receipt import Copy, Pair, Receipt, Rule, Text
from app.domain.settlement import BatchTotals, Line
from app.domain.settlement import SettlementState as State
from app.domain.transaction import TxnKind, TxnState
from app.journal.records import TxnRecord
from app.journal.settlements import SettlementRecord
from app.services.slips import Merchant, settlement_slip, transaction_slip

MERCHANT = Merchant("小王咖啡 Wang's Coffee", "898310048990001", "10000001", CURRENCIES["CNY"], training=False)
BAUD_RATES = (19200, 115200)


def sale_slip() -> Receipt:
    record = TxnRecord(
        trace=123, batch=7, kind=TxnKind.SALE, state=TxnState.APPROVED, amount_minor=12345, currency="CNY",
        created_at="2025-03-14T06:30:15.000000Z", local_date="2025-03-14", updated_at="2025-03-14T06:30:17.000000Z",
        operator="01", supervisor=None, idempotency_key="bench", orig_trace=None, masked_pan="622202******1234",
        pan_token=None, brand="unionpay", funding="debit", entry_mode="chip", cvm="signature",
        emv={"50": "554E494F4E504159", "84": "A000000333010101", "9F26": "8E1A6F2B93C4D5E6", "9F27": "40",
             "9F36": "002A", "95": "0000008000", "9B": "E800"},
        response_code="00", auth_code="A1B2C3", rrn="507314123456", balance_minor=None, reason=None,
        reversal_attempts=0, reversal_error=None,
    )  # fmt: skip
    return transaction_slip(record, MERCHANT, Copy.MERCHANT)


def settlement() -> Receipt:
    totals = BatchTotals(
        "CNY",
        by_kind={"sale": Line(3, 35600), "refund": Line(1, 5000), "void": Line(1, 12345)},
        by_card={"unionpay/debit": Line(2, 23255), "visa/credit": Line(1, 7345)},
        net_minor=30600,
    )
    record = SettlementRecord(
        7, State.SETTLED, "2025-03-14T14:00:00Z", "2025-03-14T14:00:03Z", "k", totals, totals, True, [], 121, 126
    )
    return settlement_slip(record, MERCHANT)


def detail_like() -> Receipt:
    """50 lines of "trace kind / amount", as a batch detail list prints them."""
    rows = tuple(Pair(f"{n:06d} SALE 消费", f"{n * 1234 % 100000 / 100:,.2f}") for n in range(1, 51))
    return Receipt("detail", Copy.REPORT, (Text("TRANSACTION DETAIL 交易明细", bold=True), Rule(), *rows, Rule()))


SLIPS: dict[str, Callable[[], Receipt]] = {
    "sale (merchant copy)": sale_slip,
    "settlement": settlement,
    "detail, 50 lines": detail_like,
}


def median_ms(render: Callable[[], object], runs: int) -> float:
    render()  # warm-up: fonts and glyph caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="renders per measurement (default 15)")
    args = parser.parse_args()
    os.environ.setdefault("TZ", "Asia/Shanghai")
    time.tzset()

    start = time.perf_counter()
    render_png(sale_slip(), PROFILES["58mm"])
    first_ms = (time.perf_counter() - start) * 1000

    print(f"Slip rendering on {platform.machine()}, Python {platform.python_version()}, median of {args.runs} runs\n")
    serial = " | ".join(f"at {b} baud" for b in BAUD_RATES)
    print(f"| slip | profile | Chinese | ESC/POS bytes | {serial} | ESC/POS render | PNG render |")
    print("|---|---|---|---:|" + "---:|" * len(BAUD_RATES) + "---:|---:|")
    for name, build in SLIPS.items():
        receipt = build()
        for profile in PROFILES.values():
            size = len(escpos_bytes(receipt, profile))
            seconds = " | ".join(f"{size * 10 / b:.1f} s" for b in BAUD_RATES)
            escpos_ms = median_ms(partial(escpos_bytes, receipt, profile), args.runs)
            png_ms = median_ms(partial(render_png, receipt, profile), args.runs)
            print(
                f"| {name} | {profile.name} | {profile.chinese.value} | {size:,} | {seconds} "
                f"| {escpos_ms:.1f} ms | {png_ms:.1f} ms |"
            )
    print(f"\nFirst picture of the process (loading fonts): {first_ms:.0f} ms.")


if __name__ == "__main__":
    main()
