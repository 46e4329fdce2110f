"""The `pos` command end to end: a headless day whose figures agree with the simulator's ledger, JSON output,
exit statuses, and bad input that gets one clear line and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli_rig import SimProcess, pos, pos_json

OPERATOR = {"POS_PIN": "0000"}
SUPERVISOR = {"POS_SUPERVISOR_PIN": "123456"}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    process = SimProcess(tmp_path / "acquirer")
    yield process
    process.stop()


def _status(config: Path) -> dict[str, object]:
    code, data = pos_json(config, "status")
    assert code == 0
    return data


def test_a_headless_day_agrees_with_the_acquirers_ledger(sim):
    cfg = sim.config
    code, signed = pos_json(cfg, "signin", "--operator", "01", env=OPERATOR)
    assert code == 0 and signed["operator"] == "01"

    code, sale = pos_json(cfg, "sale", "128.00", "--card", "visa-credit")
    assert code == 0
    for field in (
        "status",
        "response_code",
        "trace",
        "batch",
        "amount_minor",
        "currency",
        "masked_pan",
        "auth_code",
        "rrn",
    ):
        assert field in sale
    assert (sale["status"], sale["response_code"], sale["amount_minor"], sale["currency"]) == (
        "approved",
        "00",
        12800,
        "CNY",
    )
    assert sale["masked_pan"] == "476173******0010"

    code, second = pos_json(cfg, "sale", "35.50", "--card", "unionpay-debit", "--entry", "contactless")
    assert code == 0
    code, declined = pos_json(cfg, "sale", "20.51", "--card", "mastercard-debit")
    assert (code, declined["status"], declined["response_code"]) == (1, "declined", "51")
    code, lost = pos_json(cfg, "sale", "88.68")
    assert (code, lost["status"], lost["state"]) == (1, "unknown", "reversed")
    code, void = pos_json(cfg, "void", str(second["trace"]), env=SUPERVISOR)
    assert (code, void["status"], void["orig_trace"]) == (0, "approved", second["trace"])

    code, settled = pos_json(cfg, "settle")
    assert code == 0 and settled["status"] == "settled" and settled["matched"] is True
    assert settled["totals"]["net_minor"] == 12800

    code, refund = pos_json(cfg, "refund", str(sale["trace"]), "50.00", "--card", "visa-credit", env=SUPERVISOR)
    assert (code, refund["status"], refund["amount_minor"]) == (0, "approved", 5000)
    code, settled2 = pos_json(cfg, "settle")
    assert code == 0 and settled2["totals"]["net_minor"] == -5000 and settled2["batch"] == 2

    assert sim.ledger_net() == 12800 - 5000
    code, journal = pos_json(cfg, "journal", "--limit", "50")
    states = {t["trace"]: t["state"] for t in journal["transactions"]}
    assert states[sale["trace"]] == "approved" and states[second["trace"]] == "voided"
    assert states[lost["trace"]] == "reversed" and states[declined["trace"]] == "declined"
    ledger = {stan: status for stan, _, status, _ in sim.ledger_rows()}
    assert ledger[lost["trace"]] == "reversed" and ledger[second["trace"]] == "voided"


def test_preauth_completion_and_balance_from_the_cli(sim):
    cfg = sim.config
    pos_json(cfg, "signin", "--operator", "01", env=OPERATOR)
    code, pre = pos_json(cfg, "preauth", "300.00", "--card", "mastercard-credit")
    assert code == 0
    code, done = pos_json(cfg, "complete", str(pre["trace"]), "250.00")
    assert (code, done["amount_minor"]) == (0, 25000)
    code, pre2 = pos_json(cfg, "preauth", "100.00")
    code, pv = pos_json(cfg, "preauth-void", str(pre2["trace"]), env=SUPERVISOR)
    assert code == 0 and pv["status"] == "approved"
    code, bal = pos_json(cfg, "balance", "--card", "unionpay-debit")
    assert code == 0 and bal["balance_minor"] == 100_000
    assert sim.ledger_net() == 25000


@pytest.mark.parametrize(
    ("args", "env", "expect"),
    [
        (("sale", "-1"), {}, "not an amount: '-1'"),
        (("sale", "12.345"), {}, "at most 2 decimal places"),
        (("sale", "0"), {}, "more than zero"),
        (("sale", "12", "--card", "no-such-card"), {}, "no test card called 'no-such-card'"),
        (("void", "999999"), SUPERVISOR, "no transaction with voucher number 999999"),
        (("refund", "1", "5.00"), {"POS_SUPERVISOR_PIN": "000000"}, "wrong PIN"),
        (("refund", "1", "999.00"), SUPERVISOR, "at most"),
        (("complete", "1", "5.00"), {}, "needs a preauth"),
    ],
)
def test_bad_input_gets_one_clear_line_and_changes_nothing(sim, args, env, expect):
    cfg = sim.config
    pos_json(cfg, "signin", "--operator", "01", env=OPERATOR)
    code, sale = pos_json(cfg, "sale", "10.00")
    assert code == 0 and sale["trace"] == 1
    pos_json(cfg, "settle")  # voucher 1 is now in a settled batch
    before = (_status(cfg), sim.ledger_rows())
    done = pos(cfg, *args, env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pos: ") and expect in lines[0], done.stderr
    assert (_status(cfg), sim.ledger_rows()) == before


def test_a_void_of_another_batch_and_a_locked_operator_are_refused(sim):
    cfg = sim.config
    pos_json(cfg, "signin", "--operator", "01", env=OPERATOR)
    _, sale = pos_json(cfg, "sale", "10.00")
    pos_json(cfg, "settle")
    code, err = pos_json(cfg, "void", str(sale["trace"]), env=SUPERVISOR)
    assert code == 1 and err["status"] == "error" and "use a refund" in err["message"]
    for _ in range(5):
        assert pos(cfg, "signin", "--operator", "01", env={"POS_PIN": "9999"}).returncode == 1
    done = pos(cfg, "signin", "--operator", "01", env=OPERATOR)
    assert done.returncode == 1 and "locked" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_usage_errors_are_one_line_with_exit_2(sim):
    done = pos(sim.config, "void", "abc")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "not a voucher" in done.stderr


def test_a_bad_configuration_is_one_line_naming_the_key(sim, tmp_path):
    text = sim.config.read_text().replace("read_timeout_s = 1", "read_timeout_s = -3")
    bad = sim.data_dir / "bad.toml"
    bad.write_text(text)
    done = pos(bad, "status")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "[acquirer] read_timeout_s" in done.stderr


def test_pins_come_from_standard_input_when_it_is_not_a_terminal(sim):
    done = pos(sim.config, "signin", "--operator", "01", stdin="0000\n")
    assert done.returncode == 0, done.stderr
    assert "Signed in: operator 01" in done.stdout


def test_a_production_configuration_has_no_default_password_until_setup(sim, tmp_path):
    text = sim.config.read_text().replace("seed_demo_accounts = true", "seed_demo_accounts = false")
    text = text.replace('data_dir = "terminal"', 'data_dir = "production-terminal"')
    cfg = sim.data_dir / "production.toml"
    cfg.write_text(text)
    done = pos(cfg, "signin", "--operator", "01", env=OPERATOR)
    assert done.returncode == 1 and "not set up" in done.stderr
    assert pos(cfg, "setup", env={"POS_SUPERVISOR_PIN": "12"}).returncode == 1  # too short
    assert pos(cfg, "setup", stdin="24681357\n").returncode == 0
    assert (
        pos(cfg, "operator", "add", "01", env={"POS_SUPERVISOR_PIN": "24681357", "POS_NEW_PIN": "1357"}).returncode == 0
    )
    assert pos(cfg, "signin", "--operator", "01", env={"POS_PIN": "0000"}).returncode == 1
    assert pos(cfg, "signin", "--operator", "01", env={"POS_PIN": "1357"}).returncode == 0
    assert pos(cfg, "setup", env={"POS_SUPERVISOR_PIN": "99999999"}).returncode == 1  # only once


def test_reprint_marks_the_slip_as_a_duplicate(sim):
    cfg = sim.config
    pos_json(cfg, "signin", "--operator", "01", env=OPERATOR)
    pos_json(cfg, "sale", "10.00")
    code, again = pos_json(cfg, "reprint")
    assert code == 0
    merchant = Path(again["slips"][0])
    assert merchant.name == "000001-merchant-dup.png" and merchant.stat().st_size > 1000


def test_the_test_card_list_shows_no_full_pan():
    done = pos(None, "cards")
    assert done.returncode == 0 and "magstripe-visa" in done.stdout and ".68" in done.stdout
    assert "4761739001010010" not in done.stdout


def test_the_journal_finds_by_date_and_amount_and_refuses_a_bad_date(sim):
    cfg = sim.config
    pos_json(cfg, "signin", "--operator", "01", env=OPERATOR)
    pos_json(cfg, "sale", "10.00")
    _, sale = pos_json(cfg, "sale", "22.50")
    code, found = pos_json(cfg, "journal", "--amount", "22.50")
    assert code == 0 and [t["trace"] for t in found["transactions"]] == [sale["trace"]]
    _, today = pos_json(cfg, "journal", "--date", found["transactions"][0]["local_date"])
    assert len(today["transactions"]) == 2
    done = pos(cfg, "journal", "--date", "20-11-2026")
    assert done.returncode == 1 and "--date must be a day" in done.stderr


def test_the_log_tells_support_how_each_transaction_ended_without_card_numbers(sim):
    cfg = sim.config
    pos_json(cfg, "signin", "--operator", "01", env=OPERATOR)
    pos_json(cfg, "sale", "10.00")
    pos_json(cfg, "sale", "10.68")
    log = (sim.data_dir / "terminal" / "pos.log").read_text(encoding="utf-8")
    assert "voucher 000001 batch 000001 sale CNY 1000: approved (code 00" in log
    assert "voucher 000002 reversed" in log
    assert "476173******0010" in log and "4761739001010010" not in log


def test_the_card_emulator_refuses_an_unknown_card_in_one_line():
    done = pos(None, "card-emulator", "no-such-card")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "no emulated card called" in done.stderr


def test_a_reader_and_a_simulated_card_cannot_be_asked_for_together(sim):
    done = pos(sim.config, "sale", "1.00", "--reader", "Virtual PCD 00 00", "--card", "visa-credit")
    assert done.returncode == 1 and "--card and --entry choose a simulated card" in done.stderr


NO_SCREEN = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": ""}
needs_no_drm = pytest.mark.skipif(Path("/dev/dri").exists(), reason="this machine has a screen for kmsdrm")


@needs_no_drm
def test_the_app_without_a_screen_says_so_in_one_line(sim):
    done = pos(sim.config, "app", env=NO_SCREEN)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "no screen to open the app on" in done.stderr and "xvfb-run" in done.stderr


@needs_no_drm
def test_make_run_without_a_screen_narrates_the_day_instead(tmp_path):
    done = pos(None, "app", env={**NO_SCREEN, "KIOSKPOS_DEMO_DIR": str(tmp_path / "demo")}, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "no screen to open the app on" in done.stderr
    assert "Meanwhile, here is a counter day" in done.stdout and "they agree" in done.stdout
