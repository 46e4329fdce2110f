"""Host-neutral requests and answers, and one function per message type to fields and from fields.

The field rules (UnionPay POS, as issue 11 lists them):

  kind                 MTI   F3      60.1  F25   F61 (original)
  sale                 0200  000000  22    00
  balance inquiry      0200  310000  01    00
  pre-authorisation    0100  030000  10    06
  pre-auth void        0100  200000  11    06    batch + STAN (+ F38 the pre-auth's auth code)
  completion           0200  000000  20    06    000000 000000 + pre-auth date (+ F38 its auth code)
  completion void      0200  200000  21    06    batch + STAN
  sale void            0200  200000  23    00    batch + STAN
  refund               0220  200000  25    00    batch + STAN + date (+ F37 its RRN)
  reversal             0400  as the message it reverses, same STAN, F39 the reason
  sign-on / sign-off   0800 / 0820, 60.3 = key scheme (001/003/004) / 002; echo 0820, 60.3 = 301
  settlement           0500  F48 the totals, F63 the operator, 60.3 = 201
  batch upload         0320  60.3 = 201; its end 0320 with 60.3 = 202 (balanced) or 207 (not balanced)

Every answer is checked before it is believed: its MTI pairs with the request, the MAC verifies (on MACed
messages), the STAN, terminal and merchant ids and the processing code echo ours, and an approved amount is
ours. Anything else raises `BadAnswer`, which the engine maps to the unknown outcome (reversed).
F2 is sent for chip and contactless (the card number is there, not in track 2); F35 only for a swipe or a
fallback swipe. Neither is ever kept: CardData hides them from repr, and no error here quotes a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.cards import EntryMode
from app.domain.transaction import TxnKind
from app.host.iso8583.codec import BadAnswer, BadRequest
from app.host.iso8583.keys import KeyScheme

APPROVED = "00"
CURRENCY_CNY = "156"


@dataclass(frozen=True)
class Terminal:
    terminal_id: str  # F41, 8 characters
    merchant_id: str  # F42, 15 characters
    currency: str = CURRENCY_CNY  # F49, ISO 4217 numeric


@dataclass(frozen=True)
class CardData:
    entry_mode: EntryMode
    pan: str | None = field(default=None, repr=False)
    expiry: str | None = field(default=None, repr=False)  # YYMM
    psn: str | None = None  # card sequence number, 3 digits
    track2: str | None = field(default=None, repr=False)  # digits and "=" (or "D"); swipe only
    pin_block: bytes | None = field(default=None, repr=False)  # already encrypted under the PIN key
    icc: bytes | None = None  # F55 TLV


@dataclass(frozen=True)
class Original:
    """The transaction a void, refund or completion refers to."""

    kind: TxnKind
    batch: int
    stan: int
    date: str  # MMDD, from its answer's F13
    auth_code: str | None = None
    rrn: str | None = None


@dataclass(frozen=True)
class FinancialRequest:
    kind: TxnKind
    amount_minor: int
    stan: int
    batch: int
    card: CardData | None = None
    original: Original | None = None


@dataclass(frozen=True)
class ReversalRequest:
    of: FinancialRequest
    reason: str = "98"  # F39: 98 no answer from the acquirer, 06 the card refused, 96 bad answer


@dataclass(frozen=True)
class FinancialAnswer:
    response_code: str
    auth_code: str | None
    rrn: str | None
    date: str | None  # MMDD
    time: str | None  # hhmmss
    amount_minor: int | None
    balance_minor: int | None
    icc: bytes

    @property
    def approved(self) -> bool:
        return self.response_code == APPROVED


class Network(StrEnum):
    """60.3 of the network management messages that carry no keys."""

    SIGN_OFF = "002"
    ECHO = "301"


@dataclass(frozen=True)
class SignOnRequest:
    stan: int
    batch: int
    operator: str
    scheme: KeyScheme = KeyScheme.DOUBLE


@dataclass(frozen=True)
class SignOnAnswer:
    response_code: str
    batch: int  # 60.2: the batch the acquirer says is open
    keys_f62: bytes = field(repr=False)  # still encrypted: keys.unwrap_f62 checks and opens them
    date: str | None = None
    time: str | None = None


@dataclass(frozen=True)
class NetworkRequest:
    kind: Network
    stan: int
    batch: int


@dataclass(frozen=True)
class NetworkAnswer:
    response_code: str


@dataclass(frozen=True)
class SettlementTotals:
    debit_minor: int = 0  # sales and completions
    debit_count: int = 0
    credit_minor: int = 0  # refunds
    credit_count: int = 0


class SettleResult(StrEnum):
    """The acquirer's verdict digit after each half of F48."""

    NOT_GIVEN = "0"
    BALANCED = "1"
    NOT_BALANCED = "2"
    ERROR = "3"


@dataclass(frozen=True)
class SettlementRequest:
    stan: int
    batch: int
    operator: str
    domestic: SettlementTotals
    foreign: SettlementTotals = SettlementTotals()


@dataclass(frozen=True)
class SettlementAnswer:
    response_code: str
    domestic: SettleResult
    foreign: SettleResult

    @property
    def balanced(self) -> bool:
        return self.domestic is SettleResult.BALANCED and self.foreign in (
            SettleResult.BALANCED,
            SettleResult.NOT_GIVEN,
        )


@dataclass(frozen=True)
class BatchItem:
    kind: TxnKind
    stan: int
    amount_minor: int
    voided_kind: TxnKind | None = None  # for a void: what it voided


BATCH_ITEMS_PER_MESSAGE = 8


@dataclass(frozen=True)
class BatchUploadRequest:
    """One 0320 with up to 8 transactions of the batch: type (60.1 code), STAN and amount each. The card
    number of UnionPay's 201 record is not sent: the terminal keeps none (the acquirer finds it by STAN)."""

    stan: int
    batch: int
    items: tuple[BatchItem, ...]


@dataclass(frozen=True)
class BatchUploadEnd:
    stan: int
    batch: int
    count: int  # transactions uploaded in all
    balanced: bool  # the settlement's verdict: 60.3 202 when balanced, 207 when not


Request = (
    FinancialRequest
    | ReversalRequest
    | SignOnRequest
    | NetworkRequest
    | SettlementRequest
    | BatchUploadRequest
    | BatchUploadEnd
)
Answer = FinancialAnswer | SignOnAnswer | NetworkAnswer | SettlementAnswer


# -- shared field coding -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    mti: str
    processing: str
    type_code: str
    condition: str


_SALE_VOID = _Rule("0200", "200000", "23", "00")
_COMPLETION_VOID = _Rule("0200", "200000", "21", "06")
_RULES: dict[TxnKind, _Rule] = {
    TxnKind.SALE: _Rule("0200", "000000", "22", "00"),
    TxnKind.BALANCE: _Rule("0200", "310000", "01", "00"),
    TxnKind.PREAUTH: _Rule("0100", "030000", "10", "06"),
    TxnKind.PREAUTH_VOID: _Rule("0100", "200000", "11", "06"),
    TxnKind.COMPLETION: _Rule("0200", "000000", "20", "06"),
    TxnKind.VOID: _SALE_VOID,
    TxnKind.REFUND: _Rule("0220", "200000", "25", "00"),
}
_ENTRY = {EntryMode.CHIP: "05", EntryMode.CONTACTLESS: "07", EntryMode.SWIPE: "02", EntryMode.FALLBACK: "80"}


def rule_of(kind: TxnKind, voided: TxnKind | None = None) -> _Rule:
    if kind is TxnKind.VOID and voided is TxnKind.COMPLETION:
        return _COMPLETION_VOID
    return _RULES[kind]


def _num(value: int, width: int, what: str) -> str:
    if isinstance(value, bool) or not 0 <= value < 10**width:
        raise BadRequest(f"{what} {value} does not fit {width} digits")
    return f"{value:0{width}d}"


def _stan(value: int) -> str:
    if not 1 <= value <= 999_999:
        raise BadRequest(f"trace number {value} is outside 1..999999")
    return f"{value:06d}"


def _ids(terminal: Terminal) -> dict[str, str]:
    return {"41": terminal.terminal_id, "42": terminal.merchant_id}


def _operator(operator: str) -> str:
    if not re.fullmatch(r"[0-9A-Za-z]{1,3}", operator):
        raise BadRequest(f"operator {operator!r} is not 1-3 letters or digits")
    return operator.ljust(3)


def _f60(type_code: str, batch: int, network: str) -> str:
    return type_code + _num(batch, 6, "batch") + network


# -- financial messages --------------------------------------------------------------------------------------


def financial_fields(req: FinancialRequest, terminal: Terminal) -> dict[str, str]:
    o = req.original
    rule = rule_of(req.kind, o.kind if o else None)
    f: dict[str, str] = {"t": rule.mti, "3": rule.processing, "11": _stan(req.stan), "25": rule.condition}
    if req.kind is not TxnKind.BALANCE:
        f["4"] = _num(req.amount_minor, 12, "amount")
    f |= _ids(terminal)
    f["49"] = terminal.currency
    f["60"] = _f60(rule.type_code, req.batch, "000")
    if req.card is not None:
        f |= _card_fields(req.card)
    if o is not None:
        f |= _original_fields(req.kind, o)
    return f


def _card_fields(card: CardData) -> dict[str, str]:
    pin = card.pin_block is not None
    f = {"22": _ENTRY[card.entry_mode] + ("1" if pin else "2")}
    if card.entry_mode in (EntryMode.SWIPE, EntryMode.FALLBACK):
        if not card.track2:
            raise BadRequest("a swiped card needs its track 2 data")
        # The reader's "=" separator is the BCD nibble D on the wire.
        f["35"] = card.track2.replace("=", "D")
    elif card.pan:
        f["2"] = card.pan
    if card.expiry:
        f["14"] = card.expiry
    if card.psn is not None and card.entry_mode in (EntryMode.CHIP, EntryMode.CONTACTLESS):
        f["23"] = card.psn
    if card.pin_block is not None:
        if len(card.pin_block) != 8:
            raise BadRequest("a PIN block is 8 bytes")
        f["26"] = "12"  # the longest PIN the terminal accepts
        f["52"] = card.pin_block.hex().upper()
        f["53"] = "2600000000000000"  # format 0 (with PAN), double-length TDES PIN key
    if card.icc:
        f["55"] = card.icc.hex().upper()
    return f


def _original_fields(kind: TxnKind, o: Original) -> dict[str, str]:
    if not re.fullmatch(r"[0-9]{4}", o.date):
        raise BadRequest(f"original date {o.date!r} is not MMDD")
    f: dict[str, str] = {}
    if kind is TxnKind.COMPLETION:
        f["61"] = "000000" + "000000" + o.date
    elif kind is TxnKind.REFUND:
        f["61"] = _num(o.batch, 6, "original batch") + _stan(o.stan) + o.date
    else:
        f["61"] = _num(o.batch, 6, "original batch") + _stan(o.stan)
    if o.auth_code:
        f["38"] = o.auth_code
    if o.rrn:
        f["37"] = o.rrn
    return f


def reversal_fields(req: ReversalRequest, terminal: Terminal) -> dict[str, str]:
    f = financial_fields(req.of, terminal)
    if not re.fullmatch(r"[0-9A-Z]{2}", req.reason):
        raise BadRequest(f"reversal reason {req.reason!r} is not a response code")
    f["t"] = "0400"
    f["39"] = req.reason
    # A reversal repeats the card's identity and chip data, never its PIN: nothing is being authorised.
    for key in ("26", "52", "53"):
        f.pop(key, None)
    if "22" in f:
        f["22"] = f["22"][:2] + "2"
    return f


def financial_answer(fields: Mapping[str, str], req: FinancialRequest, terminal: Terminal) -> FinancialAnswer:
    rule = rule_of(req.kind, req.original.kind if req.original else None)
    code = _check_common(fields, _answer_mti(rule.mti), req.stan, terminal)
    _check_echo(fields, "3", rule.processing, "processing code")
    approved = code == APPROVED
    amount = int(fields["4"]) if "4" in fields else None
    if amount is not None and amount != req.amount_minor:
        raise BadAnswer("answer amount is not the amount asked for")
    if approved and req.kind is not TxnKind.BALANCE and amount is None:
        raise BadAnswer("approval without its amount")
    auth = fields.get("38")
    rrn = fields.get("37")
    needs_auth = req.kind in (TxnKind.SALE, TxnKind.PREAUTH, TxnKind.COMPLETION)
    if approved and needs_auth and (auth is None or not re.fullmatch(r"[0-9A-Z ]{6}", auth)):
        raise BadAnswer("approval without an authorisation code")
    if approved and (rrn is None or not re.fullmatch(r"[0-9A-Z]{12}", rrn)):
        raise BadAnswer("approval without a retrieval reference number")
    balance = _balance(fields.get("54")) if approved and req.kind is TxnKind.BALANCE else None
    icc = bytes.fromhex(fields["55"]) if "55" in fields else b""
    return FinancialAnswer(code, auth, rrn, fields.get("13"), fields.get("12"), amount, balance, icc)


def _balance(text: str | None) -> int:
    """F54: account type (2), amount type (2), currency (3), C or D, 12 digits."""
    if text is None:
        raise BadAnswer("balance answer without a balance")
    m = re.fullmatch(r"[0-9]{2}[0-9]{2}[0-9]{3}([CD])([0-9]{12})", text[:20])
    if m is None:
        raise BadAnswer("balance field is malformed")
    return int(m.group(2)) * (-1 if m.group(1) == "D" else 1)


def reversal_answer(fields: Mapping[str, str], req: ReversalRequest, terminal: Terminal) -> NetworkAnswer:
    code = _check_common(fields, "0410", req.of.stan, terminal)
    return NetworkAnswer(code)


# -- network management --------------------------------------------------------------------------------------


def sign_on_fields(req: SignOnRequest, terminal: Terminal) -> dict[str, str]:
    return {
        "t": "0800",
        "11": _stan(req.stan),
        **_ids(terminal),
        "60": _f60("00", req.batch, req.scheme.value),
        "63": _operator(req.operator),
    }


def sign_on_answer(fields: Mapping[str, str], req: SignOnRequest, terminal: Terminal) -> SignOnAnswer:
    code = _check_common(fields, "0810", req.stan, terminal)
    keys = bytes.fromhex(fields["62"]) if "62" in fields else b""
    batch = req.batch
    f60 = fields.get("60", "")
    if len(f60) >= 8:
        batch = int(f60[2:8])
    if code == APPROVED and not keys:
        raise BadAnswer("sign-on approved without working keys")
    return SignOnAnswer(code, batch, keys, fields.get("13"), fields.get("12"))


def network_fields(req: NetworkRequest, terminal: Terminal) -> dict[str, str]:
    return {"t": "0820", "11": _stan(req.stan), **_ids(terminal), "60": _f60("00", req.batch, req.kind.value)}


def network_answer(fields: Mapping[str, str], req: NetworkRequest, terminal: Terminal) -> NetworkAnswer:
    return NetworkAnswer(_check_common(fields, "0830", req.stan, terminal))


# -- settlement and batch upload -----------------------------------------------------------------------------


def _totals(t: SettlementTotals, result: SettleResult = SettleResult.NOT_GIVEN) -> str:
    return (
        _num(t.debit_minor, 12, "debit total")
        + _num(t.debit_count, 3, "debit count")
        + _num(t.credit_minor, 12, "credit total")
        + _num(t.credit_count, 3, "credit count")
        + result.value
    )


F48_HALF = 31


def settlement_fields(req: SettlementRequest, terminal: Terminal) -> dict[str, str]:
    return {
        "t": "0500",
        "11": _stan(req.stan),
        **_ids(terminal),
        "48": _totals(req.domestic) + _totals(req.foreign),
        "49": terminal.currency,
        "60": _f60("00", req.batch, "201"),
        "63": _operator(req.operator),
    }


def settlement_answer(fields: Mapping[str, str], req: SettlementRequest, terminal: Terminal) -> SettlementAnswer:
    code = _check_common(fields, "0510", req.stan, terminal)
    f48 = fields.get("48", "")
    if len(f48) != 2 * F48_HALF:
        raise BadAnswer("settlement answer without its totals verdict")
    try:
        domestic = SettleResult(f48[F48_HALF - 1])
        foreign = SettleResult(f48[2 * F48_HALF - 1])
    except ValueError:
        raise BadAnswer("settlement verdict is not 0-3") from None
    return SettlementAnswer(code, domestic, foreign)


def batch_upload_fields(req: BatchUploadRequest, terminal: Terminal) -> dict[str, str]:
    if not 1 <= len(req.items) <= BATCH_ITEMS_PER_MESSAGE:
        raise BadRequest(f"a batch upload message carries 1..{BATCH_ITEMS_PER_MESSAGE} transactions")
    records = "".join(
        rule_of(i.kind, i.voided_kind).type_code + _stan(i.stan) + _num(i.amount_minor, 12, "amount") for i in req.items
    )
    return {
        "t": "0320",
        "11": _stan(req.stan),
        **_ids(terminal),
        "48": f"{len(req.items):02d}" + records,
        "60": _f60("00", req.batch, "201"),
    }


def batch_end_fields(req: BatchUploadEnd, terminal: Terminal) -> dict[str, str]:
    return {
        "t": "0320",
        "11": _stan(req.stan),
        **_ids(terminal),
        "48": _num(req.count, 4, "uploaded count"),
        "60": _f60("00", req.batch, "202" if req.balanced else "207"),
    }


def batch_answer(
    fields: Mapping[str, str], req: BatchUploadRequest | BatchUploadEnd, terminal: Terminal
) -> NetworkAnswer:
    return NetworkAnswer(_check_common(fields, "0330", req.stan, terminal))


# -- checks every answer gets --------------------------------------------------------------------------------


def _answer_mti(request_mti: str) -> str:
    return request_mti[:2] + f"{int(request_mti[2]) + 1}" + request_mti[3]


def _check_echo(fields: Mapping[str, str], key: str, expected: str, what: str) -> None:
    if fields.get(key) != expected:
        raise BadAnswer(f"answer {what} is not ours")


def _check_common(fields: Mapping[str, str], mti: str, stan: int, terminal: Terminal) -> str:
    if fields.get("t") != mti:
        raise BadAnswer(f"answer MTI {fields.get('t')} does not pair with request (expected {mti})")
    _check_echo(fields, "11", f"{stan:06d}", "trace number (STAN)")
    _check_echo(fields, "41", terminal.terminal_id, "terminal id")
    _check_echo(fields, "42", terminal.merchant_id, "merchant id")
    code = fields.get("39")
    if code is None or not re.fullmatch(r"[0-9A-Z]{2}", code):
        raise BadAnswer("answer has no valid response code")
    return code
