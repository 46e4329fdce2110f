"""The real app in an SDL offscreen window, against the real acquirer simulator (HTTPS, mutual TLS)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace

from app.ui.kivy_env import design_scale  # imports no Kivy

# Kivy reads these when first imported, which is below.
os.environ["SDL_VIDEODRIVER"] = "offscreen"
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_LOG_MODE"] = "PYTHON"
os.environ["KIVY_USE_DEFAULTCONFIG"] = "1"  # never a developer's own ~/.kivy/config.ini
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kioskpos-kivy-"))
# One window per process, its size fixed when it opens: the 1280×800 screenshots come from a child process.
WIDTH, HEIGHT = (int(n) for n in os.environ.get("KIOSKPOS_UI_SIZE", "800x480").split("x"))
os.environ["KIVY_METRICS_DENSITY"] = str(design_scale((WIDTH, HEIGHT)))  # as the app's own start sets it

from kivy.config import Config  # noqa: E402

Config.set("graphics", "width", str(WIDTH))
Config.set("graphics", "height", str(HEIGHT))
for _option, _value in Config.items("input"):  # only the tests' own touches
    Config.remove_option("input", _option)

import pytest  # noqa: E402

from app.config import Settings  # noqa: E402
from tests.conftest import Rig  # noqa: E402
from tests.ui.driver import Driver  # noqa: E402


def ui_settings(rig: Rig, **ui: object) -> Settings:
    s = rig.settings
    return replace(
        s,
        printer=replace(s.printer, transport="preview"),  # demo mode's printer: pictures of the slips
        ui=replace(s.ui, **ui),  # type: ignore[arg-type]
    )


@pytest.fixture
def ui_rig(rig: Rig) -> Rig:
    """The engine tests' rig (tests/conftest.py); the app's settings come from ui_settings()."""
    return rig


@pytest.fixture
def ui(ui_rig: Rig) -> Iterator[Driver]:
    driver = Driver(ui_settings(ui_rig, language="en"))
    yield driver
    driver.close()
