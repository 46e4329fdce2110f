"""NfcReader against nfcpy's real udp transport, with the card side played by IsoDepCard (or a bare nfcpy tag).

Every test uses its own free UDP port: the card side binds all interfaces, and a reader polling a port where an
earlier test's card still listens would find the wrong card.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import nfc
import nfc.clf
import pytest

from app.devices.card import CardError, CardRemoved
from app.devices.nfc_reader import NfcCard, NfcReader
from app.sim.emulator.isodep import IsoDepCard

SELECT_PPSE = bytes.fromhex("00A404000E325041592E5359532E444446303100")
READ_BIG = bytes.fromhex("00B0000000")
BIG = bytes(range(256)) + bytes(range(44))  # 300 bytes: more than one 256-byte frame


class ContactlessCard:
    """PPSE SELECT -> 9000, READ -> 300 bytes + 9000, anything with data -> echoed + 61 xx (left for the kernel)."""

    atr = bytes.fromhex("8001")  # historical bytes for the ATS

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def process(self, apdu: bytes) -> bytes:
        self.received.append(apdu)
        if apdu == SELECT_PPSE:
            return b"\x90\x00"
        if apdu == READ_BIG:
            return BIG + b"\x90\x00"
        return apdu[5:] + b"\x61\x05"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def port() -> int:
    return free_udp_port()


@pytest.fixture
def reader(port: int) -> Iterator[NfcReader]:
    with NfcReader(f"udp:localhost:{port}") as r:
        yield r


@pytest.fixture
def card(port: int) -> Iterator[tuple[IsoDepCard, ContactlessCard]]:
    logic = ContactlessCard()
    with IsoDepCard(logic, port) as emulated:
        yield emulated, logic


def tap(reader: NfcReader) -> NfcCard:
    transport = reader.wait_for_card(3.0)
    assert transport is not None
    return transport


def test_apdus_round_trip_including_300_byte_answers_and_260_byte_commands(
    reader: NfcReader, card: tuple[IsoDepCard, ContactlessCard]
) -> None:
    emulated, logic = card
    with tap(reader) as transport:
        assert transport.transmit(SELECT_PPSE) == b"\x90\x00"
        assert transport.transmit(READ_BIG) == BIG + b"\x90\x00"  # chained by the card (frames are <= 256 bytes)
        long_command = bytes([0x80, 0xAE, 0x80, 0x00, 0xFF]) + bytes(range(255))
        assert transport.transmit(long_command) == bytes(range(255)) + b"\x61\x05"  # chained by the reader
    assert logic.received == [SELECT_PPSE, READ_BIG, long_command]
    assert emulated.activations == 1 and logic.resets == 1


def test_card_leaving_the_field_is_card_removed(reader: NfcReader, card: tuple[IsoDepCard, ContactlessCard]) -> None:
    emulated, _ = card
    with tap(reader) as transport:
        assert transport.transmit(SELECT_PPSE) == b"\x90\x00"
        emulated.stop()
        with pytest.raises(CardRemoved):
            transport.transmit(SELECT_PPSE)


def test_wait_times_out_with_none_when_no_card(reader: NfcReader) -> None:
    started = time.monotonic()
    assert reader.wait_for_card(0.3) is None
    assert time.monotonic() - started >= 0.3, "a timeout is not cut short"


def test_cancel_ends_the_wait(reader: NfcReader) -> None:
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    assert reader.wait_for_card(10.0, cancel) is None
    assert time.monotonic() - started < 10.0, "the cancel ended the wait, not its timeout"


def test_a_card_arriving_during_the_wait_is_detected(reader: NfcReader, port: int) -> None:
    result: list[NfcCard | None] = []
    waiter = threading.Thread(target=lambda: result.append(reader.wait_for_card(5.0)))
    waiter.start()
    time.sleep(0.2)
    with IsoDepCard(ContactlessCard(), port):
        waiter.join(timeout=6)
        transport = result[0]
        assert transport is not None
        with transport:
            assert transport.transmit(SELECT_PPSE) == b"\x90\x00"


def test_a_card_left_in_the_field_is_found_again_after_close(
    reader: NfcReader, card: tuple[IsoDepCard, ContactlessCard]
) -> None:
    emulated, _ = card
    with tap(reader) as transport:
        transport.transmit(SELECT_PPSE)
    with tap(reader) as transport:  # DESELECT, field reset, then a fresh activation
        assert transport.transmit(SELECT_PPSE) == b"\x90\x00"
    assert emulated.activations == 2


def test_a_tag_that_is_not_iso_dep_is_ignored(reader: NfcReader, port: int) -> None:
    stop = threading.Event()

    def type2_tag() -> None:  # a transit sticker: SAK 0x00, no RATS, no APDUs
        target = nfc.clf.LocalTarget("106A", sens_res=b"\x44\x00", sdd_res=b"\x04\x01\x02\x03", sel_res=b"\x00")
        clf = nfc.ContactlessFrontend(f"udp:localhost:{port}")
        try:
            while not stop.is_set():
                clf.listen(target, 0.5)
        finally:
            clf.close()

    tag = threading.Thread(target=type2_tag)
    tag.start()
    try:
        assert reader.wait_for_card(1.0) is None
    finally:
        stop.set()
        tag.join(timeout=5)


def test_a_missing_usb_reader_is_a_one_line_card_error() -> None:
    with pytest.raises(CardError) as caught:
        NfcReader("usb:dead:beef")
    assert "usb:dead:beef" in str(caught.value) and "\n" not in str(caught.value)
