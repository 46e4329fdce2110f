"""Every emulated card through the real stacks, from the `pos` command: pcscd + vpcd for chip cards, nfcpy's UDP
transport for contactless ones, the acquirer simulator as its own process checking every ARQC and PIN block."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from app.bootstrap import Readers, card_input
from app.config import load_settings
from app.domain.transaction import TxnState
from app.services.errors import PosError
from app.services.results import Status
from app.sim.emulator.isodep import IsoDepCard
from app.sim.emulator.profiles import make_card
from app.sim.emulator.vpcd import VpcdCard
from tests.integration.cli_rig import (
    pos,
    pos_json,
    signed_in_simulator,  # noqa: F401 (the `sim` fixture)
)
from tests.rigs.pcsc import READER, pcscd  # noqa: F401 (the fixture)

pytestmark = pytest.mark.usefixtures("pcscd")


@pytest.fixture
def slot() -> Iterator[VpcdCard]:
    holder = VpcdCard()
    yield holder
    holder.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("profile", "pin", "status", "code"),
    [
        ("visa-cda", "1234", "approved", "00"),
        ("mastercard-dda", "1234", "approved", "00"),
        ("maestro", "1234", "approved", "00"),
        ("unionpay-nopse", "123456", "approved", "00"),
        ("unionpay-two-apps", "123456", "approved", "00"),
        ("visa-offline-pin", "4321", "approved", "00"),
        ("t0", "1234", "approved", "00"),
        ("visa-expired", "1234", "declined", "54"),
    ],
)
def test_a_chip_sale_from_the_command_line_through_pcscd(sim, slot, profile, pin, status, code):
    slot.insert(make_card(profile))
    slot.start()
    exit_code, result = pos_json(sim.config, "sale", "25.00", "--reader", READER, env={"POS_CARDHOLDER_PIN": pin})
    assert (result["status"], result["response_code"]) == (status, code), result
    assert exit_code == (0 if status == "approved" else 1)
    assert sim.ledger_net() == (2500 if status == "approved" else 0)


def test_a_card_that_declines_after_approval_is_reversed_through_pcscd(sim, slot):
    slot.insert(make_card("visa-aac"))
    slot.start()
    code, result = pos_json(sim.config, "sale", "26.00", "--reader", READER)
    assert (code, result["status"], result["state"]) == (1, "unknown", "reversed")
    assert sim.ledger_net() == 0


def test_a_malformed_card_is_one_line_and_nothing_is_recorded(sim, slot):
    slot.insert(make_card("malformed"))
    slot.start()
    done = pos(sim.config, "sale", "27.00", "--reader", READER)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "chip could not be read" in done.stderr and "Traceback" not in done.stderr
    _, status = pos_json(sim.config, "status")
    assert status["next_trace"] == 1


# The terminal's own AID list, as an operator writes it: Visa and Mastercard credit only, no Maestro.
WITHOUT_MAESTRO = """
[[emv.aid]]
aid = "A0000000031010"
brand = "visa"
version = "0096"

[[emv.aid]]
aid = "A0000000041010"
brand = "mastercard"
version = "0002"
tac_denial = "0000000000"
tac_online = "FC50BCF800"
tac_default = "FC50BCA000"
"""


def test_a_configured_aid_list_without_maestro_refuses_a_maestro_card_through_pcscd(sim, slot):
    with sim.config.open("a", encoding="utf-8") as f:
        f.write(WITHOUT_MAESTRO)
    slot.insert(make_card("maestro"))
    slot.start()
    done = pos(sim.config, "sale", "28.00", "--reader", READER, env={"POS_CARDHOLDER_PIN": "1234"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "no application the terminal accepts" in done.stderr
    assert sim.ledger_net() == 0
    _, status = pos_json(sim.config, "status")
    assert status["next_trace"] == 1


def test_an_unknown_reader_name_is_one_line(sim):
    done = pos(sim.config, "sale", "1.00", "--reader", "No Such Reader")
    assert done.returncode == 1 and "no card reader called 'No Such Reader'" in done.stderr


@pytest.mark.parametrize(
    ("profile", "pin"),
    [("visa-contactless", "1234"), ("mastercard-contactless", "1234"), ("unionpay-quickpass", "123456")],
)
def test_a_tap_from_the_command_line_through_nfcpy(sim, profile, pin):
    port = _free_port()
    card = IsoDepCard(make_card(profile), port)
    card.start()
    try:
        code, result = pos_json(
            sim.config, "sale", "88.00", "--nfc", f"udp:localhost:{port}", env={"POS_CARDHOLDER_PIN": pin}
        )
    finally:
        card.stop()
    assert (code, result["status"]) == (0, "approved"), result
    assert result["masked_pan"].startswith(("476173", "541333", "625094"))
    assert card.activations >= 1
    assert sim.ledger_net() == 8800


def test_above_the_cvm_limit_a_tap_carries_an_online_pin_the_issuer_checks(sim):
    port = _free_port()
    card = IsoDepCard(make_card("unionpay-quickpass"), port)
    card.start()
    try:
        ok = pos_json(
            sim.config, "sale", "1500.00", "--nfc", f"udp:localhost:{port}", env={"POS_CARDHOLDER_PIN": "123456"}
        )
        wrong = pos_json(
            sim.config, "sale", "1500.00", "--nfc", f"udp:localhost:{port}", env={"POS_CARDHOLDER_PIN": "999999"}
        )
    finally:
        card.stop()
    assert ok[1]["status"] == "approved"
    assert (wrong[1]["status"], wrong[1]["response_code"]) == ("declined", "55")


class PulledAtSecondGenerateAc:
    """The cardholder pulls the card out just as the terminal gives it the issuer's answer."""

    def __init__(self, holder: VpcdCard) -> None:
        self.inner = make_card("visa-cda")
        self.holder = holder
        self.generate_acs = 0

    @property
    def atr(self) -> bytes:
        return self.inner.atr

    def reset(self) -> None:
        self.inner.reset()

    def process(self, apdu: bytes) -> bytes:
        if apdu[1:2] == b"\xae":
            self.generate_acs += 1
            if self.generate_acs == 2:
                threading.Thread(target=self.holder.remove, daemon=True).start()
                return b""
        return self.inner.process(apdu)


def test_a_card_pulled_out_after_the_issuer_approved_is_reversed(sim, slot):
    settings = load_settings(sim.config)
    slot.insert(PulledAtSecondGenerateAc(slot))
    slot.start()
    from app.bootstrap import build_terminal

    terminal = build_terminal(settings)
    card = card_input(settings, readers=Readers(chip=READER))
    try:
        result = terminal.sale(terminal.ctx.money(2800), card)
    finally:
        card.source.close()  # type: ignore[attr-defined]
        terminal.close()
    assert result.status is Status.UNKNOWN and result.record.state is TxnState.REVERSED
    assert "removed" in result.record.reason
    assert sim.ledger_net() == 0


def test_no_card_in_time_changes_nothing(sim):
    settings = load_settings(sim.config)
    from app.bootstrap import build_terminal

    terminal = build_terminal(settings)
    card = card_input(settings, readers=Readers(chip=READER))
    card.source.wait_s = 0.5  # type: ignore[attr-defined]
    try:
        with pytest.raises(PosError, match="no card was presented"):
            terminal.sale(terminal.ctx.money(100), card)
        assert terminal.status().next_trace == 1
    finally:
        terminal.close()
