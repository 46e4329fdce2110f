"""python-escpos' capability cache: many processes importing escpos at once on an empty cache all start, a torn
pickle left by a crash is replaced, and no process leaves a temporary directory behind.

Each child imports what the app imports, but only after every child is up and waiting on its stdin: closing the
stdins together is the starting gun, so the imports really do overlap."""

from __future__ import annotations

import os
import pickle
import platform
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from tests.deploy.tools import ROOT

CHILDREN = 16
CHILD = """
import sys
print("ready", flush=True)
sys.stdin.read()
from app.devices.printing.render_escpos import render_escpos
import escpos.capabilities
assert escpos.capabilities.CAPABILITIES["profiles"]["default"]
print("imported", flush=True)
"""
GENEROUS_S = 120


def child_env(tmp_path: Path) -> dict[str, str]:
    """A private cache and temporary directory per test: what lands in either is this test's doing."""
    for name in ("cache", "tmp", "home"):
        (tmp_path / name).mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), TMPDIR=str(tmp_path / "tmp"), HOME=str(tmp_path / "home"))
    return env


def pickle_file(tmp_path: Path) -> Path:
    return tmp_path / "cache/kioskpos" / f"{platform.python_version()}.capabilities.pickle"


def stop_all(children: list[subprocess.Popen[str]]) -> None:
    for child in children:
        if child.poll() is None:
            child.kill()


def start_together(env: dict[str, str], count: int) -> list[subprocess.CompletedProcess[str]]:
    with ExitStack() as stack:
        children = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", CHILD],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                    env=env,
                )
            )
            for _ in range(count)
        ]
        stack.callback(stop_all, children)
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for child in children:  # the starting gun
            assert child.stdin is not None
            child.stdin.close()
            child.stdin = None  # communicate() must not flush it again
        done = []
        for child in children:
            out, err = child.communicate(timeout=GENEROUS_S)
            done.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
        return done


def test_many_processes_importing_escpos_together_on_an_empty_cache_all_start(tmp_path: Path) -> None:
    env = child_env(tmp_path)
    done = start_together(env, CHILDREN)
    failed = [d.stderr.strip().splitlines()[-1:] for d in done if d.returncode != 0 or d.stdout != "imported\n"]
    assert failed == []
    with pickle_file(tmp_path).open("rb") as cache:
        assert pickle.load(cache)["profiles"]["default"]  # noqa: S301 - the file this test made
    assert [p.name for p in (tmp_path / "cache/kioskpos").iterdir()] == [pickle_file(tmp_path).name]  # no leftovers
    assert list((tmp_path / "tmp").iterdir()) == []  # no /tmp/tmpXXXXXXXX per process


def test_a_torn_pickle_left_by_a_crash_is_replaced(tmp_path: Path) -> None:
    env = child_env(tmp_path)
    torn = pickle_file(tmp_path)
    torn.parent.mkdir(parents=True)
    torn.write_bytes(pickle.dumps({"profiles": {"default": {}}}, protocol=2)[:20])  # newer than the json: trusted
    [done] = start_together(env, 1)
    assert (done.returncode, done.stdout) == (0, "imported\n"), done.stderr
    with torn.open("rb") as cache:
        assert pickle.load(cache)["profiles"]["default"]  # noqa: S301 - the file this test made


def test_a_pos_command_leaves_no_temporary_directory(tmp_path: Path) -> None:
    env = child_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "cards"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=GENEROUS_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "tmp").iterdir()) == []
