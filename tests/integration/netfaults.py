"""A man in the middle the tests own: terminates the terminal's TLS with the simulator's own certificate,
forwards over mutual TLS with the terminal's client certificate, and cuts or alters the acquirer's answers.

Only a test that holds every key of the test PKI can do this; it is how a bad network is made for real."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
from collections.abc import Callable

from app.config import Settings
from app.sim.certs import SimPki

Alter = Callable[[int, bytes], bytes | None]  # (connection number, answer body) -> new body, or None to cut


class AnswerTamperingProxy:
    def __init__(self, pki: SimPki, settings: Settings, upstream_port: int, alter: Alter) -> None:
        self.alter = alter
        self.upstream_port = upstream_port
        self.connections = 0
        self.requests: list[bytes] = []  # request bodies as the terminal sent them, TLS removed
        self._server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_tls.load_cert_chain(str(pki.server_pem))
        self._client_tls = ssl.create_default_context(cafile=str(pki.ca_file))
        self._client_tls.load_cert_chain(str(settings.acquirer.client_cert), str(settings.acquirer.client_key))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(raw, self.connections), daemon=True).start()

    def _handle(self, raw: socket.socket, number: int) -> None:
        conn: socket.socket = raw
        upstream: http.client.HTTPSConnection | None = None
        try:
            conn = self._server_tls.wrap_socket(raw, server_side=True)
            with conn.makefile("rb") as reader:
                request_line = reader.readline().decode()
                headers = {}
                while (line := reader.readline().decode()) not in ("\r\n", "\n", ""):
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", "0")))
            self.requests.append(body)
            method, path, _ = request_line.split(" ", 2)
            upstream = http.client.HTTPSConnection("127.0.0.1", self.upstream_port, context=self._client_tls)
            upstream.request(method, path, body, {"Content-Type": "application/json"})
            response = upstream.getresponse()
            answer = response.read()
            changed = self.alter(number, answer)
            if changed is None:
                return  # the answer never arrives
            conn.sendall(
                f"HTTP/1.0 {response.status} OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(changed)}\r\n\r\n".encode()
                + changed
            )
        except (OSError, ssl.SSLError, ValueError, http.client.HTTPException):
            pass  # whatever broke on either side, the terminal sees a connection that ends without an answer
        finally:
            if upstream is not None:
                upstream.close()
            conn.close()

    def close(self) -> None:
        self._listener.close()


def cut_first(n: int) -> Alter:
    return lambda number, body: None if number <= n else body


def change_field(field: str, value: object, first: int = 10**9) -> Alter:
    """Rewrite one field of the JSON answer (its MAC no longer matches) for the first `first` connections."""

    def alter(number: int, body: bytes) -> bytes:
        if number > first:
            return body
        data = json.loads(body)
        data[field] = value
        return json.dumps(data).encode()

    return alter
