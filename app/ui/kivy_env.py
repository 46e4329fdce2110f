"""Kivy reads its environment and configuration when first imported: this sets both before that happens.

Call `prepare()` before importing anything from kivy in the app's process."""

from __future__ import annotations

import os
from pathlib import Path

SIZES = {"7inch": (800, 480), "touch-display-2": (1280, 800)}
DESIGNED_FOR = (800, 480)  # every dp in the kv files was chosen on the 7-inch screen


def design_scale(size: tuple[int, int]) -> float:
    """How much larger than the 7-inch screen this window is, as Kivy's metric density: a bigger display shows the
    same screens larger (readable from further away) rather than the same small buttons in a sea of space."""
    short, long = sorted(size)
    return round(min(short / DESIGNED_FOR[1], long / DESIGNED_FOR[0]), 2)


class NoScreen(RuntimeError):
    """Nothing to draw on: no X or Wayland display, no DRM device, no SDL driver chosen."""


def window_size(screen: str, rotation: int) -> tuple[int, int]:
    width, height = SIZES[screen]
    return (height, width) if rotation in (90, 270) else (width, height)


def check_screen() -> None:
    """SDL needs something to draw on; say which, in one line, rather than let it fail deep inside."""
    if os.environ.get("SDL_VIDEODRIVER") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    if any(Path("/dev/dri").glob("card*")):
        os.environ["SDL_VIDEODRIVER"] = "kmsdrm"  # the Pi's console, no desktop: draw straight to the screen
        return
    raise NoScreen(
        "no screen to open the app on (no DISPLAY, WAYLAND_DISPLAY or /dev/dri): "
        "run it on the Pi's screen or a desktop, or try: xvfb-run -a pos app"
    )


def prepare(
    home: Path, size: tuple[int, int], *, kiosk: bool, rotation: int = 0, headless: bool = False, touch: str = "sdl"
) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our command line is ours, not Kivy's
    os.environ.setdefault("KIVY_HOME", str(home))  # Kivy's own config and logs stay in the terminal's data
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # through our logging, with its PAN filter
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_METRICS_DENSITY", str(design_scale(size)))
    if headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    home.mkdir(parents=True, exist_ok=True)
    from kivy.config import Config  # must come after the environment is set

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "rotation", str(rotation))
    Config.set("graphics", "resizable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")  # no red dots from right clicks
    if touch != "sdl" and not headless:
        # Kivy reads the touchscreen itself (multi-touch); SDL's touch-as-mouse events would press every button
        # twice, so the mouse goes. select_all=0: only devices with multi-touch axes, never the swipe reader.
        Config.remove_option("input", "mouse")
        Config.set("input", "touchscreen", f"probesysfs,provider={touch},select_all=0")
    Config.set("kivy", "exit_on_escape", "0")  # Esc never leaves the app
    Config.set("kivy", "keyboard_mode", "system")
    if kiosk:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
        Config.set("graphics", "borderless", "1")
        for module, _value in Config.items("modules"):  # the inspector and friends: internals, not for a shop
            Config.remove_option("modules", module)
