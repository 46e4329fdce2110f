"""EMV kernel benchmark: APDUs per transaction against each card's minimum, kernel CPU time, and the wall time
from card present to first cryptogram through pcscd/vpcd (contact) and nfcpy's UDP transport (contactless).

Run: .venv/bin/python -m bench.emv   (starts pcscd itself if none is running; needs pcscd + vsmartcard-vpcd)
"""

from __future__ import annotations

import argparse
import platform
import shutil
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.devices.card import CardRequest, HostAnswer
from app.devices.nfc_reader import NfcReader
from app.devices.pcsc_reader import PcscReader, list_readers
from app.devices.pin_entry import EncryptingPinPad, KnownPin
from app.domain.money import Money, currency
from app.domain.transaction import TxnKind
from app.emv import contactless, kernel
from app.emv.apdu import CardChannel
from app.emv.config import KernelConfig
from app.emv.cryptograms import CardCryptograms
from app.emv.trace import ApduTrace
from app.sim.emulator.direct import EmulatedReader
from app.sim.emulator.isodep import IsoDepCard
from app.sim.emulator.profiles import EMULATED_CARDS, make_card
from app.sim.emulator.vpcd import VpcdCard
from app.sim.issuers import IssuerDirectory

CNY = currency("CNY")
CONTACT = ["visa-cda", "mastercard-dda", "unionpay-nopse", "unionpay-two-apps", "visa-offline-pin", "t0"]
TAPS = ["visa-contactless", "mastercard-contactless", "unionpay-quickpass"]
PINS = {
    "visa-offline-pin": "4321",
    "unionpay-nopse": "123456",
    "unionpay-two-apps": "123456",
    "unionpay-quickpass": "123456",
}


class TimedCard:
    """Wraps an emulated card to count its own CPU time, so the kernel's share can be told apart."""

    def __init__(self, name: str) -> None:
        self.inner = make_card(name)
        self.cpu = 0.0

    @property
    def atr(self) -> bytes:
        return self.inner.atr

    def reset(self) -> None:
        self.inner.reset()

    def process(self, apdu: bytes) -> bytes:
        start = time.process_time()
        try:
            return self.inner.process(apdu)
        finally:
            self.cpu += time.process_time() - start


def request(amount: str = "88.00") -> CardRequest:
    return CardRequest(TxnKind.SALE, Money.parse(amount, CNY), datetime.now(), 156, "KPOS0001")


def issuer_answer(session: kernel.EmvSession, pan: str) -> HostAnswer:
    """What the acquirer simulator would answer: an approval with a genuine ARPC (tag 91)."""
    issuer = IssuerDirectory.with_builtin().lookup(pan)
    assert issuer is not None
    icc = session.card.icc
    keys = CardCryptograms.for_card(issuer.cvn, issuer.imk_ac, pan, session.card.sensitive.psn)
    tag_91 = keys.issuer_authentication_data(bytes.fromhex(icc["9F26"]), bytes.fromhex(icc["9F36"]), "00", True)
    return HostAnswer(True, "00", {"91": tag_91.hex().upper()})


def extras(trace: ApduTrace) -> tuple[int, int]:
    """(selection commands beyond the one final SELECT, GET DATA commands with their T=0 follow-ups).

    Everything else a card of this kind needs: the final SELECT, GPO, each AFL record, INTERNAL AUTHENTICATE,
    VERIFY, both GENERATE ACs, EXTERNAL AUTHENTICATE, and the GET RESPONSE / resends a T=0 card imposes."""
    ins = [line[4:6] for line in trace.lines]
    gpo = ins.index("A8")
    final_select = max(i for i in range(gpo) if ins[i] == "A4")
    get_data = 0
    for i in range(final_select, len(ins)):
        if ins[i] == "CA" or (i > 0 and ins[i - 1] == "CA" and ins[i] in ("C0", "CA")):
            get_data += 1
    return final_select, get_data


@dataclass
class Row:
    card: str
    sent: int
    minimum: int
    optional: str
    kernel_ms: float
    card_ms: float


def apdu_and_cpu(config: KernelConfig, name: str, repeats: int) -> Row:
    sent, minimum, kernel_cpu, card_cpu = 0, 0, [], []
    optional = ""
    for _ in range(repeats):
        card = TimedCard(name)
        reader = EmulatedReader()
        reader.insert(card)
        trace = ApduTrace()
        transport = reader.wait_for_card(1)
        assert transport is not None
        channel = CardChannel(transport, trace)
        pad = EncryptingPinPad(KnownPin(PINS.get(name, "1234")), bytes(16))
        start = time.process_time()
        if name in TAPS:
            tap = contactless.read_tap(channel, request(), pad, config)
            tap.complete(HostAnswer(True, "00"))
        else:
            session = kernel.read_card(channel, request(), pad, config)
            outcome = session.complete(issuer_answer(session, session.card.sensitive.pan))
            assert outcome.accepted, outcome.reason
        total = time.process_time() - start
        kernel_cpu.append(total - card.cpu)
        card_cpu.append(card.cpu)
        selection, get_data = extras(trace)
        sent = channel.commands_sent
        minimum = sent - selection - get_data
        optional = f"{selection} selection, {get_data} GET DATA" if selection or get_data else "-"
    return Row(name, sent, minimum, optional, statistics.median(kernel_cpu) * 1000, statistics.median(card_cpu) * 1000)


def ensure_pcscd() -> subprocess.Popen[bytes] | None:
    running = subprocess.run(["pgrep", "-x", "pcscd"], check=False, capture_output=True).returncode == 0
    if Path("/run/pcscd/pcscd.comm").exists() and running:
        return None
    binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
    proc = subprocess.Popen([binary, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if list_readers():
                return proc
        except Exception:  # noqa: BLE001, S110 (pcscd still starting)
            pass
        time.sleep(0.1)
    raise SystemExit("pcscd did not come up (apt install pcscd vsmartcard-vpcd)")


def through_pcscd(config: KernelConfig, name: str, repeats: int) -> float:
    holder = VpcdCard()
    reader = PcscReader("Virtual PCD 00 00")
    times = []
    holder.start()
    try:
        for _ in range(repeats):
            holder.insert(make_card(name))
            transport = reader.wait_for_card(5)
            assert transport is not None
            start = time.perf_counter()
            pad = EncryptingPinPad(KnownPin(PINS.get(name, "1234")), bytes(16))
            kernel.read_card(CardChannel(transport), request(), pad, config)
            times.append(time.perf_counter() - start)
            transport.close()
            holder.remove()
    finally:
        holder.stop()
        reader.close()
    return statistics.median(times) * 1000


class EchoCard:
    atr = bytes.fromhex("3B8880010000000000000000")

    def reset(self) -> None:
        pass

    def process(self, apdu: bytes) -> bytes:
        return b"\x90\x00"


def apdu_round_trip(low_latency: bool, count: int = 30) -> float:
    """Median milliseconds per APDU through pyscard, pcscd and vpcd, with or without TCP_NODELAY/QUICKACK."""
    holder = VpcdCard(EchoCard(), low_latency=low_latency)
    holder.start()
    reader = PcscReader("Virtual PCD 00 00")
    try:
        transport = reader.wait_for_card(5)
        assert transport is not None
        timings = []
        for _ in range(count):
            start = time.perf_counter()
            transport.transmit(bytes.fromhex("00A4040000"))
            timings.append(time.perf_counter() - start)
        transport.close()
    finally:
        reader.close()
        holder.stop()
    return statistics.median(timings) * 1000


def through_nfcpy(config: KernelConfig, name: str, repeats: int) -> float:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    card = IsoDepCard(make_card(name), port)
    card.start()
    reader = NfcReader(f"udp:localhost:{port}")
    times = []
    try:
        for _ in range(repeats):
            transport = reader.wait_for_card(5)
            assert transport is not None
            start = time.perf_counter()
            pad = EncryptingPinPad(KnownPin(PINS.get(name, "1234")), bytes(16))
            contactless.read_tap(CardChannel(transport), request(), pad, config)
            times.append(time.perf_counter() - start)
            transport.close()
    finally:
        reader.close()
        card.stop()
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    config = KernelConfig()
    for name in CONTACT + TAPS:  # warm the emulated cards' key caches: keys are generated once per process
        apdu_and_cpu(config, name, 1)
    rows = [apdu_and_cpu(config, name, args.repeats) for name in CONTACT + TAPS]
    pcscd = ensure_pcscd()
    try:
        wall = {name: through_pcscd(config, name, max(3, args.repeats // 4)) for name in CONTACT}
        fast, slow = apdu_round_trip(True), apdu_round_trip(False, 10)
    finally:
        if pcscd is not None:
            pcscd.terminate()
            pcscd.wait()
    wall.update({name: through_nfcpy(config, name, max(3, args.repeats // 4)) for name in TAPS})
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    print(f"KioskPOS EMV kernel benchmark — {datetime.now():%Y-%m-%d}, {machine}")
    print()
    print(
        "| Card | ODA | APDUs sent | Minimum the card allows | Extra (optional) | Kernel CPU ms | Card emulator CPU ms"
        " | Present to cryptogram ms |"
    )
    print("|---|---|---:|---:|---|---:|---:|---:|")
    for row in rows:
        spec = EMULATED_CARDS[row.card]
        via = "nfcpy udp" if row.card in TAPS else "pcscd/vpcd"
        print(
            f"| {row.card} | {spec.oda} | {row.sent} | {row.minimum} | {row.optional} "
            f"| {row.kernel_ms:.2f} | {row.card_ms:.2f} | {wall[row.card]:.1f} ({via}) |"
        )
    print()
    print(f"One APDU through pyscard, pcscd and vpcd: {fast:.2f} ms with TCP_NODELAY and TCP_QUICKACK on the")
    print(f"emulator's socket, {slow:.1f} ms without (Nagle and delayed ACKs measure the rig, not the kernel).")


if __name__ == "__main__":
    main()
