"""The barcode scanner: the shared evdev key-line reader fed with real input_event structs through a FIFO, with
payment-code recognition on top; and the simulated scanner behind the same interface."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.devices.scanner import CodeScanner, EvdevScanner, SimulatedScanner
from app.qr.errors import QrError
from app.qr.payment_code import PaymentCode, Wallet
from tests.rigs.wedge import Typist, event_fifo

WECHAT = "134567890123456789"
ALIPAY = "286543210987654321"
UNIONPAY = "6299887766554433221"


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with event_fifo(tmp_path) as pair:
        yield pair


@pytest.fixture
def scanner(fifo: tuple[str, int]) -> Iterator[EvdevScanner]:
    with EvdevScanner(fifo[0]) as reader:  # EVIOCGRAB fails on a FIFO: skipped, not fatal
        yield reader


def write(fifo: tuple[str, int], data: bytes) -> None:
    os.write(fifo[1], data)


def test_a_scan_while_the_sale_waits_is_its_payment_code(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    write(fifo, Typist().type(WECHAT + "\n"))
    assert scanner.wait_for_code(2.0) == PaymentCode(Wallet.WECHAT, WECHAT)


def test_a_scanner_that_types_on_the_keypad(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    write(fifo, Typist(keypad=True).type(UNIONPAY + "\n"))
    found = scanner.wait_for_code(2.0)
    assert found is not None and (found.wallet, found.code) == (Wallet.UNIONPAY, UNIONPAY)


def test_two_scans_come_back_one_per_wait(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    typist = Typist()
    write(fifo, typist.type(WECHAT + "\n") + typist.type(ALIPAY + "\n"))
    first, second = scanner.wait_for_code(2.0), scanner.wait_for_code(2.0)
    assert first is not None and second is not None
    assert (first.wallet, second.wallet) == (Wallet.WECHAT, Wallet.ALIPAY)


def test_a_scan_while_no_sale_is_waiting_is_ignored(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    typist = Typist()
    write(fifo, typist.type(WECHAT + "\n"))  # scanned at the counter between sales: nobody is waiting
    typist.pause(30)
    scanner.discard_pending()  # the next sale starts waiting for a code
    assert scanner.wait_for_code(0.2) is None, "the stray code does not pay for this sale"
    write(fifo, typist.type(ALIPAY + "\n"))
    found = scanner.wait_for_code(2.0)
    assert found is not None and found.code == ALIPAY


def test_input_events_split_across_reads(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    data = Typist().type(WECHAT + "\n")
    write(fifo, data[:1000])  # 1000 is not a multiple of 24: the last event is half there
    assert scanner.wait_for_code(0.2) is None
    write(fifo, data[1000:])
    found = scanner.wait_for_code(2.0)
    assert found is not None and found.code == WECHAT


def test_a_half_read_code_is_not_glued_to_the_next_scan(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    typist = Typist()
    write(fifo, typist.type(WECHAT[:9]))  # the phone moved away mid-scan: no Enter
    assert scanner.wait_for_code(0.2) is None
    typist.pause(1.5)  # the cashier scans again
    write(fifo, typist.type(ALIPAY + "\n"))
    found = scanner.wait_for_code(2.0)
    assert found is not None and found.code == ALIPAY


def test_a_half_read_code_after_a_whole_one_leaves_the_whole_one(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    typist = Typist()
    write(fifo, typist.type(WECHAT + "\n" + ALIPAY[:7]))
    typist.pause(1.0)
    write(fifo, typist.type(UNIONPAY + "\n"))
    codes = [scanner.wait_for_code(2.0), scanner.wait_for_code(2.0)]
    assert [code.code if code else None for code in codes] == [WECHAT, UNIONPAY]


def test_a_code_that_is_no_payment_code_is_one_line(fifo: tuple[str, int], scanner: EvdevScanner) -> None:
    write(fifo, Typist().type("6901234567892\n"))  # a product's EAN-13 barcode
    with pytest.raises(QrError, match=r"^not a WeChat Pay, Alipay or UnionPay payment code") as caught:
        scanner.wait_for_code(2.0)
    assert "6901234567892" not in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_scanner_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(QrError) as caught:
        EvdevScanner(str(tmp_path / "event42"))
    assert "event42" in str(caught.value) and "\n" not in str(caught.value) and caught.value.zh.startswith("扫码枪")


def test_cancel_ends_the_wait(scanner: EvdevScanner) -> None:
    cancel = threading.Event()
    cancel.set()
    assert scanner.wait_for_code(60.0, cancel) is None


def test_raw_codes_never_reach_logs_or_errors(
    fifo: tuple[str, int], scanner: EvdevScanner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typist = Typist()
    bad = "1399887766554433221"  # 19 digits from 13: looks like a code, is none
    seen: list[str] = []
    write(fifo, typist.type(WECHAT[:12]))
    typist.pause(2)
    write(fifo, typist.type(bad + "\n") + typist.type(WECHAT + "\n"))
    with pytest.raises(QrError) as caught:
        scanner.wait_for_code(2.0)
    seen += [str(caught.value), repr(caught.value), caught.value.zh]
    found = scanner.wait_for_code(2.0)
    assert found is not None and found.code == WECHAT
    logging.getLogger("kioskpos.test").info("scanned %s (%r)", found, found)
    seen += [caplog.text, str(found), repr(found)]
    everything = "\n".join(seen)
    assert "dropped a line that was cut off" in caplog.text, "the torn scan was logged, without its digits"
    for raw in (WECHAT, WECHAT[:12], bad, WECHAT[4:-4], bad[4:-4]):
        assert raw not in everything


# --- the simulated scanner, same interface ---------------------------------------------------------------------


def test_the_simulated_scanner_behaves_like_the_real_one() -> None:
    simulated: CodeScanner = SimulatedScanner()
    assert isinstance(simulated, SimulatedScanner)
    simulated.scan(WECHAT)
    simulated.discard_pending()
    assert simulated.wait_for_code(0.2) is None
    simulated.scan(ALIPAY)
    found = simulated.wait_for_code(2.0)
    assert found is not None and found.wallet is Wallet.ALIPAY
    simulated.scan("hello")
    with pytest.raises(QrError):
        simulated.wait_for_code(2.0)
