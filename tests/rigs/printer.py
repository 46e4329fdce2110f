"""A receipt printer on 127.0.0.1 for the tests: it keeps every byte python-escpos' Network printer sends it,
and answers DLE EOT status queries the way the test says the paper, the cover and the printer are."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

DLE_EOT = b"\x10\x04"


@dataclass
class PrinterState:
    paper: str = "ok"  # ok, low, out
    cover_open: bool = False
    offline: bool = False
    answers: bool = True  # False: a printer that never answers a status query

    def status_byte(self, n: int) -> int:
        value = 0x12  # bits 1 and 4 are always set in an ESC/POS status byte
        if n == 1 and (self.offline or self.cover_open or self.paper == "out"):
            value |= 0x08
        if n == 2 and self.cover_open:
            value |= 0x04
        if n == 2 and self.paper == "out":
            value |= 0x20
        if n == 4 and self.paper in ("low", "out"):
            value |= 0x0C
        if n == 4 and self.paper == "out":
            value |= 0x60
        return value


@dataclass
class LoopbackPrinter:
    state: PrinterState = field(default_factory=PrinterState)
    jobs: list[bytes] = field(default_factory=list)  # one entry per connection, status queries taken out

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def printed(self) -> bytes:
        with self._lock:
            return b"".join(self.jobs)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        received = bytearray()
        pending = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                data = pending + chunk
                pending = b""
                while (at := data.find(DLE_EOT)) != -1:
                    if at + 2 >= len(data):  # the query's last byte has not arrived yet
                        break
                    received += data[:at]
                    if self.state.answers:
                        conn.sendall(bytes([self.state.status_byte(data[at + 2])]))
                    data = data[at + 3 :]
                if data.endswith(DLE_EOT) or data.endswith(DLE_EOT[:1]):
                    keep = 2 if data.endswith(DLE_EOT) else 1
                    pending, data = data[-keep:], data[:-keep]
                received += data
        with self._lock:
            self.jobs.append(bytes(received))

    def close(self) -> None:
        self._server.close()
