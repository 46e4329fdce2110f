"""The kernel's byte-level layers: BER-TLV (fuzzed), data object lists, APDUs and T=0 answers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.devices.card import CardError
from app.emv import apdu
from app.emv.apdu import CardChannel, Command
from app.emv.dol import build_dol_data, parse_dol, split_dol_data
from app.emv.errors import CardReadError
from app.emv.tlv import Tlv, TlvError, encode, parse, primitives, split_scripts, walk


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_the_one_error(data):
    try:
        for item in walk(data):
            assert isinstance(item, Tlv)
    except TlvError:
        pass


@given(st.binary(max_size=300))
def test_primitives_raise_only_tlv_errors(data):
    with contextlib.suppress(TlvError):
        primitives(data)


TAGS = st.sampled_from(["5A", "9F26", "9F4B", "82", "95", "DF8101", "5F2A"])


@given(st.dictionaries(TAGS, st.binary(min_size=0, max_size=300), max_size=6))
def test_encoding_round_trips_including_long_lengths(tags):
    assert primitives(encode(tags)) == tags


def test_repeated_templates_keep_their_order_and_padding_is_skipped():
    data = bytes.fromhex("7010 6107 4F05A000000003 6105 4F03A00000 0000 FF")
    top = parse(data)
    assert [t.tag for t in top] == ["70"]
    entries = [c for c in top[0].children() if c.tag == "61"]
    assert [e.children()[0].value.hex() for e in entries] == ["a000000003", "a00000"]


@pytest.mark.parametrize(
    "bad",
    ["9F", "9F2608AABB", "5A83FFFFFF01", "7003 5A05 01", "5A80", "9F8F8F8F8F0100", "5A0101 5A0102"],
)
def test_malformed_card_data_raises_tlv_error(bad):
    with pytest.raises(TlvError):
        primitives(bytes.fromhex(bad.replace(" ", "")))


def test_scripts_are_kept_whole_and_the_rest_flattened():
    data = (
        encode({"91": bytes(10), "8A": b"00"})
        + bytes.fromhex("7108 9F180400000001 8600")
        + bytes.fromhex("7203 860100")
    )
    tags, scripts = split_scripts(data.hex())
    assert set(tags) == {"91", "8A"}
    assert [s[:1] for s in scripts] == [b"\x71", b"\x72"]


def test_dol_values_are_padded_and_cut_the_emv_way():
    dol = bytes.fromhex("9F0206 9F1A02 9F3704 5F2001 9F4C08")
    values = {
        "9F02": bytes.fromhex("1234"),
        "9F1A": bytes.fromhex("000156"),
        "9F37": b"\x01\x02\x03\x04\x05",
        "5F20": b"AB",
    }
    data = build_dol_data(dol, values)
    parts = split_dol_data(dol, data)
    assert parts["9F02"] == bytes.fromhex("000000001234")  # numeric: zeros on the left
    assert parts["9F1A"] == bytes.fromhex("0156")  # numeric too long: cut on the left
    assert parts["9F37"] == b"\x01\x02\x03\x04"  # binary too long: cut on the right
    assert parts["5F20"] == b"A"
    assert parts["9F4C"] == bytes(8)  # unknown to the terminal: zeros
    assert [t for t, _ in parse_dol(dol)] == ["9F02", "9F1A", "9F37", "5F20", "9F4C"]


@given(st.binary(max_size=40))
def test_a_malformed_dol_is_a_card_read_error(dol):
    with contextlib.suppress(CardReadError):
        parse_dol(dol)


class ScriptedCard:
    """A fake at the edge of a unit test: answers from a list, records what it was sent."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[bytes] = []

    def transmit(self, command: bytes) -> bytes:
        self.sent.append(command)
        return self.answers.pop(0)

    def close(self) -> None:
        pass


def test_61xx_is_fetched_with_get_response_until_complete():
    card = ScriptedCard(["6104", "AABBCCDD6102", "EEFF9000"])
    response = CardChannel(card).send(apdu.select(b"1PAY.SYS.DDF01"))
    assert response.ok and response.data == bytes.fromhex("AABBCCDDEEFF")
    assert card.sent[1] == bytes.fromhex("00C0000004") and card.sent[2] == bytes.fromhex("00C0000002")


def test_6cxx_resends_with_the_length_the_card_asked_for():
    card = ScriptedCard(["6C1A", "70" + "18" + "00" * 24 + "9000"])
    response = CardChannel(card).send(apdu.read_record(1, 1))
    assert response.ok and card.sent[1] == bytes.fromhex("00B201 0C1A".replace(" ", ""))


def test_a_card_that_never_stops_sending_61xx_is_refused():
    card = ScriptedCard(["6101"] + ["006101"] * 20)
    with pytest.raises(CardReadError):
        CardChannel(card).send(apdu.get_data(0x9F36))


def test_an_answer_without_status_word_is_a_card_error():
    with pytest.raises(CardError):
        CardChannel(ScriptedCard(["90"])).send(apdu.get_data(0x9F36))


def test_command_encoding_cases():
    assert Command(0x00, 0xA4, 0x04, 0x00, b"\xa0", 0).encode() == bytes.fromhex("00A4040001A000")
    assert apdu.verify_plaintext_pin(bytes(8)).encode()[:5] == bytes.fromhex("0020008008")
    assert apdu.parse_command(bytes.fromhex("841E000008AABBCCDDEEFF0011")).data == bytes.fromhex("AABBCCDDEEFF0011")
    with pytest.raises(CardReadError):
        apdu.parse_command(bytes.fromhex("841E0000"[:6]))
