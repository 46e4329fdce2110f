"""One acquirer's ISO 8583 dialect: its terminal ids, TPDU, header and MAC algorithm, turning host-neutral
requests into frames and answer frames into host-neutral answers (or `BadAnswer`). What the port adapter
will call; it holds no socket and no state, so a retry or a recovery can use it again freely."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.host.iso8583 import codec, framing, messages
from app.host.iso8583.codec import BadAnswer, MacKey
from app.host.iso8583.mac import MacAlgorithm
from app.host.iso8583.messages import Answer, Request, Terminal

_Pack = Callable[[Any, Terminal], dict[str, str]]
_Unpack = Callable[[Mapping[str, str], Any, Terminal], Answer]

# request type -> (to fields, from fields, carries a MAC)
_TABLE: dict[type, tuple[_Pack, _Unpack, bool]] = {
    messages.FinancialRequest: (messages.financial_fields, messages.financial_answer, True),
    messages.ReversalRequest: (messages.reversal_fields, messages.reversal_answer, True),
    messages.SignOnRequest: (messages.sign_on_fields, messages.sign_on_answer, False),
    messages.NetworkRequest: (messages.network_fields, messages.network_answer, False),
    messages.SettlementRequest: (messages.settlement_fields, messages.settlement_answer, False),
    messages.BatchUploadRequest: (messages.batch_upload_fields, messages.batch_answer, False),
    messages.BatchUploadEnd: (messages.batch_end_fields, messages.batch_answer, False),
}


def carries_mac(req: Request) -> bool:
    return _TABLE[type(req)][2]


@dataclass(frozen=True)
class Dialect:
    terminal: Terminal
    tpdu: framing.Tpdu
    header: framing.Header = field(default_factory=framing.Header)
    mac_algorithm: MacAlgorithm = MacAlgorithm.UNIONPAY_ECB

    def _key(self, req: Request, mac_key: bytes | None) -> MacKey | None:
        if not carries_mac(req):
            return None
        if mac_key is None:
            raise codec.BadRequest("no MAC working key: sign on first")
        return MacKey(self.mac_algorithm, mac_key)

    def fields(self, req: Request) -> dict[str, str]:
        return _TABLE[type(req)][0](req, self.terminal)

    def pack(self, req: Request, mac_key: bytes | None = None) -> bytes:
        return codec.frame(self.tpdu, self.header, self.fields(req), self._key(req, mac_key))

    def unpack(self, req: Request, raw: bytes, mac_key: bytes | None = None) -> Answer:
        return self.receive(req, raw, mac_key).answer

    def receive(self, req: Request, raw: bytes, mac_key: bytes | None = None) -> Received:
        """The answer with the acquirer's application header, whose processing-request digit may ask the
        terminal for more (e.g. to sign on again) whatever the answer itself says."""
        key = self._key(req, mac_key)
        frame, unpacked = codec.unframe(raw, self.tpdu, key)
        # An answer to a MACed request must carry a good MAC, a decline too: an unMACed decline may be forged,
        # and treating it as unknown (reversed) costs nothing.
        if key is not None and unpacked.mac_ok is not True:
            raise BadAnswer("answer MAC is missing or does not verify")
        # A sign-on answer cannot be checked: its MAC key is in it.
        if key is None and unpacked.mac_ok is False and not isinstance(req, messages.SignOnRequest):
            raise BadAnswer("answer MAC does not verify")
        return Received(frame.header, _TABLE[type(req)][1](unpacked.fields, req, self.terminal))


@dataclass(frozen=True)
class Received:
    header: framing.Header
    answer: Answer
