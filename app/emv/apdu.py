"""Command and response APDUs (ISO 7816-4), the EMV commands a terminal sends, and T=0 response handling.

`CardChannel.send` is the only way the kernel talks to a card: it builds the bytes, hands them to the reader's
transport, turns `61xx` into GET RESPONSE and `6Cxx` into a resend with the right Le, and logs the exchange
(masked) for support.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.emv.errors import CardReadError
from app.emv.trace import ApduTrace
from app.emv.transport import CardTransport

STATUS_WORDS: dict[int, str] = {
    0x9000: "ok",
    0x6283: "selected file invalidated (application blocked)",
    0x6300: "authentication failed",
    0x6700: "wrong length",
    0x6981: "command incompatible with file structure",
    0x6983: "PIN blocked",
    0x6984: "referenced data invalidated",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (try another interface)",
    0x6988: "secure messaging data incorrect",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A88: "referenced data not found",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
}


def describe_sw(sw: int) -> str:
    if sw & 0xFFF0 == 0x63C0:
        return f"wrong PIN, {sw & 0x0F} tries left"
    return STATUS_WORDS.get(sw, f"status {sw:04X}")


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # expected length; 256 is sent as 00

    def encode(self) -> bytes:
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le & 0xFF])
        return out

    def with_le(self, le: int) -> Command:
        return Command(self.cla, self.ins, self.p1, self.p2, self.data, le)


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    @property
    def sw1(self) -> int:
        return self.sw >> 8


# -- the EMV commands (Book 3, section 6) ----------------------------------------------------------------------


def select(name: bytes, next_occurrence: bool = False) -> Command:
    return Command(0x00, 0xA4, 0x04, 0x02 if next_occurrence else 0x00, name, 0x00)


def read_record(sfi: int, record: int) -> Command:
    return Command(0x00, 0xB2, record, (sfi << 3) | 0x04, b"", 0x00)


def get_processing_options(pdol_data: bytes) -> Command:
    return Command(0x80, 0xA8, 0x00, 0x00, bytes([0x83, len(pdol_data)]) + pdol_data, 0x00)


def get_data(tag: int) -> Command:
    return Command(0x80, 0xCA, tag >> 8, tag & 0xFF, b"", 0x00)


def verify_plaintext_pin(pin_block: bytes) -> Command:
    return Command(0x00, 0x20, 0x00, 0x80, pin_block)


def internal_authenticate(ddol_data: bytes) -> Command:
    return Command(0x00, 0x88, 0x00, 0x00, ddol_data, 0x00)


def generate_ac(reference_control: int, cdol_data: bytes) -> Command:
    return Command(0x80, 0xAE, reference_control, 0x00, cdol_data, 0x00)


def external_authenticate(issuer_authentication_data: bytes) -> Command:
    return Command(0x00, 0x82, 0x00, 0x00, issuer_authentication_data)


def get_response(le: int) -> Command:
    return Command(0x00, 0xC0, 0x00, 0x00, b"", le)


def parse_command(raw: bytes) -> Command:
    """An issuer script command as the acquirer sent it (tag 86), taken apart to be sent as it is."""
    if len(raw) < 4:
        raise CardReadError("an issuer script command is too short")
    body = raw[4:]
    if not body:
        return Command(raw[0], raw[1], raw[2], raw[3])
    lc = body[0]
    data = body[1 : 1 + lc]
    if len(data) != lc or len(body) > lc + 2:
        raise CardReadError("an issuer script command has the wrong length")
    le = body[1 + lc] if len(body) == lc + 2 else None
    return Command(raw[0], raw[1], raw[2], raw[3], data, le)


# -- the channel ------------------------------------------------------------------------------------------------

MAX_T0_ROUNDS = 8  # a card that keeps answering 61xx is broken, not slow


class CardChannel:
    def __init__(self, transport: CardTransport, trace: ApduTrace | None = None) -> None:
        self.transport = transport
        self.trace = trace or ApduTrace()
        self.commands_sent = 0

    def send(self, command: Command) -> Response:
        response = self._exchange(command)
        if response.sw1 == 0x6C:  # wrong Le: the card tells the right one
            response = self._exchange(command.with_le(response.sw & 0xFF))
        data = b""
        for _ in range(MAX_T0_ROUNDS):
            if response.sw1 != 0x61:  # more data waiting: fetch it with GET RESPONSE
                return Response(data + response.data, response.sw)
            data += response.data
            response = self._exchange(get_response(response.sw & 0xFF))
        raise CardReadError("the card never finished its answer")

    def _exchange(self, command: Command) -> Response:
        raw = command.encode()
        answer = self.transport.transmit(raw)
        self.commands_sent += 1
        self.trace.record(raw, answer)
        if len(answer) < 2:
            raise CardReadError("the card's answer has no status word")
        return Response(bytes(answer[:-2]), (answer[-2] << 8) | answer[-1])
