"""The UnionPay 8583 codec's cost: pack + unpack + MAC time per message and the bytes each message takes.

Run: .venv/bin/python -m bench.iso8583 [--rounds N]   (or `make bench-iso8583`; the issue's goal: under 1 ms)

One round packs the request (spec dictionary, framing, MAC), then unpacks the acquirer's answer (framing,
pyiso8583, digit checks, MAC verification, the answer's checks), as the terminal does per transaction.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from app.domain.cards import EntryMode
from app.domain.transaction import TxnKind
from app.host.iso8583 import mac
from app.host.iso8583.messages import (
    CardData,
    FinancialRequest,
    Request,
    SettlementRequest,
    SettlementTotals,
)

# The acquirer's side of the answers is the 8583 tests' own rig.
from tests.unit.iso8583_rig import DIALECT, MAC_KEY, PAN, answer_frame, request_fields

ICC = bytes.fromhex(
    "9F2608C2C12B098F3DA6E39F2701809F101307010103A0A802010A010000000000B37C9A2E9F3704F8A1C5E8"
    "9F36020010950580800480009A032012049C01009F02060000000012345F2A02015682027C009F1A020156"
    "9F03060000000000009F3303E0F8C89F34034203009F3501229F1E0831323334353637388407A0000003330101"
)
SALE = FinancialRequest(
    TxnKind.SALE,
    12345,
    7,
    1,
    CardData(EntryMode.CHIP, pan=PAN, expiry="2912", psn="001", pin_block=bytes(8), icc=ICC),
)
SETTLE = SettlementRequest(40, 1, "01", SettlementTotals(1234567, 42, 5600, 2))


def _time(fn: Callable[[], object], rounds: int) -> float:
    """Median µs per call over 5 runs of `rounds` calls."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        runs.append((time.perf_counter() - start) / rounds * 1e6)
    return statistics.median(runs)


def _row(name: str, req: Request, key: bytes | None, rounds: int) -> None:
    request = DIALECT.pack(req, key)
    if isinstance(req, SettlementRequest):
        f48 = request_fields(request)["48"]
        answer = answer_frame(request, f48=f48[:30] + "1" + f48[31:61] + "1")  # both halves balanced
    else:
        answer = answer_frame(request)
    pack_us = _time(lambda: DIALECT.pack(req, key), rounds)
    unpack_us = _time(lambda: DIALECT.unpack(req, answer, key), rounds)
    print(f"{name:<12} {pack_us:8.1f} {unpack_us:8.1f} {pack_us + unpack_us:8.1f} {len(request):7d} {len(answer):7d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    mab = DIALECT.pack(SALE, MAC_KEY)[13:-8]
    mac_us = _time(lambda: mac.unionpay_ecb(MAC_KEY, mab), args.rounds)
    x919_us = _time(lambda: mac.x919(MAC_KEY, mab), args.rounds)
    print(f"MAC over a {len(mab)}-byte sale: UnionPay ECB {mac_us:.1f} µs, X9.19 {x919_us:.1f} µs")
    print(f"{'message':<12} {'pack µs':>8} {'unpack µs':>8} {'total µs':>8} {'req B':>7} {'ans B':>7}")
    _row("sale 0200", SALE, MAC_KEY, args.rounds)
    _row("settle 0500", SETTLE, None, args.rounds)


if __name__ == "__main__":
    main()
