"""The one error type of QR codes: one line a cashier can act on, in both languages at the source."""

from __future__ import annotations


class QrError(ValueError):
    """A code or payload that cannot be used. `str()` is the English line (logs, CLI); `zh` is the same line in
    简体中文 for the screen. Neither ever holds a payment code: at most its masked form."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh

    def words(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en
