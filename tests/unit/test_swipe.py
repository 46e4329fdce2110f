"""Magstripe: track parsing, and the evdev keyboard-wedge reader fed with real input_event structs through a pipe."""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.devices.card import CardError
from app.devices.readers import Track2
from app.devices.swipe_reader import EvdevSwipeReader, parse_tracks
from app.domain.cards import luhn_ok

PAN = "4111111111111111"
TRACK1 = f"%B{PAN}^CARDHOLDER/TEST^2512101000000000000000000?"
TRACK2 = f";{PAN}=25121010000012345?"


# --- parse_tracks -----------------------------------------------------------------------------------------------


def test_track2_alone() -> None:
    assert parse_tracks(TRACK2) == Track2(pan=PAN, expiry="2512", service_code="101", discretionary="0000012345")


def test_track1_and_track2_in_one_swipe() -> None:
    assert parse_tracks(TRACK1 + TRACK2).pan == PAN


def test_track1_name_with_a_semicolon_does_not_confuse_track2() -> None:
    assert parse_tracks(f"%B{PAN}^O;BRIEN/PAT^2512101?" + TRACK2).service_code == "101"


def test_19_digit_pan_and_no_discretionary_data() -> None:
    pan = next(p for p in (f"601100099013942400{d}" for d in range(10)) if luhn_ok(p))
    track = parse_tracks(f";{pan}=2912201?")
    assert (track.pan, track.expiry, track.service_code, track.discretionary) == (pan, "2912", "201", "")


@pytest.mark.parametrize(
    "swipe",
    [
        pytest.param(f";{PAN[:-1]}2=25121010000012345?", id="bad-luhn"),
        pytest.param(f";{PAN}=25121010000012345", id="no-end-sentinel"),
        pytest.param(TRACK1, id="track1-only"),
        pytest.param("", id="empty"),
        pytest.param(";E?", id="read-error-marker"),
        pytest.param("%E?;E?", id="both-tracks-unreadable"),
        pytest.param("hello world", id="garbage"),
        pytest.param(";41111111111=2512101?", id="pan-too-short"),
        pytest.param(f";{PAN}=2513101?", id="month-13"),
        pytest.param(f";{PAN}=25121?", id="service-code-cut-short"),
        pytest.param(f";{PAN}=251210100=0?", id="separator-in-discretionary"),
    ],
)
def test_unreadable_swipes_are_card_errors_that_do_not_echo_the_track(swipe: str) -> None:
    with pytest.raises(CardError) as caught:
        parse_tracks(swipe)
    assert str(caught.value) == "could not read the stripe: swipe again"
    assert PAN[6:12] not in str(caught.value)


# --- the evdev reader -------------------------------------------------------------------------------------------

# Linux input-event-codes.h, written out independently of the reader's own key map.
KEY = {
    **{str(d): 1 + d for d in range(1, 10)},
    "0": 11,
    "=": 13,
    ";": 39,
    "/": 53,
    " ": 57,
    "\n": 28,
    **{c: code for c, code in zip("QWERTYUIOP", range(16, 26), strict=True)},
    **{c: code for c, code in zip("ASDFGHJKL", range(30, 39), strict=True)},
    **{c: code for c, code in zip("ZXCVBNM", range(44, 51), strict=True)},
}
SHIFTED = {"%": 6, "^": 7, "?": 53}  # shift + 5, 6, slash
LEFTSHIFT = 42
EV_SYN, EV_KEY, EV_MSC = 0, 1, 4
INPUT_EVENT = "llHHi"  # 24 bytes on 64-bit Linux


def events(text: str) -> bytes:
    """What a US-layout keyboard wedge sends for `text`: shift for capitals and symbols, SYN after each report."""
    out = []

    def emit(kind: int, code: int, value: int) -> None:
        now = time.time()
        out.append(struct.pack(INPUT_EVENT, int(now), int(now % 1 * 1e6), kind, code, value))

    for char in text:
        shifted = char in SHIFTED or char.isupper()
        code = SHIFTED.get(char) or KEY[char.upper() if char.isalpha() else char]
        if shifted:
            emit(EV_KEY, LEFTSHIFT, 1)
        emit(EV_MSC, 4, 0x70000 + code)  # scan code report, ignored by the reader
        emit(EV_KEY, code, 1)
        emit(EV_SYN, 0, 0)
        emit(EV_KEY, code, 0)
        emit(EV_SYN, 0, 0)
        if shifted:
            emit(EV_KEY, LEFTSHIFT, 0)
    return b"".join(out)


@pytest.fixture
def pipe(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A FIFO standing in for /dev/input/eventN, and the writer's end of it."""
    path = str(tmp_path / "event0")
    os.mkfifo(path)
    placeholder = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer open without blocking
    writer = os.open(path, os.O_WRONLY)
    os.close(placeholder)
    try:
        yield path, writer
    finally:
        os.close(writer)


@pytest.fixture
def swipe_reader(pipe: tuple[str, int]) -> Iterator[EvdevSwipeReader]:
    with EvdevSwipeReader(pipe[0]) as reader:  # the EVIOCGRAB fails on a FIFO: skipped, not fatal
        yield reader


def test_one_swipe_with_both_tracks(pipe: tuple[str, int], swipe_reader: EvdevSwipeReader) -> None:
    os.write(pipe[1], events(TRACK1 + TRACK2 + "\n"))
    track = swipe_reader.wait_for_swipe(2.0)
    assert track is not None and track.pan == PAN and track.discretionary == "0000012345"


def test_a_swipe_arriving_in_pieces_while_waiting(pipe: tuple[str, int], swipe_reader: EvdevSwipeReader) -> None:
    data = events(TRACK2 + "\n")
    result: list[Track2 | None] = []
    waiter = threading.Thread(target=lambda: result.append(swipe_reader.wait_for_swipe(3.0)))
    waiter.start()
    for start in range(0, len(data), 100):  # 100 is not a multiple of 24: events split across reads
        os.write(pipe[1], data[start : start + 100])
        time.sleep(0.001)
    waiter.join(timeout=4)
    assert result == [parse_tracks(TRACK2)]


def test_two_swipes_come_back_one_per_call(pipe: tuple[str, int], swipe_reader: EvdevSwipeReader) -> None:
    other = "5555555555554444"
    os.write(pipe[1], events(TRACK2 + "\n" + f";{other}=26011010000000000?\n"))
    first, second = swipe_reader.wait_for_swipe(2.0), swipe_reader.wait_for_swipe(2.0)
    assert first is not None and second is not None
    assert (first.pan, second.pan) == (PAN, other)


def test_an_unreadable_swipe_is_a_card_error(pipe: tuple[str, int], swipe_reader: EvdevSwipeReader) -> None:
    os.write(pipe[1], events("%E?;E?\n"))
    with pytest.raises(CardError, match="swipe again"):
        swipe_reader.wait_for_swipe(2.0)


def test_a_bare_enter_is_not_a_swipe(pipe: tuple[str, int], swipe_reader: EvdevSwipeReader) -> None:
    os.write(pipe[1], events("\n"))
    assert swipe_reader.wait_for_swipe(0.3) is None


def test_swipes_before_the_prompt_can_be_discarded(pipe: tuple[str, int], swipe_reader: EvdevSwipeReader) -> None:
    os.write(pipe[1], events(TRACK2 + "\n" + ";4000"))  # a stale swipe and a torn one
    swipe_reader.discard_pending()
    assert swipe_reader.wait_for_swipe(0.2) is None
    os.write(pipe[1], events(TRACK2 + "\n"))
    assert swipe_reader.wait_for_swipe(2.0) == parse_tracks(TRACK2)


def test_timeout_and_cancel(swipe_reader: EvdevSwipeReader) -> None:
    started = time.monotonic()
    assert swipe_reader.wait_for_swipe(0.3) is None
    assert time.monotonic() - started >= 0.3, "a timeout is not cut short"
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    assert swipe_reader.wait_for_swipe(10.0, cancel) is None
    assert time.monotonic() - started < 10.0, "the cancel ended the wait, not its timeout"


def test_end_of_input_does_not_spin(tmp_path: Path) -> None:
    device = tmp_path / "event-file"
    device.write_bytes(events(TRACK2 + "\n"))
    with EvdevSwipeReader(str(device)) as reader:  # a regular file: always "readable", then EOF forever
        assert reader.wait_for_swipe(1.0) == parse_tracks(TRACK2)
        cpu = time.process_time()
        assert reader.wait_for_swipe(0.5) is None
        # Not a speed figure: a reader that spins on EOF burns about all of the half second.
        assert time.process_time() - cpu < 0.25


def test_a_missing_device_is_a_one_line_card_error(tmp_path: Path) -> None:
    with pytest.raises(CardError) as caught:
        EvdevSwipeReader(str(tmp_path / "event99"))
    assert "event99" in str(caught.value) and "\n" not in str(caught.value)
