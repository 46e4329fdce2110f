"""The terminal's HTTPS client for the acquirer: mutual TLS, timeouts, MACs, and answers checked field by field.

Every failure to get a valid answer is a `HostError`. The engine treats any of them during a money-moving
request as "outcome unknown" and reverses; nothing here decides that a payment failed.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from app.domain.responses import APPROVED
from app.errors import UserFacingError
from app.host.keys import (
    KeyBlock,
    KeyExchangeError,
    WorkingKeys,
    parse_key_blocks,
    sign_on_key,
    unwrap_working_keys,
)
from app.host.protocol import (
    RESPONSE_CODE,
    MessageType,
    ProtocolError,
    check_mac,
    now_text,
    parse_json_object,
    text_field,
    with_mac,
)

log = logging.getLogger(__name__)


class HostError(UserFacingError):
    """No valid answer from the acquirer. The message is for the cashier and names no card data."""


class HostUnreachable(HostError):
    pass


class HostBadAnswer(HostError):
    pass


class HostKeysRejected(HostError):
    """The acquirer did not accept our MAC: the working keys are stale and a sign-on is needed."""


@dataclass(frozen=True)
class AcquirerSettings:
    url: str
    ca_file: Path
    client_cert: Path
    client_key: Path
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    retries: int = 1
    # The read timeout is per read: an answer that drips a byte at a time never trips it. This bounds the
    # whole exchange, from sending to the answer's last byte (checked between reads, so it can be overrun by
    # at most one read timeout).
    answer_deadline_s: float = 30.0
    # Our answers are a few KiB; the simulator caps requests at 1 MiB the same way.
    max_answer_bytes: int = 1 << 20


@dataclass(frozen=True)
class Identity:
    terminal_id: str
    merchant_id: str


class HostClient:
    def __init__(
        self,
        settings: AcquirerSettings,
        identity: Identity,
        master_key: bytes,
        on_keys_rejected: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self._master_key = master_key
        self._on_keys_rejected = on_keys_rejected  # the stored copy must go too, or the next start reloads it
        self.keys: WorkingKeys | None = None
        self._http = requests.Session()
        self._http.verify = str(settings.ca_file)
        self._http.cert = (str(settings.client_cert), str(settings.client_key))
        self._http.trust_env = False  # a proxy from the environment must never see payment traffic

    def close(self) -> None:
        self._http.close()

    # -- keys -----------------------------------------------------------------------------------------------

    def sign_on(self) -> dict[str, KeyBlock]:
        """Ask for fresh working keys; verify and install them. Returns the wrapped blocks to keep at rest."""
        nonce = secrets.token_hex(8)
        body = with_mac(
            {"type": MessageType.SIGN_ON.value, **self._envelope(), "nonce": nonce}, sign_on_key(self._master_key)
        )
        answer = self._post(MessageType.SIGN_ON, body, retries=self.settings.retries)
        code = answer.get("response_code")
        if code != APPROVED:
            raise HostBadAnswer(f"the acquirer refused to sign us on ({code!r}: {str(answer.get('message'))[:80]})")
        try:
            blocks = parse_key_blocks(answer.get("keys"))
            keys = unwrap_working_keys(self._master_key, blocks)
            check_mac(answer, keys.mac)
            self._check_common(answer, MessageType.SIGN_ON, body)
            if answer.get("nonce") != nonce:
                raise ProtocolError("sign-on answer does not echo our nonce")
        except (KeyExchangeError, ProtocolError) as exc:
            raise HostBadAnswer(f"sign-on answer refused: {exc}") from None
        self.keys = keys
        return blocks

    def install_keys(self, blocks: dict[str, KeyBlock]) -> None:
        self.keys = unwrap_working_keys(self._master_key, blocks)

    # -- messages -------------------------------------------------------------------------------------------

    def envelope(self, kind: MessageType, idempotency_key: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind.value, **self._envelope(), "idempotency_key": idempotency_key, **fields}

    def _envelope(self) -> dict[str, Any]:
        return {
            "terminal_id": self.identity.terminal_id,
            "merchant_id": self.identity.merchant_id,
            "sent_at": now_text(),
        }

    def exchange(self, kind: MessageType, body: Mapping[str, Any], retries: int | None = None) -> dict[str, Any]:
        """Send a MACed request (retrying with the same idempotency key) and return its verified answer."""
        keys = self.require_keys()
        signed = with_mac(body, keys.mac)
        answer = self._post(kind, signed, retries=self.settings.retries if retries is None else retries)
        try:
            check_mac(answer, keys.mac)
            self._check_common(answer, kind, body)
        except ProtocolError as exc:
            raise HostBadAnswer(f"acquirer answer refused: {exc}") from None
        return answer

    def require_keys(self) -> WorkingKeys:
        if self.keys is None:
            raise HostKeysRejected("no working keys: sign in to the acquirer first")
        return self.keys

    def _check_common(self, answer: Mapping[str, Any], kind: MessageType, sent: Mapping[str, Any]) -> None:
        if answer.get("type") != kind.response_type:
            raise ProtocolError(f"expected {kind.response_type}, got {answer.get('type')!r}")
        for name in ("terminal_id", "idempotency_key", "stan"):
            if name in sent and answer.get(name) != sent[name]:
                raise ProtocolError(f"answer's {name} does not match the request")
        text_field(answer, "response_code", RESPONSE_CODE)

    def _post(self, kind: MessageType, body: Mapping[str, Any], retries: int) -> dict[str, Any]:
        url = self.settings.url.rstrip("/") + kind.path
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        # identity: a compressed answer could unpack to any size before a single byte of it is checked.
        headers = {"Idempotency-Key": str(body.get("idempotency_key", "")), "Accept-Encoding": "identity"}
        last: HostError = HostUnreachable("acquirer not reached")
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(min(0.5 * attempt, 2.0))
            deadline = time.monotonic() + self.settings.answer_deadline_s
            try:
                # Never follow a redirect: requests re-sends a POST's body to wherever a 307 points, even plain
                # HTTP. stream: the body is read by _body, under a size cap and the deadline.
                response = self._http.post(
                    url, json=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
                )
            except requests.exceptions.SSLError:
                last = HostUnreachable("acquirer refused the secure connection (certificates?)")
            except requests.exceptions.ConnectTimeout:
                last = HostUnreachable("acquirer not reachable (connect timeout)")
            except requests.exceptions.ReadTimeout:
                last = HostUnreachable("no answer from the acquirer in time")
            except requests.exceptions.ConnectionError as exc:
                last = HostUnreachable(
                    "acquirer not reachable" if _never_connected(exc) else "connection to the acquirer was cut"
                )
            except requests.exceptions.RequestException:
                last = HostUnreachable("acquirer request failed")
            else:
                try:
                    answer = self._read(response, deadline)
                except BaseException:
                    response.close()  # drop the connection: it may still carry the rest of a hostile answer
                    raise
                response.raw.release_conn()
                return answer
            log.warning("%s attempt %d failed: %s", kind.value, attempt + 1, last)
        raise last

    def _read(self, response: requests.Response, deadline: float) -> dict[str, Any]:
        if response.status_code == 401:
            self.keys = None
            self._on_keys_rejected()
            raise HostKeysRejected("the acquirer does not accept our keys: sign in again to get new ones")
        if response.status_code != 200:  # a 3xx too: its Location is never followed
            raise HostBadAnswer(f"acquirer answered HTTP {response.status_code}")
        try:
            return parse_json_object(self._body(response, deadline))
        except ProtocolError as exc:
            raise HostBadAnswer(f"acquirer answer unreadable: {exc}") from None

    def _body(self, response: requests.Response, deadline: float) -> bytes:
        """The raw answer body, never decoded, at most max_answer_bytes, read before the deadline."""
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise HostBadAnswer("acquirer answer refused: it is compressed")
        cap = self.settings.max_answer_bytes
        if (int_or_none(response.headers.get("Content-Length")) or 0) > cap:
            raise HostBadAnswer("acquirer answer refused: too large")
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(64 * 1024, decode_content=False):
                size += len(chunk)
                if size > cap:
                    raise HostBadAnswer("acquirer answer refused: too large")
                if time.monotonic() > deadline:
                    raise HostUnreachable("the acquirer's answer did not arrive in time")
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            raise HostUnreachable("no answer from the acquirer in time") from None
        except (urllib3.exceptions.HTTPError, OSError):
            raise HostUnreachable("connection to the acquirer was cut") from None
        return b"".join(chunks)


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text


def int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
