"""Every word on screen, in English and 简体中文, switchable while the app runs.

Screens register their own strings (`add({...})`) next to their code; kv files write `app.tr("key", app.lang)`
so that changing `app.lang` redraws every label.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")
_STRINGS: dict[str, tuple[str, str]] = {}  # key -> (english, chinese)


def add(strings: dict[str, tuple[str, str]]) -> None:
    for key, pair in strings.items():
        if key in _STRINGS and _STRINGS[key] != pair:
            raise ValueError(f"string {key!r} is defined twice, differently")
        _STRINGS[key] = pair


def tr(key: str, lang: str, **values: object) -> str:
    english, chinese = _STRINGS.get(key, (key, key))
    text = chinese if lang == "zh" else english
    return text.format(**values) if values else text


def known(key: str) -> bool:
    return key in _STRINGS


add(
    {
        "app_name": ("KioskPOS", "KioskPOS 收银终端"),
        "ok": ("OK", "确定"),
        "cancel": ("Cancel", "取消"),
        "back": ("Back", "返回"),
        "confirm": ("Confirm", "确认"),
        "clear": ("Clear", "清除"),
        "retry": ("Try again", "重试"),
        "home": ("Home", "主页"),
        "working": ("Working…", "处理中…"),
        "training": ("TRAINING", "演示模式"),
        "operator_short": ("Operator {op}", "操作员 {op}"),
        "batch_short": ("Batch {batch}", "批次 {batch}"),
        "language_switch": ("中文", "English"),
        "error": ("Error", "错误"),
    }
)
