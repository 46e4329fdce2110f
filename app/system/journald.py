"""Log lines for the systemd journal: stderr with sd-daemon(3) `<N>` priority prefixes and no timestamps.

systemd sets JOURNAL_STREAM to the device and inode of the stream it connected to stderr (systemd.exec(5));
comparing them with stderr's own tells a service's stderr from a terminal or a pipe that merely inherited the
variable. The journal adds time, host and unit itself, and reads the prefix as the line's priority.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

# syslog priorities (sd-daemon(3)): 2 crit, 3 err, 4 warning, 6 info, 7 debug.
PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


def stderr_is_journal(environ: Mapping[str, str] = os.environ, stream: TextIO | None = None) -> bool:
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat((stream or sys.stderr).fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stderr (a test's capture, a closed one)
        return False
    return st.st_dev == int(device) and st.st_ino == int(inode)


def priority(levelno: int) -> int:
    for level in (logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO):
        if levelno >= level:
            return PRIORITY[level]
    return PRIORITY[logging.DEBUG]


class JournalFormatter(logging.Formatter):
    """`<N>logger: message`, every line prefixed, so a multi-line message keeps its priority in the journal."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])
