"""The acquirer simulator's HTTPS server: mutual TLS on 127.0.0.1, one thread per connection."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.sim.acquirer import Acquirer
from app.sim.certs import SimPki
from app.sim.magic import Delivery

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    acquirer: Acquirer
    tls: ssl.SSLContext
    late_seconds: float
    answering: threading.Event  # cleared while a test holds the answers back (AcquirerServer.holding_answers)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client without a valid certificate fails its handshake here: worth a log line, not a traceback.
        log.info("connection from %s failed: %s", client_address[0], sys.exc_info()[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: a lost answer is a closed socket

    def setup(self) -> None:
        # The handshake runs here, in the connection's own thread, so a slow client cannot stall the others.
        self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            log.debug("connection ended: %s", exc)

    def finish(self) -> None:
        # socketserver closes the plain socket it accepted; the TLS socket that took it over is ours to close.
        try:
            super().finish()
        except (ssl.SSLError, ConnectionError, TimeoutError):
            pass
        finally:
            self.request.close()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self._send(400, b'{"error": "body missing or too large"}')
            return
        raw = self.rfile.read(length)
        reply = self.server.acquirer.handle(self.path, raw, _peer_name(self.request))
        self.server.answering.wait()  # decided and recorded, like an acquirer whose answer is slow to come back
        if reply.delivery is Delivery.LOST:
            log.info("magic amount: dropping the answer to %s", self.path)
            self.close_connection = True
            self.request.shutdown(socket.SHUT_RDWR)
            return
        if reply.delivery is Delivery.LATE:
            log.info("magic amount: answering %s after %.1f s", self.path, self.server.late_seconds)
            time.sleep(self.server.late_seconds)
        self._send(reply.status, json.dumps(reply.body).encode())

    def _send(self, status: int, payload: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (ssl.SSLError, ConnectionError, TimeoutError):
            log.info("the terminal hung up before the answer to %s was sent", self.path)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)


def _peer_name(sock: Any) -> str | None:
    cert: dict[str, Any] = (sock.getpeercert() or {}) if isinstance(sock, ssl.SSLSocket) else {}
    subject: tuple[tuple[tuple[str, str], ...], ...] = cert.get("subject", ())
    for rdn in subject:
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


class AcquirerServer:
    def __init__(self, acquirer: Acquirer, pki: SimPki, port: int = 0, late_seconds: float = 15.0) -> None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_file))
        tls.verify_mode = ssl.CERT_REQUIRED
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(str(pki.server_pem))
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.acquirer = acquirer
        self._server.tls = tls
        self._server.late_seconds = late_seconds
        self._server.answering = threading.Event()
        self._server.answering.set()
        self._thread: threading.Thread | None = None

    @property
    def acquirer(self) -> Acquirer:
        return self._server.acquirer

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @contextmanager
    def holding_answers(self) -> Iterator[None]:
        """Every answer waits until the block ends: a terminal can be looked at while it waits for the acquirer,
        for as long as that takes, without betting on how long a late answer is late."""
        self._server.answering.clear()
        try:
            yield
        finally:
            self._server.answering.set()

    def start(self) -> AcquirerServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="acquirer-sim", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
