"""The UnionPay POS field layout as a pyiso8583 spec dictionary: the packager, and nothing else.

pyiso8583 does all bitmap and field coding; this module only says what each field looks like. The choices,
and why (after pyiso8583's own `specs.py` examples and the field tables of the UnionPay POS terminal
specification as public terminal projects use them, e.g. dingjinfeng/bedc):

- MTI: 2 bytes BCD ("0200" -> 02 00). Bitmap: 8 raw bytes; UnionPay POS uses only the primary bitmap, so a
  set bit 1 (secondary bitmap) is refused by the codec, not decoded.
- Numeric fields (n): packed BCD, two digits a byte. Fixed odd-length codes are padded with one 0 nibble:
  F22 entry mode on the right (its digits are positional: "051" -> 05 10), F23 card sequence number on the
  left (it is a number: "001" -> 00 01).
- Variable lengths (LLVAR, LLLVAR): BCD, 1 and 2 bytes. For numeric variable fields (F2, F32, F35, F48, F60,
  F61) the length counts digits and odd data is padded on the right with 0 (the spec's "left-aligned").
  F35 track 2 is z (digits and the D separator), which is why those fields are "b" with nibble counts:
  BCD is a subset of hex, and the codec checks afterwards that n fields hold only digits.
- Text fields (an, ans): ASCII, fixed or with a BCD length counting bytes (F37, F38, F39, F41, F42, F44, F49,
  F54, F63).
- Binary fields (b): raw bytes; F52 PIN block and F64 MAC 8 bytes; F55 ICC data and F62 (working keys at
  sign-on) with a 2-byte BCD length counting bytes.
"""

from __future__ import annotations

import copy
from typing import Any

import iso8583.specs


def _n(max_len: int, len_type: int = 0, pad: str = "right_pad") -> dict[str, Any]:
    """A BCD numeric field; max_len in digits."""
    field: dict[str, Any] = {
        "data_enc": "b",
        "len_enc": "bcd",
        "len_type": len_type,
        "max_len": max_len,
        "len_count": "nibbles",
    }
    if max_len % 2 or len_type:
        field[pad] = "0"
    return field


def _an(max_len: int, len_type: int = 0) -> dict[str, Any]:
    return {"data_enc": "ascii", "len_enc": "bcd", "len_type": len_type, "max_len": max_len}


def _b(max_len: int, len_type: int = 0) -> dict[str, Any]:
    return {"data_enc": "b", "len_enc": "bcd", "len_type": len_type, "max_len": max_len}


LLVAR = 1  # one BCD byte of length
LLLVAR = 2  # two BCD bytes of length

_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "2": ("Primary account number", _n(19, LLVAR)),
    "3": ("Processing code", _n(6)),
    "4": ("Amount, transaction (minor units)", _n(12)),
    "11": ("System trace audit number", _n(6)),
    "12": ("Local time hhmmss", _n(6)),
    "13": ("Local date MMDD", _n(4)),
    "14": ("Expiry YYMM", _n(4)),
    "15": ("Settlement date MMDD", _n(4)),
    "22": ("POS entry mode", _n(3, pad="right_pad")),
    "23": ("Card sequence number", _n(3, pad="left_pad")),
    "25": ("POS condition code", _n(2)),
    "26": ("POS PIN capture code", _n(2)),
    "32": ("Acquiring institution id", _n(11, LLVAR)),
    "35": ("Track 2 data", _n(37, LLVAR)),
    "37": ("Retrieval reference number", _an(12)),
    "38": ("Authorisation code", _an(6)),
    "39": ("Response code", _an(2)),
    "41": ("Terminal id", _an(8)),
    "42": ("Merchant id", _an(15)),
    "44": ("Additional response data", _an(25, LLVAR)),
    "48": ("Additional data, private (settlement totals, batch upload)", _n(322, LLLVAR)),
    "49": ("Currency code", _an(3)),
    "52": ("PIN block", _b(8)),
    "53": ("Security control information", _n(16)),
    "54": ("Balance amount", _an(20, LLLVAR)),
    "55": ("ICC data (TLV)", _b(255, LLLVAR)),
    "60": ("Reserved private: type, batch, network management code", _n(17, LLLVAR)),
    "61": ("Original message: batch, STAN, date", _n(29, LLLVAR)),
    "62": ("Reserved private: working keys at sign-on", _b(512, LLLVAR)),
    "63": ("Reserved private: operator", _an(163, LLLVAR)),
    "64": ("Message authentication code", _b(8)),
}

# Digits only once decoded (BCD nibbles A-F are out of range there); F35 may also hold the D separator.
NUMERIC = frozenset(k for k, (_, f) in _FIELDS.items() if f.get("len_count") == "nibbles") - {"35"}
TRACK2 = frozenset({"35"})
KNOWN_FIELDS = frozenset(_FIELDS)


def _build() -> dict[str, Any]:
    # Only the fields UnionPay POS uses: a bitmap naming any other makes pyiso8583 look up a key that is not
    # here, and the codec refuses the message. The secondary bitmap's entry is pyiso8583's own, kept so a set
    # bit 1 decodes far enough to be refused by name.
    spec: dict[str, Any] = {"1": copy.deepcopy(iso8583.specs.default["1"])}
    spec["h"] = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 0, "desc": "No header here: framing"}
    spec["t"] = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 2, "desc": "MTI, BCD"}
    spec["p"] = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 8, "desc": "Primary bitmap"}
    for key, (desc, field) in _FIELDS.items():
        spec[key] = {**field, "desc": desc}
    return spec


SPEC: Any = _build()
