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

    def error(self, message: str) -> None:
        if self.as_json:
            print(json.dumps({"status": "error", "message": message}, ensure_ascii=False))
        else:
            print(f"pos: {message}", file=sys.stderr)


def read_secret(env_name: str, prompt: str) -> str:
    """From the environment (tests), from standard input when it is not a terminal, else typed unseen."""
    value = os.environ.get(env_name)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise PosError(f"{prompt.lower()} expected on standard input (or in {env_name})")
        return line.rstrip("\r\n")
    try:
        return getpass.getpass(f"{prompt}: ")
    except (EOFError, KeyboardInterrupt):
        raise PosError("cancelled") from None
