"""A child process for the fsync count: sign in once, then run N sales, and nothing else.

    python -m bench.sales_driver CONFIG COUNT

Run under `strace -f -c -e trace=fsync,fdatasync` by bench.engine, so that only this process (the terminal side)
is counted; the acquirer simulator runs in a process of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.bootstrap import build_terminal, card_input
from app.config import load_settings
from app.domain.money import Money
from app.services.results import Status

AMOUNT = "12.34"  # .34 is not a magic cent value: an ordinary approval


def run(config: Path, count: int) -> dict[str, int]:
    settings = load_settings(config)
    terminal = build_terminal(settings)
    try:
        terminal.sign_in("01", "0000")
        amount = Money.parse(AMOUNT, settings.terminal.currency)
        approved = 0
        for _ in range(count):
            result = terminal.sale(amount, card_input(settings, "visa-credit"))
            approved += result.status is Status.APPROVED
    finally:
        terminal.close()
    return {"sales": count, "approved": approved}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("config", type=Path)
    parser.add_argument("count", type=int)
    args = parser.parse_args(argv)
    outcome = run(args.config, args.count)
    print(json.dumps(outcome))
    return 0 if outcome["approved"] == outcome["sales"] else 1


if __name__ == "__main__":
    sys.exit(main())
