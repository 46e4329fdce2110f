"""What the units' hardening takes away, imposed by hand on the real processes (no systemd runs here):

- MemoryDenyWriteExecute=yes on the settlement and simulator units: the same kernel rule (PR_SET_MDWE) on a
  simulator and a whole sign-in, sale and `settle --auto`. (The app's unit says no: under the same rule the
  headless app dies in Mesa's llvmpipe, which compiles shaders into writable+executable memory.)
- ProtectSystem=strict, PrivateTmp, ProcSubset=pid, ProtectProc=invisible, a HOME that does not exist, and only
  the state and cache directories writable: the app starts, says READY=1, feeds the watchdog, stops on SIGTERM.

Both need kernel features (Linux 6.3 for PR_SET_MDWE) or privileges (mount namespaces) that a CI runner may not
grant; each test says which when it skips."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT

PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
POS = [sys.executable, "-m", "app.cli.main"]
GENEROUS_S = 90.0


def _refuse_write_execute() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def mdwe_supported() -> bool:
    done = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_refuse_write_execute, check=False)
    return done.returncode == 0


def test_settlement_and_simulator_run_with_write_execute_memory_refused(tmp_path: Path) -> None:
    try:
        supported = mdwe_supported()
    except subprocess.SubprocessError:
        supported = False
    if not supported:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    sim = subprocess.Popen(
        [*POS, "acquirer-sim", "--data-dir", str(tmp_path / "sim")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=_refuse_write_execute,
    )
    try:
        assert sim.stdout is not None
        first = sim.stdout.readline()
        assert first.startswith("acquirer simulator on "), first + (sim.stderr.read() if sim.stderr else "")
        config = tmp_path / "sim/terminal.toml"
        env = {**os.environ, "POS_PIN": "0000"}
        for args in (["signin", "--operator", "01"], ["sale", "12.34"], ["settle", "--auto"]):
            done = subprocess.run(
                [*POS, "--config", str(config), *args],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=env,
                timeout=120,
                check=False,
                preexec_fn=_refuse_write_execute,
            )
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        assert "SETTLED" in done.stdout
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.communicate(timeout=30)


SANDBOX = """
set -e
mount --make-rprivate /
mount --bind "$1" /mnt
mkdir -p /mnt/repo
mount --bind "$2" /mnt/repo  # the checkout may itself live under /tmp, which goes private below
mount -o remount,bind,ro /mnt/repo  # as the app in /opt is
mount -o remount,bind,ro /
for m in $(findmnt -rn -o TARGET | grep -Ev '^/$|^/mnt|^/proc|^/dev|^/sys'); do
    mount -o remount,bind,ro "$m" 2>/dev/null || true
done
mount -t tmpfs tmpfs /tmp
mount -t proc -o subset=pid,hidepid=invisible proc /proc
if touch /etc/kioskpos-sandbox-check 2>/dev/null; then echo "the root is writable: no sandbox"; exit 3; fi
cd /mnt/repo
exec env HOME=/nonexistent XDG_CACHE_HOME=/mnt/cache KIOSKPOS_DEMO_DIR=/mnt/demo NOTIFY_SOCKET=/mnt/notify \
    WATCHDOG_USEC=1000000 "$3" -m app.cli.main app --headless
"""


def interpreter_inside() -> str:
    """The virtualenv's python as seen inside the sandbox, where the checkout is at /mnt/repo."""
    exe = Path(sys.executable)
    return f"/mnt/repo/{exe.relative_to(ROOT)}" if exe.is_relative_to(ROOT) else str(exe)


def test_the_app_runs_in_a_read_only_system_with_a_private_tmp_and_no_proc_files(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or not Path("/mnt").is_dir():
        pytest.skip("needs root, unshare and /mnt to build a mount namespace")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("mount namespaces are not allowed here")
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(str(tmp_path / "notify"))  # /mnt/notify inside: the same socket through the bind mount
    manager.settimeout(GENEROUS_S)
    err = tmp_path / "stderr"
    with open(err, "wb") as stderr:
        app = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", SANDBOX, "sandbox", str(tmp_path), str(ROOT), interpreter_inside()],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        heard: list[str] = []
        while "READY=1" not in "\n".join(heard) or sum(m == "WATCHDOG=1" for m in heard) < 2:
            try:
                heard.append(manager.recv(4096).decode())
            except TimeoutError:
                raise AssertionError(f"heard {heard}; stderr: {err.read_text()[-2000:]}") from None
        app.send_signal(signal.SIGTERM)
        assert app.wait(GENEROUS_S) == 0, err.read_text()[-2000:]
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        manager.close()
    assert (tmp_path / "cache/kioskpos").is_dir()  # the caches went where the unit's CacheDirectory= points
    assert (tmp_path / "demo/terminal/journal.sqlite").exists()
