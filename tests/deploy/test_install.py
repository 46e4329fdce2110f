"""kiosk/install.sh: shellcheck-clean, and its dry run into a scratch root writes the kiosk's files (units, udev
rules, configuration, secrets at 0600) and nothing else, runs no command, and changes nothing the second time.

A tripwire PATH holds stand-ins for every command a dry run must only print (apt-get, useradd, systemctl...):
each records that it was called, so "it ran nothing" is checked, not assumed."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from app.config import load_settings
from tests.deploy.tools import ROOT, require_tool
from tests.integration.cli_rig import SimProcess, pos

INSTALL = ROOT / "kiosk/install.sh"
CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait quiet"
FORBIDDEN = (
    "apt-get", "apt", "dpkg-query", "useradd", "usermod", "userdel", "groupadd", "systemctl", "udevadm",
    "runuser", "chown", "python3", "pip", "pip3", "modprobe",
)  # fmt: skip
WRITING = re.compile(r"^(write|create|mkdir|remove)\s", re.MULTILINE)


@pytest.fixture
def tripwire(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "tripwire"
    bin_dir.mkdir()
    for name in FORBIDDEN:
        stand_in = bin_dir / name
        stand_in.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/ran"\nexit 1\n')
        stand_in.chmod(0o755)
    return tmp_path / "ran"


def install(root: Path | None, *args: str, tripwire: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if tripwire is not None:
        env["PATH"] = f"{tripwire.parent / 'tripwire'}:{env['PATH']}"
    command = ["bash", str(INSTALL), "--dry-run", *(["--root", str(root)] if root else []), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def pi_root(tmp_path: Path, cmdline: str = CMDLINE) -> Path:
    root = tmp_path / "root"
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/cmdline.txt").write_text(cmdline + "\n")
    return root


def snapshot(root: Path) -> dict[str, tuple[int, str, int]]:
    """Every file and directory under root: mode, content digest, modification time."""
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[str(path.relative_to(root))] = (st.st_mode, digest, st.st_mtime_ns)
    return found


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


# -- shellcheck --------------------------------------------------------------------------------------------------


def scripts() -> list[Path]:
    return sorted(
        p for p in (ROOT / "kiosk").rglob("*") if p.is_file() and (p.suffix == ".sh" or p.read_bytes()[:2] == b"#!")
    )


def test_there_are_scripts_to_check() -> None:
    assert {p.name for p in scripts()} >= {"install.sh", "kioskpos-cli.sh"}


@pytest.mark.parametrize("script", scripts(), ids=lambda p: p.name)
def test_shellcheck_is_clean(script: Path) -> None:
    require_tool("shellcheck", "shellcheck")
    done = subprocess.run(["shellcheck", "-x", str(script)], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout + done.stderr) == (0, ""), done.stdout


# -- the dry run ---------------------------------------------------------------------------------------------------


def test_dry_run_writes_the_kiosk_files_under_root_and_runs_nothing(tmp_path: Path, tripwire: Path) -> None:
    root = pi_root(tmp_path)
    done = install(root, tripwire=tripwire)
    assert done.returncode == 0, done.stderr
    assert not tripwire.exists(), tripwire.read_text()  # apt, useradd, systemctl...: printed, never run
    for command in ("apt-get install", "useradd --system", "systemctl enable kioskpos.service",
                    "systemctl disable getty@tty1.service", "pip install"):  # fmt: skip
        assert f"run       {command}" in done.stdout or command in done.stdout, command

    units = root / "etc/systemd/system"
    for unit in (
        "kioskpos.service",
        "kioskpos-settle.service",
        "kioskpos-settle.timer",
        "kioskpos-acquirer-sim.service",
    ):
        assert (units / unit).read_bytes() == (ROOT / "systemd" / unit).read_bytes()
        assert mode(units / unit) == 0o644
    rules = root / "etc/udev/rules.d/70-kioskpos.rules"
    assert rules.read_bytes() == (ROOT / "kiosk/udev/70-kioskpos.rules").read_bytes()
    for usb_id in ("0416", "04b8", "0fe6", "1fc9", "04cc", "072f", "054c"):
        assert f'ATTR{{idVendor}}=="{usb_id}"' in rules.read_text()
    assert mode(root / "usr/local/bin/kioskpos") == 0o755

    conf = root / "etc/kioskpos"
    assert mode(conf) == 0o750 and mode(conf / "secrets") == 0o700 and mode(root / "var/lib/kioskpos") == 0o700
    assert mode(conf / "kioskpos.toml") == 0o640
    for name in ("master.key", "token.key"):
        secret = conf / "secrets" / name
        assert mode(secret) == 0o600
        assert re.fullmatch(r"[0-9a-f]{64}\n", secret.read_text())
        assert f"run       chown kioskpos:kioskpos /etc/kioskpos/secrets/{name}" in done.stdout
    assert (conf / "secrets/master.key").read_text() != (conf / "secrets/token.key").read_text()

    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline == CMDLINE + " consoleblank=0\n"
    # Nothing outside the kiosk's own paths.
    written = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert written == {
        "boot/firmware/cmdline.txt",
        "etc/kioskpos/kioskpos.toml",
        "etc/kioskpos/secrets/master.key",
        "etc/kioskpos/secrets/token.key",
        "etc/modprobe.d/kioskpos-nfc.conf",
        "etc/modules-load.d/kioskpos.conf",
        "etc/systemd/system/kioskpos-acquirer-sim.service",
        "etc/systemd/system/kioskpos-settle.service",
        "etc/systemd/system/kioskpos-settle.timer",
        "etc/systemd/system/kioskpos.service",
        "etc/udev/rules.d/70-kioskpos.rules",
        "usr/local/bin/kioskpos",
    }


def test_running_it_twice_changes_nothing_the_second_time(tmp_path: Path, tripwire: Path) -> None:
    root = pi_root(tmp_path)
    args = ("--settle-at", "22:45", "--rotation", "90")
    assert install(root, *args, tripwire=tripwire).returncode == 0
    before = snapshot(root)
    again = install(root, *args, tripwire=tripwire)
    assert again.returncode == 0, again.stderr
    assert snapshot(root) == before  # same files, modes, contents and modification times
    assert WRITING.findall(again.stdout) == [], again.stdout
    assert "systemctl daemon-reload" not in again.stdout  # nothing changed, nothing to reload
    assert (root / "boot/firmware/cmdline.txt").read_text().count("consoleblank") == 1
    assert not tripwire.exists()


def test_an_existing_configuration_and_secrets_are_never_overwritten(tmp_path: Path) -> None:
    root = pi_root(tmp_path)
    conf = root / "etc/kioskpos"
    (conf / "secrets").mkdir(parents=True)
    (conf / "kioskpos.toml").write_text("# the shop's own\n")
    (conf / "secrets/master.key").write_text("00" * 16 + "\n")
    done = install(root, "--rotation", "270", "--training")
    assert done.returncode == 0, done.stderr
    assert (conf / "kioskpos.toml").read_text() == "# the shop's own\n"
    assert (conf / "secrets/master.key").read_text() == "00" * 16 + "\n"
    assert "keep      /etc/kioskpos/kioskpos.toml" in done.stdout
    assert "keep      /etc/kioskpos/secrets/master.key" in done.stdout
    assert (conf / "secrets/token.key").exists()  # the missing one is made


def test_a_console_blanking_already_set_is_replaced_once(tmp_path: Path) -> None:
    root = pi_root(tmp_path, CMDLINE + " consoleblank=600 splash")
    assert install(root).returncode == 0
    assert (root / "boot/firmware/cmdline.txt").read_text() == CMDLINE + " splash consoleblank=0\n"


def test_no_cmdline_means_not_a_pi_and_is_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "root"
    done = install(root)
    assert done.returncode == 0 and "skip      no /boot/firmware/cmdline.txt" in done.stdout
    assert not (root / "boot").exists()


# -- the configuration it writes -----------------------------------------------------------------------------------


def config_keys() -> set[str]:
    """Every key app/config.py reads: each is taken by a `<section>.get("key", ...)` call."""
    source = (ROOT / "app/config.py").read_text()
    return set(re.findall(r'\b[a-z]+\.get\(\s*"([a-z_]+)"', source))


def test_the_example_documents_every_configuration_key() -> None:
    keys = config_keys()
    assert {"terminal_id", "master_key_file", "chip_reader", "usb_vendor", "rotation", "touch", "level"} <= keys
    text = (ROOT / "kiosk/kioskpos.toml.example").read_text()
    undocumented = sorted(k for k in keys if not re.search(rf"^#? ?{k} +=", text, re.MULTILINE))
    assert undocumented == []


def test_the_written_configuration_loads_with_the_screen_options(tmp_path: Path) -> None:
    root = pi_root(tmp_path)
    done = install(root, "--screen", "touch-display-2", "--rotation", "90", "--touch", "hidinput")
    assert done.returncode == 0, done.stderr
    conf = root / "etc/kioskpos"
    for placeholder in ("pki/ca.pem", "pki/client.pem", "pki/client.key"):  # what the shop's acquirer provides
        (conf / placeholder).write_text("placeholder\n")
    settings = load_settings(conf / "kioskpos.toml")  # every key checked; an unknown one is refused
    assert (settings.ui.screen, settings.ui.rotation, settings.ui.touch) == ("touch-display-2", 90, "hidinput")
    assert settings.terminal.data_dir == Path("/var/lib/kioskpos") and not settings.terminal.training
    assert settings.secrets.master_key == bytes.fromhex((conf / "secrets/master.key").read_text())
    assert settings.seed_demo_accounts is False


def test_the_training_configuration_works_with_the_simulator(tmp_path: Path) -> None:
    """The training template names the files the simulator writes and the port its unit gives it."""
    root = pi_root(tmp_path)
    assert install(root, "--training").returncode == 0
    sim_unit = (ROOT / "systemd/kioskpos-acquirer-sim.service").read_text()
    assert "--data-dir /var/lib/kioskpos-sim --port 8443" in sim_unit
    written = (root / "etc/kioskpos/kioskpos.toml").read_text()
    assert 'url = "https://127.0.0.1:8443"' in written
    sim = SimProcess(tmp_path / "sim")
    try:
        config = root / "etc/kioskpos/kioskpos.toml"
        config.write_text(
            written.replace("/var/lib/kioskpos-sim", str(sim.data_dir))
            .replace("https://127.0.0.1:8443", sim.url)
            .replace('"/var/lib/kioskpos"', f'"{tmp_path / "data"}"')
        )
        assert pos(config, "signin", "--operator", "01", env={"POS_PIN": "0000"}).returncode == 0
        sale = pos(config, "sale", "12.34")
        assert sale.returncode == 0, sale.stdout + sale.stderr
    finally:
        sim.stop()


# -- uninstall and bad input ----------------------------------------------------------------------------------------


def test_uninstall_keeps_the_journal_and_configuration_unless_purged(tmp_path: Path, tripwire: Path) -> None:
    root = pi_root(tmp_path)
    assert install(root, "--settle-at", "23:00").returncode == 0
    (root / "var/lib/kioskpos/journal.sqlite").write_text("the shop's money records")
    done = install(root, "--uninstall", tripwire=tripwire)
    assert done.returncode == 0, done.stderr
    assert not tripwire.exists()
    assert not (root / "etc/systemd/system/kioskpos.service").exists()
    assert not (root / "etc/systemd/system/kioskpos-settle.timer.d").exists()
    assert not (root / "etc/udev/rules.d/70-kioskpos.rules").exists()
    assert not (root / "usr/local/bin/kioskpos").exists()
    assert (root / "var/lib/kioskpos/journal.sqlite").exists() and (root / "etc/kioskpos/kioskpos.toml").exists()
    assert "run       systemctl enable getty@tty1.service" in done.stdout
    purged = install(root, "--uninstall", "--purge", tripwire=tripwire)
    assert purged.returncode == 0, purged.stderr
    assert not (root / "var/lib/kioskpos").exists() and not (root / "etc/kioskpos").exists()
    assert "run       userdel kioskpos" in purged.stdout


def test_settle_at_off_removes_the_schedule(tmp_path: Path) -> None:
    root = pi_root(tmp_path)
    assert install(root, "--settle-at", "23:00").returncode == 0
    assert (root / "etc/systemd/system/kioskpos-settle.timer.d/time.conf").exists()
    done = install(root, "--settle-at", "off")
    assert done.returncode == 0
    assert not (root / "etc/systemd/system/kioskpos-settle.timer.d/time.conf").exists()
    assert "systemctl disable kioskpos-settle.timer" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rotation", "45"], "--rotation must be 0, 90, 180 or 270"),
        (["--settle-at", "24:00"], "--settle-at must be HH:MM"),
        (["--touch", "wacom"], "--touch must be mtdev, hidinput or sdl"),
        (["--purge"], "--purge goes with --uninstall"),
        (["--frobnicate"], "unknown option --frobnicate"),
    ],
)
def test_bad_options_get_one_line_and_change_nothing(tmp_path: Path, args: list[str], says: str) -> None:
    root = pi_root(tmp_path)
    before = snapshot(root)
    done = install(root, *args)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and says in done.stderr
    assert done.stdout == "" and snapshot(root) == before


def test_root_without_dry_run_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(INSTALL), "--root", str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (1, "install.sh: --root is only for --dry-run\n")
