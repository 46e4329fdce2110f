"""A hostile acquirer in front of the real one: it terminates the terminal's mutual TLS with the simulator's own
certificates, forwards each request to the real simulator (so the money really moves there), and for the first
requests answers with whatever the test writes on the socket: a redirect, a gzip bomb, a drip.

Later requests (the status inquiry, the reversal) are forwarded and answered honestly, so a test can see the
terminal undo what the hostile answer left unknown."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from app.config import Settings
from app.sim.certs import SimPki


@dataclass(frozen=True)
class Upstream:
    status: int
    body: bytes


# (TLS socket to the terminal, the real simulator's answer) -> None; writes whatever it likes, then returns.
Answer = Callable[[ssl.SSLSocket, Upstream], None]


class HostileAcquirer:
    def __init__(self, pki: SimPki, settings: Settings, upstream_port: int, answer: Answer, first: int = 1) -> None:
        self.answer = answer
        self.first = first
        self.upstream_port = upstream_port
        self.requests: list[bytes] = []  # request bodies as the terminal sent them, TLS removed
        self.done = threading.Event()  # set once the hostile answers have all been written (or cut off)
        self._count_lock = threading.Lock()
        self._server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_file))
        self._server_tls.verify_mode = ssl.CERT_REQUIRED  # mutual TLS, as the real acquirer asks
        self._server_tls.load_cert_chain(str(pki.server_pem))
        self._client_tls = ssl.create_default_context(cafile=str(pki.ca_file))
        self._client_tls.load_cert_chain(str(settings.acquirer.client_cert), str(settings.acquirer.client_key))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._hostile_left = first
        threading.Thread(target=self._serve, daemon=True).start()

    def settings_for(self, settings: Settings) -> Settings:
        return replace(settings, acquirer=replace(settings.acquirer, url=f"https://127.0.0.1:{self.port}"))

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        conn: socket.socket = raw
        try:
            conn = self._server_tls.wrap_socket(raw, server_side=True)
            method, path, body = _read_request(conn)
            with self._count_lock:
                self.requests.append(body)
                hostile = self._hostile_left > 0
                self._hostile_left -= 1
            upstream = _forward(self._client_tls, self.upstream_port, method, path, body)
            if not hostile:
                conn.sendall(_http10(upstream.status, upstream.body))
                return
            try:
                assert isinstance(conn, ssl.SSLSocket)
                self.answer(conn, upstream)
            finally:
                with self._count_lock:
                    if self._hostile_left <= 0:
                        self.done.set()
        except (OSError, ssl.SSLError, ValueError, http.client.HTTPException):
            pass  # the terminal hung up: that is what the hostile answers are for
        finally:
            conn.close()

    def close(self) -> None:
        self._listener.close()


def _read_request(conn: socket.socket) -> tuple[str, str, bytes]:
    with conn.makefile("rb") as reader:
        request_line = reader.readline().decode()
        headers = {}
        while (line := reader.readline().decode()) not in ("\r\n", "\n", ""):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.read(int(headers.get("content-length", "0")))
    method, path, _ = request_line.split(" ", 2)
    return method, path, body


def _forward(tls: ssl.SSLContext, port: int, method: str, path: str, body: bytes) -> Upstream:
    upstream = http.client.HTTPSConnection("127.0.0.1", port, context=tls)
    try:
        upstream.request(method, path, body, {"Content-Type": "application/json"})
        response = upstream.getresponse()
        return Upstream(response.status, response.read())
    finally:
        upstream.close()


def _http10(status: int, body: bytes, extra: str = "") -> bytes:
    head = f"HTTP/1.0 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def redirect_to(url: str) -> Answer:
    def answer(conn: ssl.SSLSocket, upstream: Upstream) -> None:
        conn.sendall(_http10(307, b"", f"Location: {url}\r\n"))

    return answer


def body_chunks(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """`total` bytes of JSON-ish filler, made as they are sent: the rig itself never holds them all."""
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield b" " * n
        sent += n
