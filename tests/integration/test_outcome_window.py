"""Between "intent committed" and "outcome committed" the acquirer may have charged the customer while the
journal does not say so. Whatever goes wrong there (an approval the terminal cannot digest, a disk that fills
up under the outcome) ends as "result unknown, reversal sent", never as an error; and a journal that cannot be
written stops a sale before anything is sent.

Real parts: the simulator over mutual TLS, a hostile answerer in front of it that re-MACs with the terminal's
own working key, a real tmpfs for the journal filled to the last byte."""

from __future__ import annotations

import errno
import json
import os
import re
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import build_terminal
from app.config import load_settings
from app.domain.transaction import TxnState
from app.host.protocol import with_mac
from app.services.errors import PosError
from app.services.results import Status, TxnResult
from app.sim.card_profiles import CARD_PROFILES
from tests.conftest import Rig
from tests.integration.cli_rig import pos, pos_json
from tests.integration.hostile import Answer, HostileAcquirer, Upstream


def _tlv(tag: bytes, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        size = bytes([n])
    elif n < 0x100:
        size = bytes([0x81, n])
    elif n < 0x10000:
        size = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        size = bytes([0x83]) + n.to_bytes(3, "big")
    return tag + size + value


def _nested(depth: int) -> bytes:
    value = _tlv(b"\x9f\x7c", b"\x01")
    for _ in range(depth):
        value = _tlv(b"\xe0", value)  # a constructed template inside a constructed template...
    return value


# The hostile ICC data, and how the journal says why the answer was not used.
HOSTILE_ICC = {
    # The TLV parser refuses templates nested past its bound: a bad answer like any other.
    "nested 1,000 levels deep": (_nested(1000), "templates nested deeper than"),
    # Parsed fine, then too long to re-encode: the failure comes after the parser said yes, of no expected type.
    "a 70,000-byte value": (_tlv(b"\x9f\x7c", bytes(70_000)), "could not be processed"),
}


class _ReMac:
    """Replaces the approval's ICC data and signs the answer again with the terminal's own MAC key."""

    def __init__(self, icc: bytes) -> None:
        self.icc = icc.hex().upper()
        self.mac_key = b""

    def __call__(self, conn: ssl.SSLSocket, upstream: Upstream) -> None:
        answer = json.loads(upstream.body)
        assert answer["response_code"] == "00", "the simulator approved it: the money moved"
        answer["icc"] = self.icc
        body = json.dumps(with_mac(answer, self.mac_key)).encode()
        head = f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode() + body)


def _signed_in(rig: Rig) -> None:
    t = rig.terminal()
    t.sign_in("01", "0000")
    t.close()


def _assert_unknown_and_reversed(rig: Rig, result: TxnResult) -> None:
    assert result.status is Status.UNKNOWN, result.message
    assert result.message.startswith("Result unknown, reversal sent"), result.message
    assert "internal error" not in result.message
    assert result.record is not None and result.record.state is TxnState.REVERSED
    assert rig.acquirer_net == 0, "the acquirer approved it; the reversal must have undone it"
    assert rig.balance_of(CARD_PROFILES["visa-credit"].pan) == CARD_PROFILES["visa-credit"].balance_minor


@pytest.mark.parametrize(("icc", "why"), HOSTILE_ICC.values(), ids=HOSTILE_ICC.keys())
def test_an_approval_the_terminal_cannot_digest_is_reversed_at_once(rig: Rig, icc: bytes, why: str) -> None:
    _signed_in(rig)
    remac = _ReMac(icc)
    hostile = HostileAcquirer(rig.home.pki, rig.settings, rig.server.port, remac)
    try:
        t = build_terminal(hostile.settings_for(rig.settings))
        try:
            assert t.ctx.host.keys is not None
            remac.mac_key = t.ctx.host.keys.mac
            result = t.sale(rig.money("33.00"), rig.card("visa-credit"))
            assert t.get(result.record.trace).state is TxnState.REVERSED, "reversed at once, not left pending"
        finally:
            t.close()
    finally:
        hostile.close()
    assert len(hostile.requests) == 3, "the sale, the status inquiry, the reversal: all before the sale returned"
    assert why in (result.record.reason or "")
    _assert_unknown_and_reversed(rig, result)


# -- a journal on a small real disk -----------------------------------------------------------------------


@dataclass
class SmallDisk:
    path: Path

    def fill(self) -> None:
        """Write until the file system says ENOSPC, to its last page."""
        fd = os.open(self.path / "ballast", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (1 << 16, 1 << 12, 1):
                _write_until_full(fd, size)
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.path / "ballast").unlink()


def _write_until_full(fd: int, size: int) -> None:
    while True:
        try:
            os.write(fd, bytes(size))
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                return
            raise


@pytest.fixture
def small_disk(rig: Rig) -> Iterator[SmallDisk]:
    """The terminal's data directory (its journal) on an 8 MiB tmpfs."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = rig.settings.terminal.data_dir
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(path)], check=True)
    try:
        yield SmallDisk(path)
    finally:
        # Lazy: a journal a failed test left open must not keep the mount (or the next test) hostage.
        subprocess.run(["umount", "-l", str(path)], check=True)


def _fill_then_answer(disk: SmallDisk) -> Answer:
    """The acquirer approves; while the answer is on its way, the terminal's disk fills up."""

    def answer(conn: ssl.SSLSocket, upstream: Upstream) -> None:
        disk.fill()
        head = (
            f"HTTP/1.0 {upstream.status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(upstream.body)}"
        )
        conn.sendall(head.encode() + b"\r\n\r\n" + upstream.body)

    return answer


def test_a_disk_that_fills_under_the_outcome_ends_reversed_and_recovery_catches_up(
    rig: Rig, small_disk: SmallDisk
) -> None:
    _signed_in(rig)
    hostile = HostileAcquirer(rig.home.pki, rig.settings, rig.server.port, _fill_then_answer(small_disk))
    try:
        t = build_terminal(hostile.settings_for(rig.settings))
        try:
            result = t.sale(rig.money("34.00"), rig.card("visa-credit"))
            assert t.get(result.record.trace).state is TxnState.PENDING, "the journal could take nothing more"
            assert "the journal cannot be written: disk full" in result.message
            _assert_unknown_and_reversed(rig, result)
            row = rig.home.ledger.request(result.record.idempotency_key)
            assert row is not None and row.status is TxnState.REVERSED

            small_disk.free()
            waiting, _ = t.recover()
            assert waiting == []
            assert t.get(result.record.trace).state is TxnState.REVERSED
        finally:
            t.close()
    finally:
        hostile.close()
    assert rig.acquirer_net == 0


def test_a_full_disk_refuses_the_sale_in_one_line_and_sends_nothing(rig: Rig, small_disk: SmallDisk) -> None:
    _signed_in(rig)
    watch = HostileAcquirer(rig.home.pki, rig.settings, rig.server.port, _fill_then_answer(small_disk), first=0)
    said: list[str] = []
    try:
        t = build_terminal(watch.settings_for(rig.settings), progress=said.append)
        try:
            small_disk.fill()
            with pytest.raises(PosError) as refused:
                t.sale(rig.money("35.00"), rig.card("visa-credit"))
            assert t.ctx.journal.txns.last() is None, "no intent was committed"
        finally:
            t.close()
    finally:
        watch.close()
    assert str(refused.value) == "the journal cannot be written: disk full — no sale is possible"
    assert watch.requests == [], "nothing went to the acquirer"
    assert said == [], "refused before the customer was asked for the card"
    assert rig.acquirer_net == 0


# -- the same through the real `pos` command ----------------------------------------------------------------


def _config_via(rig: Rig, hostile: HostileAcquirer) -> Path:
    """The simulator's terminal.toml, pointed at the hostile server (beside it: its paths are relative)."""
    text = rig.home.terminal_config.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^url = ".*"$', f'url = "https://127.0.0.1:{hostile.port}"', text)
    path = rig.home.terminal_config.with_name("via-hostile.toml")
    path.write_text(text, encoding="utf-8")
    return path


def _cli_sale(rig: Rig, answer: Callable[[HostileAcquirer, Path], Answer], *flags: str) -> tuple[int, Any]:
    """`pos sale` through a hostile server; returns its exit code and what it printed (JSON, or text)."""
    code, _ = pos_json(rig.home.terminal_config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
    assert code == 0
    hostile = HostileAcquirer(rig.home.pki, rig.settings, rig.server.port, lambda c, u: None)
    try:
        config = _config_via(rig, hostile)
        hostile.answer = answer(hostile, config)
        out: Any
        if "--json" in flags:
            code, out = pos_json(config, "sale", "36.00", "--card", "visa-credit")
        else:
            done = pos(config, "sale", "36.00", "--card", "visa-credit")
            code, out = done.returncode, done.stdout + done.stderr
    finally:
        hostile.close()
    return code, out


def _remac_from_journal(icc: bytes) -> Callable[[HostileAcquirer, Path], Answer]:
    def make(hostile: HostileAcquirer, config: Path) -> Answer:
        t = build_terminal(load_settings(config))  # the working key the real command will load
        try:
            assert t.ctx.host.keys is not None
            remac = _ReMac(icc)
            remac.mac_key = t.ctx.host.keys.mac
        finally:
            t.close()
        return remac

    return make


@pytest.mark.parametrize("icc", [icc for icc, _why in HOSTILE_ICC.values()], ids=HOSTILE_ICC.keys())
def test_the_pos_command_says_unknown_in_json_for_an_undigestible_approval(rig: Rig, icc: bytes) -> None:
    code, out = _cli_sale(rig, _remac_from_journal(icc), "--json")
    assert out["status"] == "unknown", out
    assert out["state"] == "reversed"
    assert out["message"].startswith("Result unknown, reversal sent")
    assert code == 1, "the shop's scripts see that the sale did not go through"
    assert rig.acquirer_net == 0


def test_the_pos_command_says_unknown_in_plain_words_when_the_disk_fills(rig: Rig, small_disk: SmallDisk) -> None:
    code, text = _cli_sale(rig, lambda hostile, config: _fill_then_answer(small_disk))
    assert "Result unknown, reversal sent" in text, text
    assert "internal error" not in text and "Traceback" not in text
    assert rig.acquirer_net == 0
    small_disk.free()
    code, recovered = pos_json(rig.home.terminal_config, "recover")  # straight to the simulator
    assert code == 0, recovered
    assert recovered["waiting"] == []
    assert rig.acquirer_net == 0


def test_the_pos_command_refuses_a_sale_on_a_full_disk_in_one_line(rig: Rig, small_disk: SmallDisk) -> None:
    code, _ = pos_json(rig.home.terminal_config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
    assert code == 0
    small_disk.fill()
    done = pos(rig.home.terminal_config, "sale", "37.00", "--card", "visa-credit")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == ["pos: the journal cannot be written: disk full — no sale is possible"]
    code, out = pos_json(rig.home.terminal_config, "sale", "37.00", "--card", "visa-credit")
    assert (code, out["status"]) == (1, "error"), out
    assert out["message"] == "the journal cannot be written: disk full — no sale is possible"
    assert rig.home.ledger.net_for_terminal(rig.settings.terminal.terminal_id) == 0
