"""pcscd with vsmartcard's vpcd driver, for tests against the real PC/SC stack.

Import the fixture into a test module (`from tests.rigs.pcsc import pcscd`) and use it, e.g. with
`pytestmark = pytest.mark.usefixtures("pcscd")`. The session fixture reuses a pcscd that already serves
/run/pcscd/pcscd.comm, or starts `pcscd -f` itself (and stops it at the end). Debian's default configuration gives
two virtual readers whose cards connect over TCP: "Virtual PCD 00 00" on 35963 and "Virtual PCD 00 01" on 35964.
A missing pcscd or vpcd is a failure, never a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from smartcard import scard

READER = "Virtual PCD 00 00"
READER_2 = "Virtual PCD 00 01"
PORT = 35963
PORT_2 = 35964
SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
INSTALL_HINT = "apt-get install pcscd vsmartcard-vpcd (`make setup` does it when run as root)"


def pcscd_binary() -> str:
    found = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"pcscd is not installed: {INSTALL_HINT}", pytrace=False)
    if not VPCD_DRIVER.exists():
        pytest.fail(f"the vpcd reader driver is not installed ({VPCD_DRIVER}): {INSTALL_HINT}", pytrace=False)
    return found


def served() -> bool:
    """Whether a pcscd answers on its socket (a socket file left by a dead pcscd refuses the connection)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(SOCKET))
        except OSError:
            return False
    return True


def readers() -> list[str]:
    rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rv != scard.SCARD_S_SUCCESS:
        return []
    try:
        rv, names = scard.SCardListReaders(context, [])
        return [str(n) for n in names] if rv == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)


class Pcscd:
    """The pcscd the tests use; `owned` when this rig started it (only then may it stop or restart it)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.gettempdir()) / "kioskpos-test-pcscd.log"

    @property
    def owned(self) -> bool:
        return self.process is not None

    def start(self) -> None:
        binary = pcscd_binary()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([binary, "-f"], stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"pcscd exited with status {self.process.returncode}:\n{self._log_tail()}", pytrace=False)
            if READER in readers():
                return
            time.sleep(0.05)
        pytest.fail(f"pcscd did not list {READER!r} within {timeout_s:.0f} s:\n{self._log_tail()}", pytrace=False)

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        """Stop pcscd and start it again, as a package upgrade or a crash + restart would."""
        if not self.owned:
            pytest.fail("restarting pcscd needs the rig's own pcscd: stop the running one", pytrace=False)
        self.stop()
        self.start()

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no pcscd log)"


# One rig per test process, however many test modules import the fixture (each import is its own FixtureDef).
_RIG: Pcscd | None = None
_USERS = 0


def rig() -> Pcscd:
    """The running rig (for tests that restart pcscd); only valid inside a test that uses the fixture."""
    assert _RIG is not None, "use the pcscd fixture first"
    return _RIG


@pytest.fixture(scope="session")
def pcscd() -> Iterator[Pcscd]:
    global _RIG, _USERS
    pcscd_binary()
    if _RIG is None:
        running = Pcscd()
        if served():
            running.wait_ready()
        else:
            running.start()
        _RIG = running
    _USERS += 1
    try:
        yield _RIG
    finally:
        _USERS -= 1
        if _USERS == 0:
            _RIG.stop()
            _RIG = None
