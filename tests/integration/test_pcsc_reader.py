"""PcscReader against the real PC/SC stack: pcscd + vpcd with an emulated card on the other end of the socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from app.devices.card import CardError, CardRemoved
from app.devices.pcsc_reader import PcscCard, PcscReader, list_readers
from app.sim.emulator.vpcd import VpcdCard
from tests.rigs import pcsc
from tests.rigs.pcsc import pcscd  # noqa: F401 - the session fixture, used through pytestmark

pytestmark = pytest.mark.usefixtures("pcscd")

SELECT = bytes.fromhex("00A404000E315041592E5359532E4444463031")
GET_DATA = bytes.fromhex("80CA9F1700")
YANK = bytes.fromhex("00DE000000")  # our test card's cue to be pulled out while "processing"


class ScriptedCard:
    """SELECT -> 9000, GET DATA -> 61 10 (T=0: more data waiting), anything with data -> echoed + 9000."""

    atr = bytes.fromhex("3B021450")  # T=0, two historical bytes

    def __init__(self, on_yank: Callable[[], None] | None = None) -> None:
        self.received: list[bytes] = []
        self.resets = 0
        self.on_yank = on_yank

    def reset(self) -> None:
        self.resets += 1

    def process(self, apdu: bytes) -> bytes:
        self.received.append(apdu)
        if apdu == YANK and self.on_yank is not None:
            self.on_yank()
        if apdu[1] == 0xA4:
            return b"\x90\x00"
        if apdu[1] == 0xCA:
            return b"\x61\x10"
        return apdu[5 : 5 + apdu[4]] + b"\x90\x00" if len(apdu) > 5 else b"\x90\x00"


def wait_until(predicate: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    """A ceiling for a slow CI machine: the normal case returns as soon as the predicate holds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def reader() -> Iterator[PcscReader]:
    with PcscReader(pcsc.READER) as r:
        yield r


@pytest.fixture
def slot(reader: PcscReader) -> Iterator[VpcdCard]:
    """The empty vpcd slot behind `reader` (a card left by an earlier test is gone from pcscd's view too)."""
    with VpcdCard(None, pcsc.PORT) as v:
        assert wait_until(lambda: not reader.card_present()), "the reader still reports a card"
        yield v


def insert_and_wait(reader: PcscReader, slot: VpcdCard, card: ScriptedCard) -> PcscCard:
    slot.insert(card)
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    return transport


def test_the_virtual_readers_are_listed() -> None:
    assert {pcsc.READER, pcsc.READER_2} <= set(list_readers())


def test_insertion_is_detected_while_waiting_and_apdus_round_trip(reader: PcscReader, slot: VpcdCard) -> None:
    card = ScriptedCard()
    result: list[PcscCard | None] = []
    waiter = threading.Thread(target=lambda: result.append(reader.wait_for_card(5.0)))
    waiter.start()
    time.sleep(0.3)  # the reader is blocked in SCardGetStatusChange when the card goes in
    slot.insert(card)
    waiter.join(timeout=6)
    transport = result[0]
    assert transport is not None
    with transport:
        assert reader.card_present()
        assert transport.transmit(SELECT) == b"\x90\x00"
        assert transport.transmit(bytes.fromhex("00D6000003AABBCC")) == bytes.fromhex("AABBCC9000")
        assert card.received == [SELECT, bytes.fromhex("00D6000003AABBCC")]
        assert card.resets >= 1  # powered on by pcscd


def test_a_card_already_in_the_reader_is_found_at_once(reader: PcscReader, slot: VpcdCard) -> None:
    slot.insert(ScriptedCard())
    assert wait_until(reader.card_present)
    with reader.wait_for_card(5.0) as transport:
        assert transport.transmit(SELECT) == b"\x90\x00"


def test_t0_61xx_comes_back_untouched(reader: PcscReader, slot: VpcdCard) -> None:
    card = ScriptedCard()
    with insert_and_wait(reader, slot, card) as transport:
        assert transport.protocol == "T=0"
        assert transport.transmit(GET_DATA) == b"\x61\x10"
    assert card.received == [GET_DATA]  # no GET RESPONSE behind the kernel's back


def test_card_pulled_out_mid_command_is_card_removed(reader: PcscReader, slot: VpcdCard) -> None:
    card = ScriptedCard(on_yank=slot.remove)
    with insert_and_wait(reader, slot, card) as transport:
        assert transport.transmit(SELECT) == b"\x90\x00"
        with pytest.raises(CardRemoved):
            transport.transmit(YANK)
        with pytest.raises(CardRemoved):
            transport.transmit(SELECT)
    assert not reader.card_present()


def test_card_pulled_out_between_commands_is_card_removed(reader: PcscReader, slot: VpcdCard) -> None:
    with insert_and_wait(reader, slot, ScriptedCard()) as transport:
        slot.remove()
        with pytest.raises(CardRemoved):
            transport.transmit(SELECT)


def test_unknown_reader_name_is_a_one_line_card_error() -> None:
    started = time.monotonic()
    with PcscReader("Acme Reader 9000") as reader, pytest.raises(CardError) as caught:
        reader.wait_for_card(10.0)
    message = str(caught.value)
    assert "Acme Reader 9000" in message
    assert "\n" not in message and "Traceback" not in message
    assert time.monotonic() - started < 10.0, "said so instead of waiting out the whole wait"


def test_no_name_means_the_first_reader(slot: VpcdCard) -> None:
    with PcscReader() as reader:
        slot.insert(ScriptedCard())
        transport = reader.wait_for_card(5.0)
        assert transport is not None
        with transport:
            assert transport.transmit(SELECT) == b"\x90\x00"
        assert reader.name == pcsc.READER


def test_cancel_and_timeout_end_the_wait_promptly(reader: PcscReader, slot: VpcdCard) -> None:
    started = time.monotonic()
    assert reader.wait_for_card(0.3) is None
    assert time.monotonic() - started >= 0.3, "a timeout is not cut short"

    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    assert reader.wait_for_card(10.0, cancel) is None
    assert time.monotonic() - started < 10.0, "the cancel ended the wait, not its timeout"


def test_waiting_survives_a_pcscd_restart(reader: PcscReader, slot: VpcdCard) -> None:
    result: list[PcscCard | None] = []
    cpu: list[float] = []

    def wait() -> None:
        result.append(reader.wait_for_card(15.0))
        cpu.append(time.thread_time())

    waiter = threading.Thread(target=wait)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.3)
    pcsc.rig().restart()  # the reader's context dies under it while it waits
    time.sleep(0.5)
    card = ScriptedCard()
    slot.insert(card)
    waiter.join(timeout=16)
    transport = result[0]
    assert transport is not None, "the reader did not see the card inserted after pcscd came back"
    with transport:
        assert transport.transmit(SELECT) == b"\x90\x00"
    waited = time.monotonic() - started
    # Not a speed figure: a wait that spins would burn about as much CPU as wall time.
    assert cpu[0] < waited / 2, f"waiting through the restart burnt {cpu[0]:.2f} s of CPU in {waited:.2f} s"
