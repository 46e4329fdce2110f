"""Slips through python-escpos' Network printer to a loopback printer: copies, cuts, paper faults, reprints."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from app.bootstrap import build_terminal
from app.config import PrinterSettings
from app.devices.printing.profile import PROFILES
from app.domain.transaction import TxnState
from app.services.results import Status
from tests.integration.cli_rig import SimProcess, pos, pos_json, wait_for
from tests.rigs.printer import LoopbackPrinter

CUT = b"\x1dV"  # GS V: python-escpos' cut
CHINESE_ON, CHINESE_OFF = b"\x1c&", b"\x1c."


@pytest.fixture
def printer() -> Iterator[LoopbackPrinter]:
    p = LoopbackPrinter()
    yield p
    p.close()


def network(printer: LoopbackPrinter, **overrides: object) -> PrinterSettings:
    base = PrinterSettings("network", PROFILES["80mm-chinese"], host="127.0.0.1", port=printer.port, timeout_s=0.5)
    return replace(base, **overrides)  # type: ignore[arg-type]


def terminal_with(rig, settings: PrinterSettings, confirm=None):
    t = build_terminal(replace(rig.settings, printer=settings), confirm_copy=confirm)
    t.sign_in("01", "0000")
    return t


def test_a_sale_prints_the_merchant_copy_a_cut_then_the_customer_copy(rig, printer):
    asked: list[str] = []

    def tear_and_continue(prompt: str, printed: str) -> bool:
        asked.append(prompt)
        return True

    t = terminal_with(rig, network(printer), confirm=tear_and_continue)
    result = t.sale(rig.money("128.00"), rig.card("visa-credit"))
    t.close()
    assert result.status is Status.APPROVED and result.printer_error is None
    wait_for(lambda: len(printer.jobs) == 2)
    merchant, customer = printer.jobs
    assert b"MERCHANT COPY" in merchant and CUT in merchant
    assert b"CARDHOLDER COPY" in customer
    assert "商户存根".encode("gb18030") in merchant and CHINESE_ON in merchant and CHINESE_OFF in merchant
    assert asked == ["Tear off the merchant copy, then continue for the customer copy"]
    assert b"4761739001010010" not in printer.printed and b"476173******0010" in printer.printed


@pytest.mark.parametrize(("state", "words"), [({"paper": "out"}, "out of paper"), ({"cover_open": True}, "cover open")])
def test_a_printer_fault_leaves_the_sale_approved_and_a_reprint_authorises_nothing(rig, printer, state, words):
    for key, value in state.items():
        setattr(printer.state, key, value)
    t = terminal_with(rig, network(printer))
    result = t.sale(rig.money("66.00"), rig.card("visa-credit"))
    assert result.status is Status.APPROVED
    assert result.printer_error == f"printer: {words}"
    assert t.get(result.record.trace).state is TxnState.APPROVED
    wait_for(lambda: len(printer.jobs) >= 1)
    assert b"MERCHANT" not in printer.printed, "nothing is printed into a printer that cannot print"
    printer.state.paper, printer.state.cover_open = "ok", False
    net, next_trace = rig.acquirer_net, t.status().next_trace
    again = t.reprint(result.record.trace)
    after = t.status().next_trace
    t.close()
    assert again.printer_error is None and len(again.slips) == 2
    wait_for(lambda: b"DUPLICATE" in printer.printed)
    assert (rig.acquirer_net, after) == (net, next_trace), "no second authorisation"


def test_low_paper_still_prints(rig, printer):
    printer.state.paper = "low"
    t = terminal_with(rig, network(printer))
    result = t.sale(rig.money("12.00"), rig.card())
    t.close()
    assert result.printer_error is None
    wait_for(lambda: len(printer.jobs) == 2)


def test_an_unreachable_printer_is_one_line_and_the_sale_stands(rig, printer):
    printer.close()
    t = terminal_with(rig, network(printer))
    result = t.sale(rig.money("13.00"), rig.card())
    t.close()
    assert result.status is Status.APPROVED
    assert result.printer_error.startswith("printer not reachable") and "\n" not in result.printer_error


def test_a_printer_that_never_answers_status_is_printed_to_anyway(rig, printer):
    printer.state.answers = False
    t = terminal_with(rig, network(printer))
    result = t.sale(rig.money("14.00"), rig.card())
    t.close()
    assert result.printer_error is None
    wait_for(lambda: len(printer.jobs) == 2)


def test_a_bank_copy_when_configured(rig, printer):
    t = terminal_with(rig, network(printer, copies=3))
    t.sale(rig.money("15.00"), rig.card())
    t.close()
    wait_for(lambda: len(printer.jobs) == 3)
    assert b"BANK COPY" in printer.jobs[2]


def test_the_cashier_can_stop_before_the_customer_copy_and_reprint_it(rig, printer):
    t = terminal_with(rig, network(printer), confirm=lambda prompt, printed: False)
    result = t.sale(rig.money("16.00"), rig.card())
    t.close()
    assert result.status is Status.APPROVED
    assert result.printer_error == "the customer copy was not printed: reprint it"
    wait_for(lambda: len(printer.jobs) == 1)


def test_a_decline_prints_one_slip_that_says_it_is_not_a_receipt(rig, printer):
    t = terminal_with(rig, network(printer))
    t.sale(rig.money("16.05"), rig.card())
    t.close()
    wait_for(lambda: len(printer.jobs) == 1)
    assert b"NOT A RECEIPT FOR PAYMENT" in printer.jobs[0]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    process = SimProcess(tmp_path / "acquirer")
    pos_json(process.config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
    yield process
    process.stop()


def test_reprint_settle_and_detail_write_pictures_and_exact_bytes_without_a_printer(sim, tmp_path):
    cfg = sim.config
    code, sale = pos_json(cfg, "sale", "128.00")
    assert code == 0 and Path(sale["slips"][0]).suffix == ".png", "demo terminals print previews"
    code, files = pos_json(cfg, "reprint", "--preview", str(tmp_path / "r.png"), "--escpos", str(tmp_path / "r.bin"))
    assert code == 0 and len(files["files"]) == 2
    job = (tmp_path / "r.bin").read_bytes()
    assert job.count(b"DUPLICATE") == 2 and job.count(CUT) == 2
    with Image.open(tmp_path / "r.png") as picture:
        assert picture.width == PROFILES["80mm-chinese"].dots and picture.height > 1000
    code, _ = pos_json(cfg, "journal", "--detail", "--escpos", str(tmp_path / "d.bin"))
    assert code == 0 and b"TRANSACTION DETAIL" in (tmp_path / "d.bin").read_bytes()
    code, settled = pos_json(cfg, "settle", "--escpos", str(tmp_path / "s.bin"), "--preview", str(tmp_path / "s.png"))
    assert code == 0 and settled["matched"] is True
    assert b"TOTALS MATCH ACQUIRER" in (tmp_path / "s.bin").read_bytes()
    with Image.open(tmp_path / "s.png") as picture:
        assert picture.width == PROFILES["80mm-chinese"].dots
    done = pos(cfg, "reprint", "999", "--escpos", str(tmp_path / "x.bin"))
    assert done.returncode == 1 and "no transaction with voucher number 000999" in done.stderr
    assert not (tmp_path / "x.bin").exists()


def test_a_settlement_reprint_to_a_printer_that_is_away_says_error_in_one_line(sim, tmp_path):
    code, _ = pos_json(sim.config, "settle")
    assert code == 0
    closed = socket.create_server(("127.0.0.1", 0))  # a port nothing will answer on once closed
    port = closed.getsockname()[1]
    closed.close()
    away = sim.data_dir / "printer-away.toml"
    away.write_text(sim.config.read_text() + f'\n[printer]\ntransport = "network"\nhost = "127.0.0.1"\nport = {port}\n')
    code, report = pos_json(away, "reprint", "--settlement")
    assert code == 1 and report["status"] == "error" and report["slips"] == []
    assert report["printer_error"]
    code, report = pos_json(away, "journal", "--detail")
    assert code == 1 and report["status"] == "error" and report["printer_error"]
