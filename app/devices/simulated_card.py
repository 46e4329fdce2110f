"""A card source that presents the built-in test card profiles, with real cryptograms.

It plays the card and the slice of the kernel the engine needs: entry-mode rules, CVM, the ARQC from the
profile's issuer key, issuer authentication of the ARPC and the card's final decision. The EMV kernel with real
readers replaces it behind the same `CardSource` interface.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from enum import StrEnum

from app.devices.card import (
    CardCompletion,
    CardError,
    CardRead,
    CardRemoved,
    CardRequest,
    HostAnswer,
    InsertCardInstead,
    PinPad,
    SensitiveCardData,
)
from app.domain.cards import Cvm, EntryMode
from app.domain.money import Money
from app.domain.transaction import TxnKind
from app.emv.cryptograms import CardCryptograms, default_iad
from app.emv.terminal_data import terminal_tags, unpredictable_number
from app.sim.card_profiles import CardProfile

# The application transaction counter goes up with every use of any simulated card in this process.
_atc = itertools.count(secrets.randbelow(20_000) + 1)

AIP_CHIP = "3900"  # SDA/DDA/CDA supported, cardholder verification, terminal risk management, issuer auth
AIP_CONTACTLESS = "2000"  # qVSDC: DDA supported, online cryptogram from GPO
CID_ARQC, CID_TC, CID_AAC = "80", "40", "00"
TVR_EXPIRED = bytes.fromhex("0040000000")  # byte 2 bit 7: expired application
CVM_RESULTS = {
    Cvm.ONLINE_PIN: "420302",
    Cvm.OFFLINE_PIN: "410302",
    Cvm.SIGNATURE: "1E0300",
    Cvm.NO_CVM: "1F0002",
}


class CardBehaviour(StrEnum):
    NORMAL = "normal"
    # The card answers the second GENERATE AC with an AAC even though the issuer approved.
    DECLINE_AFTER_ONLINE = "decline_after_online"
    # The cardholder pulls the card out while the terminal is online.
    REMOVED_DURING_ONLINE = "removed_during_online"


@dataclass(frozen=True)
class ContactlessLimits:
    transaction_limit: Money  # above: insert the card
    cvm_limit: Money  # above: PIN or signature


class SimulatedCardSource:
    def __init__(
        self,
        profile: CardProfile,
        entry: EntryMode,
        limits: ContactlessLimits,
        behaviour: CardBehaviour = CardBehaviour.NORMAL,
    ) -> None:
        self.profile = profile
        self.entry = entry
        self.limits = limits
        self.behaviour = behaviour

    def present(self, request: CardRequest, pin_pad: PinPad) -> SimulatedCardSession:
        p = self.profile
        if self.entry is EntryMode.SWIPE and p.chip:
            raise InsertCardInstead("this is a chip card")
        if self.entry in (EntryMode.CHIP, EntryMode.FALLBACK) and not p.chip:
            raise CardError("this card has no chip: swipe it")
        if self.entry is EntryMode.CONTACTLESS:
            if not p.contactless:
                raise CardError("this card cannot be tapped: insert it")
            if request.amount > self.limits.transaction_limit:
                raise InsertCardInstead("the amount is over the contactless limit")
        cvm = self._cvm(request)
        sensitive = SensitiveCardData(p.pan, p.expiry, p.psn, p.track2 if self._is_stripe else None)
        pin_block = pin_pad.online_pin_block(p.pan, request.amount) if cvm is Cvm.ONLINE_PIN else None
        icc = {} if self._is_stripe else self._first_cryptogram(request, cvm)
        read = CardRead(sensitive, p.brand, p.funding, self.entry, cvm, p.app_label, p.aid, icc, pin_block)
        return SimulatedCardSession(read, self.profile, self.behaviour)

    @property
    def _is_stripe(self) -> bool:
        return self.entry in (EntryMode.SWIPE, EntryMode.FALLBACK)

    def _cvm(self, request: CardRequest) -> Cvm:
        if request.kind is TxnKind.BALANCE:
            return Cvm.ONLINE_PIN
        if self.entry is EntryMode.CONTACTLESS and request.amount <= self.limits.cvm_limit:
            return Cvm.NO_CVM
        return self.profile.chip_cvm

    def _first_cryptogram(self, request: CardRequest, cvm: Cvm) -> dict[str, str]:
        p = self.profile
        expired = p.expiry < request.when.strftime("%y%m")
        tags = terminal_tags(request, TVR_EXPIRED if expired else bytes(5), unpredictable_number())
        tags["82"] = bytes.fromhex(AIP_CONTACTLESS if self.entry is EntryMode.CONTACTLESS else AIP_CHIP)
        tags["9F36"] = next(_atc).to_bytes(2, "big")
        tags["9F10"] = default_iad(p.cvn)
        keys = CardCryptograms.for_card(p.cvn, bytes.fromhex(p.imk_ac), p.pan, p.psn)
        tags["9F26"] = keys.generate_ac(tags)
        icc = {t: v.hex().upper() for t, v in tags.items()}
        icc.update(
            {
                "9F27": CID_ARQC,
                "84": p.aid,
                "50": p.app_label.encode("ascii").hex().upper(),
                "5F34": p.psn,
                "9F34": CVM_RESULTS[cvm],
            }
        )
        return icc


class SimulatedCardSession:
    def __init__(self, card: CardRead, profile: CardProfile, behaviour: CardBehaviour) -> None:
        self.card = card
        self._profile = profile
        self._behaviour = behaviour

    def complete(self, answer: HostAnswer | None) -> CardCompletion:
        if self._behaviour is CardBehaviour.REMOVED_DURING_ONLINE:
            raise CardRemoved()
        approved = answer is not None and answer.approved
        # Magstripe and contactless (qVSDC) cards have already given their last word.
        if self.card.entry_mode is not EntryMode.CHIP:
            return CardCompletion(approved, reason="" if approved else "declined")
        if answer is None:
            return self._second_ac(CID_AAC, "the terminal could not reach the acquirer")
        if not approved:
            return self._second_ac(CID_AAC, "declined by the issuer")
        verdict = self._issuer_authentication(answer)
        if verdict is None:
            return self._second_ac(CID_AAC, "the card could not verify the issuer's answer")
        if not verdict or self._behaviour is CardBehaviour.DECLINE_AFTER_ONLINE:
            return self._second_ac(CID_AAC, "the card declined after the issuer approved")
        return self._second_ac(CID_TC, "")

    def _issuer_authentication(self, answer: HostAnswer) -> bool | None:
        tag_91 = answer.icc.get("91")
        if not tag_91:
            return None
        try:
            raw = bytes.fromhex(tag_91)
        except ValueError:
            return None
        icc = self.card.icc
        return self._keys().check_issuer_authentication(bytes.fromhex(icc["9F26"]), bytes.fromhex(icc["9F36"]), raw)

    def _keys(self) -> CardCryptograms:
        p = self._profile
        return CardCryptograms.for_card(p.cvn, bytes.fromhex(p.imk_ac), p.pan, p.psn)

    def _second_ac(self, cid: str, reason: str) -> CardCompletion:
        tags = {t: bytes.fromhex(v) for t, v in self.card.icc.items()}
        cryptogram = self._keys().generate_ac(tags)
        return CardCompletion(cid == CID_TC, {"9F26": cryptogram.hex().upper(), "9F27": cid}, reason)

    def close(self) -> None:
        pass
