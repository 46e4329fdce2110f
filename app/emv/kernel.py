"""The EMV contact kernel (EMV Book 3 order), from application selection to the first GENERATE AC, and the
session that gives the card the acquirer's answer (issuer authentication, scripts, second GENERATE AC).

    select -> GPO -> read records -> ODA -> restrictions -> CVM -> risk management -> action analysis -> GENAC1
    ... the engine goes online ...
    EXTERNAL AUTHENTICATE, scripts 71 -> GENAC2 -> scripts 72

The kernel never charges anything: it returns a `CardSession` whose `card` carries the ARQC for the engine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from app.devices.card import (
    CardCompletion,
    CardError,
    CardRead,
    CardRequest,
    HostAnswer,
    PinCancelled,
    PinPad,
    SensitiveCardData,
)
from app.domain.cards import CardDataError, Cvm, EntryMode, Funding, brand_of, check_pan
from app.domain.transaction import TxnKind
from app.emv import apdu, oda, restrictions
from app.emv.apdu import CardChannel
from app.emv.config import KernelConfig
from app.emv.cvm import CvmContext, CvmOutcome, verify
from app.emv.dol import build_dol_data, parse_dol
from app.emv.errors import CardDeclinedOffline, CardReadError, NoApplication, WrongCryptogram
from app.emv.records import read_application_data
from app.emv.risk import Cryptogram, action_analysis, terminal_risk_management
from app.emv.selection import Candidate, Chooser, Selected, candidate_list, final_select, highest_priority
from app.emv.terminal_data import terminal_tags, unpredictable_number
from app.emv.tlv import Tlv, TlvError, parse, primitives
from app.emv.tvr import Bits, TsiBit, TvrBit, new_tsi, new_tvr

log = logging.getLogger(__name__)

AIP_SDA, AIP_DDA, AIP_CVM, AIP_TRM, AIP_ISSUER_AUTH, AIP_CDA = 0x40, 0x20, 0x10, 0x08, 0x04, 0x01
TERMINAL_SDA, TERMINAL_DDA, TERMINAL_CDA = 0x80, 0x40, 0x08
CDA_REQUESTED = 0x10
DEFAULT_DDOL = bytes.fromhex("9F3704")
# Tags the acquirer gets in field 55, when the card or the terminal has them.
HOST_TAGS = (
    "9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37", "82", "9F36", "9F10", "9F26", "9F27", "84", "50",
    "5F34", "9F34", "9F33", "9F35", "9B", "9F21", "9F09", "9F66", "9F6C", "9F6E",
)  # fmt: skip
SCRIPT_OK, SCRIPT_FAILED = 0x20, 0x10  # Issuer Script Results (9F5B), first nibble


def card_tlv(data: bytes) -> dict[str, bytes]:
    try:
        return primitives(data)
    except TlvError as exc:
        raise CardReadError(str(exc)) from None


def card_items(data: bytes) -> list[Tlv]:
    try:
        return parse(data)
    except TlvError as exc:
        raise CardReadError(str(exc)) from None


def card_pan(value: bytes) -> str:
    try:
        return check_pan(value.hex().upper().rstrip("F"))
    except CardDataError as exc:
        raise CardReadError(str(exc)) from None


@dataclass
class Transaction:
    """Everything the kernel learns and decides during one card transaction."""

    request: CardRequest
    config: KernelConfig
    channel: CardChannel
    today: date
    tvr: Bits = field(default_factory=new_tvr)
    tsi: Bits = field(default_factory=new_tsi)
    terminal: dict[str, bytes] = field(default_factory=dict)
    card: dict[str, bytes] = field(default_factory=dict)
    selected: Selected | None = None
    static_data: bytes = b""
    pdol_data: bytes = b""
    cdol1_data: bytes = b""
    oda_method: str = "none"
    icc_key: oda.PublicKey | None = None
    cvm: CvmOutcome | None = None

    @property
    def candidate(self) -> Candidate:
        assert self.selected is not None
        return self.selected.candidate

    @property
    def aip(self) -> bytes:
        return self.card.get("82", b"\x00\x00")

    @property
    def pan(self) -> str:
        return card_pan(self.card["5A"])

    def values(self) -> dict[str, bytes]:
        """What a DOL may ask for, as of now (the TVR changes during the transaction)."""
        return {**self.card, **self.terminal, "95": bytes(self.tvr), "9B": bytes(self.tsi)}


def start(request: CardRequest, config: KernelConfig, channel: CardChannel) -> Transaction:
    t = Transaction(request, config, channel, request.when.date())
    t.terminal = terminal_tags(request, bytes(5), unpredictable_number())
    t.terminal.update(
        {
            "9F1C": request.terminal_id.encode("ascii")[:8],
            "9F33": config.capabilities,
            "9F40": config.additional_capabilities,
            "9F35": bytes([config.terminal_type]),
            "9F15": bytes.fromhex(config.merchant_category_code),
        }
    )
    return t


def read_card(
    channel: CardChannel,
    request: CardRequest,
    pin_pad: PinPad,
    config: KernelConfig,
    choose: Chooser = highest_priority,
) -> EmvSession:
    """Runs the card up to its first cryptogram. Raises CardError (or a subclass) if it cannot or will not."""
    t = start(request, config, channel)
    _select_and_initiate(t, choose)
    _read_data(t)
    _authenticate_offline(t)
    t.terminal["9F09"] = t.candidate.config.version
    restrictions.check(t.card, t.tvr, t.today, t.candidate.config.version, t.terminal["9F1A"])
    t.cvm = _verify_cardholder(t, pin_pad)
    t.terminal["9F34"] = t.cvm.results
    terminal_risk_management(t.card, request.amount.minor, t.candidate.config, channel, t.tvr, t.tsi)
    return _first_cryptogram(t, action_analysis(t.card, t.candidate.config, t.tvr))


# -- selection and initiation ---------------------------------------------------------------------------------


def _select_and_initiate(t: Transaction, choose: Chooser) -> None:
    candidates = candidate_list(t.channel, t.config)
    while candidates:
        t.selected = final_select(t.channel, candidates, choose)
        t.terminal["9F06"] = bytes.fromhex(t.candidate.config.aid)
        t.pdol_data = build_dol_data(t.selected.pdol, t.values())
        answer = t.channel.send(apdu.get_processing_options(t.pdol_data))
        if answer.sw == 0x6985:  # conditions of use not satisfied: this application cannot do it; try another
            candidates = [c for c in candidates if c.aid != t.candidate.aid]
            continue
        if not answer.ok:
            raise CardReadError(f"GET PROCESSING OPTIONS: {apdu.describe_sw(answer.sw)}")
        t.card.update(processing_options(answer.data))
        return
    raise NoApplication()


def processing_options(data: bytes) -> dict[str, bytes]:
    """Format 1 (tag 80: AIP then AFL) or format 2 (tag 77: 82, 94 and whatever else the card adds)."""
    items = card_items(data)
    if len(items) != 1:
        raise CardReadError("GET PROCESSING OPTIONS answered with more than one object")
    if items[0].tag == "80":
        value = items[0].value
        if len(value) < 2 or (len(value) - 2) % 4:
            raise CardReadError("GET PROCESSING OPTIONS format 1 has the wrong length")
        return {"82": value[:2], "94": value[2:]}
    if items[0].tag != "77":
        raise CardReadError("GET PROCESSING OPTIONS answered with an unknown template")
    values = card_tlv(items[0].value)
    if "82" not in values:
        raise CardReadError("GET PROCESSING OPTIONS gave no application interchange profile")
    return values


def _read_data(t: Transaction) -> None:
    data = read_application_data(t.channel, t.card.get("94", b""), t.card)
    t.card, t.static_data = data.tags, bytes(data.static_data)
    for tag, what in (("5A", "card number"), ("5F24", "expiry date"), ("8C", "CDOL1"), ("8D", "CDOL2")):
        if tag not in t.card:
            t.tvr.set(TvrBit.ICC_DATA_MISSING)
            raise CardReadError(f"the card gives no {what}")
    check_brand(t.candidate, t.pan)


def check_brand(candidate: Candidate, pan: str) -> None:
    if brand_of(pan) is not candidate.config.brand:
        raise CardError(f"the card's {candidate.config.brand.label} application does not match its card number")


# -- offline data authentication ------------------------------------------------------------------------------


def _authenticate_offline(t: Transaction) -> None:
    aip, caps = t.aip[0], t.config.capabilities[2]
    if aip & AIP_CDA and caps & TERMINAL_CDA:
        method = "cda"
    elif aip & AIP_DDA and caps & TERMINAL_DDA:
        method = "dda"
    elif aip & AIP_SDA and caps & TERMINAL_SDA:
        method = "sda"
    else:
        t.tvr.set(TvrBit.ODA_NOT_PERFORMED)
        return
    t.tsi.set(TsiBit.ODA_PERFORMED)
    if method == "sda":
        t.tvr.set(TvrBit.SDA_SELECTED)
    try:
        issuer = _issuer_key(t, method)
        static = _static_data(t)
        if method == "sda":
            t.terminal["9F45"] = oda.verify_static_signature(issuer, t.card.get("93", b""), static)
        else:
            t.icc_key = oda.recover_icc_key(
                issuer,
                t.card.get("9F46", b""),
                t.card.get("9F48", b""),
                t.card.get("9F47", b""),
                t.pan,
                static,
                t.today,
            )
            if method == "dda":
                _dynamic_authentication(t, t.icc_key)
        t.oda_method = method
    except oda.OdaFailure as exc:
        log.info("offline data authentication (%s) failed: %s", method, exc)
        t.tvr.set({"sda": TvrBit.SDA_FAILED, "dda": TvrBit.DDA_FAILED, "cda": TvrBit.CDA_FAILED}[method])
        t.icc_key = None


# The data objects a card must supply for each method (Book 2, 5.1.1 table 4 and 6.1.1 table 12; Book 3, 7.2
# tables 29/30). The remainders (92, 9F48) are not here: a key that fits its certificate has none.
_ODA_DATA = {"sda": ("8F", "90", "9F32", "93"), "dda": ("8F", "90", "9F32", "9F46", "9F47")}


def _issuer_key(t: Transaction, method: str) -> oda.PublicKey:
    """The issuer's public key, or OdaFailure.

    "ICC data missing" is only for data the card failed to give (Book 3, 10.3): a CA key the terminal lacks
    fails the method (SDA/DDA/CDA failed) and nothing else."""
    index = t.card.get("8F", b"")
    if any(tag not in t.card for tag in _ODA_DATA["sda" if method == "sda" else "dda"]) or len(index) != 1:
        t.tvr.set(TvrBit.ICC_DATA_MISSING)
        raise oda.OdaFailure("the card gives no complete certificate chain")
    rid = t.candidate.aid_hex[:10]
    ca = t.config.capks.find(rid, index[0], t.today)
    if ca is None:
        raise oda.OdaFailure(f"the terminal has no CA key {rid} index {index[0]:02X}")
    return oda.recover_issuer_key(ca, t.card["90"], t.card.get("92", b""), t.card["9F32"], t.pan, t.today)


def _static_data(t: Transaction) -> bytes:
    tag_list = t.card.get("9F4A")
    if tag_list is None:
        return t.static_data
    if tag_list != b"\x82":
        raise oda.OdaFailure("the static data tag list names more than the AIP")
    return t.static_data + t.aip


def _dynamic_authentication(t: Transaction, icc_key: oda.PublicKey) -> None:
    ddol_data = build_dol_data(t.card.get("9F49", DEFAULT_DDOL), t.values())
    answer = t.channel.send(apdu.internal_authenticate(ddol_data))
    if not answer.ok:
        raise oda.OdaFailure(f"INTERNAL AUTHENTICATE: {apdu.describe_sw(answer.sw)}")
    items = card_items(answer.data)
    if len(items) == 1 and items[0].tag == "80":
        signed = items[0].value
    elif len(items) == 1 and items[0].tag == "77":
        signed = card_tlv(items[0].value).get("9F4B", b"")
    else:
        raise oda.OdaFailure("INTERNAL AUTHENTICATE answered with an unknown template")
    dynamic = oda.verify_dynamic_signature(icc_key, signed, ddol_data)
    if dynamic:
        t.terminal["9F4C"] = dynamic[1 : 1 + dynamic[0]]


# -- cardholder verification ------------------------------------------------------------------------------------


def _verify_cardholder(t: Transaction, pin_pad: PinPad) -> CvmOutcome:
    ctx = CvmContext(t.channel, pin_pad, t.config, t.pan, t.request.amount, t.tvr, t.tsi)
    outcome = verify(t.card, t.aip, ctx)
    if t.request.kind is TxnKind.BALANCE and outcome.cvm is not Cvm.ONLINE_PIN:
        # A balance is only told to someone who knows the PIN, whatever the card's CVM list says.
        return online_pin(pin_pad, t.pan, t.request, "a balance inquiry needs the PIN")
    return outcome


def online_pin(pin_pad: PinPad, pan: str, request: CardRequest, refusal: str) -> CvmOutcome:
    try:
        block = pin_pad.online_pin_block(pan, request.amount)
    except PinCancelled:
        raise CardError(refusal) from None
    return CvmOutcome(Cvm.ONLINE_PIN, bytes([0x02, 0x00, 0x00]), block)


# -- GENERATE AC ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcResult:
    cid: int
    cryptogram: bytes
    atc: bytes
    iad: bytes

    @property
    def kind(self) -> Cryptogram:
        bits = self.cid & 0xC0
        return Cryptogram(bits) if bits != 0xC0 else Cryptogram.AAC


def generate_ac(t: Transaction, wanted: Cryptogram, cdol: bytes, signed_before: bytes) -> tuple[AcResult, bytes]:
    """One GENERATE AC; with CDA the cryptogram comes out of the verified signature. Returns the CDOL data too."""
    use_cda = t.oda_method == "cda" and t.icc_key is not None and wanted is not Cryptogram.AAC
    data = build_dol_data(cdol, t.values())
    answer = t.channel.send(apdu.generate_ac(int(wanted) | (CDA_REQUESTED if use_cda else 0), data))
    if not answer.ok:
        raise CardReadError(f"GENERATE AC: {apdu.describe_sw(answer.sw)}")
    items = card_items(answer.data)
    if len(items) != 1 or items[0].tag not in ("80", "77"):
        raise CardReadError("GENERATE AC answered with an unknown template")
    if items[0].tag == "80":
        v = items[0].value
        if len(v) < 11:
            raise CardReadError("GENERATE AC format 1 is too short")
        check_cryptogram_type(wanted, v[0])
        return AcResult(v[0], v[3:11], v[1:3], v[11:]), data
    inner = card_items(items[0].value)
    values = card_tlv(items[0].value)
    if "9F27" not in values or "9F36" not in values:
        raise CardReadError("GENERATE AC gave no cryptogram information")
    cid = values["9F27"][0]
    check_cryptogram_type(wanted, cid)
    if use_cda and cid & 0xC0 != Cryptogram.AAC:
        cryptogram = _verify_cda(t, values, inner, signed_before + data, cid)
    else:
        cryptogram = values.get("9F26", b"")
    if len(cryptogram) != 8:
        raise CardReadError("GENERATE AC gave no application cryptogram")
    return AcResult(cid, cryptogram, values["9F36"], values.get("9F10", b"")), data


def check_cryptogram_type(wanted: Cryptogram, cid: int) -> None:
    """Book 3, 9.3: the card may answer with the cryptogram asked for or a lower one (AAC < TC < ARQC), never a
    higher one; the fourth type (bits 11) is reserved. Anything else is a card error."""
    bits = cid & 0xC0
    if bits == 0xC0:
        raise WrongCryptogram(f"an {wanted.name}", "a cryptogram of a reserved type", cid)
    if bits > wanted:
        got = Cryptogram(bits)
        raise WrongCryptogram(f"{_article(wanted)} {wanted.name}", f"{_article(got)} {got.name}", cid)


def _article(kind: Cryptogram) -> str:
    return "a" if kind is Cryptogram.TC else "an"


def _verify_cda(t: Transaction, values: dict[str, bytes], inner: list[Tlv], dol_data: bytes, cid: int) -> bytes:
    """Book 2, 6.6: the cryptogram is inside the card's signature, which also covers the transaction data."""
    try:
        if "9F4B" not in values or t.icc_key is None:
            raise oda.OdaFailure("no signed dynamic data")
        dynamic = oda.verify_dynamic_signature(t.icc_key, values["9F4B"], t.terminal["9F37"])
        fields = oda.cda_fields(dynamic)
        if fields.cid != cid:
            raise oda.OdaFailure("the signed cryptogram type differs from the one given")
        returned = b"".join(item.encoded() for item in inner if item.tag != "9F4B")
        if oda.transaction_hash(t.pdol_data, dol_data, returned) != fields.transaction_hash:
            raise oda.OdaFailure("the transaction data hash does not match")
    except oda.OdaFailure as exc:
        log.info("combined data authentication failed: %s", exc)
        t.tvr.set(TvrBit.CDA_FAILED)
        raise CardDeclinedOffline("the card's signature did not verify") from None
    t.terminal["9F4C"] = fields.icc_dynamic_number
    return fields.cryptogram


def _first_cryptogram(t: Transaction, wanted: Cryptogram) -> EmvSession:
    if wanted is Cryptogram.TC:
        wanted = Cryptogram.ARQC  # this terminal approves online only
    snapshot = t.values()  # the terminal data the card will compute its cryptogram over, for the acquirer
    result, t.cdol1_data = generate_ac(t, wanted, t.card["8C"], b"")
    t.tsi.set(TsiBit.CARD_RISK_MANAGEMENT_PERFORMED)
    if result.kind is Cryptogram.AAC:
        raise CardDeclinedOffline("the card or the terminal's risk rules said no")
    if result.kind is not Cryptogram.ARQC:
        raise CardReadError("the card approved offline although the terminal asked to go online")
    return EmvSession(t, result, card_read(t, result, snapshot, EntryMode.CHIP))


# -- the session: the card's part after the acquirer answers ------------------------------------------------------


class EmvSession:
    def __init__(self, t: Transaction, first: AcResult, card: CardRead) -> None:
        self._t = t
        self._first = first
        self.card = card
        self.script_results = b""

    def complete(self, answer: HostAnswer | None) -> CardCompletion:
        t = self._t
        if answer is None:
            t.terminal["8A"] = b"Z3"  # unable to go online, declined
            return self._second(Cryptogram.AAC, "the terminal could not reach the acquirer", ())
        t.terminal["8A"] = answer.response_code.encode("ascii", "replace")[:2]
        if "91" in answer.icc:
            self._issuer_authentication(bytes.fromhex(answer.icc["91"]))
        before = [s for s in answer.scripts if s[:1] == b"\x71"]
        after = [s for s in answer.scripts if s[:1] == b"\x72"]
        self._run_scripts(before, before_final=True)
        if not answer.approved:
            return self._second(Cryptogram.AAC, "declined by the issuer", after)
        return self._second(Cryptogram.TC, "", after)

    def _issuer_authentication(self, tag_91: bytes) -> None:
        t = self._t
        t.terminal["91"] = tag_91
        if any(tag == "91" for tag, _ in parse_dol(t.card["8D"])) or not t.aip[0] & AIP_ISSUER_AUTH:
            return  # the card checks it inside the second GENERATE AC
        t.tsi.set(TsiBit.ISSUER_AUTHENTICATION_PERFORMED)
        if not t.channel.send(apdu.external_authenticate(tag_91)).ok:
            t.tvr.set(TvrBit.ISSUER_AUTHENTICATION_FAILED)

    def _second(self, wanted: Cryptogram, why: str, after: list[bytes] | tuple[()]) -> CardCompletion:
        t = self._t
        try:
            result, _ = generate_ac(t, wanted, t.card["8D"], t.cdol1_data)
        except CardDeclinedOffline as exc:
            return CardCompletion(False, self._final_icc(None), str(exc))
        except WrongCryptogram as exc:
            # Not accepted whatever the card claims: after an approval the engine reverses it.
            icc = self._final_icc(None)
            icc["9F27"] = f"{exc.cid:02X}"
            return CardCompletion(False, icc, str(exc))
        self._run_scripts(list(after), before_final=False)
        accepted = result.kind is Cryptogram.TC
        if wanted is Cryptogram.TC and not accepted:
            why = "the card declined after the issuer approved"
        return CardCompletion(accepted, self._final_icc(result), "" if accepted else why)

    def _run_scripts(self, templates: list[bytes], before_final: bool) -> None:
        for raw in templates:
            try:
                items = parse(raw)
            except TlvError:
                continue
            for script in items:
                self._run_script(script, before_final)

    def _run_script(self, script: Tlv, before_final: bool) -> None:
        """Issuer script commands (tag 86) go to the card as they are; the first failure ends the script."""
        t = self._t
        t.tsi.set(TsiBit.SCRIPT_PROCESSING_PERFORMED)
        script_id, sequence, result = bytes(4), 0, SCRIPT_OK
        try:
            children = script.children()
        except TlvError:
            children = []
        for item in children:
            if item.tag == "9F18":
                script_id = item.value[:4].rjust(4, b"\x00")
            elif item.tag == "86":
                sequence += 1
                try:
                    ok = t.channel.send(apdu.parse_command(item.value)).sw1 in (0x90, 0x62, 0x63)
                except CardReadError:
                    ok = False
                if not ok:
                    result = SCRIPT_FAILED | min(sequence, 0x0F)
                    failed = (
                        TvrBit.SCRIPT_FAILED_BEFORE_FINAL_GENAC
                        if before_final
                        else TvrBit.SCRIPT_FAILED_AFTER_FINAL_GENAC
                    )
                    t.tvr.set(failed)
                    break
        self.script_results += bytes([result]) + script_id

    def _final_icc(self, result: AcResult | None) -> dict[str, str]:
        t = self._t
        out = {"95": t.tvr.hex(), "9B": t.tsi.hex()}
        if result is not None:
            out["9F26"] = result.cryptogram.hex().upper()
            out["9F27"] = f"{result.cid:02X}"
            out["9F36"] = result.atc.hex().upper()
        if self.script_results:
            out["9F5B"] = self.script_results.hex().upper()
        return out

    def close(self) -> None:
        self._t.channel.transport.close()


def card_read(t: Transaction, first: AcResult, snapshot: dict[str, bytes], entry: EntryMode) -> CardRead:
    """What the engine gets: the sealed-away essentials, the brand, the CVM, and field 55 for the acquirer."""
    card, config = t.card, t.candidate.config
    label = (card.get("9F12") or card.get("50") or t.candidate.label.encode()).decode("ascii", "replace").strip()
    funding = config.funding or (Funding.DEBIT if "DEBIT" in label.upper() else Funding.CREDIT)
    values = {
        **snapshot,
        "9F26": first.cryptogram,
        "9F27": bytes([first.cid]),
        "9F36": first.atc,
        "9F10": first.iad,
        "84": t.candidate.aid,
        "50": label.encode("ascii", "replace"),
    }
    icc = {tag: values[tag].hex().upper() for tag in HOST_TAGS if values.get(tag)}
    assert t.cvm is not None
    sensitive = SensitiveCardData(t.pan, card["5F24"].hex()[:4], card.get("5F34", b"").hex() or None)
    return CardRead(
        sensitive, config.brand, funding, entry, t.cvm.cvm, label, t.candidate.aid_hex, icc, t.cvm.pin_block
    )
