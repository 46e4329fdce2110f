"""APDU trace for support, with the secrets taken out before anything is written.

Card numbers (5A, 57, 9F6B, 56, 9F1F), the cardholder name and PIN data never reach a log line: the trace masks
them by tag, and a response it cannot parse is logged by length only. The log's own PAN filter is a second net.
"""

from __future__ import annotations

import logging
from collections import deque

from app.domain.cards import mask_pan
from app.emv.tlv import TlvError, walk

log = logging.getLogger("app.emv.apdu")

SENSITIVE_TAGS = frozenset({"5A", "57", "9F6B", "56", "9F1F", "9F20", "5F20", "9F0B"})
PIN_INSTRUCTIONS = frozenset({0x20, 0x24})  # VERIFY, PIN CHANGE/UNBLOCK: their data is PIN material


def _masked_value(tag: str, value: bytes) -> str:
    if tag in ("5A", "57", "9F6B"):
        digits = value.hex().upper().split("D")[0].rstrip("F")
        return f"<{mask_pan(digits)}>"
    return f"<{len(value)} bytes hidden>"


def _describe_tlv(data: bytes) -> str:
    # Our own bounded walker, not pyemv's decoder: that one recurses per template and a card's deeply nested
    # answer would end the trace (and the transaction) with RecursionError.
    try:
        items = [item for item in walk(data) if not item.constructed]
    except TlvError:
        return f"<{len(data)} bytes, not TLV>"
    parts = []
    for item in items:
        tag, raw = item.tag, item.value
        parts.append(f"{tag}={_masked_value(tag, raw) if tag in SENSITIVE_TAGS else raw.hex().upper()}")
    return " ".join(parts)


def describe_command(raw: bytes) -> str:
    head = raw[:4].hex().upper()
    body = raw[5:] if len(raw) > 5 else b""
    if len(raw) > 4 and raw[1] in PIN_INSTRUCTIONS:
        return f"{head} <PIN data hidden>"
    return f"{head} {body.hex().upper()}".rstrip()


def describe_response(raw: bytes) -> str:
    if len(raw) < 2:
        return f"<{len(raw)} bytes>"
    data, sw = raw[:-2], raw[-2:].hex().upper()
    return f"{_describe_tlv(data)} {sw}".lstrip() if data else sw


class ApduTrace:
    """Keeps the last exchanges of a transaction (masked) and writes them to the debug log."""

    def __init__(self, keep: int = 64) -> None:
        self.lines: deque[str] = deque(maxlen=keep)

    def record(self, command: bytes, response: bytes) -> None:
        line = f"> {describe_command(command)}  < {describe_response(response)}"
        self.lines.append(line)
        log.debug("%s", line)
