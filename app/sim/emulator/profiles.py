"""The named emulated cards: what each one is personalised with.

PANs are test numbers (Luhn-valid, in the KioskPOS test BIN ranges, or a public test number where a real range is
the point; distinct from app/sim/card_profiles.py), the issuer master keys are test keys, and
app/sim/emulator/issuer-keys.toml tells the acquirer simulator about them.

Values every card shares unless its entry says otherwise (see `CardSpec`):
  PSN 01, effective 2023-01-01, expiry 2030-12-31, service code 201, AUC FF00, issuer country and currency 156.
  IAC default 0000000000 and denial 0000000000: the card never asks the terminal to approve or decline offline
  on its own account. IAC online FCF8FCF8F0: every defined TVR condition sends the transaction online (these
  cards answer ARQC to the first GENERATE AC anyway).
  LCOL 05, UCOL 0A.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Literal

from app.sim.emulator.card import EmvCard

Oda = Literal["none", "sda", "dda", "cda"]
# contact: EMV contact application; qvsdc: Visa-like contactless (cryptogram in GPO); mchip: Mastercard-like
# contactless (one GENERATE AC, no second).
Kernel = Literal["contact", "qvsdc", "mchip"]

RID_VISA, RID_MASTERCARD, RID_UNIONPAY = "A000000003", "A000000004", "A000000333"
AID_VISA = "A0000000031010"
AID_MASTERCARD = "A0000000041010"
AID_UNIONPAY_DEBIT = "A000000333010101"
AID_UNIONPAY_CREDIT = "A000000333010102"
AID_MAESTRO = "A0000000043060"

# Test issuer master keys (AC), one per brand, used for nothing but these emulated cards.
IMK_VISA = "B7A8E4D3C92AF7B04D15EEC3B52675A9"
IMK_MASTERCARD = "D2FD051DF8F6DD383440BC200928B1C2"
IMK_UNIONPAY = "90CC9FBABFFB3A029A0FBAEF7C3D6BE1"

# Historical bytes: category 80 (compact TLV), then "card issuer's data" (tag 5, length 8) = "KIOSKPOS".
HISTORICAL_BYTES = bytes([0x80, 0x58]) + b"KIOSKPOS"
# EMV Book 1 basic ATRs. T=1: TB1=00 TC1=00 TD1=81 TD2=31 TA3=FE (IFSC 254) TB3=45 (BWI 4, CWI 5), then TCK.
_ATR_T1_HEAD = bytes([0x3B, 0xE0 | len(HISTORICAL_BYTES), 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45])
ATR_T1 = _ATR_T1_HEAD + HISTORICAL_BYTES + bytes([reduce(lambda a, b: a ^ b, _ATR_T1_HEAD[1:] + HISTORICAL_BYTES)])
# T=0 only: TB1=00 TC1=00, no TCK (ISO 7816-3: absent when only T=0 is offered).
ATR_T0 = bytes([0x3B, 0x60 | len(HISTORICAL_BYTES), 0x00, 0x00]) + HISTORICAL_BYTES

CDOL1 = "9F02069F03069F1A0295055F2A029A039C019F37049F35019F3403"
CDOL2_VISA = "8A029F02069F03069F1A0295055F2A029A039C019F3704"
CDOL2_MASTERCARD = CDOL2_VISA + "910A"
PDOL_QVSDC = "9F66049F02069F03069F1A0295055F2A029A039C019F3704"


@dataclass(frozen=True)
class AppSpec:
    aid: str
    label: str
    pan: str = field(repr=False)
    priority: int = 1  # tag 87: 1 is the highest; bit 8 (cardholder confirmation) never set here


@dataclass(frozen=True)
class CardSpec:
    name: str
    description: str
    apps: tuple[AppSpec, ...]
    cvn: int
    imk_ac: str = field(repr=False)  # hex, 16 bytes
    aip: str  # hex, 2 bytes
    oda: Oda
    cvm_rules: str  # hex CV rules of tag 8E; amounts X and Y are 0
    online_pin: str = field(repr=False)  # what the issuer checks (issuer-keys.toml)
    app_version: str  # 9F08
    cardholder_name: str
    kernel: Kernel = "contact"
    pse: bool = True
    pdol: str = ""
    cdol1: str = CDOL1
    offline_pin: str | None = field(default=None, repr=False)
    pin_try_limit: int = 3
    issuer_auth_required: bool = True
    declines_after_online: bool = False
    # Developer cards that break the GENERATE AC rule (a card may step down from the cryptogram asked for, never
    # up): the cryptogram type (CID) they answer at the first / second GENERATE AC whatever was asked.
    first_ac_answer: int | None = None
    second_ac_answer: int | None = None
    malformed_record: bool = False
    t0: bool = False
    contactless_limit_minor: int = 0  # qVSDC: above it the card answers 6986 (insert the card)
    ctq: str = "8000"  # 9F6C, qVSDC only
    psn: str = "01"
    effective: str = "230101"  # YYMMDD
    expiry: str = "301231"  # YYMMDD
    service_code: str = "201"
    auc: str = "FF00"
    country: str = "0156"
    currency: str = "0156"
    iac_default: str = "0000000000"
    iac_denial: str = "0000000000"
    iac_online: str = "FCF8FCF8F0"
    lcol: int = 0x05
    ucol: int = 0x0A
    balance_minor: int = 1_000_000

    @property
    def rid(self) -> str:
        return self.apps[0].aid[:10]

    @property
    def contactless(self) -> bool:
        return self.kernel != "contact"

    @property
    def issuer_auth(self) -> Literal["external", "cdol2"]:
        """Visa-like CVNs take the ARPC in EXTERNAL AUTHENTICATE, Mastercard-like ones in CDOL2 (tag 91)."""
        return "external" if self.cvn in (10, 18, 22) else "cdol2"

    @property
    def cdol2(self) -> str:
        return CDOL2_MASTERCARD if self.issuer_auth == "cdol2" else CDOL2_VISA

    @property
    def atr(self) -> bytes:
        """The contact ATR, or for a contactless card the historical bytes its ATS carries."""
        if self.contactless:
            return HISTORICAL_BYTES
        return ATR_T0 if self.t0 else ATR_T1


_VISA_CDA = CardSpec(
    name="visa-cda",
    description="Visa credit, contact, CDA, signature",
    apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002010019"),),
    cvn=18,
    imk_ac=IMK_VISA,
    aip="3D00",  # DDA, cardholder verification, terminal risk management, issuer authentication, CDA
    oda="cda",
    cvm_rules="1E031F03",  # signature if the terminal supports it, else no CVM
    online_pin="1234",
    app_version="0096",
    cardholder_name="EMULATED/VISA CDA",
    pdol="9F1A02",
)

_MASTERCARD_DDA = CardSpec(
    name="mastercard-dda",
    description="Mastercard debit, contact, DDA, online PIN 1234",
    apps=(AppSpec(AID_MASTERCARD, "DEBIT MASTERCARD", "5413330090010019"),),
    cvn=16,
    imk_ac=IMK_MASTERCARD,
    aip="3800",  # DDA, cardholder verification, terminal risk management (issuer auth is in CDOL2, not AIP)
    oda="dda",
    cvm_rules="42031E03",  # online PIN (next rule if it fails), then signature
    online_pin="1234",
    app_version="0002",
    cardholder_name="EMULATED/MASTERCARD DDA",
)

_MAESTRO = CardSpec(
    name="maestro",
    description="Maestro debit, contact, DDA, online PIN 1234, 19-digit PAN in the Maestro 6304 range",
    # The number is a public Maestro test card number (Ingenico ePayments' test page).
    apps=(AppSpec(AID_MAESTRO, "MAESTRO", "6304939304310009610"),),
    cvn=16,
    imk_ac=IMK_MASTERCARD,
    aip="3800",  # DDA, cardholder verification, terminal risk management (issuer auth is in CDOL2)
    oda="dda",
    cvm_rules="42031E03",
    online_pin="1234",
    app_version="0002",
    cardholder_name="EMULATED/MAESTRO",
)

_UNIONPAY_NOPSE = CardSpec(
    name="unionpay-nopse",
    description="UnionPay debit, contact, no PSE, SDA, 19-digit PAN, online PIN 123456",
    apps=(AppSpec(AID_UNIONPAY_DEBIT, "UnionPay Debit", "6250948100000000016"),),
    cvn=18,
    imk_ac=IMK_UNIONPAY,
    aip="5C00",  # SDA, cardholder verification, terminal risk management, issuer authentication
    oda="sda",
    cvm_rules="42031F03",
    online_pin="123456",
    app_version="0030",
    cardholder_name="EMULATED/UNIONPAY NOPSE",
    pse=False,
    balance_minor=100_000,
)

_UNIONPAY_TWO_APPS = CardSpec(
    name="unionpay-two-apps",
    description="UnionPay card with a debit and a credit application (own PANs), DDA, online PIN 123456",
    apps=(
        AppSpec(AID_UNIONPAY_DEBIT, "UnionPay Debit", "6250948200000010", priority=2),
        AppSpec(AID_UNIONPAY_CREDIT, "UnionPay Credit", "6250948200000028", priority=1),
    ),
    cvn=18,
    imk_ac=IMK_UNIONPAY,
    aip="3C00",  # DDA, cardholder verification, terminal risk management, issuer authentication
    oda="dda",
    cvm_rules="42031F03",
    online_pin="123456",
    app_version="0030",
    cardholder_name="EMULATED/UNIONPAY TWO",
)

_VISA_OFFLINE_PIN = CardSpec(
    name="visa-offline-pin",
    description="Visa debit, contact, DDA, plaintext offline PIN 4321 (3 tries)",
    apps=(AppSpec(AID_VISA, "VISA DEBIT", "4761739002030017"),),
    cvn=10,
    imk_ac=IMK_VISA,
    aip="3C00",
    oda="dda",
    cvm_rules="0100",  # plaintext PIN verified by the ICC, always; failing it fails cardholder verification
    online_pin="4321",
    app_version="0096",
    cardholder_name="EMULATED/VISA OFFLINE PIN",
    offline_pin="4321",
    pin_try_limit=3,
)

_T0 = CardSpec(
    name="t0",
    description="Mastercard-like, T=0 protocol (61xx / 6Cxx), SDA, no CVM",
    apps=(AppSpec(AID_MASTERCARD, "MASTERCARD", "5413330090020018"),),
    cvn=16,
    imk_ac=IMK_MASTERCARD,
    aip="5800",  # SDA, cardholder verification, terminal risk management
    oda="sda",
    cvm_rules="1F00",  # no CVM required, always
    online_pin="1234",
    app_version="0002",
    cardholder_name="EMULATED/T0",
    t0=True,
    # A plain card: it accepts the terminal's TC request without an ARPC (a genuine decline still gives AAC).
    issuer_auth_required=False,
)

_VISA_CONTACTLESS = CardSpec(
    name="visa-contactless",
    description="Visa credit, contactless qVSDC (online only), card limit CNY 5000.00",
    apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002060014"),),
    cvn=18,
    imk_ac=IMK_VISA,
    aip="0000",  # online-only qVSDC without fDDA: nothing to authenticate offline
    oda="none",
    cvm_rules="",
    online_pin="1234",
    app_version="0096",
    cardholder_name="EMULATED/VISA CONTACTLESS",
    kernel="qvsdc",
    pse=False,
    pdol=PDOL_QVSDC,
    contactless_limit_minor=500_000,
    ctq="8000",  # online PIN required above the reader's CVM limit
)

_MASTERCARD_CONTACTLESS = CardSpec(
    name="mastercard-contactless",
    description="Mastercard debit, contactless M/Chip-like (one GENERATE AC), online PIN 1234",
    apps=(AppSpec(AID_MASTERCARD, "DEBIT MASTERCARD", "5413330090030017"),),
    cvn=16,
    imk_ac=IMK_MASTERCARD,
    aip="1880",  # cardholder verification, terminal risk management; byte 2 bit 8: EMV mode supported
    oda="none",
    cvm_rules="42031F03",
    online_pin="1234",
    app_version="0002",
    cardholder_name="EMULATED/MASTERCARD CL",
    kernel="mchip",
    pse=False,
)

_UNIONPAY_QUICKPASS = replace(
    _VISA_CONTACTLESS,
    name="unionpay-quickpass",
    description="UnionPay debit, contactless QuickPass (qVSDC-like), card limit CNY 5000.00, online PIN 123456",
    apps=(AppSpec(AID_UNIONPAY_DEBIT, "UnionPay Debit", "6250948300000019"),),
    imk_ac=IMK_UNIONPAY,
    online_pin="123456",
    app_version="0030",
    cardholder_name="EMULATED/QUICKPASS",
)

EMULATED_CARDS: dict[str, CardSpec] = {
    c.name: c
    for c in (
        _VISA_CDA,
        _MASTERCARD_DDA,
        _MAESTRO,
        _UNIONPAY_NOPSE,
        _UNIONPAY_TWO_APPS,
        replace(
            _VISA_CDA,
            name="visa-expired",
            description="Visa credit like visa-cda, expired 2024-01-31",
            apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002020018"),),
            cardholder_name="EMULATED/VISA EXPIRED",
            effective="210101",
            expiry="240131",
        ),
        _VISA_OFFLINE_PIN,
        replace(
            _VISA_CDA,
            name="visa-aac",
            description="Visa credit, DDA, answers the second GENERATE AC with AAC even when the issuer approves",
            apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002040016"),),
            aip="3C00",
            oda="dda",
            cardholder_name="EMULATED/VISA AAC",
            declines_after_online=True,
        ),
        replace(
            _VISA_CDA,
            name="malformed",
            description="Visa-like card whose first record holds a TLV that runs past its template",
            apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002050015"),),
            aip="1C00",  # no offline data authentication: the broken record is the only fault
            oda="none",
            cardholder_name="EMULATED/MALFORMED",
            malformed_record=True,
        ),
        replace(
            _VISA_CDA,
            name="visa-arqc-for-aac",
            description="Visa credit, no ODA, its issuer's action codes decline offline; answers ARQC to the AAC asked",
            apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002070013"),),
            aip="1C00",  # no offline data authentication: "ODA not performed" ...
            oda="none",
            iac_denial="8000000000",  # ... is a reason to decline offline
            cardholder_name="EMULATED/VISA ARQC",
            first_ac_answer=0x80,
        ),
        replace(
            _VISA_CDA,
            name="visa-tc-for-aac",
            description="Visa credit, DDA, answers the second GENERATE AC with TC even when the AAC is asked",
            apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002080012"),),
            aip="3C00",
            oda="dda",
            cardholder_name="EMULATED/VISA TC",
            second_ac_answer=0x40,
        ),
        replace(
            _VISA_CDA,
            name="visa-arqc-at-second",
            description="Visa credit, DDA, answers the second GENERATE AC with another ARQC (never allowed there)",
            apps=(AppSpec(AID_VISA, "VISA CREDIT", "4761739002090011"),),
            aip="3C00",
            oda="dda",
            cardholder_name="EMULATED/VISA ARQC2",
            second_ac_answer=0x80,
        ),
        _T0,
        _VISA_CONTACTLESS,
        _MASTERCARD_CONTACTLESS,
        _UNIONPAY_QUICKPASS,
    )
}


def card_spec(name: str) -> CardSpec:
    try:
        return EMULATED_CARDS[name]
    except KeyError:
        raise KeyError(f"no emulated card called {name!r} (known: {', '.join(EMULATED_CARDS)})") from None


def make_card(name: str, *, atc: int | None = None) -> EmvCard:
    """A fresh card (its own counters) of a named profile; keys and certificates are shared per profile."""
    return EmvCard(card_spec(name), atc=atc)
