"""The acquirer: a real mutual-TLS handshake with the terminal's certificate, and the certificates' dates.

With TLS 1.3 the server judges the client certificate after the client's side of the handshake is done, so a
finished handshake alone proves nothing about ours. The check then sends `HEAD /`, which no acquirer treats as a
message (it moves nothing and needs no keys): any HTTP answer means our certificate was accepted; a TLS alert
instead says why it was not.
"""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

from app.host.client import AcquirerSettings
from app.services.health.check import Check, failed, passed

PART = "acquirer"
WARN_BEFORE = timedelta(days=30)
VERDICT_WAIT_S = 0.5  # for the server's verdict on our certificate; an alert over a LAN or loopback takes ms
_ALERT_PREFIXES = ("SSLV3_ALERT_", "TLSV13_ALERT_", "TLSV1_ALERT_")


def acquirer_check(settings: AcquirerSettings) -> Check:
    url = urlsplit(settings.url)
    host = url.hostname or ""
    port = url.port or 443
    at = f"{host}:{port}"
    try:
        context = ssl.create_default_context(cafile=str(settings.ca_file))
        context.load_cert_chain(str(settings.client_cert), str(settings.client_key))
    except (OSError, ssl.SSLError) as exc:
        return failed(
            PART, f"the terminal's certificate, key or CA file cannot be used ({_words(exc)}): check [acquirer]"
        )
    timeout = settings.connect_timeout_s
    handshake_done = False
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            handshake_done = True
            version = tls.version()
            answer = _early_word(tls, timeout)
            if answer is None:
                tls.sendall(f"HEAD / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii"))
                answer = tls.recv(16)
    except ssl.SSLCertVerificationError as exc:
        return failed(
            PART, f"{at} shows a certificate we do not trust ({exc.verify_message}): check [acquirer] ca_file"
        )
    except ssl.SSLError as exc:
        if handshake_done:
            return failed(PART, f"{at} refused the terminal's client certificate ({_words(exc)}): ask the acquirer")
        return failed(PART, f"TLS handshake with {at} failed ({_words(exc)})")
    except ConnectionRefusedError:
        return failed(PART, f"nothing answers at {at} (connection refused): acquirer down, or [acquirer] url wrong")
    except ConnectionResetError:
        if handshake_done:
            return failed(PART, f"{at} hung up after the handshake: it may refuse the terminal's client certificate")
        return failed(PART, f"{at} hung up during the TLS handshake")
    except TimeoutError:
        return failed(PART, f"no answer from {at} within {timeout:g} s: check the network")
    except socket.gaierror:
        return failed(PART, f"cannot find {host} (DNS): check the network and [acquirer] url")
    except OSError as exc:
        return failed(PART, f"{at} not reachable ({exc.strerror or type(exc).__name__}): check the network")
    if not answer:
        return failed(PART, f"{at} hung up after the handshake: it may refuse the terminal's client certificate")
    if not answer.startswith(b"HTTP/"):
        return failed(PART, f"{at} accepted TLS but does not answer HTTP: check [acquirer] url")
    return passed(PART, f"{at} reachable, mutual TLS accepted ({version})")


def _early_word(tls: ssl.SSLSocket, timeout: float) -> bytes | None:
    """Listens briefly before sending anything. A server that refuses our certificate sends an alert saying why
    and closes; had our request been sitting unread in its buffer, that close would reset the connection and the
    reason would be lost. A server that accepted says nothing (None): the wait ends by timing out.
    Raises SSLError for the alert; b"" when the server hung up without one."""
    if tls.version() != "TLSv1.3":
        return None  # before 1.3 the server judged our certificate inside the handshake
    tls.settimeout(min(VERDICT_WAIT_S, timeout))
    try:
        return tls.recv(16)
    except TimeoutError:
        return None
    finally:
        tls.settimeout(timeout)


def certificate_check(name: str, path: Path, now: datetime) -> Check:
    """Every certificate in the file (a CA file may hold several); the one that runs out first decides."""
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        return failed(name, f"cannot read {path} ({exc.strerror or type(exc).__name__})")
    except ValueError:
        return failed(name, f"{path} holds no PEM certificate")
    first = min(certificates, key=lambda c: c.not_valid_after_utc)
    ends = first.not_valid_after_utc
    starts = max(c.not_valid_before_utc for c in certificates)
    moment = now.astimezone(UTC)
    if ends <= moment:
        return failed(name, f"expired on {ends:%Y-%m-%d}: ask the acquirer for a new one")
    if starts > moment:
        return failed(name, f"not valid before {starts:%Y-%m-%d %H:%M} UTC: check the clock")
    days = (ends - moment).days
    if ends - moment < WARN_BEFORE:
        return passed(
            name, f"expires in {days} days ({ends:%Y-%m-%d}): ask the acquirer for a new one now", warning=True
        )
    return passed(name, f"valid until {ends:%Y-%m-%d} ({days} days)")


def _words(exc: BaseException) -> str:
    """An OpenSSL reason in words: SSLV3_ALERT_CERTIFICATE_EXPIRED -> certificate expired."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        for prefix in _ALERT_PREFIXES:
            reason = reason.removeprefix(prefix)
        return reason.lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
