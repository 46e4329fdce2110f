"""The systemd units: `systemd-analyze verify` says nothing about them, and `systemd-analyze security` rates
each at 2.5 or less (OK/SAFE).

`verify` exits 0 even when it prints warnings, so any output fails. It also checks that ExecStart= names an
executable, and /opt/kioskpos/venv/bin/pos exists only on an installed Pi: the units are verified as installed,
in a root written by `kiosk/install.sh --dry-run --root`, beside a copy of this machine's own units (for
sysinit.target and friends) and a stand-in executable at the ExecStart path. The unit files are not changed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT, require_tool

UNITS = ("kioskpos.service", "kioskpos-settle.service", "kioskpos-settle.timer", "kioskpos-acquirer-sim.service")
SERVICES = tuple(u for u in UNITS if u.endswith(".service"))
MAX_EXPOSURE = 2.5
POS = "/opt/kioskpos/venv/bin/pos"


def directives(unit: str) -> dict[str, list[str]]:
    """Key -> every value it is given, in order (systemd lets a key repeat)."""
    found: dict[str, list[str]] = {}
    for raw in (ROOT / "systemd" / unit).read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def host_unit_dir() -> Path:
    for candidate in ("/usr/lib/systemd/system", "/lib/systemd/system"):
        if (Path(candidate) / "sysinit.target").exists():
            return Path(candidate)
    pytest.fail("systemd-analyze is installed but this machine's own units are not (no sysinit.target)")


@pytest.fixture(scope="module")
def installed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    analyze = require_tool("systemd-analyze", "systemd")
    assert analyze
    root = tmp_path_factory.mktemp("installed")
    subprocess.run(
        ["bash", str(ROOT / "kiosk/install.sh"), "--dry-run", "--root", str(root), "--settle-at", "22:45"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    units = host_unit_dir()
    shutil.copytree(units, root / units.relative_to("/"), symlinks=True)
    stand_in = root / POS.lstrip("/")
    stand_in.parent.mkdir(parents=True, exist_ok=True)
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", unit], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_prints_nothing(installed_root: Path, unit: str) -> None:
    assert (installed_root / "etc/systemd/system" / unit).read_bytes() == (ROOT / "systemd" / unit).read_bytes()
    done = verify(installed_root, unit)
    assert (done.returncode, done.stdout + done.stderr) == (0, ""), done.stdout + done.stderr


def test_the_timer_drop_in_is_read_and_sets_the_time(installed_root: Path) -> None:
    drop_in = installed_root / "etc/systemd/system/kioskpos-settle.timer.d/time.conf"
    good = drop_in.read_text()
    assert "OnCalendar=*-*-* 22:45:00" in good.splitlines()
    assert verify(installed_root, "kioskpos-settle.timer").stdout == ""
    drop_in.write_text(good.replace("22:45", "25:99"))  # verify reads the drop-in: a bad time is reported
    try:
        assert "Failed to parse calendar specification" in verify(installed_root, "kioskpos-settle.timer").stderr
    finally:
        drop_in.write_text(good)


def test_verify_would_catch_a_broken_unit(installed_root: Path, tmp_path: Path) -> None:
    """The check above can fail: a typo in the unit and a missing executable both print something."""
    unit_dir = installed_root / "etc/systemd/system"
    broken = unit_dir / "kioskpos-broken.service"
    broken.write_text((ROOT / "systemd/kioskpos.service").read_text().replace("Type=notify", "Type=notfy"))
    missing = unit_dir / "kioskpos-missing.service"
    missing.write_text((ROOT / "systemd/kioskpos.service").read_text().replace(POS, "/opt/nowhere/pos"))
    try:
        assert "Failed to parse service type" in verify(installed_root, broken.name).stderr
        assert "/opt/nowhere/pos" in verify(installed_root, missing.name).stderr
    finally:
        broken.unlink()
        missing.unlink()


def exposure(unit: str, threshold: int | None = None) -> tuple[float, int]:
    command = ["systemd-analyze", "security", "--offline=true", str(ROOT / "systemd" / unit)]
    if threshold is not None:
        command.insert(3, f"--threshold={threshold}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert match, done.stdout + done.stderr
    return float(match.group(1)), done.returncode


@pytest.mark.parametrize("unit", SERVICES)
def test_exposure_is_ok_or_safe(unit: str) -> None:
    require_tool("systemd-analyze", "systemd")
    # --threshold is on a scale ten times the displayed score (its default, 100, is the displayed 10.0).
    score, code = exposure(unit, threshold=int(MAX_EXPOSURE * 10))
    assert code == 0 and score <= MAX_EXPOSURE, f"{unit}: exposure {score}"


def test_the_threshold_gate_really_gates() -> None:
    """One step under the app's own score, the same command fails: the threshold's scale is what we think."""
    require_tool("systemd-analyze", "systemd")
    score, _ = exposure("kioskpos.service")
    assert exposure("kioskpos.service", threshold=round(score * 10))[1] == 0
    assert exposure("kioskpos.service", threshold=round(score * 10) - 1)[1] != 0


def test_the_app_unit_is_the_kiosk_service_the_app_expects() -> None:
    d = directives("kioskpos.service")
    assert d["ExecStart"] == [f"{POS} --config /etc/kioskpos/kioskpos.toml app"]
    assert (d["Type"], d["NotifyAccess"], d["Restart"]) == (["notify"], ["main"], ["always"])
    assert int(d["WatchdogSec"][0]) >= 10  # the app pings every WatchdogSec/2 from the UI's clock
    assert (d["User"], d["StateDirectory"], d["ConfigurationDirectory"]) == (["kioskpos"], ["kioskpos"], ["kioskpos"])
    assert "SDL_VIDEODRIVER=kmsdrm" in d["Environment"]
    assert set(d["SupplementaryGroups"][0].split()) >= {"video", "render", "input"}
    assert "getty@tty1.service" in " ".join(d["Conflicts"])
    assert "pcscd.socket" in " ".join(d["Wants"]) and "pcscd.socket" in " ".join(d["After"])
    assert d["CapabilityBoundingSet"] == [""] and d["DevicePolicy"] == ["closed"] and d["UMask"] == ["0077"]
    allowed = " ".join(d["DeviceAllow"])
    for device in ("char-drm", "char-input", "char-usb_device", "char-usb ", "char-ttyUSB", "char-ttyACM"):
        assert device in allowed + " ", device


@pytest.mark.parametrize("unit", SERVICES)
def test_every_service_is_hardened_the_same_way(unit: str) -> None:
    d = directives(unit)
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "ProtectClock": "yes",
        "ProtectHostname": "yes",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "SystemCallArchitectures": "native",
        "UMask": "0077",
        "User": "kioskpos",
    }.items():
        assert d.get(key) == [value], f"{unit}: {key}={d.get(key)}"
    assert "@system-service" in d["SystemCallFilter"]
    assert d["CapabilityBoundingSet"] == [""]
    assert d["MemoryDenyWriteExecute"] == ["no" if unit == "kioskpos.service" else "yes"]  # see deployment.md
