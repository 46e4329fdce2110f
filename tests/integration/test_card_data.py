"""No full PAN, track data or PIN material at rest, in logs, on slips, or in clear inside the host message."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

from app import logs
from app.bootstrap import build_terminal
from app.sim.card_profiles import CARD_PROFILES
from tests.integration.netfaults import AnswerTamperingProxy

PANS = [p.pan for p in CARD_PROFILES.values()]


def _forbidden() -> list[tuple[str, bytes]]:
    needles = []
    for profile in CARD_PROFILES.values():
        needles.append((f"PAN {profile.name}", profile.pan.encode()))
        needles.append((f"BCD PAN {profile.name}", bytes.fromhex(profile.pan + ("F" if len(profile.pan) % 2 else ""))))
        needles.append((f"track 2 {profile.name}", profile.track2.split("=")[1].encode()))
        needles.append((f"PAN in UTF-16 {profile.name}", profile.pan.encode("utf-16-le")))
    return needles


def _busy_day(rig, terminal) -> None:
    for profile in CARD_PROFILES.values():
        entries = ["swipe"] if not profile.chip else ["chip"] + (["contactless"] if profile.contactless else [])
        for entry in entries:
            terminal.sale(rig.money("12.34"), rig.card(profile.name, entry))
    for cents in ("05", "55", "68", "98"):
        terminal.sale(rig.money(f"3.{cents}"), rig.card("unionpay-debit"))
    sale = terminal.sale(rig.money("77.00"), rig.card("mastercard-credit")).record
    terminal.balance(rig.card("visa-debit"))
    terminal.settle()
    terminal.refund(sale.trace, rig.money("7.00"), "123456", rig.card("mastercard-credit"))
    terminal.reprint(sale.trace)


def test_no_card_data_anywhere_the_terminal_or_simulator_writes(rig, tmp_path):
    log_file = tmp_path / "pos.log"
    logs.configure("DEBUG", log_file, console_level=logging.CRITICAL)
    # Through the recording proxy, so the PIN blocks that actually went out can be looked for afterwards.
    proxy = AnswerTamperingProxy(rig.home.pki, rig.settings, rig.server.port, lambda n, body: body)
    settings = replace(rig.settings, acquirer=replace(rig.settings.acquirer, url=f"https://127.0.0.1:{proxy.port}"))
    try:
        terminal = build_terminal(settings)
        terminal.sign_in("01", "0000")
        _busy_day(rig, terminal)
        data_dir = rig.settings.terminal.data_dir
        # Read the WAL while the journal is open: that is where the newest pages live.
        files = [p for p in data_dir.rglob("*") if p.is_file()] + [log_file]
        files += [p for p in rig.home.dir.glob("ledger.sqlite*") if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files), "the WAL must be among the files checked"
        contents = {p: p.read_bytes() for p in files}
        terminal.close()
    finally:
        proxy.close()
        logs.configure("WARNING", None, console_level=logging.CRITICAL)
    pin_blocks = [json.loads(b)["card"]["pin_block"] for b in proxy.requests if b'"pin_block": "' in b]
    assert len(pin_blocks) >= 5
    needles = _forbidden()
    for block in pin_blocks:
        needles += [("PIN block (hex)", block.encode()), ("PIN block (hex)", block.lower().encode())]
        needles.append(("PIN block (bytes)", bytes.fromhex(block)))
    assert log_file.stat().st_size > 0 and len(contents) > 10
    for path, data in contents.items():
        for what, needle in needles:
            assert needle not in data, f"{what} found in {path}"
    schema = contents[data_dir / "journal.sqlite"]
    assert b"pin_block" not in schema and b"track" not in schema


def test_the_request_carries_the_card_only_sealed(rig):
    t = rig.terminal()
    t.sign_in("01", "0000")
    t.close()
    proxy = AnswerTamperingProxy(rig.home.pki, rig.settings, rig.server.port, lambda n, body: body)
    settings = replace(rig.settings, acquirer=replace(rig.settings.acquirer, url=f"https://127.0.0.1:{proxy.port}"))
    try:
        t = build_terminal(settings)
        t.sale(rig.money("12.34"), rig.card("mastercard-debit"))
        t.sale(rig.money("12.34"), rig.card("magstripe-visa", "swipe"))
        t.close()
    finally:
        proxy.close()
    for body in proxy.requests:
        for pan in PANS:
            assert pan.encode() not in body
    cards = [json.loads(b)["card"] for b in proxy.requests if b"card" in b]
    assert len(cards) == 2
    assert all(c["masked_pan"].count("*") == 6 and c["sealed"] for c in cards)
    assert cards[0]["pin_block"] and len(cards[0]["pin_block"]) == 32, "online PIN travels only as a PIN block"


def test_slips_show_at_most_first_six_and_last_four(rig, terminal):
    result = terminal.sale(rig.money("12.34"), rig.card("unionpay-debit"))
    for slip in result.slips:
        text = Path(slip).read_text(encoding="utf-8")
        assert "625094******0014" in text
        assert "6250947000000014" not in text
