"""kiosk/install.sh for real, as root, in a root where systemd and udevd are not running: what preparing a Pi
image or a chroot looks like. The installer writes and enables everything, builds the venv, says `skip` for each
step that needs the running daemons (they happen at the first boot), and exits 0; a second run changes nothing.
A pip step that cannot get what it needs stops the installer there, instead of looking like success.

The root is an overlay of this machine's / with a private tmpfs on top, inside a private mount namespace: the
installer's writes (users, units, /opt/kioskpos) land in the tmpfs and vanish with the namespace, whatever
happens. The script copies out what the test inspects before it ends."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT

INSTALL = ROOT / "kiosk/install.sh"
GENEROUS_S = 600
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# $1 the layers' directory, $2 where to copy results, then the environment lines for the installer's runs.
NAMESPACE = r"""
set -eu
layers=$1 out=$2 runs=$3
mount --make-rprivate /
mount -t tmpfs tmpfs "$layers"
mkdir "$layers/upper" "$layers/work" "$layers/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$layers/upper,workdir=$layers/work" "$layers/root"
for m in proc dev sys; do mount --rbind "/$m" "$layers/root/$m"; done
mount -t tmpfs tmpfs "$layers/root/run"  # an empty /run, as in an image: no systemd or udevd, even if the host has them
n=0
while IFS= read -r environment; do
    n=$((n + 1))
    rc=0
    # shellcheck disable=SC2086 # the environment line is words on purpose
    chroot "$layers/root" env -i $environment bash "$INSTALL" >"$out/$n.out" 2>"$out/$n.err" || rc=$?
    echo "$rc" >"$out/$n.rc"
done <"$runs"
mkdir "$out/upper"
for keep in etc/systemd/system etc/kioskpos opt/kioskpos/venv/.kioskpos-source; do
    if [ -e "$layers/upper/$keep" ]; then
        mkdir -p "$out/upper/$(dirname "$keep")"
        cp -a "$layers/upper/$keep" "$out/upper/$keep"
    fi
done
chroot "$layers/root" getent passwd kioskpos >"$out/user" || true
"""


def offline_root_available() -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("chroot") is None:
        pytest.skip("needs root, unshare and chroot to build a private overlay root")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("mount namespaces are not allowed here")


def install_in_offline_root(tmp_path: Path, *environments: str, install: Path = INSTALL) -> list[tuple[int, str, str]]:
    """Run the installer once per environment line, in one overlay root; (status, stdout, stderr) of each run."""
    offline_root_available()
    (tmp_path / "layers").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "runs").write_text("".join(f"PATH={PATH} {e}\n" for e in environments))
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", NAMESPACE, "namespace", str(tmp_path / "layers"), str(tmp_path / "out"),
         str(tmp_path / "runs")],
        env={**os.environ, "INSTALL": str(install)},
        capture_output=True,
        text=True,
        timeout=GENEROUS_S,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    return [
        (int((out / f"{n}.rc").read_text()), (out / f"{n}.out").read_text(), (out / f"{n}.err").read_text())
        for n in range(1, len(environments) + 1)
    ]


def test_install_into_a_root_without_systemd_finishes_and_leaves_the_live_steps_to_the_boot(tmp_path: Path) -> None:
    [(status, out, err), (again, out2, err2)] = install_in_offline_root(tmp_path, "", "")
    assert status == 0, out[-3000:] + err[-3000:]
    for skipped in (
        "skip      systemctl daemon-reload (systemd is not running here: done at the next boot)",
        "skip      udevadm control --reload (udevd is not running here: done at the next boot)",
        "skip      udevadm trigger --subsystem-match=usb",
        "skip      starting the services (systemd is not running here",
    ):
        assert skipped in out, out
    assert "run       systemctl enable kioskpos.service" in out
    assert "checked   /opt/kioskpos/venv: the app and all its data files" in out
    upper = tmp_path / "out/upper"
    wants = upper / "etc/systemd/system/multi-user.target.wants/kioskpos.service"
    assert os.readlink(wants) == "/etc/systemd/system/kioskpos.service"  # enabled offline: starts at first boot
    assert (upper / "opt/kioskpos/venv/.kioskpos-source").is_file()
    assert (upper / "etc/kioskpos/kioskpos.toml").is_file()
    assert (tmp_path / "out/user").read_text().startswith("kioskpos:")
    # Again: nothing to do, nothing to reload.
    assert again == 0, out2[-3000:] + err2[-3000:]
    assert "same      /opt/kioskpos/venv" in out2 and "daemon-reload" not in out2, out2


def test_a_pip_step_that_cannot_reach_the_index_stops_the_installer(tmp_path: Path) -> None:
    unreachable = "PIP_CONFIG_FILE=/dev/null PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_TIMEOUT=5"
    [(status, out, err)] = install_in_offline_root(tmp_path, unreachable)
    assert status != 0, out
    assert "pip==26.3" in err, err  # pip's own word on what it could not get
    ran = [line for line in out.splitlines() if line.startswith("run ")]
    assert ran[-1].endswith("pip install --quiet --no-cache-dir pip==26.3"), out  # the failed step is the last
    assert not any(line.endswith(f"--no-cache-dir {ROOT}") for line in ran), out  # nothing after it was tried
    assert not (tmp_path / "out/upper/opt/kioskpos/venv/.kioskpos-source").exists()


def test_an_installed_app_missing_a_data_file_stops_the_installer_before_the_stamp(tmp_path: Path) -> None:
    """A checkout whose package data leaves out the kv files, as it once did: pip says nothing, the installer does."""
    source = tmp_path / "checkout"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
    for name in listed.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pyproject = source / "pyproject.toml"
    data = '"*" = ["*.md", "*.toml", "*.pem", "*.kv"]'
    assert data in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(data, '"*" = ["*.md", "*.toml", "*.pem"]'))
    [(status, out, err)] = install_in_offline_root(tmp_path, "", install=source / "kiosk/install.sh")
    assert status == 1, out
    assert err.splitlines()[-1].startswith("install.sh: the installed app lacks 18 file(s) of "), err[-2000:]
    assert "stamp " not in out and not (tmp_path / "out/upper/opt/kioskpos/venv/.kioskpos-source").exists()
