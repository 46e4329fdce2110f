"""The UnionPay 8583 dialect's messages: every message type there and back, the known bytes of a sale, and
every malformed answer the issue names, each refused with BadAnswer (the engine's unknown outcome)."""

from __future__ import annotations

import pytest

from app.domain.cards import EntryMode
from app.domain.transaction import TxnKind
from app.host.iso8583 import framing
from app.host.iso8583.codec import BadAnswer, BadRequest
from app.host.iso8583.dialect import Dialect
from app.host.iso8583.keys import KeyScheme
from app.host.iso8583.mac import MacAlgorithm
from app.host.iso8583.messages import (
    BatchItem,
    BatchUploadEnd,
    BatchUploadRequest,
    CardData,
    FinancialAnswer,
    FinancialRequest,
    Network,
    NetworkAnswer,
    NetworkRequest,
    Original,
    ReversalRequest,
    SettlementAnswer,
    SettlementRequest,
    SettlementTotals,
    SettleResult,
    SignOnAnswer,
    SignOnRequest,
)
from tests.unit.iso8583_rig import (
    CHIP,
    CHIP_PIN,
    DIALECT,
    MAC_KEY,
    PAN,
    SALE,
    SWIPE,
    TERMINAL,
    TPDU,
    TRACK2,
    answer_frame,
    request_fields,
    sign_on_keys,
)


def test_a_chip_sale_is_these_bytes() -> None:
    frame = DIALECT.pack(SALE, MAC_KEY)
    expected = (
        "006A"  # 106 bytes follow
        "6000030000"  # TPDU: 60, destination 0003, source 0000
        "603100000000"  # header: application 60, version 31, status 0, request 0, sub-version 000000
        "0200"  # MTI, BCD
        "7024068000C08211"  # bitmap: 2 3 4 11 14 22 23 25 41 42 49 55 60 64
        "19"
        "62123411111111111110"  # F2: 19 digits (BCD length), padded right with one 0 nibble
        "000000"  # F3 sale
        "000000001234"  # F4 12.34 in fen
        "000007"  # F11 STAN
        "2912"  # F14 expiry YYMM
        "0520"  # F22 chip (05), no PIN (2), padded right
        "0001"  # F23 PSN 001, padded left
        "00"  # F25 normal presentment
        "3132333435363738"  # F41 "12345678"
        "383938333130303438393930303031"  # F42 "898310048990001"
        "313536"  # F49 "156"
        "0011"
        "9F2608AABBCCDDEEFF0011"  # F55: 11 bytes (2-byte BCD length), raw TLV
        "0011"
        "220000010000"  # F60: 11 digits 22 (sale) 000001 (batch) 000, padded right
        "4531383835443844"  # F64: the POS ECB MAC "E1885D8D" as ASCII, over MTI .. F60
    )
    assert frame.hex().upper() == expected


def test_the_mac_covers_the_message_from_the_mti_to_the_field_before_f64() -> None:
    from app.host.iso8583 import mac

    frame = DIALECT.pack(SALE, MAC_KEY)
    message = framing.parse(frame).message
    assert message[-8:] == mac.unionpay_ecb(MAC_KEY, message[:-8])


def _round_trip(req: FinancialRequest) -> FinancialAnswer:
    frame = DIALECT.pack(req, MAC_KEY)
    answer = DIALECT.unpack(req, answer_frame(frame), MAC_KEY)
    assert isinstance(answer, FinancialAnswer)
    return answer


PREAUTH = Original(TxnKind.PREAUTH, 1, 3, "1203", auth_code="A1B2C3")
SOLD = Original(TxnKind.SALE, 1, 7, "1204", auth_code="A1B2C3", rrn="000123456789")
COMPLETED = Original(TxnKind.COMPLETION, 1, 9, "1204", auth_code="A1B2C3", rrn="000123456790")

FINANCIAL = [
    # request, MTI, F3, 60.1, F25, F61
    (FinancialRequest(TxnKind.SALE, 1234, 7, 1, CHIP_PIN), "0200", "000000", "22", "00", None),
    (FinancialRequest(TxnKind.SALE, 500, 8, 1, SWIPE), "0200", "000000", "22", "00", None),
    (FinancialRequest(TxnKind.BALANCE, 0, 9, 1, CHIP_PIN), "0200", "310000", "01", "00", None),
    (FinancialRequest(TxnKind.PREAUTH, 90000, 10, 1, CHIP), "0100", "030000", "10", "06", None),
    (FinancialRequest(TxnKind.PREAUTH_VOID, 90000, 11, 1, None, PREAUTH), "0100", "200000", "11", "06", "000001000003"),
    (
        FinancialRequest(TxnKind.COMPLETION, 80000, 12, 1, None, PREAUTH),
        "0200",
        "000000",
        "20",
        "06",
        "0000000000001203",
    ),
    (FinancialRequest(TxnKind.VOID, 80000, 13, 1, None, COMPLETED), "0200", "200000", "21", "06", "000001000009"),
    (FinancialRequest(TxnKind.VOID, 1234, 14, 1, None, SOLD), "0200", "200000", "23", "00", "000001000007"),
    (FinancialRequest(TxnKind.REFUND, 600, 15, 2, None, SOLD), "0220", "200000", "25", "00", "0000010000071204"),
]


@pytest.mark.parametrize(("req", "mti", "f3", "f60_1", "f25", "f61"), FINANCIAL, ids=lambda v: getattr(v, "kind", ""))
def test_every_financial_message_there_and_back(
    req: FinancialRequest, mti: str, f3: str, f60_1: str, f25: str, f61: str | None
) -> None:
    fields = request_fields(DIALECT.pack(req, MAC_KEY))
    assert (fields["t"], fields["3"], fields["60"][:2], fields["25"], fields.get("61")) == (mti, f3, f60_1, f25, f61)
    assert fields["60"][2:8] == f"{req.batch:06d}" and fields["49"] == "156"
    assert ("4" in fields) is (req.kind is not TxnKind.BALANCE)
    answer = _round_trip(req)
    assert answer.approved and answer.rrn == "000123456789" and (answer.date, answer.time) == ("1204", "101530")
    if req.kind is TxnKind.BALANCE:
        assert answer.balance_minor == 12345
    else:
        assert answer.amount_minor == req.amount_minor


def test_card_fields_follow_the_entry_mode() -> None:
    chip = request_fields(DIALECT.pack(FinancialRequest(TxnKind.SALE, 1, 1, 1, CHIP_PIN), MAC_KEY))
    assert (chip["2"], chip["22"], chip["26"], chip["52"], chip["53"]) == (
        PAN,
        "051",
        "12",
        "0001020304050607",
        "2600000000000000",
    )
    assert "35" not in chip
    swipe = request_fields(DIALECT.pack(FinancialRequest(TxnKind.SALE, 1, 1, 1, SWIPE), MAC_KEY))
    assert (swipe["35"], swipe["22"]) == (TRACK2, "022")
    assert "2" not in swipe and "23" not in swipe
    as_read = CardData(EntryMode.FALLBACK, track2=TRACK2.replace("D", "="))
    fallback = request_fields(DIALECT.pack(FinancialRequest(TxnKind.SALE, 1, 1, 1, as_read), MAC_KEY))
    assert (fallback["35"], fallback["22"]) == (TRACK2, "802")


def test_card_secrets_are_not_in_repr() -> None:
    text = repr(FinancialRequest(TxnKind.SALE, 1, 1, 1, CardData(EntryMode.SWIPE, pan=PAN, track2=TRACK2)))
    assert PAN not in text and "2912" not in text


def test_reversal_repeats_the_original_without_its_pin() -> None:
    sale = FinancialRequest(TxnKind.SALE, 1234, 7, 1, CHIP_PIN)
    req = ReversalRequest(sale, "98")
    fields = request_fields(DIALECT.pack(req, MAC_KEY))
    assert (fields["t"], fields["11"], fields["4"], fields["39"], fields["22"]) == (
        "0400",
        "000007",
        "000000001234",
        "98",
        "052",
    )
    assert "52" not in fields and "53" not in fields
    answer = DIALECT.unpack(req, answer_frame(DIALECT.pack(req, MAC_KEY)), MAC_KEY)
    assert answer == NetworkAnswer("00")


@pytest.mark.parametrize("scheme", list(KeyScheme))
def test_sign_on_there_and_back(scheme: KeyScheme) -> None:
    req = SignOnRequest(21, 1, "01", scheme)
    frame = DIALECT.pack(req)
    fields = request_fields(frame)
    assert (fields["t"], fields["60"], fields["63"]) == ("0800", "00000001" + scheme.value, "01 ")
    assert "64" not in fields
    answer = DIALECT.unpack(req, answer_frame(frame, f60="00000002" + scheme.value, f62=sign_on_keys(scheme)))
    assert isinstance(answer, SignOnAnswer)
    assert answer.batch == 2 and answer.keys_f62.hex().upper() == sign_on_keys(scheme)


def test_sign_on_approved_without_keys_is_a_bad_answer() -> None:
    req = SignOnRequest(21, 1, "01")
    with pytest.raises(BadAnswer, match="without working keys"):
        DIALECT.unpack(req, answer_frame(DIALECT.pack(req)))


@pytest.mark.parametrize(("kind", "code"), [(Network.SIGN_OFF, "002"), (Network.ECHO, "301")])
def test_sign_off_and_echo_there_and_back(kind: Network, code: str) -> None:
    req = NetworkRequest(kind, 30, 4)
    frame = DIALECT.pack(req)
    assert request_fields(frame)["60"] == "00000004" + code and request_fields(frame)["t"] == "0820"
    assert DIALECT.unpack(req, answer_frame(frame)) == NetworkAnswer("00")


def test_settlement_there_and_back_balanced_and_not() -> None:
    req = SettlementRequest(40, 1, "01", SettlementTotals(123456, 3, 600, 1))
    frame = DIALECT.pack(req)
    fields = request_fields(frame)
    assert fields["48"] == "0000001234560030000000006000010" + "0" * 31
    assert (fields["t"], fields["63"], fields["60"]) == ("0500", "01 ", "00000001201")
    balanced = fields["48"][:30] + "1" + fields["48"][31:61] + "1"
    answer = DIALECT.unpack(req, answer_frame(frame, f48=balanced))
    assert answer == SettlementAnswer("00", SettleResult.BALANCED, SettleResult.BALANCED)
    assert answer.balanced
    unbalanced = fields["48"][:30] + "2" + fields["48"][31:]
    answer = DIALECT.unpack(req, answer_frame(frame, code="95", f48=unbalanced))
    assert isinstance(answer, SettlementAnswer) and not answer.balanced


def test_batch_upload_and_its_end_there_and_back() -> None:
    items = (BatchItem(TxnKind.SALE, 7, 1234), BatchItem(TxnKind.VOID, 13, 80000, TxnKind.COMPLETION))
    req = BatchUploadRequest(41, 1, items)
    frame = DIALECT.pack(req)
    fields = request_fields(frame)
    assert fields["48"] == "022200000700000000123421000013000000080000"
    assert DIALECT.unpack(req, answer_frame(frame)) == NetworkAnswer("00")
    for balanced, code in ((True, "202"), (False, "207")):
        end = BatchUploadEnd(42, 1, 2, balanced)
        frame = DIALECT.pack(end)
        assert request_fields(frame)["60"] == "00000001" + code and request_fields(frame)["48"] == "0002"
        assert DIALECT.unpack(end, answer_frame(frame)) == NetworkAnswer("00")


def test_x919_dialect_there_and_back() -> None:
    dialect = Dialect(TERMINAL, TPDU, DIALECT.header, MacAlgorithm.X919)
    frame = dialect.pack(SALE, MAC_KEY)
    answer = dialect.unpack(SALE, answer_frame(frame, mac_algorithm=MacAlgorithm.X919), MAC_KEY)
    assert isinstance(answer, FinancialAnswer) and answer.approved
    with pytest.raises(BadAnswer, match="MAC"):
        dialect.unpack(SALE, answer_frame(frame), MAC_KEY)


def test_a_decline_is_an_answer_not_an_error() -> None:
    answer = DIALECT.unpack(SALE, answer_frame(DIALECT.pack(SALE, MAC_KEY), code="51"), MAC_KEY)
    assert isinstance(answer, FinancialAnswer) and not answer.approved and answer.response_code == "51"


# -- malformed answers: each one BadAnswer, never an approval --------------------------------------------------


def _approved_frame() -> bytearray:
    return bytearray(answer_frame(DIALECT.pack(SALE, MAC_KEY)))


def _with_length(body: bytes) -> bytes:
    return len(body).to_bytes(2, "big") + body


HEAD = 2 + 5 + 6  # length, TPDU, header: where the MTI starts


def _short() -> bytes:
    return bytes(_approved_frame()[:-3])


def _bitmap_claims_absent_field() -> bytes:
    frame = _approved_frame()
    frame[HEAD + 2 + 1] |= 0x01  # bit 16 set, no F16 in the body (and not in the layout)
    return bytes(frame)


def _bitmap_claims_more_than_is_there() -> bytes:
    frame = _approved_frame()
    frame[HEAD + 2 + 1] |= 0x04  # bit 14: F14 is in the layout but not in this answer; what follows misreads
    return bytes(frame)


def _bcd_out_of_range() -> bytes:
    # The answer's F11 (STAN) as BCD A7 instead of 07, MACed afresh so only the digit check can catch it.
    return answer_frame(DIALECT.pack(SALE, MAC_KEY), f11="00000A")


def _llvar_past_the_end() -> bytes:
    body = bytes.fromhex("02104000000000000000991234")  # F2 claims 99 digits, has 4
    return _with_length(TPDU.answer().pack() + DIALECT.header.pack() + body)


def _wrong_mac() -> bytes:
    frame = _approved_frame()
    frame[-1] ^= 0x01
    return bytes(frame)


def _field_changed_under_the_mac() -> bytes:
    frame = _approved_frame()
    i = bytes(frame).index(b"A1B2C3")  # the auth code
    frame[i] = ord("B")
    return bytes(frame)


def _no_mac() -> bytes:
    return answer_frame(DIALECT.pack(SALE, MAC_KEY), mac_key=None)


MALFORMED = {
    "short message": (_short, "frame says"),
    "bitmap claims a field outside the layout": (_bitmap_claims_absent_field, "outside the UnionPay POS layout"),
    "bitmap claims fields that are not there": (_bitmap_claims_more_than_is_there, "malformed|MAC"),
    "BCD nibbles out of range": (_bcd_out_of_range, "not digits"),
    "LLVAR length past the end": (_llvar_past_the_end, "malformed"),
    "wrong MAC": (_wrong_mac, "MAC"),
    "a field changed under the MAC": (_field_changed_under_the_mac, "MAC"),
    "no MAC": (_no_mac, "MAC"),
    "wrong MTI": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), mti="0230"), "MTI 0230"),
    "STAN mismatch": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f11="000008"), "STAN"),
    "TID mismatch": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f41="87654321"), "terminal id"),
    "MID mismatch": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f42="898310048990002"), "merchant id"),
    "amount echo differs": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f4="000000012340"), "amount"),
    "approval without amount": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f4=None), "amount"),
    "processing code differs": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f3="200000"), "processing"),
    "no response code": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f39=None), "response code"),
    "approval without auth code": (lambda: answer_frame(DIALECT.pack(SALE, MAC_KEY), f38=None), "authorisation"),
    "TPDU not addressed to us": (
        lambda: bytes(_approved_frame()[:3]) + b"\x00\x09" + bytes(_approved_frame()[5:]),
        "TPDU",
    ),
    "garbled header": (lambda: bytes(_approved_frame()[:7]) + b"\xab" + bytes(_approved_frame()[8:]), "header"),
    "secondary bitmap": (
        lambda: _with_length(TPDU.answer().pack() + DIALECT.header.pack() + bytes.fromhex("0210" + "80" + "00" * 15)),
        "secondary bitmap",
    ),
    "empty": (lambda: b"", "shorter than"),
    "oversize": (lambda: b"\xff\xff" + bytes(65535), "not a possible message"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_answer_is_a_bad_answer_never_an_approval(case: str) -> None:
    make, match = MALFORMED[case]
    with pytest.raises(BadAnswer, match=match) as caught:
        DIALECT.unpack(SALE, make(), MAC_KEY)
    assert "\n" not in str(caught.value)


def test_a_value_that_does_not_fit_is_refused_before_sending() -> None:
    with pytest.raises(BadRequest, match="amount"):
        DIALECT.pack(FinancialRequest(TxnKind.SALE, 10**12, 1, 1), MAC_KEY)
    with pytest.raises(BadRequest, match="trace number"):
        DIALECT.pack(FinancialRequest(TxnKind.SALE, 1, 0, 1), MAC_KEY)
    with pytest.raises(BadRequest, match="sign on first"):
        DIALECT.pack(SALE)
    with pytest.raises(BadRequest, match="track 2"):
        DIALECT.pack(FinancialRequest(TxnKind.SALE, 1, 1, 1, CardData(EntryMode.SWIPE)), MAC_KEY)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x00", "shorter than"),
        (b"\x00\x05abcde", "not a possible message"),
        (b"\x00\x20" + bytes(10), "frame says 32 bytes but carries 10"),
        (b"\x00\x15" + b"\x61" + bytes(20), "TPDU id is 61"),
    ],
)
def test_framing_refuses_short_oversize_and_garbled_frames(raw: bytes, match: str) -> None:
    with pytest.raises(framing.FramingError, match=match):
        framing.parse(raw)


def test_framing_configuration_is_checked() -> None:
    with pytest.raises(framing.FramingError, match="TPDU"):
        framing.Tpdu.from_hex("7000030000")
    with pytest.raises(framing.FramingError, match="12 digits"):
        framing.Header.from_digits("60310000000")
    assert framing.Tpdu.from_hex("6000030000").answer().pack().hex() == "6000000003"


def test_settlement_totals_split_debits_credits_and_card_families() -> None:
    from app.domain.settlement import Group
    from app.domain.transaction import TxnState
    from app.host.iso8583.totals import settlement_totals

    groups = [
        Group(TxnKind.SALE, TxnState.APPROVED, "unionpay", "debit", 3, 30000),
        Group(TxnKind.COMPLETION, TxnState.APPROVED, "unionpay", "credit", 1, 8000),
        Group(TxnKind.REFUND, TxnState.APPROVED, "unionpay", "debit", 1, 500),
        Group(TxnKind.SALE, TxnState.APPROVED, "visa", "credit", 2, 4000),
        Group(TxnKind.SALE, TxnState.DECLINED, "visa", "credit", 5, 99999),  # declined: never counted
        Group(TxnKind.VOID, TxnState.APPROVED, "unionpay", "debit", 1, 1000),  # a void nets its sale away
        Group(TxnKind.PREAUTH, TxnState.APPROVED, "unionpay", "debit", 1, 70000),  # a hold moves no money
    ]
    domestic, foreign = settlement_totals(groups)
    assert domestic == SettlementTotals(38000, 4, 500, 1)
    assert foreign == SettlementTotals(4000, 2, 0, 0)


def test_the_answer_header_is_read_back_for_its_processing_request() -> None:
    from app.host.iso8583 import codec

    frame = DIALECT.pack(SALE, MAC_KEY)
    answer = answer_frame(frame)
    asks = framing.Header.from_digits("603103000000")  # processing request 3: the acquirer asks for more
    message = framing.parse(answer).message
    received = DIALECT.receive(SALE, framing.pack(TPDU.answer(), asks, message), MAC_KEY)
    assert received.header.processing_request == "3"
    assert isinstance(received.answer, FinancialAnswer) and received.answer.approved
    assert codec.unframe(answer, TPDU, None)[0].header == DIALECT.header
