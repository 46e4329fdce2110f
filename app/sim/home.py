"""The simulator's data directory: ledger, test PKI, the terminal's secrets, and a ready terminal.toml.

DIR/ledger.sqlite        the acquirer's books
DIR/pki/                 CA, server and client certificates
DIR/secrets/             terminal master key and journal token secret (0600)
DIR/terminal.toml        a complete terminal configuration for this simulator (rewritten at each start)
DIR/terminal/            the terminal's own data directory (its journal), beside the simulator's
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from app.sim.acquirer import Acquirer
from app.sim.certs import SimPki, ensure_pki
from app.sim.issuers import IssuerDirectory, IssuerKey
from app.sim.ledger import Ledger
from app.sim.server import AcquirerServer

TERMINAL_ID = "KPOS0001"
MERCHANT_ID = "898310048990001"
MERCHANT_NAME = "KioskPOS Demo Shop"


@dataclass(frozen=True)
class SimOptions:
    port: int = 0
    read_timeout_s: float = 5.0  # written into terminal.toml
    late_seconds: float | None = None  # how late a .98 answer comes; default: read timeout + 3 s
    issuer_keys: tuple[IssuerKey, ...] = ()


class SimulatorHome:
    def __init__(self, directory: Path) -> None:
        self.dir = directory.resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pki: SimPki = ensure_pki(self.dir / "pki", TERMINAL_ID)
        self.master_key_file = self._secret("master.key", 32)
        self.token_secret_file = self._secret("token.key", 32)
        self.ledger = Ledger(self.dir / "ledger.sqlite")
        self.ledger.register_terminal(TERMINAL_ID, MERCHANT_ID, bytes.fromhex(self.master_key_file.read_text().strip()))

    @property
    def terminal_config(self) -> Path:
        return self.dir / "terminal.toml"

    def _secret(self, name: str, size: int) -> Path:
        path = self.dir / "secrets" / name
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(size) + "\n")
        return path

    def start(self, options: SimOptions) -> AcquirerServer:
        acquirer = Acquirer(self.ledger, IssuerDirectory.with_builtin(list(options.issuer_keys)))
        late = options.late_seconds if options.late_seconds is not None else options.read_timeout_s + 3
        server = self._bind(acquirer, options.port, late).start()
        self.ledger.set_meta("last_port", str(server.port))
        self.write_terminal_config(server.url, options.read_timeout_s)
        return server

    def _bind(self, acquirer: Acquirer, port: int, late: float) -> AcquirerServer:
        """Any free port, preferring the last one, so terminal.toml (and its audit trail) stays the same."""
        last = self.ledger.meta("last_port")
        if port == 0 and last:
            try:
                return AcquirerServer(acquirer, self.pki, int(last), late)
            except OSError:
                pass
        return AcquirerServer(acquirer, self.pki, port, late)

    def write_terminal_config(self, url: str, read_timeout_s: float) -> None:
        def rel(path: Path) -> str:
            return os.path.relpath(path, self.dir)

        text = f'''# Written by `pos acquirer-sim` at each start: a complete terminal configuration for this simulator.
# Use it as it is:  pos --config {self.terminal_config} signin --operator 01

[terminal]
terminal_id = "{TERMINAL_ID}"
merchant_id = "{MERCHANT_ID}"
merchant_name = "{MERCHANT_NAME}"
currency = "CNY"
country = 156
data_dir = "terminal"
training = true

[acquirer]
url = "{url}"
ca_file = "{rel(self.pki.ca_file)}"
client_cert = "{rel(self.pki.client_cert)}"
client_key = "{rel(self.pki.client_key)}"
connect_timeout_s = 3
read_timeout_s = {read_timeout_s:g}
retries = 1

[secrets]
master_key_file = "{rel(self.master_key_file)}"
token_secret_file = "{rel(self.token_secret_file)}"

[cards]
source = "simulated"
pin_entry = "simulated"

[operators]
# Classic terminals ship with operator 01 / PIN 0000 and supervisor 00 / password 123456: only for simulators.
seed_demo_accounts = true
'''
        tmp = self.terminal_config.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.terminal_config)
