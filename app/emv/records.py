"""Read application data (EMV Book 3, 10.2): the records the AFL names, and the static data ODA signs."""

from __future__ import annotations

from dataclasses import dataclass

from app.emv import apdu
from app.emv.apdu import CardChannel
from app.emv.errors import CardReadError
from app.emv.tlv import TlvError, parse, primitives


@dataclass(frozen=True)
class AflEntry:
    sfi: int
    first: int
    last: int
    oda_records: int


def parse_afl(afl: bytes) -> list[AflEntry]:
    if not afl or len(afl) % 4:
        raise CardReadError("the application file locator has the wrong length")
    entries = []
    for i in range(0, len(afl), 4):
        sfi, first, last, oda = afl[i] >> 3, afl[i + 1], afl[i + 2], afl[i + 3]
        if not 1 <= sfi <= 30 or first == 0 or last < first or oda > last - first + 1:
            raise CardReadError("the application file locator is inconsistent")
        entries.append(AflEntry(sfi, first, last, oda))
    return entries


@dataclass
class ApplicationData:
    tags: dict[str, bytes]
    static_data: bytearray  # what SDA/DDA/CDA certificates sign (records flagged for ODA)
    oda_records_ok: bool = True  # False if a record flagged for ODA was not a '70' template


def read_application_data(channel: CardChannel, afl: bytes, known: dict[str, bytes]) -> ApplicationData:
    """Reads every record the AFL lists. Tags already known (from GPO) and duplicates across records are
    refused: a card that says two things about its own data is not to be trusted."""
    data = ApplicationData(dict(known), bytearray())
    for entry in parse_afl(afl):
        for number in range(entry.first, entry.last + 1):
            response = channel.send(apdu.read_record(entry.sfi, number))
            if not response.ok:
                raise CardReadError(f"record {number} of file {entry.sfi}: {apdu.describe_sw(response.sw)}")
            for_oda = number < entry.first + entry.oda_records
            _absorb(data, response.data, entry.sfi, for_oda)
    return data


def _absorb(data: ApplicationData, record: bytes, sfi: int, for_oda: bool) -> None:
    try:
        items = parse(record)
        if len(items) != 1 or items[0].tag != "70":
            raise CardReadError("a record is not a '70' template")
        values = primitives(items[0].value)
    except TlvError as exc:
        raise CardReadError(f"a record is malformed: {exc}") from None
    for tag, value in values.items():
        if tag in data.tags:
            raise CardReadError(f"the card gives tag {tag} twice")
        data.tags[tag] = value
    if for_oda:
        # Book 3, 10.3: SFI 1-10 sign the record's value; SFI 11-30 sign the whole record, tag and length too.
        data.static_data += items[0].value if sfi <= 10 else record
