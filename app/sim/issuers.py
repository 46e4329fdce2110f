"""The simulated issuers' secrets: which key, cryptogram version and PIN belong to which cards.

The built-in test cards are always known; `--issuer-keys FILE` adds more (see README, "Acquirer simulator").
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from app.emv.cryptograms import SUPPORTED_CVNS
from app.errors import UserFacingError
from app.sim.card_profiles import CARD_PROFILES

DEFAULT_BALANCE_MINOR = 1_000_000
EMULATED_CARD_KEYS = Path(__file__).parent / "emulator" / "issuer-keys.toml"


class IssuerKeysError(UserFacingError, ValueError):
    """An issuer keys file that cannot be used; the message names the entry and the key."""


@dataclass(frozen=True)
class IssuerKey:
    pan_prefix: str
    cvn: int
    imk_ac: bytes
    pin: str
    balance_minor: int

    def __repr__(self) -> str:
        return f"IssuerKey({self.pan_prefix}, cvn={self.cvn})"


class IssuerDirectory:
    def __init__(self, keys: list[IssuerKey]) -> None:
        # Longest prefix first, so the most specific entry wins.
        self._keys = sorted(keys, key=lambda k: len(k.pan_prefix), reverse=True)

    def lookup(self, pan: str) -> IssuerKey | None:
        return next((k for k in self._keys if pan.startswith(k.pan_prefix)), None)

    @classmethod
    def with_builtin(cls, extra: list[IssuerKey] | None = None) -> IssuerDirectory:
        """The simulated test cards, the emulated EMV cards, then whatever a keys file adds."""
        builtin = [
            IssuerKey(p.pan, p.cvn, bytes.fromhex(p.imk_ac), p.pin, p.balance_minor) for p in CARD_PROFILES.values()
        ]
        return cls(builtin + load_issuer_keys(EMULATED_CARD_KEYS) + (extra or []))


def load_issuer_keys(path: Path) -> list[IssuerKey]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IssuerKeysError(f"{path}: cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IssuerKeysError(f"{path}: not valid TOML ({exc})") from None
    entries = data.get("issuer")
    if not isinstance(entries, list) or not entries:
        raise IssuerKeysError(f"{path}: no [[issuer]] entries")
    unknown = set(data) - {"issuer"}
    if unknown:
        raise IssuerKeysError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    return [_entry(path, i, e) for i, e in enumerate(entries, start=1)]


def _entry(path: Path, index: int, entry: object) -> IssuerKey:
    where = f"{path}: [[issuer]] #{index}"
    if not isinstance(entry, dict):
        raise IssuerKeysError(f"{where}: not a table")
    unknown = set(entry) - {"pan_prefix", "cvn", "imk_ac", "pin", "balance_minor"}
    if unknown:
        raise IssuerKeysError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    prefix, cvn, imk, pin = entry.get("pan_prefix"), entry.get("cvn"), entry.get("imk_ac"), entry.get("pin")
    balance = entry.get("balance_minor", DEFAULT_BALANCE_MINOR)
    if not (isinstance(prefix, str) and re.fullmatch(r"[0-9]{4,19}", prefix)):
        raise IssuerKeysError(f"{where}: pan_prefix must be 4 to 19 digits")
    if not (isinstance(cvn, int) and cvn in SUPPORTED_CVNS):
        raise IssuerKeysError(f"{where}: cvn must be one of {', '.join(map(str, SUPPORTED_CVNS))}")
    if not (isinstance(imk, str) and re.fullmatch(r"[0-9A-Fa-f]{32}", imk)):
        raise IssuerKeysError(f"{where}: imk_ac must be 32 hex digits (a double-length DES key)")
    if not (isinstance(pin, str) and re.fullmatch(r"[0-9]{4,12}", pin)):
        raise IssuerKeysError(f"{where}: pin must be 4 to 12 digits")
    if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
        raise IssuerKeysError(f"{where}: balance_minor must be a whole number of minor units, 0 or more")
    return IssuerKey(prefix, cvn, bytes.fromhex(imk), pin, balance)
