"""The EMV kernel through the engine, against every emulated card and the real acquirer simulator.

The card sits in an in-process reader here, so these tests are about the kernel's decisions; the same cards run
through pcscd/vpcd and nfcpy in test_emv_readers.py."""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import replace
from datetime import datetime

import pytest

from app.devices.card import CardRequest, HostAnswer
from app.devices.emv_source import ReaderCardSource
from app.devices.pin_entry import EncryptingPinPad, KnownPin
from app.devices.swipe_reader import EvdevSwipeReader
from app.domain.money import Money, currency
from app.domain.transaction import TxnKind, TxnState
from app.emv import apdu, kernel
from app.emv.apdu import CardChannel
from app.emv.capk import TEST_KEYS, CapkStore
from app.emv.config import KernelConfig
from app.emv.cryptograms import CardCryptograms
from app.emv.tlv import encode
from app.emv.trace import ApduTrace
from app.services.context import CardInput
from app.services.errors import PosError
from app.services.results import Status
from app.sim.emulator.card import EmvCard
from app.sim.emulator.direct import EmulatedReader
from app.sim.emulator.profiles import card_spec, make_card
from app.sim.issuers import IssuerDirectory
from tests.unit.test_swipe import events

KERNEL = KernelConfig()


def present(profile: str, pin: str = "1234", *, tap: bool = False, config: KernelConfig = KERNEL, choose=None):
    reader = EmulatedReader()
    reader.insert(make_card(profile))
    source = ReaderCardSource(config, tap=reader, wait_s=1) if tap else ReaderCardSource(config, chip=reader, wait_s=1)
    if choose is not None:
        source.choose = choose
    return CardInput(source, KnownPin(pin)), reader


@pytest.mark.parametrize(
    ("profile", "pin", "cvm", "brand"),
    [
        ("visa-cda", "1234", "signature", "visa"),
        ("mastercard-dda", "1234", "online_pin", "mastercard"),
        ("maestro", "1234", "online_pin", "mastercard"),
        ("unionpay-nopse", "123456", "online_pin", "unionpay"),
        ("visa-offline-pin", "4321", "offline_pin", "visa"),
        ("t0", "1234", "no_cvm", "mastercard"),
    ],
)
def test_each_chip_card_is_approved_with_its_own_cvm(rig, terminal, profile, pin, cvm, brand):
    card, _ = present(profile, pin)
    result = terminal.sale(rig.money("88.00"), card)
    assert result.status is Status.APPROVED, result.message
    r = result.record
    assert (r.cvm, r.brand, r.entry_mode) == (cvm, brand, "chip")
    assert r.emv["9F27"] == "40", "the card accepted the issuer's answer with a TC"


def test_offline_data_authentication_passes_for_sda_dda_and_cda(rig, terminal):
    for profile, pin in (("visa-cda", "1234"), ("mastercard-dda", "1234"), ("unionpay-nopse", "123456")):
        card, _ = present(profile, pin)
        tvr = bytes.fromhex(terminal.sale(rig.money("5.00"), card).record.emv["95"])
        assert tvr[0] & 0xEC == 0, f"{profile}: an ODA failure bit is set in TVR {tvr.hex()}"


def test_with_the_wrong_ca_key_offline_authentication_fails_and_the_tvr_says_so(rig, terminal, tmp_path):
    # A well-formed key file whose Mastercard entry carries the Visa CA's modulus: valid, but the wrong key.
    keys = tomllib.loads(TEST_KEYS.read_text(encoding="utf-8"))["key"]
    visa = next(k for k in keys if k["rid"] == "A000000003")
    mc = next(k for k in keys if k["rid"] == "A000000004")
    digest = hashlib.sha1(bytes.fromhex(mc["rid"] + mc["index"] + visa["modulus"] + "03"))  # noqa: S324 (EMV's)
    checksum = digest.hexdigest().upper()
    capk = tmp_path / "capk.toml"
    capk.write_text(
        f'[[key]]\nrid = "{mc["rid"]}"\nindex = "{mc["index"]}"\nmodulus = "{visa["modulus"]}"\n'
        f'exponent = "03"\nexpiry = "2049-12-31"\nchecksum = "{checksum}"\n'
    )
    card, _ = present("mastercard-dda", config=KernelConfig(capks=CapkStore.load(capk)))
    result = terminal.sale(rig.money("6.00"), card)
    assert bytes.fromhex(result.record.emv["95"])[0] & 0x08, "DDA failed"
    assert result.status is Status.APPROVED  # the issuer still decides online; the TVR tells it


@pytest.mark.parametrize(("profile", "pin", "failed"), [("mastercard-dda", "1234", 0x08), ("t0", "1234", 0x40)])
def test_without_the_ca_key_the_method_fails_and_no_icc_data_is_missing(rig, terminal, tmp_path, profile, pin, failed):
    # EMV Book 3, 10.3: "ICC data missing" is for data the card failed to give; the terminal lacking the CA key
    # only fails the method (DDA failed 0x08, SDA failed 0x40 in byte 1).
    keys = tomllib.loads(TEST_KEYS.read_text(encoding="utf-8"))["key"]
    visa = next(k for k in keys if k["rid"] == "A000000003")
    capk = tmp_path / "visa-only.toml"
    capk.write_text("[[key]]\n" + "".join(f'{name} = "{value}"\n' for name, value in visa.items()))
    card, _ = present(profile, pin, config=KernelConfig(capks=CapkStore.load(capk)))
    result = terminal.sale(rig.money("6.00"), card)
    tvr = bytes.fromhex(result.record.emv["95"])
    assert tvr[0] & failed, f"the method's failed bit in TVR {tvr.hex()}"
    assert not tvr[0] & 0x20, f"ICC data missing set in TVR {tvr.hex()}"
    assert result.status is Status.APPROVED  # the issuer still decides online; the TVR tells it


def test_a_maestro_card_is_a_mastercard_debit_sale_on_its_own_aid(rig, terminal):
    card, _ = present("maestro")
    r = terminal.sale(rig.money("30.00"), card).record
    assert (r.emv["84"], r.brand, r.funding, r.masked_pan) == (
        "A0000000043060",
        "mastercard",
        "debit",
        "630493*********9610",
    )


def test_an_aid_list_without_maestro_refuses_a_maestro_card(rig, terminal):
    without = KernelConfig(aids=tuple(a for a in KERNEL.aids if a.aid != "A0000000043060"))
    card, _ = present("maestro", config=without)
    with pytest.raises(PosError, match="no application the terminal accepts"):
        terminal.sale(rig.money("31.00"), card)
    assert terminal.status().next_trace == 1


def test_a_card_without_pse_is_found_through_the_aid_list(rig, terminal):
    card, _ = present("unionpay-nopse", "123456")
    assert terminal.sale(rig.money("7.00"), card).record.emv["84"] == "A000000333010101"


def test_two_applications_the_highest_priority_first_or_the_cardholders_choice(rig, terminal):
    card, _ = present("unionpay-two-apps", "123456")
    first = terminal.sale(rig.money("8.00"), card).record
    assert (first.emv["84"], first.funding) == ("A000000333010102", "credit")
    offered: list[list[str]] = []

    def cardholder_picks_debit(candidates):
        offered.append([c.label for c in candidates])
        return next(i for i, c in enumerate(candidates) if c.aid_hex.endswith("0101"))

    card, _ = present("unionpay-two-apps", "123456", choose=cardholder_picks_debit)
    chosen = terminal.sale(rig.money("9.00"), card).record
    assert (chosen.emv["84"], chosen.funding) == ("A000000333010101", "debit")
    assert offered == [["UnionPay Credit", "UnionPay Debit"]]


def test_an_expired_card_goes_online_with_the_tvr_bit_and_the_issuer_declines(rig, terminal):
    card, _ = present("visa-expired")
    result = terminal.sale(rig.money("10.00"), card)
    assert result.status is Status.DECLINED and result.record.response_code == "54"
    assert bytes.fromhex(result.record.emv["95"])[1] & 0x40


def test_a_card_that_declines_after_the_issuer_approved_is_reversed(rig, terminal):
    card, _ = present("visa-aac")
    result = terminal.sale(rig.money("11.00"), card)
    assert result.status is Status.UNKNOWN and result.record.state is TxnState.REVERSED
    assert "card declined after the issuer approved" in result.record.reason
    assert rig.acquirer_net == 0


# -- a card may answer GENERATE AC with the cryptogram asked for or a lower one (AAC < TC < ARQC), never higher --


def test_an_arqc_where_an_aac_was_asked_is_a_card_error_and_nothing_goes_online(rig, terminal):
    card, _ = present("visa-arqc-for-aac")
    before = (terminal.status().next_trace, rig.acquirer_net)
    with pytest.raises(PosError, match="the card answered an ARQC where the terminal asked for an AAC: a card error"):
        terminal.sale(rig.money("11.50"), card)
    assert (terminal.status().next_trace, rig.acquirer_net) == before


@pytest.mark.parametrize("answer", [HostAnswer(False, "05", {}, ()), None], ids=["issuer-declined", "no-answer"])
def test_a_tc_where_the_second_generate_ac_asked_for_an_aac_is_not_acceptance(rig, answer):
    session, _ = _read_to_first_cryptogram("visa-tc-for-aac")
    outcome = session.complete(answer)
    assert not outcome.accepted
    assert outcome.reason == "the card answered a TC where the terminal asked for an AAC: a card error"
    assert outcome.icc["9F27"] == "40", "what the card said is kept for the record"


def test_an_arqc_at_the_second_generate_ac_after_an_approval_is_reversed(rig, terminal):
    card, _ = present("visa-arqc-at-second")
    result = terminal.sale(rig.money("11.75"), card)
    assert result.status is Status.UNKNOWN and result.record.state is TxnState.REVERSED
    assert "the card answered an ARQC where the terminal asked for a TC: a card error" in result.record.reason
    assert rig.acquirer_net == 0


def test_malformed_card_data_is_one_clear_line_and_nothing_is_recorded(rig, terminal):
    card, _ = present("malformed")
    before = terminal.status().next_trace
    with pytest.raises(PosError, match="chip could not be read"):
        terminal.sale(rig.money("12.00"), card)
    assert terminal.status().next_trace == before


def test_a_wrong_offline_pin_three_times_fails_verification_and_the_issuer_sees_it(rig, terminal):
    card, _ = present("visa-offline-pin", "0000")
    result = terminal.sale(rig.money("13.00"), card)
    tvr = bytes.fromhex(result.record.emv["95"])
    assert tvr[2] & 0x80 and tvr[2] & 0x20, "cardholder verification failed, PIN try limit exceeded"


class CancellingCardholder:
    """Presses Cancel on the PIN pad; remembers what the pad told them."""

    def __init__(self) -> None:
        self.asked: list[int | None] = []

    def ask(self, amount, tries_left=None):
        self.asked.append(tries_left)
        return None


@pytest.mark.parametrize("profile", ["mastercard-dda", "visa-offline-pin"])
def test_a_cancelled_pin_ends_the_sale_and_never_falls_through_to_a_signature(rig, terminal, profile):
    reader = EmulatedReader()
    reader.insert(make_card(profile))
    cardholder = CancellingCardholder()
    card = CardInput(ReaderCardSource(KERNEL, chip=reader, wait_s=1), cardholder)
    before = rig.acquirer_net
    with pytest.raises(PosError, match="PIN entry was cancelled: nothing was charged"):
        terminal.sale(rig.money("21.00"), card)
    assert cardholder.asked, "the PIN was asked for"
    assert rig.acquirer_net == before
    assert terminal.status().in_flight == ()


def test_the_offline_pin_pad_is_told_how_many_tries_are_left(rig, terminal):
    class WrongThenCancel:
        def __init__(self) -> None:
            self.asked: list[int | None] = []

        def ask(self, amount, tries_left=None):
            self.asked.append(tries_left)
            return "0000" if len(self.asked) == 1 else None

    reader = EmulatedReader()
    reader.insert(make_card("visa-offline-pin"))
    cardholder = WrongThenCancel()
    with pytest.raises(PosError, match="cancelled"):
        terminal.sale(rig.money("21.00"), CardInput(ReaderCardSource(KERNEL, chip=reader, wait_s=1), cardholder))
    assert cardholder.asked[0] is not None and cardholder.asked[1] == cardholder.asked[0] - 1


def test_the_card_removed_while_online_is_reversed(rig, terminal):
    from app.devices.card import CardRemoved

    card, reader = present("visa-cda")
    real = terminal.ctx.host.exchange

    def pull_the_card_then_answer(kind, body, retries=None):
        answer = real(kind, body, retries)
        reader.remove()
        return answer

    terminal.ctx.host.exchange = pull_the_card_then_answer
    try:
        result = terminal.sale(rig.money("14.00"), card)
    finally:
        terminal.ctx.host.exchange = real
    assert result.record.state is TxnState.REVERSED
    assert CardRemoved().args[0].split(":")[0] in result.record.reason
    assert rig.acquirer_net == 0


@pytest.mark.parametrize(
    ("profile", "pin"),
    [("visa-contactless", "1234"), ("mastercard-contactless", "1234"), ("unionpay-quickpass", "123456")],
)
def test_each_contactless_card_taps_without_cvm_below_the_limit(rig, terminal, profile, pin):
    card, _ = present(profile, pin, tap=True)
    result = terminal.sale(rig.money("99.00"), card)
    assert result.status is Status.APPROVED, result.message
    assert (result.record.entry_mode, result.record.cvm) == ("contactless", "no_cvm")


def test_a_qvsdc_tap_takes_three_apdus(rig, terminal):
    traces: list[ApduTrace] = []
    card, _ = present("visa-contactless", tap=True)
    card.source.on_trace = traces.append
    terminal.sale(rig.money("20.00"), card)
    assert len(traces[0].lines) == 3, list(traces[0].lines)


def test_above_the_cvm_limit_a_tap_asks_for_the_pin(rig, terminal):
    card, _ = present("unionpay-quickpass", "123456", tap=True)
    result = terminal.sale(rig.money("1500.00"), card)
    assert result.status is Status.APPROVED and result.record.cvm == "online_pin"


def test_above_the_contactless_limit_the_card_must_be_inserted(rig, terminal):
    card, _ = present("visa-contactless", tap=True)
    with pytest.raises(PosError, match="insert"):
        terminal.sale(rig.money("6000.00"), card)


def test_the_apdu_trace_never_shows_a_full_pan(rig, terminal):
    from app.sim.emulator.profiles import EMULATED_CARDS

    traces: list[ApduTrace] = []
    card, _ = present("mastercard-dda")
    card.source.on_trace = traces.append
    terminal.sale(rig.money("21.00"), card)
    text = "\n".join(traces[0].lines)
    pan = EMULATED_CARDS["mastercard-dda"].apps[0].pan
    assert pan not in text and pan[:6] in text
    assert "<PIN data hidden>" not in text or "0020" in text


# -- issuer scripts, brand checks, fallback -------------------------------------------------------------------


def _read_to_first_cryptogram(profile: str, pin: str = "1234"):
    reader = EmulatedReader()
    reader.insert(make_card(profile))
    transport = reader.wait_for_card(1)
    assert transport is not None
    request = CardRequest(TxnKind.SALE, Money(4200, currency("CNY")), datetime.now(), 156, "KPOS0001")
    channel = CardChannel(transport)
    return kernel.read_card(channel, request, EncryptingPinPad(KnownPin(pin), bytes(16)), KERNEL), channel


def _issuer(session) -> CardCryptograms:
    pan = session.card.sensitive.pan
    issuer = IssuerDirectory.with_builtin().lookup(pan)
    return CardCryptograms.for_card(issuer.cvn, issuer.imk_ac, pan, session.card.sensitive.psn)


def _put_lcol_script(session, value: int, forge: bool = False) -> bytes:
    """What an issuer sends to change the card's lower consecutive offline limit: PUT DATA 9F14, MACed."""
    icc = session.card.icc
    header = bytes.fromhex("04DA9F14") + bytes([1 + 8])
    mac = _issuer(session).impl.generate_command_mac(
        header, bytes.fromhex(icc["9F26"]), bytes.fromhex(icc["9F36"]), bytes([value])
    )
    if forge:
        mac = bytes([mac[0] ^ 1]) + mac[1:]
    command = header + bytes([value]) + mac
    script = encode({"9F18": b"\x00\x00\x00\x07"}) + encode({"86": command})
    return bytes([0x72, len(script)]) + script


def _approval(session, scripts: tuple[bytes, ...]) -> HostAnswer:
    icc = session.card.icc
    tag_91 = _issuer(session).issuer_authentication_data(
        bytes.fromhex(icc["9F26"]), bytes.fromhex(icc["9F36"]), "00", True
    )
    return HostAnswer(True, "00", {"91": tag_91.hex().upper()}, scripts)


def test_an_issuer_script_with_a_genuine_mac_changes_the_card(rig):
    session, channel = _read_to_first_cryptogram("visa-cda")
    outcome = session.complete(_approval(session, (_put_lcol_script(session, 9),)))
    assert outcome.accepted
    assert outcome.icc["9F5B"] == "2000000007", "script 7 processed successfully"
    assert bytes.fromhex(outcome.icc["9B"])[0] & 0x04, "TSI: script processing performed"
    assert channel.send(apdu.get_data(0x9F14)).data == bytes.fromhex("9F140109")


def test_an_issuer_script_with_a_forged_mac_fails_and_the_tvr_says_so(rig):
    session, channel = _read_to_first_cryptogram("visa-cda")
    outcome = session.complete(_approval(session, (_put_lcol_script(session, 9, forge=True),)))
    assert outcome.accepted, "a failed script does not undo the approval"
    assert outcome.icc["9F5B"] == "1100000007", "script 7 failed at its first command"
    assert bytes.fromhex(outcome.icc["95"])[4] & 0x10, "TVR: script processing failed after final GENERATE AC"
    assert channel.send(apdu.get_data(0x9F14)).data != bytes.fromhex("9F140109")


def test_an_application_whose_brand_differs_from_its_card_number_is_refused(rig, terminal):
    spec = card_spec("visa-cda")
    mastercard_number = card_spec("mastercard-dda").apps[0].pan
    odd = replace(spec, name="visa-aid-mastercard-pan", apps=(replace(spec.apps[0], pan=mastercard_number),))
    reader = EmulatedReader()
    reader.insert(EmvCard(odd))
    card = CardInput(ReaderCardSource(KERNEL, chip=reader, wait_s=1), KnownPin("1234"))
    with pytest.raises(PosError, match="does not match its card number"):
        terminal.sale(rig.money("15.00"), card)
    assert terminal.status().next_trace == 1


def test_a_chip_card_is_swiped_only_after_its_chip_failed(rig, terminal, tmp_path):
    spec = card_spec("malformed")
    pan, yymm = spec.apps[0].pan, spec.expiry[:4]
    pipe_read, pipe_write = os.pipe()
    chip = EmulatedReader()
    swipe = EvdevSwipeReader(f"/proc/self/fd/{pipe_read}", grab=False)
    source = ReaderCardSource(KERNEL, chip=chip, swipe=swipe, wait_s=2)
    card = CardInput(source, KnownPin("1234"))
    try:
        os.write(pipe_write, events(f";{pan}={yymm}{spec.service_code}00000000?\n"))
        with pytest.raises(PosError, match="insert"):
            terminal.sale(rig.money("16.00"), card)  # a chip card's stripe: insert it
        chip.insert(make_card("malformed"))
        with pytest.raises(PosError, match="chip could not be read"):
            terminal.sale(rig.money("16.00"), card)
        chip.remove()
        os.write(pipe_write, events(f";{pan}={yymm}{spec.service_code}00000000?\n"))
        result = terminal.sale(rig.money("16.00"), card)
    finally:
        swipe.close()
        os.close(pipe_write)
    assert result.status is Status.APPROVED, result.message
    assert result.record.entry_mode == "fallback"
