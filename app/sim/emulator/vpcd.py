"""Plug an emulated card into pcscd's virtual reader (vsmartcard's vpcd driver).

The vpcd driver listens on TCP (35963 = "Virtual PCD 00 00", 35964 = "Virtual PCD 00 01"). While a client is
connected, pcscd sees a card in that reader; when the connection closes, the card has been removed. Every message
in either direction is a 2-byte big-endian length followed by the payload. From pcscd: a 1-byte payload is a
control code (0 power off, 1 power on, 2 reset, 4 send the ATR; only 4 is answered), anything longer is a command
APDU, answered with response data + SW1 SW2.

pcscd polls presence by asking for the ATR about every 400 ms, so an insertion or removal is seen by PC/SC
clients within roughly half a second. A card that is out for less than one poll was never out as far as pcscd is
concerned, so a (re)insertion into a slot waits until the slot has been empty for MIN_ABSENCE_S.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time

from app.sim.emulator.base import EmulatedCard

log = logging.getLogger(__name__)

VPCD_PORT = 35963  # "Virtual PCD 00 00"; the second reader is on 35964
CTRL_POWER_OFF = 0
CTRL_POWER_ON = 1
CTRL_RESET = 2
CTRL_ATR = 4
CONNECT_RETRY_S = 0.05
MIN_ABSENCE_S = 0.5  # longer than pcscd's presence poll period (0.4 s)

# When each port last lost its card, shared by all VpcdCard objects of the process (tests make one per test).
_emptied_at: dict[int, float] = {}
_emptied_lock = threading.Lock()


class VpcdCard:
    """One reader slot: `insert`/`remove` a card, `start`/`stop` the serving thread.

    low_latency=False leaves the socket with Nagle and delayed ACKs on; it exists only to measure what they cost:
    vpcd writes the length and the payload as two segments, Nagle on its side holds the second until our ACK of the
    first, and our delayed ACK takes ~40 ms. Measured through pyscard: 44 ms per APDU without, 0.07 ms with.
    """

    def __init__(
        self,
        card: EmulatedCard | None = None,
        port: int = VPCD_PORT,
        host: str = "127.0.0.1",
        *,
        connect_timeout_s: float = 5.0,
        low_latency: bool = True,
    ) -> None:
        self.port = port
        self.host = host
        self.connect_timeout_s = connect_timeout_s
        self.low_latency = low_latency
        self._card = card
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stopping = threading.Event()
        self._changed = threading.Event()  # a card was inserted or removed: the thread re-reads self._card
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control from the test / benchmark side --------------------------------------------------------------

    def start(self) -> None:
        """Start serving; if a card is inserted, wait until it is connected to vpcd (pcscd may still be
        starting, so the connect is retried for `connect_timeout_s`). Raises ConnectionError if it never is."""
        if self._thread is not None:
            raise RuntimeError("VpcdCard already started")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"vpcd-{self.port}", daemon=True)
        self._thread.start()
        if self._card is not None:
            self._wait_connected()

    def stop(self) -> None:
        """Remove the card and end the thread. Safe to call twice."""
        self._stopping.set()
        self._swap(self._card)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def insert(self, card: EmulatedCard) -> None:
        """Put a card in the reader (replacing any card there) and wait until vpcd has it."""
        self._swap(card)
        if self._thread is not None:
            self._wait_connected()

    def remove(self) -> None:
        """Take the card out: the connection closes, and pcscd reports the removal at its next poll."""
        self._swap(None)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def __enter__(self) -> VpcdCard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the serving thread ----------------------------------------------------------------------------------

    def _wait_connected(self) -> None:
        if not self._connected.wait(self.connect_timeout_s):
            raise ConnectionError(f"vpcd on {self.host}:{self.port} did not accept the card (is pcscd running?)")

    def _swap(self, card: EmulatedCard | None) -> None:
        # One lock covers the slot, the flag and the socket, so the thread can never register a connection made
        # for the previous card after this returns. shutdown() wakes it out of recv(); it closes the socket itself.
        with self._lock:
            self._card = card
            self._changed.set()
            self._connected.clear()
            if self._sock is not None:
                with contextlib.suppress(OSError):  # already closed by the peer
                    self._sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                self._changed.clear()
                card = self._card
            if card is None:
                self._changed.wait()
                continue
            sock = self._connect()
            if sock is None:
                continue
            try:
                self._serve(sock, card)
            finally:
                with self._lock:
                    self._connected.clear()
                    self._sock = None
                sock.close()
                with _emptied_lock:
                    _emptied_at[self.port] = time.monotonic()
            # The connection closed by itself (pcscd stopped or restarted) or because of remove()/insert():
            # either way the loop reconnects whatever card is now in the slot, like a card left in the reader.

    def _connect(self) -> socket.socket | None:
        """Connect, retrying until vpcd accepts or the slot changes. Returns None if it changed."""
        with _emptied_lock:
            emptied = _emptied_at.get(self.port)
        if emptied is not None and self._changed.wait(max(0.0, emptied + MIN_ABSENCE_S - time.monotonic())):
            return None
        while not (self._stopping.is_set() or self._changed.is_set()):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.connect((self.host, self.port))
            except OSError:
                sock.close()
                self._changed.wait(CONNECT_RETRY_S)
                continue
            if self.low_latency:
                # Our answers leave in one sendall(), so Nagle costs nothing today (measured); NODELAY keeps it that
                # way should a write ever be split. QUICKACK (in _read_exactly) is the one that saves the 44 ms.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stopping.is_set() or self._changed.is_set():
                    sock.close()
                    return None
                self._sock = sock
                self._connected.set()
            log.debug("card connected to vpcd on port %d", self.port)
            return sock
        return None

    def _serve(self, sock: socket.socket, card: EmulatedCard) -> None:
        while True:
            message = self._receive(sock)
            if message is None:
                return
            if not message:
                continue
            answer = self._answer(card, message)
            if answer is None:
                continue
            try:
                sock.sendall(struct.pack(">H", len(answer)) + answer)
            except OSError:
                return  # removed while the card was thinking

    @staticmethod
    def _answer(card: EmulatedCard, message: bytes) -> bytes | None:
        if len(message) != 1:
            return card.process(message)
        code = message[0]
        if code == CTRL_ATR:
            return card.atr
        if code in (CTRL_POWER_ON, CTRL_RESET):
            card.reset()
        elif code != CTRL_POWER_OFF:
            log.debug("unknown vpcd control code %d", code)
        return None

    def _receive(self, sock: socket.socket) -> bytes | None:
        header = self._read_exactly(sock, 2)
        if header is None:
            return None
        (length,) = struct.unpack(">H", header)
        return self._read_exactly(sock, length)

    def _read_exactly(self, sock: socket.socket, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            if self.low_latency:
                # Linux clears QUICKACK after a while; re-arm it so our ACK of vpcd's 2-byte length segment goes
                # out at once and vpcd's payload segment is not held back by Nagle on its side.
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                except OSError:
                    return None
            try:
                chunk = sock.recv(size - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data
