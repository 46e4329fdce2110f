"""The wheel the kiosk installer builds: every file the package ships besides Python is in it, and the app starts
from a non-editable install of it in a fresh virtualenv, far from this checkout.

`make setup`'s editable install reads kv, toml and pem files straight from the checkout, so only a real wheel in
a real venv shows what /opt/kioskpos/venv on a Pi would lack. The wheel is built from a copy of the tracked files,
so a stale build/ directory in the checkout can neither hide nor add anything. Dependencies come from the same
index (and pip cache) `make setup` uses."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT

GENEROUS_S = 300.0


def shipped_data() -> set[str]:
    """Every tracked file under app/ that is not Python: what the package reads at run time."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "app"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return {name for name in listed.split("\0") if name and not name.endswith(".py")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the fresh venv with it installed)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
    for name in listed.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist"), str(source)], cwd=work)
    [wheel] = (work / "dist").glob("kioskpos-*.whl")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=work)
    return wheel, venv


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=GENEROUS_S, check=False)
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])


def test_the_package_has_data_files_to_check() -> None:
    assert {"app/ui/kv/widgets.kv", "app/emv/capk_test.toml"} <= shipped_data()


def test_every_non_python_file_of_the_package_is_in_the_wheel(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
    assert sorted(shipped_data() - inside) == []


def test_every_non_python_file_is_installed_where_the_app_looks(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, venv = installed
    where = subprocess.run(
        [str(venv / "bin/python"), "-I", "-c", "import app, pathlib; print(pathlib.Path(app.__file__).parent)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=GENEROUS_S,
        check=True,
    ).stdout.strip()
    package = Path(where)
    assert package.is_relative_to(venv), package  # the installed copy, not this checkout
    assert sorted(n for n in shipped_data() if not (package.parent / n).is_file()) == []


def wait_for_ready(manager: socket.socket, app: subprocess.Popen[bytes], err: Path) -> None:
    """Until the app says READY=1, or exits without saying it: whichever comes first."""
    heard: list[str] = []
    exited = os.pidfd_open(app.pid)
    try:
        with selectors.DefaultSelector() as events:
            events.register(manager, selectors.EVENT_READ)
            events.register(exited, selectors.EVENT_READ)
            while not any("READY=1" in message.split("\n") for message in heard):
                ready = [key.fileobj for key, _ in events.select(GENEROUS_S)]
                if manager in ready:
                    heard.append(manager.recv(4096).decode())
                elif ready == [] or exited in ready:
                    raise AssertionError(f"exit {app.poll()}, heard {heard}; stderr: {err.read_text()[-2000:]}")
    finally:
        os.close(exited)


def test_the_installed_app_starts_headless_and_stops_cleanly(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """What kioskpos.service does: start, say READY=1 to systemd, stop on SIGTERM with status 0."""
    _, venv = installed
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(str(tmp_path / "notify"))
    for name in ("home", "cache", "tmp"):
        (tmp_path / name).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "ESCPOS_", "KIVY_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        TMPDIR=str(tmp_path / "tmp"),
        KIOSKPOS_DEMO_DIR=str(tmp_path / "demo"),
        NOTIFY_SOCKET=str(tmp_path / "notify"),
    )
    err = tmp_path / "stderr"
    with open(err, "wb") as stderr:
        app = subprocess.Popen(
            [str(venv / "bin/pos"), "app", "--headless"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_ready(manager, app, err)
        app.send_signal(signal.SIGTERM)
        assert app.wait(GENEROUS_S) == 0, err.read_text()[-2000:]
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        manager.close()
    assert "Traceback" not in err.read_text() and "internal error" not in err.read_text(), err.read_text()[-2000:]
    assert (tmp_path / "demo/terminal/journal.sqlite").exists()
    assert list((tmp_path / "tmp").iterdir()) == []  # no stray temporary directories
