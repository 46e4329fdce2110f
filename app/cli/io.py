"""How the `pos` command talks to people and scripts: secrets in, one line or one JSON object out."""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

from app.services.errors import PosError


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def result(self, data: dict[str, Any], text: str) -> None:
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, sort_keys=True))
        else:
            print(text)

    def error(self, message: str, prefix: bool = True) -> None:
        if self.as_json:
            print(json.dumps({"status": "error", "message": message}, ensure_ascii=False))
        else:
            print(f"pos: {message}" if prefix else message, file=sys.stderr)


NOT_DIGITS = "a PIN is digits only (so is the supervisor password): nothing was changed"


def read_secret(env_name: str, prompt: str) -> str:
    """From the environment (tests), from standard input when it is not a terminal, else typed unseen.

    Every PIN and password here is digits; anything else (bytes that are not even text included) is refused
    before it reaches a hash that would choke on it."""
    value = _secret(env_name, prompt)
    if not value.isascii() or not (value.isdigit() or value == ""):
        raise PosError(NOT_DIGITS)
    return value


def _secret(env_name: str, prompt: str) -> str:
    value = os.environ.get(env_name)  # undecodable bytes arrive as lone surrogates, which isascii() refuses
    if value is not None:
        return value
    if not sys.stdin.isatty():
        # The raw bytes: the text layer would raise UnicodeDecodeError on a byte that is not UTF-8.
        line = sys.stdin.buffer.readline().decode("utf-8", errors="surrogateescape")
        if not line:
            raise PosError(f"{prompt.lower()} expected on standard input (or in {env_name})")
        return line.rstrip("\r\n")
    try:
        return getpass.getpass(f"{prompt}: ")
    except (EOFError, KeyboardInterrupt):
        raise PosError("cancelled") from None
