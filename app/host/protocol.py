"""The KioskPOS acquirer protocol: JSON messages, MACed with AES-CMAC over their canonical form.

Shared by the terminal's client and the acquirer simulator; docs/protocol.md is its specification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.crypto import cmac, cmac_ok

PROTOCOL_VERSION = 1


class MessageType(StrEnum):
    SIGN_ON = "sign_on"
    AUTHORISE = "authorise"  # sale, pre-auth, balance inquiry
    COMPLETION = "completion"
    VOID = "void"
    REFUND = "refund"
    PREAUTH_VOID = "preauth_void"
    REVERSAL = "reversal"
    INQUIRY = "inquiry"
    SETTLEMENT = "settlement"
    BATCH_UPLOAD = "batch_upload"

    @property
    def path(self) -> str:
        return f"/v{PROTOCOL_VERSION}/{self.value.replace('_', '-')}"

    @property
    def response_type(self) -> str:
        return f"{self.value}_response"


class ProtocolError(ValueError):
    """A message that is not what the protocol says: malformed, wrongly MACed, or not an answer to ours."""


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes a MAC covers: sorted keys, no whitespace, ASCII only, and never the "mac" field itself."""
    return json.dumps(
        {k: v for k, v in body.items() if k != "mac"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")


def with_mac(body: Mapping[str, Any], mac_key: bytes) -> dict[str, Any]:
    return {**body, "mac": cmac(mac_key, canonical(body)).hex().upper()}


def check_mac(body: Mapping[str, Any], mac_key: bytes) -> None:
    mac = body.get("mac")
    if not isinstance(mac, str) or not re.fullmatch(r"[0-9A-Fa-f]{32}", mac):
        raise ProtocolError("message has no valid MAC field")
    if not cmac_ok(mac_key, canonical(body), bytes.fromhex(mac)):
        raise ProtocolError("message MAC does not verify")


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("message is not JSON") from None
    if not isinstance(body, dict):
        raise ProtocolError("message is not a JSON object")
    return body


# Field checks, shared by both sides. Each returns the value or raises ProtocolError naming the field.


def text_field(body: Mapping[str, Any], name: str, pattern: str = r".*", optional: bool = False) -> str:
    value = body.get(name)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise ProtocolError(f"field {name!r} is missing or malformed")
    return value


def int_field(body: Mapping[str, Any], name: str, low: int = 0, high: int = 10**12, optional: bool = False) -> int:
    value = body.get(name)
    if value is None and optional:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(f"field {name!r} is missing or out of range")
    return value


def object_field(body: Mapping[str, Any], name: str, optional: bool = False) -> dict[str, Any]:
    value = body.get(name)
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"field {name!r} is missing or not an object")
    return value


RESPONSE_CODE = r"[0-9A-Z]{2}"
AUTH_CODE = r"[0-9A-Z]{6}"
RRN = r"[0-9]{12}"
HEX = r"(?:[0-9A-F]{2})*"
TERMINAL_ID = r"[0-9A-Z]{8}"
MERCHANT_ID = r"[0-9A-Z]{15}"
IDEMPOTENCY_KEY = r"[0-9a-z-]{16,80}"
