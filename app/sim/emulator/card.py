"""An emulated EMV chip card: personalisation (records, certificates) and the application's APDU state machine.

Pure logic: `EmvCard.process` takes a command APDU and returns data + SW1 SW2. It follows EMV Book 1 (T=0 case 2
and case 4 handling), Book 2 (SDA, DDA, CDA), Book 3 (commands, data objects) and ISO 7816-4 status words.
The application cryptograms are real (app.emv.cryptograms, with the issuer keys of issuer-keys.toml).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING

from app.emv.cryptograms import CardCryptograms, default_iad
from app.sim.emulator import pki

if TYPE_CHECKING:
    from app.sim.emulator.profiles import AppSpec, CardSpec

SW_OK = 0x9000
SW_WARNING_SELECTED_FILE_INVALIDATED = 0x6283  # application blocked
SW_AUTHENTICATION_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_PIN_BLOCKED = 0x6983
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_USE_OTHER_INTERFACE = 0x6986
SW_WRONG_MAC = 0x6988
SW_WRONG_DATA = 0x6A80
SW_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_WRONG_P1P2 = 0x6A86
SW_DATA_NOT_FOUND = 0x6A88
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_NO_PRECISE_DIAGNOSIS = 0x6F00

INS_EXTERNAL_AUTHENTICATE = 0x82
INS_INTERNAL_AUTHENTICATE = 0x88
INS_SELECT = 0xA4
INS_GPO = 0xA8
INS_GENERATE_AC = 0xAE
INS_READ_RECORD = 0xB2
INS_GET_RESPONSE = 0xC0
INS_GET_DATA = 0xCA
INS_VERIFY = 0x20
INS_PIN_UNBLOCK = 0x24
INS_APPLICATION_BLOCK = 0x1E
INS_PUT_DATA = 0xDA
# T=0 case 2 commands (data out only): a wrong Le is answered 6Cxx; every other command with data gets 61xx.
CASE_2 = frozenset({INS_READ_RECORD, INS_GET_DATA})

PSE = b"1PAY.SYS.DDF01"
PPSE = b"2PAY.SYS.DDF01"
PSE_SFI = 1
LANGUAGES = b"enzh"
CODE_TABLE = b"\x01"  # 9F11: ISO 8859-1

CID_AAC, CID_TC, CID_ARQC = 0x00, 0x40, 0x80
P1_TYPE_MASK, P1_CDA, P1_RFU = 0xC0, 0x10, 0x2F
MAX_ATC = 0xFFFF

CA_INDEX = b"\xf1"
ISSUER_CERT_EXPIRY = bytes.fromhex("1235")  # MMYY
ICC_CERT_EXPIRY = bytes.fromhex("1230")
DATA_AUTHENTICATION_CODE = bytes.fromhex("DAC1")
DDOL = bytes.fromhex("9F3704")
TRACK2_DISCRETIONARY = "0000000000"
ICC_DYNAMIC_NUMBER_LEN = 8
MAC_LEN = 8
ODA_AIP_TAG_LIST = b"\x82"
PIN_BLOCK_LEN = 8


class CardStatus(Exception):
    """Ends a command with a status word and no data, as a card does when it refuses one."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


# -- encodings ---------------------------------------------------------------------------------------------------


def tlv(tag: str, value: bytes) -> bytes:
    """One BER-TLV data object (definite length, short or 81/82 long form)."""
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return bytes.fromhex(tag) + length + value


def template_value(record: bytes) -> bytes:
    """The value of a template (70 L ...) without its tag and length."""
    first = record[1]
    skip = 2 if first < 0x80 else 2 + (first & 0x7F)
    return record[skip:]


def parse_dol(dol: bytes) -> tuple[tuple[str, int], ...]:
    """Data object list -> ((tag, length), ...). Raises ValueError for a list that ends inside an entry."""
    entries: list[tuple[str, int]] = []
    i = 0
    while i < len(dol):
        start = i
        i += 1
        if dol[start] & 0x1F == 0x1F:  # multi-byte tag: subsequent bytes while bit 8 is set
            while i < len(dol) and dol[i] & 0x80:
                i += 1
            i += 1
        if i >= len(dol):
            raise ValueError("DOL ends inside an entry")
        entries.append((dol[start:i].hex().upper(), dol[i]))
        i += 1
    return tuple(entries)


def dol_values(dol: tuple[tuple[str, int], ...], data: bytes) -> dict[str, bytes]:
    """Split the terminal's DOL-ordered data into tag -> value; 6700 when the length is not the DOL's."""
    if len(data) != sum(length for _, length in dol):
        raise CardStatus(SW_WRONG_LENGTH)
    values: dict[str, bytes] = {}
    offset = 0
    for tag, length in dol:
        values[tag] = data[offset : offset + length]
        offset += length
    return values


def bcd_digits(digits: str, size: int | None = None) -> bytes:
    """cn format: digits left-aligned, padded with F (to an even count, or to `size` bytes)."""
    padded = digits + "F" * (len(digits) % 2)
    if size is not None:
        padded = padded.ljust(size * 2, "F")
    return bytes.fromhex(padded)


def bcd_int(value: bytes) -> int | None:
    text = value.hex()
    return int(text) if text.isdigit() else None


def track2_equivalent(pan: str, expiry_yymm: str, service_code: str) -> bytes:
    return bcd_digits(f"{pan}D{expiry_yymm}{service_code}{TRACK2_DISCRETIONARY}")


def static_data_to_authenticate(records: Mapping[tuple[int, int], bytes], afl: bytes, aip: bytes) -> bytes:
    """EMV Book 2 section 5.4 with tag list 9F4A = 82: the ODA records named by the AFL, then the AIP.

    Records of SFI 1..10 count without their 70 tag and length; records of SFI 11..30 count whole."""
    data = bytearray()
    for i in range(0, len(afl) - 3, 4):
        sfi, first, count = afl[i] >> 3, afl[i + 1], afl[i + 3]
        for number in range(first, first + count):
            record = records[(sfi, number)]
            data += record if sfi > 10 else template_value(record)
    return bytes(data) + aip


def pin_from_block(block: bytes) -> str | None:
    """The PIN of a plaintext format 2 PIN block (2N PPPP.. F..F), or None if the block is not one."""
    text = block.hex().upper()
    if len(block) != PIN_BLOCK_LEN or text[0] != "2":
        return None
    length = int(text[1], 16)
    pin, padding = text[2 : 2 + length], text[2 + length :]
    if not 4 <= length <= 12 or not pin.isdigit() or padding != "F" * len(padding):
        return None
    return pin


# -- personalisation ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AppImage:
    """One personalised application: what the card holds for it, built once per profile and process.

    No repr: it holds the PAN, track 2 and the card's keys."""

    aid: bytes
    pan: str
    fci: bytes
    directory_entry: bytes  # 61 template for the PSE record / PPSE FCI
    aip: bytes
    afl: bytes
    records: dict[tuple[int, int], bytes]
    pdol: tuple[tuple[str, int], ...]
    cdol1: tuple[tuple[str, int], ...]
    cdol2: tuple[tuple[str, int], ...]
    track2: bytes
    cryptograms: CardCryptograms
    icc_key: pki.RsaKey | None


@cache
def personalise(spec: CardSpec, app: AppSpec) -> AppImage:
    aip = bytes.fromhex(spec.aip)
    records, afl = _data_records(spec, app)
    if spec.oda != "none":
        icc_key = _add_certificates(spec, app, records, static_data_to_authenticate(records, afl, aip))
    else:
        icc_key = None
    if spec.malformed_record:
        # 5A announces 8 bytes but the template ends after 5: a kernel must reject this record.
        records[(1, 1)] = bytes([0x70, 0x07, 0x5A, 0x08]) + bcd_digits(app.pan)[:5]
    aid = bytes.fromhex(app.aid)
    return AppImage(
        aid=aid,
        pan=app.pan,
        fci=_application_fci(spec, app),
        directory_entry=_directory_entry(app),
        aip=aip,
        afl=afl,
        records=records,
        pdol=parse_dol(bytes.fromhex(spec.pdol)),
        cdol1=parse_dol(bytes.fromhex(spec.cdol1)),
        cdol2=parse_dol(bytes.fromhex(spec.cdol2)),
        track2=_track2(spec, app),
        cryptograms=CardCryptograms.for_card(spec.cvn, bytes.fromhex(spec.imk_ac), app.pan, spec.psn),
        icc_key=icc_key,
    )


def _directory_entry(app: AppSpec) -> bytes:
    """Tag 61 as a PSE record or the PPSE FCI lists the application."""
    label = app.label.encode("ascii")
    return tlv("61", tlv("4F", bytes.fromhex(app.aid)) + tlv("50", label) + tlv("87", bytes([app.priority])))


def _application_fci(spec: CardSpec, app: AppSpec) -> bytes:
    proprietary = tlv("50", app.label.encode("ascii")) + tlv("87", bytes([app.priority]))
    if spec.pdol:
        proprietary += tlv("9F38", bytes.fromhex(spec.pdol))
    proprietary += tlv("5F2D", LANGUAGES) + tlv("9F11", CODE_TABLE)
    return tlv("6F", tlv("84", bytes.fromhex(app.aid)) + tlv("A5", proprietary))


def _data_records(spec: CardSpec, app: AppSpec) -> tuple[dict[tuple[int, int], bytes], bytes]:
    """(records, AFL) without certificates. SFI 1 and 2 hold the data ODA signs; SFI 3 the rest."""
    pan = bcd_digits(app.pan)
    if spec.kernel == "qvsdc":
        # The GPO answer carries track 2 and the cryptogram; the record completes the card data.
        body = tlv("5A", pan) + _dates(spec) + tlv("5F28", bytes.fromhex(spec.country))
        return {(1, 1): tlv("70", body)}, bytes.fromhex("08010100")
    oda = 0 if spec.oda == "none" else 1
    name = spec.cardholder_name.encode("ascii")
    records = {
        (1, 1): tlv("70", tlv("57", _track2(spec, app)) + tlv("5F20", name)),
        (2, 1): tlv("70", _application_data(spec, pan)),
        # Risk management limits stay out of the signed data: PUT DATA may change them.
        (3, 1): tlv("70", tlv("9F14", bytes([spec.lcol])) + tlv("9F23", bytes([spec.ucol]))),
    }
    last_sfi3 = 1 if spec.oda == "none" else 3
    afl = bytes([1 << 3, 1, 1, oda, 2 << 3, 1, 1, oda, 3 << 3, 1, last_sfi3, 0])
    return records, afl


def _track2(spec: CardSpec, app: AppSpec) -> bytes:
    return track2_equivalent(app.pan, spec.expiry[:4], spec.service_code)


def _dates(spec: CardSpec) -> bytes:
    return tlv("5F24", bytes.fromhex(spec.expiry)) + tlv("5F25", bytes.fromhex(spec.effective))


def _application_data(spec: CardSpec, pan: bytes) -> bytes:
    data = (
        tlv("5A", pan)
        + tlv("5F34", bytes.fromhex(spec.psn))
        + _dates(spec)
        + tlv("5F28", bytes.fromhex(spec.country))
        + tlv("5F30", bytes.fromhex("0" + spec.service_code))
        + tlv("9F07", bytes.fromhex(spec.auc))
        + tlv("9F08", bytes.fromhex(spec.app_version))
        + tlv("9F42", bytes.fromhex(spec.currency))
        + tlv("8C", bytes.fromhex(spec.cdol1))
    )
    if spec.kernel == "contact":
        data += tlv("8D", bytes.fromhex(spec.cdol2))
    if spec.cvm_rules:
        data += tlv("8E", bytes(8) + bytes.fromhex(spec.cvm_rules))
    data += tlv("9F0D", bytes.fromhex(spec.iac_default))
    data += tlv("9F0E", bytes.fromhex(spec.iac_denial))
    data += tlv("9F0F", bytes.fromhex(spec.iac_online))
    if spec.oda != "none":
        data += tlv("9F4A", ODA_AIP_TAG_LIST)
    return data


def _add_certificates(
    spec: CardSpec, app: AppSpec, records: dict[tuple[int, int], bytes], static_data: bytes
) -> pki.RsaKey | None:
    """Adds SFI 3 records 2 (issuer certificate) and 3 (SSAD, or the ICC certificate); returns the ICC key."""
    issuer = pki.issuer_key(spec.name)
    serial = hashlib.sha1(spec.name.encode(), usedforsecurity=False).digest()[:3]
    issuer_id = bcd_digits(app.pan[:6], 4)
    cert = pki.issuer_certificate(pki.ca_key(spec.rid), issuer, issuer_id, ISSUER_CERT_EXPIRY, serial)
    issuer_record = tlv("8F", CA_INDEX) + tlv("90", cert.signed)
    if cert.remainder:
        issuer_record += tlv("92", cert.remainder)
    records[(3, 2)] = tlv("70", issuer_record + tlv("9F32", issuer.exponent))
    if spec.oda == "sda":
        records[(3, 3)] = tlv("70", tlv("93", pki.signed_static_data(issuer, DATA_AUTHENTICATION_CODE, static_data)))
        return None
    icc = pki.icc_key(spec.name, app.aid)
    icc_serial = bytes.fromhex(app.pan[-6:])
    icc_cert = pki.icc_certificate(issuer, icc, bcd_digits(app.pan, 10), ICC_CERT_EXPIRY, icc_serial, static_data)
    icc_record = tlv("9F46", icc_cert.signed) + tlv("9F47", icc.exponent)
    if icc_cert.remainder:
        icc_record += tlv("9F48", icc_cert.remainder)
    records[(3, 3)] = tlv("70", icc_record + tlv("9F49", DDOL))
    return icc


# -- the card ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None
    header: bytes  # CLA INS P1 P2 Lc, as secure messaging MACs it

    @classmethod
    def parse(cls, raw: bytes) -> Command:
        """ISO 7816-4 short APDU, cases 1 to 4 (no extended length: EMV does not use it)."""
        if len(raw) < 4:
            raise CardStatus(SW_WRONG_LENGTH)
        cla, ins, p1, p2 = raw[:4]
        if len(raw) == 4:
            return cls(cla, ins, p1, p2, b"", None, raw)
        if len(raw) == 5:
            return cls(cla, ins, p1, p2, b"", raw[4], raw)
        lc = raw[4]
        if lc == 0 or len(raw) not in (5 + lc, 6 + lc):
            raise CardStatus(SW_WRONG_LENGTH)
        le = raw[5 + lc] if len(raw) == 6 + lc else None
        return cls(cla, ins, p1, p2, raw[5 : 5 + lc], le, raw[:5])


@dataclass(frozen=True)
class Reply:
    data: bytes = b""
    sw: int = SW_OK


class IssuerAuth(Enum):
    NOT_PERFORMED = "not performed"
    APPROVED = "approved"  # genuine ARPC, the issuer approves
    DECLINED = "declined"  # genuine ARPC, the issuer declines
    FAILED = "failed"  # the ARPC did not verify


@dataclass
class AppMemory:
    """What the card keeps for one application across resets (its non-volatile memory)."""

    atc: int
    lcol: int
    ucol: int
    last_online_atc: int = 0
    blocked: bool = False


@dataclass(repr=False)
class Transaction:
    """What lives from an application SELECT to the next SELECT or reset."""

    app: AppImage
    memory: AppMemory
    gpo_done: bool = False
    pdol_data: bytes = b""
    genacs: int = 0
    first_cid: int | None = None
    ac: bytes = b""
    terminal: dict[str, bytes] = field(default_factory=dict)
    cdol_data: list[bytes] = field(default_factory=list)
    issuer_auth: IssuerAuth = IssuerAuth.NOT_PERFORMED
    external_authenticated: bool = False
    scripts: int = 0


Handler = Callable[[Command], Reply]


class EmvCard:
    """An EmulatedCard (app/sim/emulator/base.py) personalised from a CardSpec."""

    def __init__(self, spec: CardSpec, *, atc: int | None = None) -> None:
        self.spec = spec
        self._apps = [personalise(spec, app) for app in spec.apps]
        # Every object of a profile plays the same physical card (same PAN): a random start keeps a fresh object
        # from replaying ATCs an issuer has already seen from an earlier one.
        start = atc if atc is not None else secrets.randbelow(20_000) + 1
        self._memory = {a.aid: AppMemory(start, spec.lcol, spec.ucol) for a in self._apps}
        self._pin_tries = spec.pin_try_limit
        self._handlers: dict[int, tuple[int, Handler]] = {
            INS_SELECT: (0x00, self._select),
            INS_READ_RECORD: (0x00, self._read_record),
            INS_GPO: (0x80, self._get_processing_options),
            INS_GET_DATA: (0x80, self._get_data),
            INS_VERIFY: (0x00, self._verify),
            INS_INTERNAL_AUTHENTICATE: (0x00, self._internal_authenticate),
            INS_GENERATE_AC: (0x80, self._generate_ac),
            INS_EXTERNAL_AUTHENTICATE: (0x00, self._external_authenticate),
            INS_PIN_UNBLOCK: (0x84, self._pin_unblock),
            INS_APPLICATION_BLOCK: (0x84, self._application_block),
            INS_PUT_DATA: (0x04, self._put_data),
        }
        self._classes = {cla for cla, _ in self._handlers.values()}
        self.reset()

    @property
    def atr(self) -> bytes:
        return self.spec.atr

    def reset(self) -> None:
        self._df: str | None = None  # "pse" or "ppse" while a directory is selected
        self._txn: Transaction | None = None
        self._cursor: tuple[bytes, int] | None = None  # last partial-name SELECT: (name, index of the app)
        self._pending: bytes | None = None  # T=0: response data waiting for GET RESPONSE

    def process(self, apdu: bytes) -> bytes:
        try:
            return self._process(bytes(apdu))
        except Exception:  # noqa: BLE001  a card answers every command; a bug here must not kill the reader loop
            self._pending = None
            return SW_NO_PRECISE_DIAGNOSIS.to_bytes(2, "big")

    # -- transport ------------------------------------------------------------------------------------------------

    def _process(self, raw: bytes) -> bytes:
        try:
            command = Command.parse(raw)
        except CardStatus as status:
            self._pending = None
            return status.sw.to_bytes(2, "big")
        if self.spec.t0 and command.ins == INS_GET_RESPONSE and command.cla == 0x00:
            return self._get_response(command)
        self._pending = None
        try:
            reply = self._dispatch(command)
        except CardStatus as status:
            reply = Reply(sw=status.sw)
        if self.spec.t0:
            return self._t0(command, reply)
        return reply.data + reply.sw.to_bytes(2, "big")

    def _dispatch(self, command: Command) -> Reply:
        if command.cla not in self._classes:
            raise CardStatus(SW_CLA_NOT_SUPPORTED)
        entry = self._handlers.get(command.ins)
        if entry is None:
            raise CardStatus(SW_INS_NOT_SUPPORTED)
        cla, handler = entry
        if command.cla != cla:
            raise CardStatus(SW_CLA_NOT_SUPPORTED)
        return handler(command)

    def _t0(self, command: Command, reply: Reply) -> bytes:
        """EMV Book 1 9.3.1: case 2 answers 6Cxx until Le is exact; case 4 answers 61xx and waits for GET RESPONSE.

        A warning (62xx/63xx) with data is answered with the warning alone; GET RESPONSE then gives the data."""
        sw = reply.sw.to_bytes(2, "big")
        if not reply.data:
            return sw
        length = len(reply.data)
        if command.ins in CASE_2:
            return reply.data + sw if _le(command) == length else bytes([0x6C, length & 0xFF])
        self._pending = reply.data
        return bytes([0x61, length & 0xFF]) if reply.sw == SW_OK else sw

    def _get_response(self, command: Command) -> bytes:
        if self._pending is None:
            return SW_CONDITIONS_NOT_SATISFIED.to_bytes(2, "big")
        if command.p1 or command.p2 or command.data:
            return SW_WRONG_P1P2.to_bytes(2, "big")
        data = self._pending
        if _le(command) != len(data):
            return bytes([0x6C, len(data) & 0xFF])
        self._pending = None
        return data + SW_OK.to_bytes(2, "big")

    # -- selection ------------------------------------------------------------------------------------------------

    def _select(self, c: Command) -> Reply:
        if c.p1 != 0x04 or c.p2 not in (0x00, 0x02):
            raise CardStatus(SW_WRONG_P1P2)
        if c.p2 == 0x00 and c.data in (PSE, PPSE):
            return self._select_directory(c.data)
        index = self._find_application(c.data, next_occurrence=c.p2 == 0x02)
        app = self._apps[index]
        self._df, self._cursor = None, (c.data, index)
        self._txn = Transaction(app, self._memory[app.aid])
        blocked = self._txn.memory.blocked
        return Reply(app.fci, SW_WARNING_SELECTED_FILE_INVALIDATED if blocked else SW_OK)

    def _select_directory(self, name: bytes) -> Reply:
        if name == PSE and self.spec.pse and not self.spec.contactless:
            fci = tlv("6F", tlv("84", PSE) + tlv("A5", tlv("88", bytes([PSE_SFI])) + tlv("5F2D", LANGUAGES)))
            self._df = "pse"
        elif name == PPSE and self.spec.contactless:
            entries = b"".join(app.directory_entry for app in self._apps)
            fci = tlv("6F", tlv("84", PPSE) + tlv("A5", tlv("BF0C", entries)))
            self._df = "ppse"
        else:
            raise CardStatus(SW_NOT_FOUND)
        self._txn, self._cursor = None, None
        return Reply(fci)

    def _find_application(self, name: bytes, *, next_occurrence: bool) -> int:
        """Exact or partial (prefix) AID match; P2=02 continues after the last match of the same name."""
        if not 5 <= len(name) <= 16:
            raise CardStatus(SW_NOT_FOUND)
        start = 0
        if next_occurrence and self._cursor is not None and self._cursor[0] == name:
            start = self._cursor[1] + 1
        for index in range(start, len(self._apps)):
            if self._apps[index].aid.startswith(name):
                return index
        raise CardStatus(SW_NOT_FOUND)

    def _application(self) -> Transaction:
        if self._txn is None:
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        return self._txn

    # -- reading --------------------------------------------------------------------------------------------------

    def _read_record(self, c: Command) -> Reply:
        if c.p2 & 0x07 != 0x04:
            raise CardStatus(SW_WRONG_P1P2)
        records = self._records()
        sfi = c.p2 >> 3
        if not any(key[0] == sfi for key in records):
            raise CardStatus(SW_NOT_FOUND)
        record = records.get((sfi, c.p1))
        if record is None:
            raise CardStatus(SW_RECORD_NOT_FOUND)
        return Reply(record)

    def _records(self) -> Mapping[tuple[int, int], bytes]:
        if self._df == "pse":
            return {(PSE_SFI, i): tlv("70", app.directory_entry) for i, app in enumerate(self._apps, start=1)}
        return self._txn.app.records if self._txn is not None else {}

    def _get_data(self, c: Command) -> Reply:
        txn = self._application()
        tag = bytes([c.p1, c.p2]).hex().upper()
        values = {
            "9F36": txn.memory.atc.to_bytes(2, "big"),
            "9F13": txn.memory.last_online_atc.to_bytes(2, "big"),
            "9F14": bytes([txn.memory.lcol]),
            "9F23": bytes([txn.memory.ucol]),
        }
        if self.spec.offline_pin is not None:
            values["9F17"] = bytes([self._pin_tries])
        if tag not in values:
            raise CardStatus(SW_DATA_NOT_FOUND)
        return Reply(tlv(tag, values[tag]))

    # -- processing options ---------------------------------------------------------------------------------------

    def _get_processing_options(self, c: Command) -> Reply:
        txn = self._application()
        if c.p1 or c.p2:
            raise CardStatus(SW_WRONG_P1P2)
        if txn.gpo_done or txn.memory.blocked:
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        if len(c.data) < 2 or c.data[0] != 0x83:
            raise CardStatus(SW_WRONG_DATA)
        pdol_data = c.data[2:]
        if c.data[1] != len(pdol_data):
            raise CardStatus(SW_WRONG_LENGTH)
        values = dol_values(txn.app.pdol, pdol_data)
        # Once the data is well formed the transaction has begun: no second GPO, whatever this one answers.
        txn.gpo_done, txn.pdol_data = True, pdol_data
        if self.spec.kernel == "qvsdc":
            return self._qvsdc(txn, values)
        return Reply(tlv("77", tlv("82", txn.app.aip) + tlv("94", txn.app.afl)))

    def _qvsdc(self, txn: Transaction, values: dict[str, bytes]) -> Reply:
        """Visa-like quick VSDC: the online cryptogram comes with the GPO answer; there is no GENERATE AC."""
        ttq = values.get("9F66", b"\x00")
        if not ttq[0] & 0x20:  # the reader does not do qVSDC, and these cards do nothing else
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        amount = bcd_int(values.get("9F02", b""))
        if amount is None:
            raise CardStatus(SW_WRONG_DATA)
        if amount > self.spec.contactless_limit_minor:
            raise CardStatus(SW_USE_OTHER_INTERFACE)
        atc = self._next_atc(txn)
        arqc = self._cryptogram(txn.app, values, atc)
        txn.first_cid, txn.ac, txn.genacs = CID_ARQC, arqc, 1
        body = (
            tlv("82", txn.app.aip)
            + tlv("94", txn.app.afl)
            + tlv("57", txn.app.track2)
            + tlv("5F34", bytes.fromhex(self.spec.psn))
            + tlv("9F10", default_iad(self.spec.cvn))
            + tlv("9F26", arqc)
            + tlv("9F27", bytes([CID_ARQC]))
            + tlv("9F36", atc)
            + tlv("9F6C", bytes.fromhex(self.spec.ctq))
            + tlv("5F20", self.spec.cardholder_name.encode("ascii"))
        )
        return Reply(tlv("77", body))

    def _next_atc(self, txn: Transaction) -> bytes:
        if txn.memory.atc >= MAX_ATC:  # an exhausted counter ends the card's life
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        txn.memory.atc += 1
        return txn.memory.atc.to_bytes(2, "big")

    def _cryptogram(self, app: AppImage, terminal: dict[str, bytes], atc: bytes) -> bytes:
        tags = dict(terminal)
        tags.update({"82": app.aip, "9F36": atc, "9F10": default_iad(self.spec.cvn)})
        return app.cryptograms.generate_ac(tags)

    # -- cardholder verification ----------------------------------------------------------------------------------

    def _verify(self, c: Command) -> Reply:
        self._application()
        if c.p1 != 0x00 or c.p2 != 0x80:  # plaintext offline PIN only
            raise CardStatus(SW_WRONG_P1P2)
        if self.spec.offline_pin is None:
            raise CardStatus(SW_DATA_NOT_FOUND)
        if self._pin_tries == 0:
            raise CardStatus(SW_PIN_BLOCKED)
        if not c.data:  # ISO 7816-4: VERIFY without data asks how many tries are left
            return Reply(sw=0x63C0 | self._pin_tries)
        if len(c.data) != PIN_BLOCK_LEN:
            raise CardStatus(SW_WRONG_LENGTH)
        pin = pin_from_block(c.data)
        if pin is None:
            raise CardStatus(SW_WRONG_DATA)
        if hmac.compare_digest(pin.encode(), self.spec.offline_pin.encode()):
            self._pin_tries = self.spec.pin_try_limit
            return Reply()
        self._pin_tries -= 1
        return Reply(sw=0x63C0 | self._pin_tries)

    # -- offline data authentication ------------------------------------------------------------------------------

    def _internal_authenticate(self, c: Command) -> Reply:
        txn = self._application()
        if txn.app.icc_key is None:
            raise CardStatus(SW_INS_NOT_SUPPORTED)
        if c.p1 or c.p2:
            raise CardStatus(SW_WRONG_P1P2)
        if not txn.gpo_done:
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        if not c.data:
            raise CardStatus(SW_WRONG_LENGTH)
        dynamic = bytes([ICC_DYNAMIC_NUMBER_LEN]) + secrets.token_bytes(ICC_DYNAMIC_NUMBER_LEN)
        return Reply(tlv("80", pki.signed_dynamic_data(txn.app.icc_key, dynamic, c.data)))

    # -- application cryptograms ----------------------------------------------------------------------------------

    def _generate_ac(self, c: Command) -> Reply:
        txn = self._application()
        asked = c.p1 & P1_TYPE_MASK
        if c.p2 or c.p1 & P1_RFU or asked == P1_TYPE_MASK:
            raise CardStatus(SW_WRONG_P1P2)
        if not txn.gpo_done or self.spec.kernel == "qvsdc":
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        cda = bool(c.p1 & P1_CDA)
        if txn.genacs == 0:
            return self._first_ac(txn, c.data, asked, cda)
        if txn.genacs == 1 and txn.first_cid == CID_ARQC and self.spec.kernel == "contact":
            return self._second_ac(txn, c.data, asked, cda)
        raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)

    def _first_ac(self, txn: Transaction, data: bytes, asked: int, cda: bool) -> Reply:
        values = dol_values(txn.app.cdol1, data)
        atc = self._next_atc(txn)
        # These cards never approve offline: a TC request is answered with an ARQC.
        cid = CID_AAC if asked == CID_AAC or txn.memory.blocked else CID_ARQC
        if self.spec.first_ac_answer is not None:
            cid = self.spec.first_ac_answer
        ac = self._cryptogram(txn.app, values, atc)
        txn.genacs, txn.first_cid, txn.ac, txn.terminal = 1, cid, ac, values
        txn.cdol_data.append(data)
        return self._ac_reply(txn, cid, ac, atc, cda)

    def _second_ac(self, txn: Transaction, data: bytes, asked: int, cda: bool) -> Reply:
        values = {**txn.terminal, **dol_values(txn.app.cdol2, data)}
        atc = txn.memory.atc.to_bytes(2, "big")
        issuer_ok = self._issuer_allows(txn, values, atc)
        approve = asked == CID_TC and issuer_ok and not self.spec.declines_after_online and not txn.memory.blocked
        cid = CID_TC if approve else CID_AAC
        if self.spec.second_ac_answer is not None:
            cid = self.spec.second_ac_answer
        ac = self._cryptogram(txn.app, values, atc)
        txn.genacs, txn.terminal = 2, values
        txn.cdol_data.append(data)
        return self._ac_reply(txn, cid, ac, atc, cda)

    def _issuer_allows(self, txn: Transaction, values: dict[str, bytes], atc: bytes) -> bool:
        """Whether issuer authentication lets the card approve. A card that requires it declines when it was not
        performed at all, "unable to go online" (ARC Y3/Z3) included: these cards are online-only."""
        if self.spec.issuer_auth == "cdol2":
            self._authenticate_issuer(txn, values.get("91", b""), atc)
        if txn.issuer_auth is IssuerAuth.DECLINED:
            return False
        return txn.issuer_auth is IssuerAuth.APPROVED or not self.spec.issuer_auth_required

    def _authenticate_issuer(self, txn: Transaction, tag_91: bytes, atc: bytes) -> IssuerAuth:
        result = txn.app.cryptograms.check_issuer_authentication(txn.ac, atc, tag_91)
        if result is None:
            txn.issuer_auth = IssuerAuth.FAILED
        else:
            txn.issuer_auth = IssuerAuth.APPROVED if result else IssuerAuth.DECLINED
            txn.memory.last_online_atc = txn.memory.atc
        return txn.issuer_auth

    def _ac_reply(self, txn: Transaction, cid: int, ac: bytes, atc: bytes, cda: bool) -> Reply:
        head = tlv("9F27", bytes([cid])) + tlv("9F36", atc)
        tail = tlv("9F10", default_iad(self.spec.cvn))
        if not (cda and self.spec.oda == "cda" and cid != CID_AAC and txn.app.icc_key is not None):
            return Reply(tlv("77", head + tlv("9F26", ac) + tail))
        # CDA (Book 2 6.6): the AC travels inside the signature, bound to everything the terminal sent.
        hashed = txn.pdol_data + b"".join(txn.cdol_data) + head + tail
        transaction_hash = hashlib.sha1(hashed, usedforsecurity=False).digest()
        number = secrets.token_bytes(ICC_DYNAMIC_NUMBER_LEN)
        dynamic = bytes([len(number)]) + number + bytes([cid]) + ac + transaction_hash
        sdad = pki.signed_dynamic_data(txn.app.icc_key, dynamic, txn.terminal.get("9F37", b""))
        return Reply(tlv("77", head + tlv("9F4B", sdad) + tail))

    def _external_authenticate(self, c: Command) -> Reply:
        txn = self._application()
        if self.spec.issuer_auth != "external":
            raise CardStatus(SW_INS_NOT_SUPPORTED)
        if c.p1 or c.p2:
            raise CardStatus(SW_WRONG_P1P2)
        if txn.genacs != 1 or txn.first_cid != CID_ARQC or txn.external_authenticated:
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        if not c.data:
            raise CardStatus(SW_WRONG_LENGTH)
        txn.external_authenticated = True
        result = self._authenticate_issuer(txn, c.data, txn.memory.atc.to_bytes(2, "big"))
        return Reply(sw=SW_AUTHENTICATION_FAILED if result is IssuerAuth.FAILED else SW_OK)

    # -- issuer scripts -------------------------------------------------------------------------------------------

    def _pin_unblock(self, c: Command) -> Reply:
        self._scripted(c, expect_p1p2=(0x00, 0x00), value_length=0)
        self._pin_tries = self.spec.pin_try_limit
        return Reply()

    def _application_block(self, c: Command) -> Reply:
        txn = self._scripted(c, expect_p1p2=(0x00, 0x00), value_length=0)
        txn.memory.blocked = True
        return Reply()

    def _put_data(self, c: Command) -> Reply:
        if (c.p1, c.p2) not in ((0x9F, 0x14), (0x9F, 0x23)):
            raise CardStatus(SW_DATA_NOT_FOUND)
        txn = self._scripted(c, expect_p1p2=(c.p1, c.p2), value_length=1)
        value = c.data[0]
        if c.p2 == 0x14:
            txn.memory.lcol = value
        else:
            txn.memory.ucol = value
        return Reply()

    def _scripted(self, c: Command, *, expect_p1p2: tuple[int, int], value_length: int) -> Transaction:
        """Checks a secure-messaging script command (data || 8-byte MAC) against the session's ARQC and ATC."""
        txn = self._application()
        if (c.p1, c.p2) != expect_p1p2:
            raise CardStatus(SW_WRONG_P1P2)
        if txn.genacs == 0:
            raise CardStatus(SW_CONDITIONS_NOT_SATISFIED)
        if len(c.data) != value_length + MAC_LEN:
            raise CardStatus(SW_WRONG_LENGTH)
        value, mac = c.data[:value_length], c.data[value_length:]
        expected = txn.app.cryptograms.impl.generate_command_mac(
            c.header, self._script_ac(txn), txn.memory.atc.to_bytes(2, "big"), value
        )
        txn.scripts += 1
        if not hmac.compare_digest(bytes(expected), mac):
            raise CardStatus(SW_WRONG_MAC)
        return txn

    def _script_ac(self, txn: Transaction) -> bytes:
        """Mastercard-like CVNs chain script MACs: the n-th command (from 0) uses the ARQC plus n (pyemv cvn.py)."""
        if self.spec.issuer_auth == "external":
            return txn.ac
        return ((int.from_bytes(txn.ac, "big") + txn.scripts) % (1 << 64)).to_bytes(8, "big")


def _le(command: Command) -> int:
    """Le as a byte count: absent or 00 means 256 (short APDU)."""
    return command.le or 256
