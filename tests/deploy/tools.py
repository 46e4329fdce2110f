"""The deployment checks need shellcheck and systemd-analyze, which `make setup` installs from apt.

In CI a missing tool fails the test: a check that quietly skips is a check that is not there. Only on a
developer's machine without CI set may it skip, saying what to install."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed (apt-get install {package}; `make setup` does it as root)"
    if in_ci():
        pytest.fail(f"CI: {message}")
    pytest.skip(message)
