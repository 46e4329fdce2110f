"""Application selection (EMV Book 1, 12): PSE directory first, then the terminal's AID list; priorities; the
cardholder's choice when several applications match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.emv import apdu
from app.emv.apdu import CardChannel
from app.emv.config import AidConfig, KernelConfig
from app.emv.errors import CardReadError, NoApplication
from app.emv.tlv import TlvError, primitives, walk

PSE = b"1PAY.SYS.DDF01"
PPSE = b"2PAY.SYS.DDF01"


@dataclass(frozen=True)
class Candidate:
    aid: bytes
    label: str
    priority: int  # 1 is first; 15 for "no priority given"
    needs_confirmation: bool
    config: AidConfig

    @property
    def aid_hex(self) -> str:
        return self.aid.hex().upper()


@dataclass(frozen=True)
class Selected:
    candidate: Candidate
    fci: dict[str, bytes]  # primitives of the application's FCI: 9F38 PDOL, 50 label, 5F2D, 9F12 ...

    @property
    def pdol(self) -> bytes:
        return self.fci.get("9F38", b"")


Chooser = Callable[[list[Candidate]], int]


def highest_priority(candidates: list[Candidate]) -> int:
    return 0


def _text(value: bytes) -> str:
    return value.decode("ascii", "replace").strip()


def _candidate(entry: dict[str, bytes], config: KernelConfig) -> Candidate | None:
    aid = entry.get("4F") or entry.get("84")
    if not aid:
        return None
    matched = config.aid(aid.hex().upper())
    if matched is None:
        return None
    priority_byte = entry.get("87", b"\x00")[:1] or b"\x00"
    label = _text(entry.get("9F12") or entry.get("50") or aid.hex().upper().encode())
    return Candidate(aid, label, priority_byte[0] & 0x0F or 15, bool(priority_byte[0] & 0x80), matched)


def _primitives(data: bytes) -> dict[str, bytes]:
    try:
        return primitives(data)
    except TlvError as exc:
        raise CardReadError(str(exc)) from None


def _entries(data: bytes) -> list[dict[str, bytes]]:
    """The `61` application templates inside a directory record or a PPSE FCI, in order (not looking inside one)."""
    try:
        return [
            {c.tag: c.value for c in item.children()}
            for item in walk(data, opens=lambda i: i.tag != "61")
            if item.tag == "61"
        ]
    except TlvError as exc:
        raise CardReadError(str(exc)) from None


def from_pse(channel: CardChannel, config: KernelConfig) -> list[Candidate] | None:
    """None when the card has no usable PSE (then the AID list is tried)."""
    response = channel.send(apdu.select(PSE))
    if response.sw == 0x6A81:
        raise CardReadError("the card is blocked or does not support selection")
    if not response.ok:
        return None
    sfi_value = _primitives(response.data).get("88")
    if not sfi_value or not 1 <= sfi_value[0] <= 10:
        return None
    candidates: list[Candidate] = []
    for record in range(1, 32):
        answer = channel.send(apdu.read_record(sfi_value[0], record))
        if answer.sw == 0x6A83:
            break
        if not answer.ok:
            return None
        candidates += [c for c in (_candidate(e, config) for e in _entries(answer.data)) if c]
    return candidates


def from_aid_list(channel: CardChannel, config: KernelConfig) -> list[Candidate]:
    candidates: list[Candidate] = []
    for entry in config.aids:
        name = bytes.fromhex(entry.aid)
        response = channel.send(apdu.select(name))
        for _ in range(8):  # an AID may have several applications behind it (partial selection)
            if response.sw not in (0x9000, 0x6283):
                break
            fci = _primitives(response.data)
            df_name = fci.get("84", b"")
            if response.ok and df_name.startswith(name) and (df_name == name or entry.partial_selection):
                found = _candidate({**fci, "4F": df_name}, config)
                if found and found.aid not in [c.aid for c in candidates]:
                    candidates.append(found)
            if not entry.partial_selection or df_name == name:
                break
            response = channel.send(apdu.select(name, next_occurrence=True))
    return candidates


def candidate_list(channel: CardChannel, config: KernelConfig) -> list[Candidate]:
    candidates = from_pse(channel, config)
    if not candidates:
        candidates = from_aid_list(channel, config)
    if not candidates:
        raise NoApplication()
    return sorted(candidates, key=lambda c: c.priority)


def final_select(channel: CardChannel, candidates: list[Candidate], choose: Chooser) -> Selected:
    """Selects the cardholder's (or the highest-priority) application; one that fails to select is dropped."""
    remaining = list(candidates)
    while remaining:
        needs_choice = len(remaining) > 1 or remaining[0].needs_confirmation
        index = choose(remaining) if needs_choice else 0
        if not 0 <= index < len(remaining):
            raise NoApplication()
        chosen = remaining.pop(index)
        response = channel.send(apdu.select(chosen.aid))
        if response.ok:
            fci = _primitives(response.data)
            if fci.get("84", chosen.aid) == chosen.aid:
                return Selected(chosen, fci)
    raise NoApplication()


def directory_of_ppse(channel: CardChannel, config: KernelConfig) -> list[Candidate]:
    """Contactless: the PPSE lists the applications in its FCI."""
    response = channel.send(apdu.select(PPSE))
    if not response.ok:
        raise NoApplication()
    candidates = [c for c in (_candidate(e, config) for e in _entries(response.data)) if c]
    if not candidates:
        raise NoApplication()
    return sorted(candidates, key=lambda c: c.priority)
