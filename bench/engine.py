"""How fast the payment engine is on this machine: figures for the README.

    .venv/bin/python -m bench.engine            # the full run (a few minutes)
    .venv/bin/python -m bench.engine --quick    # a smoke run: fewer sales, 10,000 rows instead of 200,000

Measures, each against the loopback acquirer simulator (`pos acquirer-sim`) running in a process of its own:

1. headless sales per second, and the mean / p95 time of one sale, driven in this process;
2. fsync + fdatasync calls per sale on the terminal side, counted by strace in a child process
   (bench/sales_driver.py): (calls after sign-in and N sales - calls after sign-in and 0 sales) / N;
3. settlement time with 10,000 and 200,000 approved sales in the open batch (rows seeded by SQL into both the
   journal and the simulator's ledger, so that the totals match and settlement is one round trip);
4. start-up time (build_terminal + status + close) of a journal with no transactions and of one with 200,000,
   after a clean stop (status does not wait for the journal's full read) and after a crash (it does).

Progress goes to standard error; the results are printed at the end as a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import queue
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from app.bootstrap import build_terminal, card_input
from app.config import Settings, load_settings
from app.domain.money import Money
from app.domain.settlement import SettlementState
from app.journal.transactions import utc_text
from app.services.results import Status
from app.sim.home import TERMINAL_ID
from app.sim.magic import MAGIC_DECLINES, MAGIC_DELIVERY

ROOT = Path(__file__).resolve().parent.parent
AMOUNT = "12.34"  # .34 is no magic cent value: an ordinary approval, answered at once
PROFILE = "visa-credit"
OPERATOR = ("01", "0000")
MAGIC_CENTS = frozenset(MAGIC_DECLINES) | frozenset(MAGIC_DELIVERY)
# Seeded rows are spread over these card kinds, the same on both sides so the totals agree line by line.
SEED_CARDS = (("visa", "credit"), ("unionpay", "debit"), ("mastercard", "credit"), ("unionpay", "credit"))
FSYNC_CALLS = ("fsync", "fdatasync")
# The query behind Transactions.in_flight(), run at every start: it should use the partial index.
IN_FLIGHT_SQL = "SELECT * FROM transactions WHERE state IN ('pending', 'reversal_pending') ORDER BY trace"


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Plan:
    sales: int
    warmup: int
    fsync_sales: int
    settle_rows: tuple[int, ...]
    settle_repeats: int
    startup_rows: int
    startup_repeats: int


FULL = Plan(
    sales=300,
    warmup=10,
    fsync_sales=100,
    settle_rows=(10_000, 200_000),
    settle_repeats=3,
    startup_rows=200_000,
    startup_repeats=9,
)
QUICK = Plan(  # CI's smoke run (make bench-quick): every step once, in well under a minute
    sales=20,
    warmup=2,
    fsync_sales=10,
    settle_rows=(2_000, 10_000),
    settle_repeats=1,
    startup_rows=10_000,
    startup_repeats=2,
)


# -- the simulator, in a process of its own -------------------------------------------------------------------


def pos_command() -> list[str]:
    beside = Path(sys.executable).with_name("pos")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("pos")
    return [found] if found else [sys.executable, "-m", "app.cli.main"]


class Simulator:
    """`pos acquirer-sim --data-dir HOME --port 0` as a child process; its first line names its URL."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.home / "terminal.toml"

    def start(self, timeout_s: float = 120.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self._stderr = (self.home / "simulator.stderr").open("ab")
        proc = subprocess.Popen(
            [*pos_command(), "--json", "acquirer-sim", "--data-dir", str(self.home), "--port", "0"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._proc = proc
        stdout = proc.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout_s)
        except queue.Empty:
            raise RuntimeError(f"the simulator printed nothing in {timeout_s:g} s") from None
        if not line:
            problem = (self.home / "simulator.stderr").read_text(errors="replace").strip()
            raise RuntimeError(f"the simulator stopped before it started: {problem}")
        self.url = json.loads(line)["url"]

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()  # the simulator stops its server on SIGTERM
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


@contextlib.contextmanager
def running_simulator(home: Path) -> Iterator[Simulator]:
    sim = Simulator(home)
    try:
        sim.start()
        yield sim
    finally:
        sim.stop()


def signed_in_home(home: Path) -> Settings:
    """A simulator home whose terminal journal is set up and signed in (working keys stored); simulator stopped."""
    with running_simulator(home) as sim:
        settings = load_settings(sim.config)
        terminal = build_terminal(settings)
        try:
            terminal.sign_in(*OPERATOR)
        finally:
            terminal.close()
    return settings


# -- 1. sales per second ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesFigures:
    count: int
    seconds: float
    mean_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def bench_sales(settings: Settings, plan: Plan) -> SalesFigures:
    terminal = build_terminal(settings)
    try:
        terminal.sign_in(*OPERATOR)
        amount = Money.parse(AMOUNT, settings.terminal.currency)

        def sale() -> None:
            result = terminal.sale(amount, card_input(settings, PROFILE))
            if result.status is not Status.APPROVED:
                raise RuntimeError(f"a benchmark sale was not approved: {result.message}")

        for _ in range(plan.warmup):
            sale()
        durations: list[float] = []
        started = time.perf_counter()
        for _ in range(plan.sales):
            t0 = time.perf_counter()
            sale()
            durations.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    finally:
        terminal.close()
    p95 = statistics.quantiles(durations, n=20, method="inclusive")[18]
    return SalesFigures(plan.sales, elapsed, statistics.fmean(durations) * 1000, p95 * 1000)


# -- 2. fsync calls per sale --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FsyncFigures:
    sales: int
    base: dict[str, int]  # syscall -> calls, sign-in and 0 sales
    loaded: dict[str, int]  # syscall -> calls, sign-in and `sales` sales
    by_file: dict[str, float]  # "syscall file" -> extra calls per sale

    @property
    def per_sale(self) -> float:
        return (sum(self.loaded.values()) - sum(self.base.values())) / self.sales


def _driver(config: Path, count: int) -> list[str]:
    return [sys.executable, "-m", "bench.sales_driver", str(config), str(count)]


def _strace(options: list[str], out: Path, config: Path, count: int) -> str:
    command = ["strace", "-f", *options, "-e", f"trace={','.join(FSYNC_CALLS)}", "-o", str(out)]
    done = subprocess.run(
        [*command, *_driver(config, count)], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"strace of the sales driver failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return out.read_text()


def parse_strace_summary(text: str) -> dict[str, int]:
    """Calls per syscall from `strace -c` (columns: % time, seconds, usecs/call, calls, [errors], syscall)."""
    calls = dict.fromkeys(FSYNC_CALLS, 0)
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1] in calls:
            calls[parts[-1]] = int(parts[3])
    return calls


_CALL = re.compile(r"\b(fsync|fdatasync)\(\d+<([^>]*)>")


def parse_strace_calls(text: str) -> Counter[str]:
    """Calls per (syscall, file name) from `strace -y` (an interrupted call's "resumed" line is not counted)."""
    return Counter(f"{m.group(1)} {Path(m.group(2)).name}" for m in map(_CALL.search, text.splitlines()) if m)


def bench_fsyncs(config: Path, plan: Plan, work: Path) -> FsyncFigures:
    work.mkdir(parents=True, exist_ok=True)
    n = plan.fsync_sales
    base = parse_strace_summary(_strace(["-c"], work / "summary-0.txt", config, 0))
    loaded = parse_strace_summary(_strace(["-c"], work / f"summary-{n}.txt", config, n))
    # The same runs again with file names (-y), to say which file each extra call was for.
    files0 = parse_strace_calls(_strace(["-y"], work / "calls-0.txt", config, 0))
    files_n = parse_strace_calls(_strace(["-y"], work / f"calls-{n}.txt", config, n))
    by_file = {k: (files_n[k] - files0[k]) / n for k in sorted(files0.keys() | files_n.keys())}
    return FsyncFigures(n, base, loaded, {k: v for k, v in by_file.items() if v})


# -- seeding journal rows and ledger rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class SeedRow:
    trace: int
    batch: int
    amount_minor: int
    brand: str
    funding: str
    key: str
    created_at: str
    local_date: str
    rrn: str


def _amount(i: int) -> int:
    amount = 100 + (i * 7919) % 99_900
    while amount % 100 in MAGIC_CENTS:
        amount += 1
    return amount


def seed_journal(path: Path, count: int, currency_code: str) -> list[SeedRow]:
    """`count` approved sales appended to the open batch of a terminal journal, by plain SQL in one commit."""
    now = datetime.now(UTC)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # seeding only; the terminal opens the file with FULL again
        conn.execute("BEGIN IMMEDIATE")
        first = int(conn.execute("SELECT value FROM counters WHERE name = 'next_trace'").fetchone()[0])
        batch = int(conn.execute("SELECT value FROM counters WHERE name = 'batch'").fetchone()[0])
        rows: list[SeedRow] = []
        for i in range(count):
            created = now - timedelta(milliseconds=100 * (count - i))
            brand, funding = SEED_CARDS[i % len(SEED_CARDS)]
            trace = first + i
            rows.append(
                SeedRow(
                    trace,
                    batch,
                    _amount(i),
                    brand,
                    funding,
                    f"seed{trace:012d}{'0' * 16}",
                    utc_text(created),
                    created.astimezone().date().isoformat(),
                    f"{created:%y%j}{trace % 10**7:07d}",
                )
            )
        conn.executemany(
            """INSERT INTO transactions (trace, batch, kind, state, amount_minor, currency, created_at, local_date,
               updated_at, operator, idempotency_key, masked_pan, pan_token, brand, funding, entry_mode, cvm, emv,
               response_code, auth_code, rrn)
               VALUES (?, ?, 'sale', 'approved', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'chip', 'signature', '{}', '00',
               ?, ?)""",
            (
                (
                    r.trace,
                    r.batch,
                    r.amount_minor,
                    currency_code,
                    r.created_at,
                    r.local_date,
                    r.created_at,
                    OPERATOR[0],
                    r.key,
                    "476173******0010",
                    f"{r.trace:064x}",
                    r.brand,
                    r.funding,
                    f"{r.trace % 10**6:06d}",
                    r.rrn,
                )
                for r in rows
            ),
        )
        conn.execute("UPDATE counters SET value = ? WHERE name = 'next_trace'", (first + count,))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return rows


def seed_ledger(path: Path, rows: list[SeedRow], currency_code: str) -> None:
    """The simulator's record of the same sales: same STAN, batch, kind, status, amount, brand and funding."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            """INSERT INTO requests (idempotency_key, terminal_id, stan, batch, kind, amount_minor, currency,
               fingerprint, brand, funding, status, response_code, balance_delta, response)
               VALUES (?, ?, ?, ?, 'sale', ?, ?, 'seeded', ?, ?, 'approved', '00', ?, '{}')""",
            (
                (
                    r.key,
                    TERMINAL_ID,
                    r.trace,
                    r.batch,
                    r.amount_minor,
                    currency_code,
                    r.brand,
                    r.funding,
                    -r.amount_minor,
                )
                for r in rows
            ),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


# -- 3. settlement --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettleFigures:
    rows: int
    seconds: float
    round_trips: int
    matched: bool


def bench_settlements(work: Path, rows: int, repeats: int) -> list[SettleFigures]:
    """Each repeat settles a freshly seeded batch in a fresh simulator home: a settled batch stays settled."""
    figures = []
    for i in range(repeats):
        home = work / f"settle-{rows}-{i + 1}"
        figures.append(bench_settlement(home, rows))
        shutil.rmtree(home)  # hundreds of MB at 200,000 rows
    return figures


def bench_settlement(home: Path, rows: int) -> SettleFigures:
    settings = signed_in_home(home)
    currency_code = settings.terminal.currency.code
    # The simulator is stopped here: its ledger is ours to write.
    seeded = seed_journal(settings.journal_path, rows, currency_code)
    seed_ledger(home / "ledger.sqlite", seeded, currency_code)
    with running_simulator(home) as sim:
        settings = load_settings(sim.config)  # a new port: the simulator rewrote terminal.toml
        terminal = build_terminal(settings)
        try:
            # A restarted simulator has forgotten the working keys it issued (SimulatorHome re-registers the
            # terminal), so the terminal signs on again before the timed settlement.
            terminal.sign_in(*OPERATOR)
            host = terminal.ctx.host
            sent: list[str] = []
            exchange = host.exchange

            def counting_exchange(kind: Any, body: Any, retries: int | None = None) -> dict[str, Any]:
                sent.append(str(kind))
                return exchange(kind, body, retries)

            setattr(host, "exchange", counting_exchange)  # noqa: B010 - counting the round trips, nothing else
            t0 = time.perf_counter()
            result = terminal.settle()
            elapsed = time.perf_counter() - t0
        finally:
            terminal.close()
    record = result.record
    if record.state is not SettlementState.SETTLED:
        raise RuntimeError(f"settlement of {rows} rows did not finish: {result.message}")
    counted = record.terminal_totals.by_kind.get("sale")
    if counted is None or counted.count != rows:
        raise RuntimeError(f"settlement counted {counted} sales, not the {rows} seeded")
    return SettleFigures(rows, elapsed, len(sent), bool(record.matched))


# -- 4. start-up ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartupFigures:
    rows: int
    empty_ms: list[float]
    loaded_ms: list[float]
    empty_cold_ms: list[float]  # the journal file dropped from the page cache before each start
    loaded_cold_ms: list[float]
    crashed_ms: list[float]  # the loaded journal without its clean-stop record: status waits for quick_check
    crashed_cold_ms: list[float]
    plan_text: str


def _copy_journal(source: Path, data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / source.name
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def _with_data_dir(settings: Settings, data_dir: Path) -> Settings:
    return dataclasses.replace(settings, terminal=dataclasses.replace(settings.terminal, data_dir=data_dir))


def _drop_from_page_cache(path: Path) -> None:
    """Ask the kernel to forget the file's cached pages (clean pages only: the journal was closed and synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _start_once(settings: Settings, cold: bool = False, crashed: bool = False) -> float:
    if crashed:  # what a crash leaves: no record of a clean stop beside the journal
        settings.journal_path.with_name(settings.journal_path.name + ".clean").unlink(missing_ok=True)
    if cold:
        _drop_from_page_cache(settings.journal_path)
    t0 = time.perf_counter()
    terminal = build_terminal(settings)
    try:
        status = terminal.status()
    finally:
        terminal.close()
    elapsed = time.perf_counter() - t0
    if not status.keys or status.in_flight:
        raise RuntimeError("start-up benchmark journal should hold working keys and nothing in flight")
    return elapsed * 1000


def bench_startup(home: Path, work: Path, plan: Plan) -> StartupFigures:
    base = signed_in_home(home)  # set up, signed in, working keys stored, no transactions
    empty = _with_data_dir(base, work / "empty")
    loaded = _with_data_dir(base, work / "loaded")
    _copy_journal(base.journal_path, empty.terminal.data_dir)
    loaded_journal = _copy_journal(base.journal_path, loaded.terminal.data_dir)
    seed_journal(loaded_journal, plan.startup_rows, base.terminal.currency.code)
    conn = sqlite3.connect(loaded_journal)
    try:
        plan_rows = conn.execute(f"EXPLAIN QUERY PLAN {IN_FLIGHT_SQL}").fetchall()
    finally:
        conn.close()
    warm: dict[str, list[float]] = {"empty": [], "loaded": [], "crashed": []}
    cold: dict[str, list[float]] = {"empty": [], "loaded": [], "crashed": []}
    for repeat in range(plan.startup_repeats + 1):  # the first round warms up and is not counted
        for name, settings in (("empty", empty), ("loaded", loaded)):
            warm_ms = _start_once(settings)
            cold_ms = _start_once(settings, cold=True)
            if repeat:
                warm[name].append(warm_ms)
                cold[name].append(cold_ms)
        crashed_ms = _start_once(loaded, crashed=True)
        crashed_cold_ms = _start_once(loaded, cold=True, crashed=True)
        if repeat:
            warm["crashed"].append(crashed_ms)
            cold["crashed"].append(crashed_cold_ms)
    return StartupFigures(
        plan.startup_rows,
        warm["empty"],
        warm["loaded"],
        cold["empty"],
        cold["loaded"],
        warm["crashed"],
        cold["crashed"],
        "; ".join(str(r[-1]) for r in plan_rows),
    )


# -- the report -----------------------------------------------------------------------------------------------


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def filesystem_of(path: Path) -> str:
    """The mount (and its type) holding `path`, from /proc/mounts: fsync costs depend on it."""
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and str(path.resolve()).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return f"{kind} ({best or '?'})"


def report(
    plan: Plan,
    where: Path,
    sales: SalesFigures,
    fsyncs: FsyncFigures,
    settles: list[list[SettleFigures]],
    startup: StartupFigures,
) -> str:
    """The README's table, row for row and in its units, then how each figure was taken."""
    median = statistics.median
    rows = [
        (
            "Headless sales per second against the loopback simulator (a new mutual-TLS connection each)",
            f"{sales.per_second:.0f} /s",
        ),
        ("Time per sale, mean / p95", f"{sales.mean_ms:.1f} / {sales.p95_ms:.1f} ms"),
        ("fsync calls per sale on the terminal (the floor is 2: intent and outcome)", f"{fsyncs.per_sale:.2f}"),
    ]
    how = [
        f"- sales: {sales.count} sales of {AMOUNT}, {PROFILE} chip card, one after another; simulator in its own "
        "process on loopback, a new mutual-TLS connection per request",
        f"- fsync: strace -f -c of a driver process, (calls with {fsyncs.sales} sales − calls with 0) / "
        f"{fsyncs.sales}; {fsync_detail(fsyncs)}",
    ]
    for runs in settles:
        trips = sorted({s.round_trips for s in runs})
        matched = all(s.matched for s in runs)
        rows.append((f"Settlement with {runs[0].rows:,} journal rows", f"{median(s.seconds for s in runs):.2f} s"))
        how.append(
            f"- settlement, {runs[0].rows:,} rows: `terminal.settle()`, median of {len(runs)} run(s); "
            f"{'/'.join(map(str, trips))} round trip(s) each, totals {'matched' if matched else 'did NOT match'}"
        )
    n = len(startup.empty_ms)
    rows += [
        (
            f"Start-up, empty journal / {startup.rows:,} rows",
            f"{median(startup.empty_ms):.1f} ms / {median(startup.loaded_ms):.1f} ms",
        ),
        (
            f"The same, journal not in the page cache (cold), empty / {startup.rows:,} rows",
            f"{median(startup.empty_cold_ms):.1f} ms / {median(startup.loaded_cold_ms):.1f} ms",
        ),
        (
            f"Start-up after a crash, {startup.rows:,} rows, warm / cold (waits for the journal's quick_check)",
            f"{median(startup.crashed_ms):.0f} ms / {median(startup.crashed_cold_ms):.0f} ms",
        ),
    ]
    how += [
        f"- start-up: build_terminal + status + close, median of {n}, after a clean stop unless it says a crash "
        "(the clean-stop record removed first); cold: the journal dropped from the page cache first",
        f"- start-up spread (min–max): empty {min(startup.empty_ms):.1f}–{max(startup.empty_ms):.1f} ms; "
        f"{startup.rows:,} rows {min(startup.loaded_ms):.1f}–{max(startup.loaded_ms):.1f} ms; after a crash "
        f"{min(startup.crashed_ms):.0f}–{max(startup.crashed_ms):.0f} ms. In-flight query plan: {startup.plan_text}.",
    ]
    lines = [
        f"KioskPOS engine benchmark — {datetime.now():%Y-%m-%d}, {machine()}, data on {filesystem_of(where)}",
        "",
        "| Figure | Result |",
        "|---|---:|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        *how,
    ]
    if plan is QUICK:
        lines.append("(--quick run: smaller counts; not figures for the README.)")
    return "\n".join(lines)


def fsync_detail(f: FsyncFigures) -> str:
    calls = ", ".join(f"{name} {f.base[name]} → {f.loaded[name]}" for name in FSYNC_CALLS)
    files = ", ".join(f"{key} {per:.2f}" for key, per in f.by_file.items()) or "none"
    # A sync of the database file itself only happens in a WAL checkpoint (SQLite's auto-checkpoint at 1000 WAL
    # pages); each one also syncs the WAL before it and the restarted WAL's header after it.
    checkpoints = round(sum(per for key, per in f.by_file.items() if key.endswith(" journal.sqlite")) * f.sales)
    return (
        f"calls with 0 → {f.sales} sales: {calls}. Extra calls per sale by file: {files}. "
        f"WAL auto-checkpoints during the {f.sales} sales: {checkpoints}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure the payment engine on this machine.")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer sales, 10,000 rows")
    parser.add_argument("--dir", type=Path, help="where to put the temporary data (default: the system's temp dir)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if shutil.which("strace") is None:
        parser.error("strace is needed to count fsync calls")
    with tempfile.TemporaryDirectory(prefix="kpos-bench-", dir=args.dir) as tmp:
        root = Path(tmp)
        sales_home = root / "sales"
        say(f"1/4 {plan.sales} sales against the simulator")
        with running_simulator(sales_home) as sim:
            settings = load_settings(sim.config)
            sales = bench_sales(settings, plan)
            say(f"2/4 counting fsync calls (strace, 0 and {plan.fsync_sales} sales, twice)")
            fsyncs = bench_fsyncs(sim.config, plan, root / "strace")
        settles: list[list[SettleFigures]] = []
        for rows in plan.settle_rows:
            say(f"3/4 settlement with {rows:,} rows ({plan.settle_repeats} time(s))")
            settles.append(bench_settlements(root, rows, plan.settle_repeats))
        say(f"4/4 start-up, no transactions and {plan.startup_rows:,} rows")
        startup = bench_startup(root / "startup", root / "startup-dirs", plan)
        print(report(plan, root, sales, fsyncs, settles, startup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
