"""签到 key exchange and the secure channel: mutual TLS, the master key, stale keys, restarts."""

from __future__ import annotations

import json
import ssl
from dataclasses import replace

import pytest
import requests
import trustme

from app.bootstrap import build_terminal
from app.config import Secrets
from app.domain.transaction import TxnState
from app.services.errors import PosError
from app.services.results import Status
from app.sim.home import SimOptions, SimulatorHome


def test_sign_in_fetches_keys_that_survive_a_terminal_restart(rig):
    t = rig.terminal()
    t.sign_in("01", "0000")
    t.close()
    t = rig.terminal()
    assert t.status().keys
    assert t.sale(rig.money("1.00"), rig.card()).status is Status.APPROVED
    t.close()


def test_a_simulator_restart_keeps_the_keys_it_issued(rig):
    t = rig.terminal()
    t.sign_in("01", "0000")
    rig.server.stop()
    home = SimulatorHome(rig.home.dir)  # a new process would do exactly this
    rig.server = home.start(SimOptions(rig.server.port, 1.0, 1.8))
    assert t.sale(rig.money("2.00"), rig.card()).status is Status.APPROVED
    t.close()
    home.ledger.close()


def test_keys_the_acquirer_no_longer_accepts_are_dropped_from_the_journal_too(rig):
    t = rig.terminal()
    t.sign_in("01", "0000")
    rig.home.ledger.set_working_keys(
        rig.settings.terminal.terminal_id, {"pin": "00" * 16, "mac": "11" * 16, "data": "22" * 16}
    )
    result = t.sale(rig.money("3.00"), rig.card())
    assert result.status is Status.UNKNOWN and result.record.state is TxnState.REVERSAL_PENDING
    t.close()
    t = rig.terminal()
    assert not t.status().keys, "the rejected keys must not come back at the next start"
    with pytest.raises(PosError, match="sign in"):
        t.sale(rig.money("4.00"), rig.card())
    t.sign_in("01", "0000")  # fresh keys; the waiting reversal goes out at once
    assert t.get(result.record.trace).state is TxnState.REVERSED
    t.close()
    assert rig.acquirer_net == 0


def test_sign_on_proves_the_master_key_not_just_the_certificate(rig):
    wrong = replace(rig.settings, secrets=Secrets(b"\x55" * 32, rig.settings.secrets.token_secret))
    t = build_terminal(wrong)
    with pytest.raises(PosError, match="did not sign us on"):
        t.sign_in("01", "0000")
    assert t.ctx.journal.staff.signed_in() is None
    t.close()


def test_a_client_without_the_terminal_certificate_is_refused(rig):
    body = json.dumps({"type": "sign_on", "terminal_id": "KPOS0001"}).encode()
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(f"{rig.server.url}/v1/sign-on", data=body, verify=str(rig.home.pki.ca_file), timeout=5)


def test_a_certificate_from_another_ca_is_refused(rig, tmp_path):
    other = trustme.CA()
    cert = other.issue_cert("KPOS0001", common_name="KPOS0001")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "other.pem"))
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(
            f"{rig.server.url}/v1/sign-on",
            data=b"{}",
            verify=str(rig.home.pki.ca_file),
            cert=str(tmp_path / "other.pem"),
            timeout=5,
        )


def test_the_terminal_refuses_an_acquirer_it_does_not_trust(rig, tmp_path):
    other = trustme.CA()
    other.cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    settings = replace(rig.settings, acquirer=replace(rig.settings.acquirer, ca_file=tmp_path / "other-ca.pem"))
    t = build_terminal(settings)
    with pytest.raises(PosError, match="secure connection"):
        t.sign_in("01", "0000")
    t.close()


def test_the_simulator_listens_on_loopback_only(rig):
    assert rig.server._server.server_address[0] == "127.0.0.1"
    assert ssl.HAS_TLSv1_3


def test_a_declined_balance_inquiry_reveals_no_balance(rig, terminal, monkeypatch):
    monkeypatch.setenv("POS_CARDHOLDER_PIN", "000000")
    result = terminal.balance(rig.card("unionpay-debit"))
    assert result.status is Status.DECLINED and result.record.response_code == "55"
    stored = rig.home.ledger.request(result.record.idempotency_key)
    assert "balance_minor" not in stored.response


def test_configuration_changes_are_audited_by_section(rig):
    t = rig.terminal()
    t.close()
    text = rig.home.terminal_config.read_text().replace("retries = 1", "retries = 2")
    rig.home.terminal_config.write_text(text + '\n[limits]\nmax_amount = "900.00"\n')
    from app.config import load_settings

    t = build_terminal(load_settings(rig.home.terminal_config))
    events = [(e.event, e.detail) for e in t.ctx.journal.audit.recent()]
    t.close()
    assert ("configuration_changed", "acquirer, limits") in events
    assert ("configuration_changed", "first use") in events
