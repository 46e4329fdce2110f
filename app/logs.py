"""Logging with card numbers masked: any run of 13-19 digits keeps its first 6 and last 4, whatever logged it."""

from __future__ import annotations

import logging
import os
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.errors import UserFacingError
from app.system.journald import JournalFormatter, stderr_is_journal

_PAN = re.compile(r"(?<!\d)(\d{6})(\d{3,9})(\d{4})(?!\d)")
_TRACK2 = re.compile(r"(?<![\dA-Fa-f])(\d{12,19})[=D](\d{4,})", re.IGNORECASE)


def mask_digits(text: str) -> str:
    text = _TRACK2.sub(lambda m: f"{m.group(1)}=<track data removed>", text)
    return _PAN.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class PanMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            # A traceback is formatted from exc_info later, unmasked: fold a masked copy into the message instead.
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = mask_digits(message), None
        return True


class LogFileError(UserFacingError):
    """The configured log file cannot be written."""


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """Card numbers are masked, but operators and amounts are still the shop's business: each file it opens
    (the first, and the new one after every rotation) is the owner's only, whatever the process umask."""

    def _open(self):  # type: ignore[no-untyped-def]  # typeshed leaves the stream type to the subclass
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)  # a log left 0644 by an older version is tightened too
        finally:
            os.close(fd)
        return super()._open()


def _log_handler(log_file: Path) -> RotatingFileHandler:
    try:
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A few megabytes of history is plenty for support; the journal, not the log, is the record.
        return _PrivateRotatingFileHandler(log_file, maxBytes=5 << 20, backupCount=3, encoding="utf-8")
    except OSError as exc:
        raise LogFileError(
            f"log file {log_file} cannot be written ({exc.strerror}): make its directory writable "
            "(mounted read-write), or set [terminal] data_dir to one that is"
        ) from None


def configure(level: str, log_file: Path | None, console_level: int = logging.WARNING) -> None:
    # The file first: if it cannot be written, the logging set up so far stays as it was.
    handlers: list[logging.Handler] = [] if log_file is None else [_log_handler(log_file)]
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    if stderr_is_journal():
        # Under systemd, stderr is the journal: the configured level, priorities it understands, no timestamps.
        console.setLevel(level)
        console.setFormatter(JournalFormatter())
    handlers.append(console)
    for handler in handlers:
        handler.addFilter(PanMaskingFilter())
        if handler is not console:
            handler.setFormatter(fmt)
        root.addHandler(handler)
    for noisy in ("urllib3", "requests"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # nfcpy logs every card that leaves the field as a timeout error; the kernel reports removals itself.
    logging.getLogger("nfc").setLevel(logging.CRITICAL)
