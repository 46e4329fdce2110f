"""Answers no honest acquirer sends, from a real mutual-TLS server in front of the real simulator: a redirect to
plain HTTP, a gzip bomb, an endless body, a drip. Each ends as an unknown outcome, reversed, and the terminal
neither leaks the request nor lets the answer take its memory or its time."""

from __future__ import annotations

import socket
import ssl
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.bootstrap import build_terminal
from app.domain.transaction import TxnState
from app.services.results import Status, TxnResult
from tests.conftest import Rig
from tests.integration.hostile import Answer, HostileAcquirer, Upstream, body_chunks, redirect_to

MiB = 1 << 20


@pytest.fixture
def signed_in(rig: Rig) -> Rig:
    t = rig.terminal()
    t.sign_in("01", "0000")
    t.close()
    return rig


def _sale_through(
    rig: Rig, answer: Answer, amount: str = "30.00", **acquirer: float
) -> tuple[TxnResult, HostileAcquirer]:
    hostile = HostileAcquirer(rig.home.pki, rig.settings, rig.server.port, answer)
    settings = hostile.settings_for(rig.settings)
    settings = replace(settings, acquirer=replace(settings.acquirer, **acquirer))  # type: ignore[arg-type]
    try:
        t = build_terminal(settings)
        try:
            result = t.sale(rig.money(amount), rig.card("visa-credit"))
        finally:
            t.close()
        assert hostile.done.wait(60), "the hostile answer never finished"
    finally:
        hostile.close()
    return result, hostile


def _assert_reversed(rig: Rig, result: TxnResult) -> None:
    assert result.status is Status.UNKNOWN, result.message
    assert result.record is not None and result.record.state is TxnState.REVERSED
    assert "internal error" not in result.message
    assert rig.acquirer_net == 0, "the acquirer approved it; the reversal must have undone it"


def test_a_redirect_to_plain_http_is_not_followed_and_is_reversed(signed_in: Rig) -> None:
    plain = socket.create_server(("127.0.0.1", 0))  # never accepts: a connection would wait in its backlog
    try:
        url = f"http://127.0.0.1:{plain.getsockname()[1]}/authorise"
        result, hostile = _sale_through(signed_in, redirect_to(url))
        plain.setblocking(False)
        try:
            conn, _ = plain.accept()
        except BlockingIOError:
            leaked = b""
        else:
            with conn:
                conn.settimeout(5)
                leaked = conn.recv(65536) or b"(connected)"
    finally:
        plain.close()
    assert leaked == b"", "the terminal followed the redirect to plain HTTP"
    assert len(hostile.requests) == 3, "the sale (redirected, not followed), the inquiry, the reversal"
    assert "HTTP 307" in (result.record.reason or "")
    _assert_reversed(signed_in, result)


class _Gzip:
    """A small gzip body that unpacks to `unpacked` bytes."""

    def __init__(self, unpacked: int) -> None:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(MiB)
        self.body = b"".join(packer.compress(zeros) for _ in range(unpacked // MiB)) + packer.flush()

    def __call__(self, conn: ssl.SSLSocket, upstream: Upstream) -> None:
        head = (
            f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(self.body)}\r\n\r\n"
        )
        conn.sendall(head.encode() + self.body)


def test_a_gzip_bomb_is_refused_without_unpacking_it(signed_in: Rig) -> None:
    bomb = _Gzip(64 * MiB)
    assert len(bomb.body) < MiB // 4
    tracemalloc.start()
    try:
        result, _ = _sale_through(signed_in, bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB, f"the terminal held {peak // MiB} MiB for the answer"
    assert "compressed" in (result.record.reason or "")
    _assert_reversed(signed_in, result)


class _Endless:
    """A plain body far larger than any answer; records how much of it went out before the terminal hung up."""

    def __init__(self, total: int, pace: float = 0.0, chunk: int = 64 * 1024) -> None:
        self.total = total
        self.pace = pace
        self.chunk = chunk
        self.sent = 0
        self._pacer = threading.Event()  # never set: its wait() paces the drip, which is the fault itself

    def __call__(self, conn: ssl.SSLSocket, upstream: Upstream) -> None:
        head = f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {self.total}\r\n\r\n"
        conn.sendall(head.encode())
        for piece in self._pieces():
            conn.sendall(piece)
            self.sent += len(piece)
            if self.pace:
                self._pacer.wait(self.pace)

    def _pieces(self) -> Iterator[bytes]:
        return body_chunks(self.total, self.chunk)


def test_an_oversized_answer_is_cut_off_at_the_cap(signed_in: Rig) -> None:
    endless = _Endless(64 * MiB)
    result, _ = _sale_through(signed_in, endless)
    # What went out before the hang-up is the cap plus what the kernel's socket buffers held, not the body.
    assert endless.sent < 16 * MiB, f"the terminal read {endless.sent // MiB} MiB of a 64 MiB answer"
    assert "too large" in (result.record.reason or "")
    _assert_reversed(signed_in, result)


def test_a_drip_answer_is_bounded_by_the_total_deadline(signed_in: Rig) -> None:
    # One byte every 20 ms, under a per-read timeout of a second: only the total deadline (0.2 s) can stop it.
    drip = _Endless(500, pace=0.02, chunk=1)
    result, _ = _sale_through(signed_in, drip, answer_deadline_s=0.2)
    assert drip.sent < drip.total // 2, f"the terminal waited for {drip.sent} of {drip.total} dripped bytes"
    assert "did not arrive in time" in (result.record.reason or "")
    _assert_reversed(signed_in, result)
