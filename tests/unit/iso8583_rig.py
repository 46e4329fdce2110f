"""The acquirer's side of the 8583 tests: answer frames built from the request frame with the same spec
dictionary and the same MAC, so the terminal's checks meet what a real host would send."""

from __future__ import annotations

import iso8583

from app.domain.cards import EntryMode
from app.domain.transaction import TxnKind
from app.host.iso8583 import codec, framing, keys
from app.host.iso8583.codec import MacKey
from app.host.iso8583.dialect import Dialect
from app.host.iso8583.mac import MacAlgorithm
from app.host.iso8583.messages import CardData, FinancialRequest, Terminal
from app.host.iso8583.spec import SPEC

TERMINAL = Terminal("12345678", "898310048990001")
TPDU = framing.Tpdu.from_hex("6000030000")
DIALECT = Dialect(TERMINAL, TPDU, framing.Header.from_digits("603100000000"))
MAC_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
MASTER_KEY = bytes.fromhex("11111111111111112222222222222222")
PIN_KEY = bytes.fromhex("404142434445464748494A4B4C4D4E4F")
# Never a customer's card: a UnionPay test number.
PAN = "6212341111111111111"
TRACK2 = PAN + "D2912201000000000"

ICC = bytes.fromhex("9F2608AABBCCDDEEFF0011")
CHIP = CardData(EntryMode.CHIP, pan=PAN, expiry="2912", psn="001", icc=ICC)
CHIP_PIN = CardData(EntryMode.CHIP, pan=PAN, expiry="2912", psn="001", pin_block=bytes(range(8)), icc=ICC)
SWIPE = CardData(EntryMode.SWIPE, track2=TRACK2, expiry="2912")
SALE = FinancialRequest(TxnKind.SALE, 1234, 7, 1, CHIP)

# Fields an answer never repeats: the card's secrets and the request's own MAC.
_NOT_ECHOED = ("2", "14", "22", "23", "26", "35", "52", "53", "62", "63", "64")


def request_fields(frame: bytes) -> dict[str, str]:
    fields, _ = iso8583.decode(framing.parse(frame).message, SPEC)
    return fields


def answer_frame(
    frame: bytes,
    mac_key: bytes | None = MAC_KEY,
    code: str = "00",
    mac_algorithm: MacAlgorithm = MacAlgorithm.UNIONPAY_ECB,
    mti: str | None = None,
    **changes: str | None,
) -> bytes:
    """The acquirer's answer to a request frame: MTI + 10, F39, F37/F38/F12/F13; `changes` set (None drops) a
    field, keyed "f4", "f11"...; `mti` replaces the answer's MTI."""
    req = request_fields(frame)
    fields = {k: v for k, v in req.items() if k not in _NOT_ECHOED and k != "p"}
    fields["t"] = mti or req["t"][:2] + str(int(req["t"][2]) + 1) + req["t"][3]
    fields |= {"39": code, "12": "101530", "13": "1204"}
    if code == "00" and req["t"] in ("0100", "0200", "0220"):
        fields |= {"37": "000123456789", "38": "A1B2C3"}
    if req.get("3") == "310000" and code == "00":
        fields["54"] = "1002156C000000012345"
    for name, value in changes.items():
        if value is None:
            fields.pop(name[1:], None)
        else:
            fields[name[1:]] = value
    key = MacKey(mac_algorithm, mac_key) if "64" in req and mac_key is not None else None
    return codec.frame(TPDU.answer(), DIALECT.header, fields, key)


def sign_on_keys(scheme: keys.KeyScheme) -> str:
    """F62 as an acquirer sends it for the test keys."""
    parts = [PIN_KEY, MAC_KEY] if scheme is not keys.KeyScheme.SINGLE else [PIN_KEY[:8], MAC_KEY[:8]]
    if scheme is keys.KeyScheme.DOUBLE_WITH_TRACK_KEY:
        parts.append(bytes(range(16)))
    return b"".join(keys.wrap(MASTER_KEY, k) for k in parts).hex().upper()
