"""Put an emulated card in nfcpy's simulated RF field: the card side of ISO/IEC 14443-4 (ISO-DEP, type A).

nfcpy's `udp:HOST:PORT` transport carries the 14443-3 frames as UDP datagrams. The card binds the port and
listens (`clf.listen`), answers the anticollision itself (nfcpy does that for a LocalTarget), then gets RATS and
runs the block protocol, which this module implements:

- I-blocks (PCB 0x02/0x03 + chaining bit 0x10) carry the APDUs. Frames in both directions are cut to the size
  the other side announced (FSD from RATS, FSC from our ATS) and chained with R(ACK)s.
- R(NAK) with our current block number: the reader missed our last block, send it again. R(NAK) with the other
  number is nfcpy's presence check: answer R(ACK).
- S(DESELECT) ends the session (we answer it). The reader switching the field off (nfcpy sends "RFOFF") too.

The reference for what the reader side sends is nfcpy's own nfc/tag/tt4.py (IsoDepInitiator, Type4ATag).
`stop()` is the card leaving the field: it simply goes silent, as a real card does.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time

import nfc
import nfc.clf

from app.sim.emulator.base import EmulatedCard

log = logging.getLogger(__name__)

FS_TABLE = (16, 24, 32, 40, 48, 64, 96, 128, 256)  # FSDI/FSCI -> frame size, ISO/IEC 14443-4 table
FSCI = 8  # we accept 256-byte frames (nfcpy's udp transport carries up to 290)
# FWT = 302 us * 2^FWI: 77 ms here. The card thread shares the GIL with the reader in tests and an EMV card may
# compute a cryptogram before answering, so it needs slack; nfcpy then gives up on a silent card in about 0.5 s.
FWI = 8
SENS_RES = bytes.fromhex("0400")  # ATQA: single-size (4-byte) UID, bit-frame anticollision
SEL_RES = bytes.fromhex("20")  # SAK: ISO/IEC 14443-4 compliant
LISTEN_S = 0.5  # nfcpy's udp listen never returns sooner than 0.5 s without traffic: this bounds stop()
WAIT_S = 0.1  # slice while waiting for the reader's next block inside a session

PCB_I = 0x02
PCB_CHAINING = 0x10
PCB_R_ACK = 0xA2
PCB_R_NAK = 0xB2
PCB_DESELECT = 0xC2


def build_ats(historical: bytes, fsd: int) -> bytes:
    """ATS: TL, T0 (TA TB TC present + FSCI), TA (106 kbit/s only), TB (FWI, SFGI 0), TC (no NAD, no CID)."""
    historical = historical[: max(0, fsd - 2 - 5)]  # the ATS may not exceed FSD - 2 bytes
    body = bytes([0x70 | FSCI, 0x80, FWI << 4, 0x00]) + historical
    return bytes([len(body) + 1]) + body


class _Session:
    """The block protocol for one activation, from RATS to DESELECT or field off. Pure logic: bytes in, bytes out."""

    def __init__(self, card: EmulatedCard, rats: bytes) -> None:
        self.card = card
        fsd = FS_TABLE[min(rats[1] >> 4, 8)]  # FSDI above 8 is RFU in the 2008 edition nfcpy implements
        self.miu = fsd - 3  # PCB + 2 CRC bytes (the udp transport omits the CRC but still counts it)
        self.block = 1  # ISO/IEC 14443-4: the PICC block number starts at 1
        self.command = b""  # chained command being assembled
        self.pending = b""  # rest of a chained response
        self.last = b""  # last block sent, for retransmission
        self.ended = False
        card.reset()
        self.ats = build_ats(card.atr, fsd)

    def handle(self, frame: bytes) -> bytes | None:
        """The reply to one block from the reader; None means stay silent (invalid block)."""
        if not frame:
            return None
        pcb = frame[0]
        if pcb & 0xE6 == 0x02:  # I-block (CID and NAD never used: our TC says not supported)
            return self._remember(self._i_block(pcb, frame[1:]))
        if pcb & 0xE6 == 0xA2:  # R-block
            return self._r_block(pcb)
        if pcb & 0xF7 == PCB_DESELECT:
            self.ended = True
            return bytes([PCB_DESELECT])
        log.debug("ignoring block with PCB %02X", pcb)
        return None

    def _i_block(self, pcb: int, inf: bytes) -> bytes:
        self.block = pcb & 1  # an I-block with the other number toggles ours: we always answer with its number
        self.command += inf
        if pcb & PCB_CHAINING:
            return bytes([PCB_R_ACK | self.block])
        apdu, self.command = self.command, b""
        self.pending = self.card.process(apdu)
        return self._next_chunk()

    def _r_block(self, pcb: int) -> bytes | None:
        number, nak = pcb & 1, bool(pcb & 0x10)
        if number == self.block:
            return self.last or None  # the reader lost our last block: send it again
        if nak:
            return bytes([PCB_R_ACK | self.block])  # presence check
        self.block = number  # R(ACK) for the next part of our chained answer
        if not self.pending:
            return None
        return self._remember(self._next_chunk())

    def _next_chunk(self) -> bytes:
        chunk, self.pending = self.pending[: self.miu], self.pending[self.miu :]
        pcb = PCB_I | self.block | (PCB_CHAINING if self.pending else 0)
        return bytes([pcb]) + chunk

    def _remember(self, block: bytes) -> bytes:
        self.last = block
        return block


class IsoDepCard:
    """An EmulatedCard held in nfcpy's udp field on `port` (readers open "udp:localhost:PORT")."""

    def __init__(self, card: EmulatedCard, port: int, *, host: str = "localhost", uid: bytes | None = None) -> None:
        self.card = card
        self.port = port
        self.uid = uid or bytes([0x08]) + port.to_bytes(3, "big")  # 0x08: a random-ID style UID, never 0x88
        self._path = f"udp:{host}:{port}"
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.activations = 0  # how many times a reader activated the card (RATS), for tests

    def start(self) -> None:
        """Bring the card into the field; returns once it listens, so a reader's first poll finds it."""
        if self._thread is not None:
            raise RuntimeError("IsoDepCard already started")
        self._stopping.clear()
        clf = nfc.ContactlessFrontend(self._path)
        self._thread = threading.Thread(target=self._run, args=(clf,), name=f"isodep-{self.port}", daemon=True)
        self._thread.start()
        try:
            self._wait_bound()
        except BaseException:
            self.stop()
            raise

    def _wait_bound(self, timeout_s: float = 2.0) -> None:
        # A SENS_REQ sent before the card's socket is bound is lost, and nfcpy's udp reader then waits a whole
        # second before polling again. The port is bound once binding it ourselves fails.
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("0.0.0.0", self.port))  # noqa: S104 - nfcpy's card side binds all interfaces too
                except OSError as error:
                    if error.errno == errno.EADDRINUSE:
                        return
                    raise
            time.sleep(0.005)
        raise TimeoutError(f"emulated card did not start listening on udp port {self.port}")

    def stop(self) -> None:
        """Take the card out of the field: it stops answering at once; the thread ends within about 0.5 s."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> IsoDepCard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, clf: nfc.ContactlessFrontend) -> None:
        target = nfc.clf.LocalTarget("106A", sens_res=SENS_RES, sdd_res=self.uid, sel_res=SEL_RES)
        try:
            while not self._stopping.is_set():
                activated = clf.listen(target, LISTEN_S)
                rats = None if activated is None else activated.tt4_cmd
                if rats and len(rats) >= 2 and rats[0] == 0xE0:
                    self.activations += 1
                    self._serve(clf, _Session(self.card, bytes(rats)))
        finally:
            clf.close()  # closing from the thread: stop() can't, listen() holds the frontend's lock

    def _serve(self, clf: nfc.ContactlessFrontend, session: _Session) -> None:
        reply: bytes | None = session.ats
        while not session.ended:
            frame = self._exchange(clf, reply)
            if frame is None:
                return  # field off, or we left the field
            reply = session.handle(frame)
            if session.ended and reply is not None:
                clf.exchange(reply, 0)  # answer DESELECT without waiting for anything more

    def _exchange(self, clf: nfc.ContactlessFrontend, reply: bytes | None) -> bytes | None:
        """Send our reply (if any) and wait for the reader's next block; None if the session is over."""
        while not self._stopping.is_set():
            try:
                frame = clf.exchange(reply, WAIT_S)
            except nfc.clf.BrokenLinkError:
                return None  # the reader switched the field off
            except nfc.clf.CommunicationError:
                reply = None  # nothing yet (or a garbled datagram): keep listening, the reader is thinking
                continue
            if self._stopping.is_set():
                return None  # left the field while the block was in flight: never answer it
            return None if frame is None else bytes(frame)
        return None
