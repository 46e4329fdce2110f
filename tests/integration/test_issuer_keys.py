"""`--issuer-keys`: issuers the simulator learns from a file, with keys and PINs of their own."""

from __future__ import annotations

import pytest

from app.devices.pin_entry import KnownPin
from app.devices.simulated_card import ContactlessLimits, SimulatedCardSource
from app.domain.cards import Cvm, EntryMode, Funding
from app.services.context import CardInput
from app.services.results import Status
from app.sim.card_profiles import CardProfile
from app.sim.home import SimOptions
from app.sim.issuers import IssuerKeysError, load_issuer_keys
from tests.integration.cli_rig import SimProcess

FILE = """
[[issuer]]
pan_prefix = "411111"
cvn = 22
imk_ac = "00112233445566778899AABBCCDDEEFF"
pin = "7531"
balance_minor = 4200
"""


def _card(rig, imk: str, pin: str) -> CardInput:
    profile = CardProfile(
        "file-card",
        "a card only the issuer keys file knows",
        "4111111111111111",
        "3001",
        "01",
        22,
        imk,
        pin,
        Funding.DEBIT,
        "VISA DEBIT",
        "A0000000031010",
        True,
        False,
        Cvm.ONLINE_PIN,
        4200,
    )
    limits = ContactlessLimits(rig.settings.cards.contactless_limit, rig.settings.cards.contactless_cvm_limit)
    return CardInput(SimulatedCardSource(profile, EntryMode.CHIP, limits), KnownPin(pin))


@pytest.fixture
def keyed_rig(rig, tmp_path):
    path = tmp_path / "issuers.toml"
    path.write_text(FILE)
    rig.server.stop()
    rig.server = rig.home.start(SimOptions(rig.server.port, 1.0, 1.8, tuple(load_issuer_keys(path))))
    return rig


def test_a_card_from_the_keys_file_is_verified_with_its_own_key_pin_and_balance(keyed_rig):
    rig = keyed_rig
    t = rig.terminal()
    t.sign_in("01", "0000")
    ok = t.sale(rig.money("40.00"), _card(rig, "00112233445566778899AABBCCDDEEFF", "7531"))
    assert ok.status is Status.APPROVED, ok.message
    assert (
        t.sale(rig.money("2.01"), _card(rig, "00112233445566778899AABBCCDDEEFF", "7531")).record.response_code == "51"
    )
    forged = t.sale(rig.money("1.00"), _card(rig, "FFEEDDCCBBAA99887766554433221100", "7531"))
    assert forged.record.response_code == "05", "an ARQC under another key fails the issuer's check"
    wrong_pin = t.sale(rig.money("1.00"), _card(rig, "00112233445566778899AABBCCDDEEFF", "1111"))
    assert wrong_pin.record.response_code == "55"
    t.close()


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ('[[issuer]]\npan_prefix = "41"\ncvn = 18\nimk_ac = "00"\npin = "1234"\n', "pan_prefix must be 4 to 19 digits"),
        (FILE.replace("cvn = 22", "cvn = 99"), "cvn must be one of"),
        (FILE.replace('imk_ac = "00112233445566778899AABBCCDDEEFF"', 'imk_ac = "xyz"'), "imk_ac must be 32 hex digits"),
        (FILE.replace('pin = "7531"', "pin = 7531"), "pin must be 4 to 12 digits"),
        (FILE + "colour = 1\n", "unknown key 'colour'"),
        ("[[issuer]\n", "not valid TOML"),
    ],
)
def test_a_bad_keys_file_is_one_line_naming_the_entry(tmp_path, text, expect):
    path = tmp_path / "issuers.toml"
    path.write_text(text)
    with pytest.raises(IssuerKeysError) as err:
        load_issuer_keys(path)
    assert expect in str(err.value) and "\n" not in str(err.value)


def test_the_simulator_command_refuses_a_bad_keys_file_in_one_line(tmp_path):
    path = tmp_path / "issuers.toml"
    path.write_text(FILE.replace("cvn = 22", "cvn = 99"))
    with pytest.raises(RuntimeError) as err:
        SimProcess(tmp_path / "acquirer", "--issuer-keys", str(path))
    assert "cvn must be one of" in str(err.value) and "Traceback" not in str(err.value)
