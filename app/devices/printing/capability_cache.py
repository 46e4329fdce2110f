"""python-escpos' capability table, cached so that any number of processes can import escpos at once.

At import, escpos.capabilities loads `<dir>/<python>.capabilities.pickle` if it is newer than its
capabilities.json, and otherwise rewrites it in place (open "wb", then dump): a process importing while another
writes reads a torn file and dies with EOFError, and a torn file left by a crash kills every later start. It also
calls mkdtemp() for its default directory even when ESCPOS_CAPABILITIES_PICKLE_DIR is set, leaving an empty
directory in /tmp per process. `prepare` runs before anything imports escpos.capabilities: it leaves a whole,
fresh pickle in place (written beside, then renamed), so escpos only ever reads it, and it imports escpos with
that mkdtemp() pointed into a scratch directory it removes."""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import pickle
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

PICKLE_DIR_VARIABLE = "ESCPOS_CAPABILITIES_PICKLE_DIR"
_PROTOCOL = 2  # what escpos writes; any protocol loads


def prepare(default_dir: Path) -> None:
    if "escpos.capabilities" in sys.modules:
        return  # too late to change anything, and nothing left to protect
    pickle_dir = Path(os.environ.setdefault(PICKLE_DIR_VARIABLE, str(default_dir)))
    pickle_dir.mkdir(parents=True, exist_ok=True)
    source = _capabilities_json()
    if source is not None:
        _ensure_pickle(source, pickle_dir / f"{platform.python_version()}.capabilities.pickle")
    _import_without_stray_directory()


def _capabilities_json() -> Path | None:
    """The file escpos reads, or None when it is not a plain file (escpos then makes its own copy)."""
    override = os.environ.get("ESCPOS_CAPABILITIES_FILE")
    if override:
        return Path(override)
    packaged = importlib.resources.files("escpos") / "capabilities.json"
    return packaged if isinstance(packaged, Path) else None


def _ensure_pickle(source: Path, target: Path) -> None:
    if _is_whole_and_fresh(source, target):
        return
    with source.open(encoding="utf-8") as text:
        table = yaml.safe_load(text)  # as escpos parses it, so the cache holds exactly what escpos would
    fd, scratch = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            pickle.dump(table, out, protocol=_PROTOCOL)
        os.replace(scratch, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
        raise


def _is_whole_and_fresh(source: Path, target: Path) -> bool:
    try:
        if source.stat().st_mtime > target.stat().st_mtime:
            return False  # escpos would rewrite it in place: replace it first
        with target.open("rb") as cached:
            table: Any = pickle.load(cached)  # noqa: S301 - our own cache file, in our own cache directory
    except FileNotFoundError:
        return False
    except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        return False  # torn by a crash or by escpos itself: escpos would die on it at every start
    return isinstance(table, dict) and "profiles" in table


def _import_without_stray_directory() -> None:
    # In the system's temporary directory, where escpos' own mkdtemp() would go: the cache directory may be
    # read-only to this process (an inherited ESCPOS_CAPABILITIES_PICKLE_DIR) while its pickle is fine to read.
    scratch = tempfile.mkdtemp(prefix="kioskpos-escpos-")
    saved = tempfile.tempdir
    # Process-wide, but only for this import, which runs when the package is first imported: before the app
    # starts any thread that could make a temporary file of its own in the meantime.
    tempfile.tempdir = scratch  # escpos' unconditional mkdtemp() lands in here, and goes with it
    try:
        import escpos.capabilities  # noqa: F401
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(scratch, ignore_errors=True)
