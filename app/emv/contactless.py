"""Contactless (闪付 / tap): PPSE selection, then either the qVSDC path, where GET PROCESSING OPTIONS already
returns the cryptogram, or an M/Chip-like path with records and one GENERATE AC.

A tap is short: the card leaves the field as soon as it has answered, so there is no second GENERATE AC, and
every APDU the card does not need is skipped (no records when GPO gave the track 2 equivalent data).
"""

from __future__ import annotations

from calendar import monthrange

from app.devices.card import CardCompletion, CardRead, CardRequest, HostAnswer, InsertCardInstead, PinPad
from app.domain.cards import Cvm, EntryMode
from app.domain.transaction import TxnKind
from app.emv import apdu, restrictions
from app.emv.apdu import CardChannel
from app.emv.config import KernelConfig
from app.emv.cvm import CvmContext, CvmOutcome, verify
from app.emv.dol import build_dol_data
from app.emv.errors import CardReadError
from app.emv.kernel import (
    AcResult,
    Transaction,
    card_read,
    check_brand,
    generate_ac,
    online_pin,
    processing_options,
    start,
)
from app.emv.records import read_application_data
from app.emv.risk import Cryptogram
from app.emv.selection import directory_of_ppse, final_select, highest_priority
from app.emv.tvr import TvrBit

# Terminal Transaction Qualifiers (9F66): qVSDC, online PIN and signature supported; online cryptogram required.
TTQ_QVSDC, TTQ_ONLINE_PIN, TTQ_SIGNATURE = 0x20, 0x04, 0x02
TTQ_ONLINE_CRYPTOGRAM, TTQ_CVM_REQUIRED = 0x80, 0x40
CTQ_ONLINE_PIN, CTQ_SIGNATURE = 0x80, 0x40  # Card Transaction Qualifiers (9F6C), first byte


class TapSession:
    """A tapped card has given its last word already; completing is only bookkeeping."""

    def __init__(self, card: CardRead, channel: CardChannel) -> None:
        self.card = card
        self._channel = channel

    def complete(self, answer: HostAnswer | None) -> CardCompletion:
        approved = answer is not None and answer.approved
        return CardCompletion(approved, {}, "" if approved else "declined")

    def close(self) -> None:
        self._channel.transport.close()


def over_contactless_limit(request: CardRequest, config: KernelConfig) -> bool:
    return request.amount.minor > config.contactless_transaction_limit_minor


def read_tap(channel: CardChannel, request: CardRequest, pin_pad: PinPad, config: KernelConfig) -> TapSession:
    if over_contactless_limit(request, config):
        raise InsertCardInstead("the amount is over the contactless limit")
    t = start(request, config, channel)
    t.selected = final_select(channel, directory_of_ppse(channel, config), highest_priority)
    over_cvm_limit = request.amount.minor > config.contactless_cvm_limit_minor or request.kind is TxnKind.BALANCE
    t.terminal["9F06"] = bytes.fromhex(t.candidate.config.aid)
    t.terminal["9F66"] = bytes(
        [
            TTQ_QVSDC | TTQ_ONLINE_PIN | TTQ_SIGNATURE,
            TTQ_ONLINE_CRYPTOGRAM | (TTQ_CVM_REQUIRED if over_cvm_limit else 0),
            0x00,
            0x00,
        ]
    )
    t.pdol_data = build_dol_data(t.selected.pdol, t.values())
    answer = channel.send(apdu.get_processing_options(t.pdol_data))
    if answer.sw in (0x6986, 0x6985):
        raise InsertCardInstead("the card asks to be inserted")
    if not answer.ok:
        raise CardReadError(f"GET PROCESSING OPTIONS: {apdu.describe_sw(answer.sw)}")
    t.card.update(processing_options(answer.data))
    if "9F26" in t.card:
        # The cryptogram covers the PDOL data and the card's AIP: keep them as they were, before the TVR moves.
        snapshot = t.values()
        result = _qvsdc(t)
    else:
        result, snapshot = _mchip(t)
    t.tvr.set(TvrBit.ODA_NOT_PERFORMED)
    restrictions.check(t.card, t.tvr, t.today, t.candidate.config.version, t.terminal["9F1A"])
    t.cvm = _cardholder(t, pin_pad, over_cvm_limit)
    snapshot = {**snapshot, "9F34": t.cvm.results}
    if result.kind is not Cryptogram.ARQC:
        raise CardReadError("the tapped card did not ask to go online")
    return TapSession(card_read(t, result, snapshot, EntryMode.CONTACTLESS), channel)


def _qvsdc(t: Transaction) -> AcResult:
    if "5A" not in t.card or "5F24" not in t.card:
        if "57" in t.card:
            _from_track2_equivalent(t)
        else:
            t.card = read_application_data(t.channel, t.card.get("94", b""), t.card).tags
    if "5A" not in t.card or "5F24" not in t.card:
        raise CardReadError("the tapped card gives no card number or expiry date")
    check_brand(t.candidate, t.pan)
    cid = t.card.get("9F27", b"\x80")[0]
    return AcResult(cid, t.card["9F26"], t.card.get("9F36", b""), t.card.get("9F10", b""))


def _from_track2_equivalent(t: Transaction) -> None:
    """qVSDC cards put the track 2 equivalent (57) in the GPO answer: PAN and expiry without reading records."""
    digits = t.card["57"].hex().upper()
    pan, separator, rest = digits.partition("D")
    if not separator or len(rest) < 4:
        raise CardReadError("the track 2 equivalent data is malformed")
    yymm = rest[:4]
    try:
        last_day = monthrange(2000 + int(yymm[:2]), int(yymm[2:]))[1]
    except ValueError:
        raise CardReadError("the track 2 equivalent data has an impossible expiry") from None
    t.card["5A"] = bytes.fromhex(pan + ("F" if len(pan) % 2 else ""))
    t.card["5F24"] = bytes.fromhex(f"{yymm}{last_day:02d}")


def _mchip(t: Transaction) -> tuple[AcResult, dict[str, bytes]]:
    t.card = read_application_data(t.channel, t.card.get("94", b""), t.card).tags
    for tag in ("5A", "5F24", "8C"):
        if tag not in t.card:
            raise CardReadError("the tapped card gives too little data")
    check_brand(t.candidate, t.pan)
    snapshot = t.values()
    result, t.cdol1_data = generate_ac(t, Cryptogram.ARQC, t.card["8C"], b"")
    return result, snapshot


def _cardholder(t: Transaction, pin_pad: PinPad, over_cvm_limit: bool) -> CvmOutcome:
    if t.request.kind is TxnKind.BALANCE:
        return online_pin(pin_pad, t.pan, t.request, "a balance inquiry needs the PIN")
    if not over_cvm_limit:
        return CvmOutcome(Cvm.NO_CVM, bytes([0x3F, 0x00, 0x02]))
    ctq = t.card.get("9F6C", b"")
    if ctq and ctq[0] & CTQ_ONLINE_PIN:
        return online_pin(pin_pad, t.pan, t.request, "this amount needs the PIN")
    if ctq and ctq[0] & CTQ_SIGNATURE:
        return CvmOutcome(Cvm.SIGNATURE, bytes([0x1E, 0x00, 0x00]))
    ctx = CvmContext(t.channel, pin_pad, t.config, t.pan, t.request.amount, t.tvr, t.tsi)
    return verify(t.card, t.aip, ctx)
