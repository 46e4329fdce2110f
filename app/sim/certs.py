"""Test PKI for the acquirer simulator: a CA, the server's certificate and one client certificate per terminal."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class SimPki:
    ca_file: Path  # the CA both sides trust
    server_pem: Path  # server certificate chain and key
    client_cert: Path
    client_key: Path


def ensure_pki(directory: Path, terminal_id: str) -> SimPki:
    """Create the certificates once; later starts reuse them so terminal configurations stay valid."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = SimPki(
        directory / "ca.pem",
        directory / "server.pem",
        directory / f"client-{terminal_id}.pem",
        directory / f"client-{terminal_id}.key",
    )
    if pki.ca_file.exists() and pki.server_pem.exists() and pki.client_key.exists():
        return pki
    ca = trustme.CA(organization_name="KioskPOS test acquirer CA")
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert(f"{terminal_id}.terminals.kioskpos.test", common_name=terminal_id)
    ca.cert_pem.write_to_path(str(pki.ca_file))
    server.private_key_and_cert_chain_pem.write_to_path(str(pki.server_pem))
    _write_secret(pki.server_pem, pki.server_pem.read_bytes())
    client.cert_chain_pems[0].write_to_path(str(pki.client_cert))
    _write_secret(pki.client_key, client.private_key_pem.bytes())
    return pki


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
