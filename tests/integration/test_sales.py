"""Sales, pre-auths and balance inquiries through the real stack: journal file, mTLS, simulator with real
cryptograms and PIN blocks."""

from __future__ import annotations

import pytest

from app.devices.simulated_card import CardBehaviour
from app.domain.transaction import TxnState
from app.services.errors import PosError
from app.services.results import Status
from app.sim.card_profiles import CARD_PROFILES

CHIP_CARDS = [p for p in CARD_PROFILES.values() if p.chip and p.name != "expired-visa"]


@pytest.mark.parametrize("profile", CHIP_CARDS, ids=[p.name for p in CHIP_CARDS])
def test_a_chip_sale_is_approved_and_charged_once(rig, terminal, profile):
    before = rig.balance_of(profile.pan)
    result = terminal.sale(rig.money("12.34"), rig.card(profile.name, "chip"))
    assert result.status is Status.APPROVED, result.message
    r = result.record
    assert r.state is TxnState.APPROVED and r.response_code == "00"
    assert len(r.auth_code) == 6 and len(r.rrn) == 12
    assert r.masked_pan == profile.pan[:6] + "******" + profile.pan[-4:]
    assert r.emv["9F27"] == "40", "the card's second GENERATE AC gave a TC"
    assert rig.balance_of(profile.pan) == before - 1234
    assert len(result.slips) == 2


@pytest.mark.parametrize("name", [p.name for p in CARD_PROFILES.values() if p.contactless and p.name != "expired-visa"])
def test_a_contactless_sale_below_the_cvm_limit_needs_no_pin(rig, terminal, name):
    result = terminal.sale(rig.money("99.00"), rig.card(name, "contactless"))
    assert result.status is Status.APPROVED, result.message
    assert result.record.cvm == "no_cvm" and result.record.entry_mode == "contactless"


def test_a_swiped_magstripe_card_is_approved(rig, terminal):
    result = terminal.sale(rig.money("15.00"), rig.card("magstripe-visa", "swipe"))
    assert result.status is Status.APPROVED, result.message
    assert result.record.entry_mode == "swipe"


def test_a_swiped_chip_card_is_told_to_insert_and_nothing_is_recorded(rig, terminal):
    before = terminal.status().next_trace
    with pytest.raises(PosError, match="insert"):
        terminal.sale(rig.money("15.00"), rig.card("visa-credit", "swipe"))
    assert terminal.status().next_trace == before


def test_over_the_contactless_limit_the_card_must_be_inserted(rig, terminal):
    with pytest.raises(PosError, match="insert"):
        terminal.sale(rig.money("6000.00"), rig.card("unionpay-debit", "contactless"))


def test_a_wrong_cardholder_pin_is_declined_55_by_the_real_pin_check(rig, terminal, monkeypatch):
    monkeypatch.setenv("POS_CARDHOLDER_PIN", "9999")
    result = terminal.sale(rig.money("10.00"), rig.card("mastercard-debit"))
    assert result.status is Status.DECLINED and result.record.response_code == "55"


def test_an_expired_card_is_declined_54(rig, terminal):
    result = terminal.sale(rig.money("10.00"), rig.card("expired-visa"))
    assert result.status is Status.DECLINED and result.record.response_code == "54"


def test_insufficient_balance_is_declined_51(rig, terminal):
    result = terminal.sale(rig.money("1500.00"), rig.card("unionpay-debit"))  # balance 1000.00
    assert result.status is Status.DECLINED and result.record.response_code == "51"


def test_amount_checks_change_nothing(rig, terminal):
    before = terminal.status().next_trace
    for bad in ("0", "50000.01"):
        with pytest.raises(PosError):
            terminal.sale(rig.money(bad), rig.card())
    assert terminal.status().next_trace == before


def test_a_card_that_refuses_after_approval_is_reversed(rig, terminal):
    pan = CARD_PROFILES["visa-credit"].pan
    before = rig.balance_of(pan)
    result = terminal.sale(rig.money("30.00"), rig.card("visa-credit", behaviour=CardBehaviour.DECLINE_AFTER_ONLINE))
    assert result.status is Status.UNKNOWN
    assert result.record.state is TxnState.REVERSED
    assert "card refused" in result.record.reason
    assert result.record.emv["9F27"] == "00", "the card's last word was an AAC"
    assert rig.balance_of(pan) == before
    assert rig.acquirer_net == 0


def test_a_card_pulled_out_while_online_is_reversed(rig, terminal):
    result = terminal.sale(rig.money("31.00"), rig.card("visa-credit", behaviour=CardBehaviour.REMOVED_DURING_ONLINE))
    assert result.record.state is TxnState.REVERSED
    assert "removed" in result.record.reason
    assert rig.acquirer_net == 0


def test_preauth_holds_then_completion_charges_at_most_the_hold(rig, terminal):
    pan = CARD_PROFILES["visa-credit"].pan
    pre = terminal.preauth(rig.money("500.00"), rig.card("visa-credit"))
    assert pre.status is Status.APPROVED
    assert rig.hold_of(pan) == 50000
    with pytest.raises(PosError, match="at most"):
        terminal.complete(pre.record.trace, rig.money("500.01"))
    balance = rig.balance_of(pan)
    done = terminal.complete(pre.record.trace, rig.money("420.00"))
    assert done.status is Status.APPROVED
    assert rig.hold_of(pan) == 0 and rig.balance_of(pan) == balance - 42000
    assert terminal.get(pre.record.trace).state is TxnState.COMPLETED
    with pytest.raises(PosError, match="completed"):
        terminal.complete(pre.record.trace, rig.money("1.00"))


def test_preauth_void_releases_the_hold(rig, terminal):
    pan = CARD_PROFILES["mastercard-credit"].pan
    pre = terminal.preauth(rig.money("300.00"), rig.card("mastercard-credit"))
    assert rig.hold_of(pan) == 30000
    with pytest.raises(PosError, match="wrong PIN"):
        terminal.preauth_void(pre.record.trace, "000000")
    assert rig.hold_of(pan) == 30000
    voided = terminal.preauth_void(pre.record.trace, "123456")
    assert voided.status is Status.APPROVED
    assert rig.hold_of(pan) == 0
    assert terminal.get(pre.record.trace).state is TxnState.VOIDED


def test_balance_inquiry_reports_what_the_acquirer_holds(rig, terminal):
    terminal.sale(rig.money("100.00"), rig.card("unionpay-debit"))
    result = terminal.balance(rig.card("unionpay-debit"))
    assert result.status is Status.APPROVED
    assert result.record.balance_minor == 100_000 - 10_000
    assert "900.00" in result.message


def test_nothing_starts_without_a_signed_in_operator(rig, terminal):
    terminal.sign_out()
    with pytest.raises(PosError, match="sign in"):
        terminal.sale(rig.money("1.00"), rig.card())
