"""Terminal risk management (Book 3, 10.6) and terminal action analysis (10.7).

Risk management sets TVR bits (floor limit, random selection for online, velocity against the card's offline
limits); action analysis weighs the TVR against the issuer's action codes (IACs) and the terminal's (TACs) to
decide which cryptogram to ask for: decline (AAC), go online (ARQC) or approve offline (TC).
"""

from __future__ import annotations

import secrets
from enum import IntEnum

from app.emv import apdu
from app.emv.apdu import CardChannel
from app.emv.config import AidConfig
from app.emv.tvr import Bits, TsiBit, TvrBit


class Cryptogram(IntEnum):
    """GENERATE AC reference control (P1) bits 8-7, and the CID's cryptogram type."""

    AAC = 0x00
    TC = 0x40
    ARQC = 0x80


def terminal_risk_management(
    tags: dict[str, bytes], amount_minor: int, aid: AidConfig, channel: CardChannel, tvr: Bits, tsi: Bits
) -> None:
    tsi.set(TsiBit.TERMINAL_RISK_MANAGEMENT_PERFORMED)
    if amount_minor >= aid.floor_limit_minor:
        tvr.set(TvrBit.OVER_FLOOR_LIMIT)
    elif _randomly_selected(amount_minor, aid):
        tvr.set(TvrBit.RANDOMLY_SELECTED_ONLINE)
    _velocity(tags, channel, tvr)


def _randomly_selected(amount_minor: int, aid: AidConfig) -> bool:
    """Book 3, 10.6.2: below the threshold a fixed percentage; above it, rising towards the maximum."""
    draw = secrets.randbelow(99) + 1
    if amount_minor < aid.random_threshold_minor:
        return draw <= aid.random_target_percent
    span = aid.floor_limit_minor - aid.random_threshold_minor
    if span <= 0:
        return False
    interpolated = (aid.random_max_percent - aid.random_target_percent) * (
        amount_minor - aid.random_threshold_minor
    ) // span + aid.random_target_percent
    return draw <= interpolated


def _velocity(tags: dict[str, bytes], channel: CardChannel, tvr: Bits) -> None:
    lower, upper = tags.get("9F14"), tags.get("9F23")
    if not lower or not upper:
        return  # the card sets no offline limits: nothing to check
    atc, last_online = _get_counter(channel, 0x9F36), _get_counter(channel, 0x9F13)
    if atc is None or last_online is None:
        tvr.set(TvrBit.ICC_DATA_MISSING)
        tvr.set(TvrBit.LOWER_OFFLINE_LIMIT_EXCEEDED)
        tvr.set(TvrBit.UPPER_OFFLINE_LIMIT_EXCEEDED)
        return
    if last_online == 0:
        tvr.set(TvrBit.NEW_CARD)
    offline = atc - last_online
    if offline > lower[0]:
        tvr.set(TvrBit.LOWER_OFFLINE_LIMIT_EXCEEDED)
    if offline > upper[0]:
        tvr.set(TvrBit.UPPER_OFFLINE_LIMIT_EXCEEDED)


def _get_counter(channel: CardChannel, tag: int) -> int | None:
    answer = channel.send(apdu.get_data(tag))
    expected = tag.to_bytes(2, "big")
    if not answer.ok or len(answer.data) < 5 or answer.data[:2] != expected:
        return None
    return int.from_bytes(answer.data[3 : 3 + answer.data[2]], "big")


# Book 3, 10.7: an absent IAC-denial means "never", an absent IAC-online or IAC-default means "always".
_NEVER, _ALWAYS = bytes(5), b"\xff" * 5


def _hits(tvr: bytes, *codes: bytes) -> bool:
    return any(t & c for code in codes for t, c in zip(tvr, code, strict=False))


def action_analysis(tags: dict[str, bytes], aid: AidConfig, tvr: Bits, online_capable: bool = True) -> Cryptogram:
    t = bytes(tvr)
    if _hits(t, tags.get("9F0E", _NEVER), aid.tac_denial):
        return Cryptogram.AAC
    if online_capable:
        return Cryptogram.ARQC if _hits(t, tags.get("9F0F", _ALWAYS), aid.tac_online) else Cryptogram.TC
    return Cryptogram.AAC if _hits(t, tags.get("9F0D", _ALWAYS), aid.tac_default) else Cryptogram.TC
