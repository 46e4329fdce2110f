"""The screens. Each module here defines one `PosScreen` subclass (with its `screen_name`) and may have a kv file of
the same name in app/ui/kv/. They are found by looking, so adding a screen touches no shared list."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from kivy.lang import Builder

from app.ui.screens.base import PosScreen

KV_DIR = Path(__file__).resolve().parent.parent / "kv"


def discover() -> list[type[PosScreen]]:
    found: list[type[PosScreen]] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name == "base":
            continue
        kv = KV_DIR / f"{module_info.name}.kv"
        if kv.exists() and str(kv) not in Builder.files:
            Builder.load_file(str(kv))
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, PosScreen) and obj is not PosScreen and obj.screen_name
        ]
    names = [s.screen_name for s in found]
    if len(names) != len(set(names)):
        raise RuntimeError(f"two screens share a name: {sorted(names)}")
    return found
