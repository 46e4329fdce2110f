"""Our 8583 frames read by an independent decoder: Wireshark's ISO 8583 dissector (apt tshark), capturing
real TCP traffic on the loopback interface (root).

What the dissector can and cannot read of the UnionPay framing, as found with tshark 4.0:
- It knows a 2-byte length, then the MTI. It knows no TPDU and no application header, so on a real frame it
  reads the TPDU as the MTI and decodes nothing: the test checks that, and that the captured bytes are ours.
- The same message with the TPDU and header taken off (the length prefix fixed) it decodes with its
  preferences set to big-endian length, BCD digits and raw binary: MTI, bitmap, F3, F4, F11, F12, F13, F14,
  F23, F25, F37, F38, F39, F41, F42 and F49 read as we wrote them.
- Odd-length BCD: UnionPay pads on the right (F2, F22), the dissector expects the pad on the left, so it
  reads our digits shifted by one nibble; the test checks exactly that shift.
- F60 onwards: the dissector takes F60 as ISO's "reserved national" ans LLLVAR counted in bytes, where
  UnionPay's F60 is BCD digits counted in nibbles; it marks the message MALFORMED there and reads no F60, F61,
  F63 or F64. F55 is read but printed as a C string, so it is left out of the comparison.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest

from app.host.iso8583 import framing
from tests.unit.iso8583_rig import DIALECT, MAC_KEY, PAN, SALE, answer_frame, request_fields

FIELDS = ["tcp.payload", "iso8583.mti", "iso8583.map1", "_ws.expert"] + [
    f"iso8583.bit{n}" for n in (2, 3, 4, 11, 12, 13, 14, 22, 23, 25, 37, 38, 39, 41, 42, 49, 60, 64)
]
PREFERENCES = [
    "iso8583.len_endian:Big endian",
    "iso8583.charset:Digits represented in nibbles",
    "iso8583.binencode:Bin data not encoded",
]


@contextmanager
def _capture(port: int) -> Iterator[subprocess.Popen[str]]:
    """tshark on lo for one port, printing one line of fields per data segment as it arrives."""
    tshark = shutil.which("tshark")
    assert tshark, "tshark is missing: `make setup` installs it (apt tshark)"
    args = [tshark, "-i", "lo", "-f", f"tcp port {port}", "-l", "-Y", "tcp.len > 0"]
    args += ["-d", f"tcp.port=={port},iso8583", "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    for pref in PREFERENCES:
        args += ["-o", pref]
    for field in FIELDS:
        args += ["-e", field]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        # tshark says so on stderr once the capture filter is in place: only then can no packet be missed.
        assert proc.stderr is not None
        said = []
        for line in proc.stderr:
            said.append(line)
            if "Capture started" in line:
                break
        else:
            pytest.fail("tshark did not start capturing: " + " ".join(said)[-300:])
        try:
            yield proc
        finally:
            proc.terminate()


def _strip(frame: bytes) -> bytes:
    """The frame without TPDU and header, its length prefix made true again: what the dissector understands."""
    message = framing.parse(frame).message
    return len(message).to_bytes(2, "big") + message


def _read_frame(sock: socket.socket) -> bytes:
    prefix = _recv_exactly(sock, 2)
    # Stripped frames are shorter than the framing allows; the server reads what the prefix says.
    return prefix + _recv_exactly(sock, int.from_bytes(prefix, "big"))


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "peer closed early"
        data += chunk
    return data


def _exchange(port: int, server: socket.socket, request: bytes, answer: bytes) -> None:
    with closing(socket.create_connection(("127.0.0.1", port))) as client:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn, _ = server.accept()
        with closing(conn):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.sendall(request)
            assert _read_frame(conn) == request
            conn.sendall(answer)
            assert _read_frame(client) == answer


def test_wiresharks_dissector_reads_our_sale_and_its_answer() -> None:
    request = DIALECT.pack(SALE, MAC_KEY)
    answer = answer_frame(request, f55=None)
    with closing(socket.create_server(("127.0.0.1", 0))) as server:
        port = server.getsockname()[1]
        with _capture(port) as tshark:
            _exchange(port, server, request, answer)
            _exchange(port, server, _strip(request), _strip(answer))
            assert tshark.stdout is not None
            rows = [dict(zip(FIELDS, tshark.stdout.readline().rstrip("\n").split("|"), strict=True)) for _ in range(4)]

    real_request, real_answer, bare_request, bare_answer = rows
    # The captured bytes are the frames exactly; with TPDU and header in front, the dissector reads no MTI.
    assert bytes.fromhex(real_request["tcp.payload"]) == request
    assert bytes.fromhex(real_answer["tcp.payload"]) == answer
    for row in (real_request, real_answer):
        assert row["iso8583.mti"] not in ("0200", "0210")
        assert row["iso8583.bit3"] == ""

    sent = request_fields(request)
    assert bare_request["iso8583.mti"] == "0200"
    assert bare_request["iso8583.map1"].upper() == sent["p"]
    for n in ("3", "4", "11", "14", "23", "25", "41", "42", "49"):
        assert bare_request[f"iso8583.bit{n}"] == sent[n], f"F{n}"
    # Odd lengths: our right-hand pad nibble read as the dissector's left-hand one.
    assert bare_request["iso8583.bit2"] == PAN[1:] + "0"
    assert bare_request["iso8583.bit22"] == sent["22"][1:] + "0"
    # F60 is where the layouts part: no F60 or F64 from the dissector, and it says the message is malformed.
    assert bare_request["iso8583.bit60"] == "" and bare_request["iso8583.bit64"] == ""
    assert "Malformed" in bare_request["_ws.expert"]

    returned = request_fields(answer)
    assert bare_answer["iso8583.mti"] == "0210"
    for n in ("3", "4", "11", "12", "13", "25", "37", "38", "39", "41", "42", "49"):
        assert bare_answer[f"iso8583.bit{n}"] == returned[n], f"F{n}"
    assert (bare_answer["iso8583.bit38"], bare_answer["iso8583.bit39"]) == ("A1B2C3", "00")
