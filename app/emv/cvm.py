"""Cardholder verification (EMV Book 3, 10.5): walk the card's CVM list, perform the first method that applies.

Offline plaintext PIN goes to the chip with VERIFY; online PIN is enciphered by the PIN pad for the acquirer;
signature and "no CVM" need nothing from the card. The outcome is the CVM Results (9F34) and the TVR bits.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.devices.card import PinPad
from app.domain.cards import Cvm
from app.domain.money import Money
from app.emv import apdu
from app.emv.apdu import CardChannel
from app.emv.config import KernelConfig
from app.emv.terminal_data import n_bcd
from app.emv.tvr import Bits, TsiBit, TvrBit

RESULT_UNKNOWN, RESULT_FAILED, RESULT_SUCCESSFUL = 0x00, 0x01, 0x02
APPLY_NEXT_IF_FAILED = 0x40
OFFLINE_PIN_ATTEMPTS = 3
# 00 fail, 01 plaintext PIN by ICC, 02 enciphered PIN online, 03 plaintext PIN + signature, 04/05 enciphered PIN by
# ICC (+ signature), 1E signature, 1F no CVM required. Anything else is not known to this terminal.
RECOGNISED = frozenset({0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x1E, 0x1F})
PIN_METHODS = frozenset({0x01, 0x02, 0x03, 0x04, 0x05})


@dataclass(frozen=True)
class CvmOutcome:
    cvm: Cvm
    results: bytes  # 9F34
    pin_block: bytes | None = None  # online PIN, enciphered


@dataclass
class CvmContext:
    channel: CardChannel
    pin_pad: PinPad
    config: KernelConfig
    pan: str
    amount: Money
    tvr: Bits
    tsi: Bits


def verify(tags: dict[str, bytes], aip: bytes, ctx: CvmContext) -> CvmOutcome:
    if not aip or not aip[0] & 0x10:  # the card does not support cardholder verification
        return CvmOutcome(Cvm.NO_CVM, bytes([0x3F, 0x00, RESULT_UNKNOWN]))
    ctx.tsi.set(TsiBit.CVM_PERFORMED)
    cvm_list = tags.get("8E", b"")
    if len(cvm_list) < 10 or len(cvm_list) % 2:
        ctx.tvr.set(TvrBit.ICC_DATA_MISSING)
        return CvmOutcome(Cvm.NO_CVM, bytes([0x3F, 0x00, RESULT_UNKNOWN]))
    x, y = int.from_bytes(cvm_list[0:4], "big"), int.from_bytes(cvm_list[4:8], "big")
    same_currency = tags.get("9F42") == n_bcd(ctx.amount.currency.numeric, 4)
    last = (0x3F, 0x00)
    for i in range(8, len(cvm_list), 2):
        code, condition = cvm_list[i], cvm_list[i + 1]
        if not _applies(condition, code, ctx, x, y, same_currency):
            continue
        last = (code, condition)
        outcome = _perform(code, condition, ctx)
        if outcome is not None:
            return outcome
        if not code & APPLY_NEXT_IF_FAILED:
            break
    ctx.tvr.set(TvrBit.CVM_FAILED)
    return CvmOutcome(Cvm.NO_CVM, bytes([last[0], last[1], RESULT_FAILED]))


def _applies(condition: int, code: int, ctx: CvmContext, x: int, y: int, same_currency: bool) -> bool:
    amount = ctx.amount.minor
    if condition in (0x06, 0x07, 0x08, 0x09) and not same_currency:
        return False
    return {
        0x00: True,  # always
        0x01: False,  # unattended cash
        0x02: True,  # not unattended cash, not manual cash, not cashback: a purchase
        0x03: ctx.config.supports_cvm(code),  # if the terminal supports this CVM
        0x04: False,  # manual cash
        0x05: False,  # purchase with cashback
        0x06: amount < x,
        0x07: amount > x,
        0x08: amount < y,
        0x09: amount > y,
    }.get(condition, False)


def _perform(code: int, condition: int, ctx: CvmContext) -> CvmOutcome | None:
    """The outcome if this CVM succeeded, None if it failed (the TVR says why)."""
    method = code & 0x3F

    def done(cvm: Cvm, result: int, pin_block: bytes | None = None) -> CvmOutcome:
        return CvmOutcome(cvm, bytes([code, condition, result]), pin_block)

    if method not in RECOGNISED:
        ctx.tvr.set(TvrBit.UNRECOGNISED_CVM)
        return None
    if method == 0x1F:
        return done(Cvm.NO_CVM, RESULT_SUCCESSFUL)
    if not ctx.config.supports_cvm(code):
        if method in PIN_METHODS:
            ctx.tvr.set(TvrBit.PIN_PAD_NOT_WORKING)
        return None
    if method == 0x1E:
        return done(Cvm.SIGNATURE, RESULT_UNKNOWN)
    if method == 0x02:
        # A cancel on the PIN pad ends the transaction (PinCancelled goes up): it is not a PIN bypass, which would
        # let the CVM list fall through to a signature and send the sale anyway.
        block = ctx.pin_pad.online_pin_block(ctx.pan, ctx.amount)
        ctx.tvr.set(TvrBit.ONLINE_PIN_ENTERED)
        return done(Cvm.ONLINE_PIN, RESULT_UNKNOWN, block)
    if method in (0x01, 0x03) and _offline_pin(ctx):
        return done(Cvm.OFFLINE_PIN if method == 0x01 else Cvm.SIGNATURE, RESULT_SUCCESSFUL)
    return None


def _offline_pin(ctx: CvmContext) -> bool:
    counter = ctx.channel.send(apdu.get_data(0x9F17))
    tries: int | None = None
    if counter.ok and len(counter.data) >= 4:
        tries = counter.data[3]
        if tries == 0:
            ctx.tvr.set(TvrBit.PIN_TRY_LIMIT_EXCEEDED)
            return False
    for _ in range(OFFLINE_PIN_ATTEMPTS):
        block = ctx.pin_pad.offline_pin_block(ctx.amount, tries)  # a cancel ends the transaction, as above
        answer = ctx.channel.send(apdu.verify_plaintext_pin(block))
        if answer.ok:
            return True
        if answer.sw & 0xFFF0 == 0x63C0 and answer.sw & 0x0F:
            tries = answer.sw & 0x0F
            continue
        if answer.sw in (0x6983, 0x6984) or answer.sw & 0xFFF0 == 0x63C0:
            ctx.tvr.set(TvrBit.PIN_TRY_LIMIT_EXCEEDED)
        return False
    return False
