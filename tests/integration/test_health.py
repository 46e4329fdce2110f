"""The self-test against the real parts: the loopback acquirer (running, stopped, with certificates that expire),
the loopback printer answering DLE EOT, nfcpy's udp transport, a real journal (healthy, damaged, from the future),
the real disk. Every failing part is reported by its name, and the other checks still run."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.bootstrap import build_terminal
from app.config import PrinterSettings, Settings
from app.devices.emv_source import ReaderCardSource
from app.devices.nfc_reader import NfcReader
from app.devices.printing.profile import PROFILES
from app.emv.config import KernelConfig
from app.services.health import SALES_BLOCKED, Check, DiskLimits, Health
from app.services.health.check import guarded
from app.services.terminal import Terminal
from tests.conftest import Rig, start_rig
from tests.integration.cli_rig import wait_for
from tests.integration.health_rig import SetClock, in_data_dir, other_ca, write_pki
from tests.rigs.printer import LoopbackPrinter

NAMES = ["card readers", "printer", "acquirer", "client certificate", "acquirer CA", "clock", "journal", "disk"]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def failing(checks: list[Check]) -> list[str]:
    return [c.name for c in checks if not c.ok]


def assert_readable(checks: list[Check]) -> None:
    for c in checks:
        assert c.detail.startswith(f"{c.name}: "), c.detail
        assert "\n" not in c.detail and "Traceback" not in c.detail


def self_test(settings: Settings, **kwargs: object) -> list[Check]:
    t = build_terminal(settings, **kwargs)  # type: ignore[arg-type]
    try:
        return t.self_test()
    finally:
        t.close()


@pytest.fixture
def printer() -> Iterator[LoopbackPrinter]:
    p = LoopbackPrinter()
    yield p
    p.close()


def network(printer: LoopbackPrinter) -> PrinterSettings:
    return PrinterSettings("network", PROFILES["80mm-chinese"], host="127.0.0.1", port=printer.port, timeout_s=0.5)


def test_a_healthy_terminal_passes_every_check(rig: Rig) -> None:
    checks = self_test(rig.settings)
    assert [c.name for c in checks] == NAMES
    assert failing(checks) == [] and not any(c.warning for c in checks), [c.detail for c in checks]
    assert_readable(checks)
    found = by_name(checks)
    assert "mutual TLS accepted" in found["acquirer"].detail
    assert "WAL, synchronous FULL" in found["journal"].detail


@pytest.mark.parametrize(
    ("state", "ok", "warning", "words"),
    [
        ({"paper": "out"}, False, False, "printer: out of paper"),
        ({"cover_open": True}, False, False, "printer: cover open"),
        ({"offline": True}, False, False, "printer: offline"),
        ({"paper": "low"}, True, True, "printer: paper low"),
        ({"answers": False}, True, True, "does not report paper and cover"),
        ({}, True, False, "paper ok"),
    ],
)
def test_the_printer_is_asked_for_its_status(rig, printer, state, ok, warning, words):
    for key, value in state.items():
        setattr(printer.state, key, value)
    checks = self_test(replace(rig.settings, printer=network(printer)))
    found = by_name(checks)["printer"]
    assert (found.ok, found.warning) == (ok, warning) and words in found.detail, found.detail
    assert failing(checks) == ([] if ok else ["printer"]), "the other parts still pass"
    wait_for(lambda: len(printer.jobs) >= 1)
    assert b"DIAGNOSTICS" not in printer.printed and b"\x1dV" not in printer.printed, "a check prints nothing"


def test_an_unreachable_printer_is_named_with_where_it_should_be(rig):
    with socket.socket() as nobody:  # a port that was bound but never listened on: nothing answers there
        nobody.bind(("127.0.0.1", 0))
        port = int(nobody.getsockname()[1])
    unplugged = PrinterSettings("network", PROFILES["80mm-chinese"], host="127.0.0.1", port=port, timeout_s=0.5)
    checks = self_test(replace(rig.settings, printer=unplugged))
    found = by_name(checks)["printer"]
    assert not found.ok and f"not reachable at 127.0.0.1:{port}" in found.detail
    assert failing(checks) == ["printer"]


def test_a_preview_printer_needs_a_directory_it_can_write(rig, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = replace(
        rig.settings, printer=replace(rig.settings.printer, transport="preview", preview_dir=blocker / "slips")
    )
    found = by_name(self_test(settings))["printer"]
    assert not found.ok and found.detail.startswith(f"printer: cannot write slip pictures to {blocker / 'slips'}")


def test_a_stopped_acquirer_fails_only_the_acquirer_check(rig):
    port = rig.server.port
    rig.server.stop()
    checks = self_test(rig.settings)
    assert failing(checks) == ["acquirer"]
    assert by_name(checks)["acquirer"].detail == (
        f"acquirer: nothing answers at 127.0.0.1:{port} (connection refused): acquirer down, or [acquirer] url wrong"
    )
    assert_readable(checks)


def test_an_acquirer_certificate_from_another_ca_is_not_trusted(rig, tmp_path):
    settings = replace(rig.settings, acquirer=replace(rig.settings.acquirer, ca_file=other_ca(tmp_path)))
    found = by_name(self_test(settings))
    assert not found["acquirer"].ok and "shows a certificate we do not trust" in found["acquirer"].detail
    assert found["acquirer CA"].ok, "the other CA's own dates are fine: only the handshake says it is the wrong one"


@pytest.fixture
def expiring_rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    """A simulator whose CA issued the terminal a client certificate with the test's dates."""
    starts, ends = request.param
    now = datetime.now(UTC)
    write_pki(tmp_path / "acquirer" / "pki", now + starts, now + ends)
    r = start_rig(tmp_path / "acquirer")
    yield r
    r.server.stop()
    r.home.ledger.close()


@pytest.mark.parametrize("expiring_rig", [(timedelta(days=-400), timedelta(days=-2))], indirect=True)
def test_an_expired_client_certificate_fails_the_handshake_and_its_own_check(expiring_rig):
    checks = self_test(expiring_rig.settings)
    found = by_name(checks)
    assert failing(checks) == ["acquirer", "client certificate"]
    # The reason ("certificate expired") is the server's alert, which the check waits a moment for; the refusal
    # itself does not depend on that moment, and the certificate's own check says why.
    assert "refused the terminal's client certificate" in found["acquirer"].detail
    assert found["client certificate"].detail.startswith("client certificate: expired on ")
    assert_readable(checks)


@pytest.mark.parametrize("expiring_rig", [(timedelta(days=-300), timedelta(days=12, hours=1))], indirect=True)
def test_a_client_certificate_near_its_end_warns_but_passes(expiring_rig):
    checks = self_test(expiring_rig.settings)
    found = by_name(checks)["client certificate"]
    assert failing(checks) == []
    assert found.ok and found.warning and "expires in 12 days" in found.detail


@pytest.mark.parametrize("expiring_rig", [(timedelta(days=-300), timedelta(days=31))], indirect=True)
def test_a_client_certificate_with_a_month_left_does_not_warn(expiring_rig):
    found = by_name(self_test(expiring_rig.settings))["client certificate"]
    assert found.ok and not found.warning, found.detail


def test_a_clock_behind_the_journal_is_a_failed_check(rig):
    t = rig.terminal()
    t.sign_in("01", "0000")
    t.sale(rig.money("12.00"), rig.card())
    t.close()
    back = SetClock(datetime.now().astimezone() - timedelta(hours=3))
    checks = self_test(rig.settings, clock=back)
    found = by_name(checks)["clock"]
    assert failing(checks) == ["clock"]
    assert "3 h before the journal's last entry" in found.detail and "set the time" in found.detail


def test_a_clock_that_was_never_set_is_a_failed_check(rig):
    checks = self_test(rig.settings, clock=SetClock(datetime(1970, 1, 1, tzinfo=UTC)))
    found = by_name(checks)["clock"]
    assert not found.ok and "before this software was built" in found.detail
    # The certificates are judged by the same clock: to a terminal in 1970 they are not valid yet.
    assert "not valid before" in by_name(checks)["client certificate"].detail


def test_free_disk_space_warns_then_fails(rig):
    """The real free space of the real disk, against limits above and below it."""
    t = rig.terminal()
    try:
        warned, failed = (
            by_name(
                Health(
                    rig.settings, journal=t.ctx.journal, printer=t.ctx.printing.printer, clock=t.ctx.clock, disk=limits
                ).checks()
            )["disk"]
            for limits in (
                DiskLimits(warn_bytes=1 << 62, fail_bytes=1),
                DiskLimits(warn_bytes=1 << 62, fail_bytes=1 << 61),
            )
        )
    finally:
        t.close()
    assert warned.ok and warned.warning and "free some space soon" in warned.detail
    assert not failed.ok and "the journal may stop taking sales" in failed.detail


def test_a_check_that_breaks_becomes_a_failed_check_naming_the_part() -> None:
    def broken() -> Check:
        raise KeyError("internal detail")

    found = guarded("printer", broken)
    assert found == Check("printer", False, "printer: the check itself failed (KeyError); details are in the log")


def readers_settings(rig: Rig, path: str) -> Settings:
    cards = replace(rig.settings.cards, source="readers", contactless_reader=path)
    return replace(rig.settings, cards=cards)


def test_a_contactless_reader_is_opened_briefly_when_the_terminal_holds_none(rig):
    path = f"udp:127.0.0.1:{free_udp_port()}"
    checks = self_test(readers_settings(rig, path))
    found = by_name(checks)["contactless reader"]
    assert found.ok and found.detail.startswith(f"contactless reader: '{path}' opened")
    assert checks[0].name == "contactless reader", "no simulated-cards line on a terminal with readers"


def test_a_missing_contactless_reader_is_named(rig):
    checks = self_test(readers_settings(rig, "usb:072f:2200"))
    assert failing(checks) == ["contactless reader"]
    assert "'usb:072f:2200' not found: check that it is plugged in" in by_name(checks)["contactless reader"].detail


def test_a_contactless_reader_the_app_holds_is_asked_not_opened_again(rig):
    path = f"udp:127.0.0.1:{free_udp_port()}"
    reader = NfcReader(path)
    source = ReaderCardSource(KernelConfig(), tap=reader)
    t = build_terminal(readers_settings(rig, path))
    try:
        held = by_name(t.self_test(held=source))["contactless reader"]
        reader.close()
        closed = by_name(t.self_test(held=source))["contactless reader"]
    finally:
        t.close()
    assert held.ok and held.detail == f"contactless reader: '{path}' open in this terminal"
    assert not closed.ok and "was closed" in closed.detail


def test_test_print_and_diagnostics_go_through_the_configured_printer(rig, printer):
    t = build_terminal(replace(rig.settings, printer=network(printer)))
    t.sign_in("01", "0000")
    t.sale(rig.money("18.00"), rig.card("visa-credit"))
    test = t.test_print()
    diagnostics = t.print_diagnostics()
    t.close()
    assert test.error is None and diagnostics.error is None
    slips = lambda: [job for job in printer.jobs if job]  # noqa: E731 - a status query alone leaves an empty job
    wait_for(lambda: len(slips()) == 4)  # two copies of the sale, the test slip, the diagnostics
    test_job, diagnostics_job = slips()[-2:]
    assert b"PRINTER TEST" in test_job and "打印测试".encode("gb18030") in test_job and b"\x1dV" in test_job
    assert b"DIAGNOSTICS" in diagnostics_job and b"KPOS0001" in diagnostics_job and b"0.1.0" in diagnostics_job
    for name in ("CLIENT CERTIFICATE", "JOURNAL", "DISK", "ALL CHECKS PASSED"):
        assert name.encode() in diagnostics_job
    assert b"476173" not in diagnostics_job and b"******" not in diagnostics_job, "no card number, not even masked"
    for secret in (rig.home.master_key_file, rig.home.token_secret_file):
        assert secret.read_text().strip().encode() not in diagnostics_job


def test_test_print_into_a_printer_without_paper_says_so(rig, printer):
    printer.state.paper = "out"
    t = build_terminal(replace(rig.settings, printer=network(printer)))
    printed = t.test_print()
    t.close()
    assert printed.slips == () and printed.error == "printer: out of paper"


def test_status_reports_no_block_on_a_sound_journal(terminal: Terminal) -> None:
    assert terminal.status().sales_blocked is None
    assert terminal.status().to_json()["sales_blocked"] is None
    assert SALES_BLOCKED == "journal damaged: sales are disabled — call support; see pos doctor"


def test_a_missing_journal_directory_is_reported_not_raised(rig, tmp_path):
    t = rig.terminal()
    try:
        checks = Health(
            in_data_dir(rig.settings, tmp_path / "not" / "yet"),
            journal=None,
            printer=t.ctx.printing.printer,
            clock=t.ctx.clock,
            journal_error="journal /x/journal.sqlite cannot be opened: file is not a database",
        ).checks()
    finally:
        t.close()
    found = by_name(checks)
    assert failing(checks) == ["journal"]
    assert found["journal"].detail.startswith("journal /x/journal.sqlite cannot be opened")
    assert found["clock"].warning and "could not be read" in found["clock"].detail
    assert found["disk"].ok
