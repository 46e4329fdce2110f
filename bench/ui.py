"""How heavy and how quick the touchscreen app is on this machine: figures for the README.

    .venv/bin/python -m bench.ui [--runs N]

Measures, with SDL's offscreen driver (no display here; on a Pi the GPU and the panel add their own time):

1. cold start to the sign-in screen: from starting a new Python process to the first frame that shows the
   sign-in screen, against a bare Kivy "hello" window started the same way in the same run, and the ratio
   (the app's own overhead). Medians of N alternating runs; the page cache is warm after the first.
2. resident memory (VmRSS) of each at that first frame, and the ratio.
3. screen-to-screen time: from a tap on the home screen's Sale button to the first frame with the amount screen
   fully shown (the fade is 0.1 s by design), median of N.
4. frames dropped while a sale is in flight: a chip sale in demo mode, from the frame after the card was
   presented to the last frame before the result screen; a frame counts as dropped when its interval is more than
   1.5 frame periods at Kivy's 60 fps cap. For comparison, the longest frame of the fade to the result screen:
   here GL is Mesa's software rasteriser (llvmpipe), so a full-screen redraw costs tens of milliseconds of CPU
   (measured with LP_NUM_THREADS=0: the UI thread's own CPU time equals the frame's); a Pi's GPU does that work.

Results are printed at the end as a Markdown table; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.sim.home import SimOptions, SimulatorHome

READY = "READY"


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def child_env(kivy_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1", KIVY_HOME=str(kivy_home), KIVY_LOG_MODE="PYTHON")
    env.update(KIVY_NO_CONSOLELOG="1", KIVY_USE_DEFAULTCONFIG="1")
    return env


def start_once(kind: str, config: Path, kivy_home: Path) -> tuple[float, int]:
    """Seconds from spawning the process to its first frame of the screen that counts, and its RSS then."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.ui_child", kind, str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_env(kivy_home),
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith(READY):
            elapsed = time.perf_counter() - started
            child.wait(30)
            return elapsed, int(line.split()[1])
    child.wait(30)
    raise RuntimeError(f"{kind} never showed its first screen (exit {child.returncode})")


def in_app(kind: str, config: Path, kivy_home: Path) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.ui_child", kind, str(config)],
        capture_output=True,
        env=child_env(kivy_home),
        text=True,
        timeout=600,
        check=True,
    ).stdout
    return [float(v) for line in out.splitlines() if line.startswith(READY) for v in line.split()[1:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure the touchscreen app on this machine.")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kioskpos-bench-ui-") as tmp:
        root = Path(tmp)
        home = SimulatorHome(root / "acquirer")
        server = home.start(SimOptions())
        try:
            starts: dict[str, list[tuple[float, int]]] = {"hello": [], "app": []}
            for run in range(args.runs + 1):
                for kind in ("hello", "app"):
                    result = start_once(kind, home.terminal_config, root / "kivy")
                    if run:  # the first round warms the page cache and writes Kivy's config
                        starts[kind].append(result)
                say(f"start-up round {run}: hello {starts['hello'][-1:]} app {starts['app'][-1:]}")
            transitions = in_app("transitions", home.terminal_config, root / "kivy")
            frames = in_app("frames", home.terminal_config, root / "kivy")
        finally:
            server.stop()
            home.ledger.close()
    print(report(starts, transitions, frames, args.runs))
    return 0


def report(starts: dict[str, list[tuple[float, int]]], transitions: list[float], frames: list[float], runs: int) -> str:
    def median_s(kind: str) -> float:
        return statistics.median(t for t, _ in starts[kind])

    def median_rss(kind: str) -> float:
        return statistics.median(r for _, r in starts[kind]) / 1024

    total, dropped, longest, switch = frames
    rows = [
        ("Cold start to the sign-in screen (bare Kivy hello window)", f"{median_s('app'):.2f} s "
         f"({median_s('hello'):.2f} s): ×{median_s('app') / median_s('hello'):.2f}"),
        ("Resident memory at that frame (bare Kivy hello window)", f"{median_rss('app'):.0f} MiB "
         f"({median_rss('hello'):.0f} MiB): ×{median_rss('app') / median_rss('hello'):.2f}"),
        ("Tap on Sale to the amount screen fully shown, median / max", f"{statistics.median(transitions) * 1000:.0f} "
         f"/ {max(transitions) * 1000:.0f} ms (the fade is 100 ms)"),
        ("Frames dropped while a chip sale is in flight (card read, acquirer, slips)", f"{dropped:.0f} of "
         f"{total:.0f} (longest frame {longest * 1000:.0f} ms)"),
        ("Longest frame of the fade to the result screen (software rendering)", f"{switch * 1000:.0f} ms"),
    ]  # fmt: skip
    lines = [
        f"Touchscreen app, SDL offscreen, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, medians of {runs} runs",
        "",
        "| Figure | Result |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
