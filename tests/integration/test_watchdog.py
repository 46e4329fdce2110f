"""The app under a service manager: `pos app --headless` as a real process, talking sd_notify to a socket the
test holds as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC), stopped with SIGTERM as `systemctl stop` does.

Also the scheduled settlement (`pos settle --auto`) beside the running app: it asks, the app settles."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.services.errors import PosError
from app.services.lock import TerminalLock
from app.system import settle_request
from tests.integration.cli_rig import POS, ROOT, SimProcess, pos, pos_json, wait_for

GENEROUS_S = 90.0  # a waiting limit, not a measurement: a slow CI machine starting Kivy and Mesa


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    process = SimProcess(tmp_path / "sim")
    yield process
    process.stop()


class FakeSystemd:
    """The service manager's end of NOTIFY_SOCKET: a unix datagram socket, as systemd binds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.heard: list[str] = []

    def wait_for(self, field: str, count: int = 1) -> None:
        """Read messages until `field` (like "READY=1") has come `count` times; fail after a generous wait."""
        self.sock.settimeout(GENEROUS_S)
        while sum(field in m.splitlines() for m in self.heard) < count:
            try:
                self.heard.append(self.sock.recv(4096).decode())
            except TimeoutError:
                raise AssertionError(f"no {field} x{count} from the app; heard {self.heard}") from None

    def close(self) -> None:
        self.sock.close()


class AppProcess:
    """`pos app --headless` with stderr in a file that JOURNAL_STREAM names, as systemd names its journal stream."""

    def __init__(self, config: Path, tmp: Path, env: dict[str, str]) -> None:
        self.stderr_path = tmp / "app.stderr"
        with open(self.stderr_path, "wb") as stderr:
            st = os.fstat(stderr.fileno())
            journal = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
            self.proc = subprocess.Popen(
                [*POS, "--config", str(config), "app", "--headless"],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, **journal, **env},
                cwd=ROOT,
            )

    @property
    def log(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(GENEROUS_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the app ignored SIGTERM: {self.log[-2000:]}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    manager = FakeSystemd(tmp_path / "notify.sock")
    yield manager
    manager.close()


def start_app(sim: SimProcess, tmp_path: Path, systemd: FakeSystemd, watchdog_usec: int = 1_000_000) -> AppProcess:
    env = {"NOTIFY_SOCKET": str(systemd.path), "WATCHDOG_USEC": str(watchdog_usec), "WATCHDOG_PID": ""}
    return AppProcess(sim.config, tmp_path, env)


def terminal_lock_is_free(data_dir: Path) -> bool:
    try:
        TerminalLock(data_dir).release()
    except PosError:
        return False
    return True


def test_app_says_ready_feeds_the_watchdog_and_stops_cleanly_on_sigterm(
    sim: SimProcess, tmp_path: Path, systemd: FakeSystemd
) -> None:
    app = start_app(sim, tmp_path, systemd)
    try:
        systemd.wait_for("READY=1")
        ready = next(m for m in systemd.heard if "READY=1" in m.splitlines())
        assert "STATUS=showing the signin screen" in ready.splitlines()  # the first screen, after the engine
        assert not terminal_lock_is_free(sim.data_dir / "terminal")  # the engine holds the terminal
        pings_before_ready = sum("WATCHDOG=1" in m.splitlines() for m in systemd.heard)
        systemd.wait_for("WATCHDOG=1", pings_before_ready + 2)  # two more pings after READY
        code = app.stop()
    finally:
        app.kill()
    assert code == 0, app.log[-2000:]
    systemd.wait_for("STOPPING=1")
    assert terminal_lock_is_free(sim.data_dir / "terminal")  # the engine closed the journal and let go


def test_no_notify_socket_means_no_notifications_and_the_app_still_runs(sim: SimProcess, tmp_path: Path) -> None:
    """Outside systemd the notifier is a no-op: the app starts, holds the terminal, and stops on SIGTERM."""
    env = {"NOTIFY_SOCKET": "", "WATCHDOG_USEC": ""}
    app = AppProcess(sim.config, tmp_path, env)
    try:
        wait_for(lambda: not terminal_lock_is_free(sim.data_dir / "terminal"), GENEROUS_S)
        code = app.stop()
    finally:
        app.kill()
    assert code == 0, app.log[-2000:]


def test_scheduled_settlement_is_asked_of_the_running_app_which_settles_when_idle(
    sim: SimProcess, tmp_path: Path, systemd: FakeSystemd
) -> None:
    pin = {"POS_PIN": "0000"}
    assert pos(sim.config, "signin", "--operator", "01", env=pin).returncode == 0
    assert pos(sim.config, "sale", "12.34").returncode == 0
    app = start_app(sim, tmp_path, systemd)
    try:
        systemd.wait_for("READY=1")  # signed in already: the app opens at home, idle
        code, asked = pos_json(sim.config, "settle", "--auto")
        assert (code, asked["status"], asked["batch"]) == (0, "requested", 1)

        def batch() -> int:
            _code, status = pos_json(sim.config, "status")
            return int(status["batch"])

        wait_for(lambda: batch() == 2, GENEROUS_S)  # the app settled batch 1; the next one is open
        assert not (sim.data_dir / "terminal" / "settle.request").exists()
        assert app.stop() == 0
    finally:
        app.kill()
    # With the app stopped, the timer's command settles by itself (the lock is free).
    code, settled = pos_json(sim.config, "settle", "--auto")
    assert (code, settled["status"], settled["batch"]) == (0, "settled", 2)


def test_a_request_for_a_batch_closed_meanwhile_is_dropped(
    sim: SimProcess, tmp_path: Path, systemd: FakeSystemd
) -> None:
    """The request names its batch: closed by hand before the app got to it, nothing more is settled."""
    assert pos(sim.config, "signin", "--operator", "01", env={"POS_PIN": "0000"}).returncode == 0
    data_dir = sim.data_dir / "terminal"
    settle_request.leave(data_dir, 1, datetime.now(UTC))  # asked while the app was down...
    assert pos(sim.config, "settle").returncode == 0  # ...then settled by hand: batch 2 is open
    app = start_app(sim, tmp_path, systemd)
    try:
        systemd.wait_for("READY=1")
        wait_for(lambda: not settle_request.pending(data_dir), GENEROUS_S)
        assert app.stop() == 0
    finally:
        app.kill()
    _code, status = pos_json(sim.config, "status")
    assert status["batch"] == 2  # batch 2 was not settled on the strength of a request for batch 1
    assert "<6>app.ui.autosettle: scheduled settlement of batch 000001" in app.log
    assert "that batch is already closed" in app.log
