"""The emulated EMV cards at APDU level: the terminal's side is written out here, from EMV Books 1-3 and ISO 7816-4,
independently of the card's code (own TLV walker, own certificate recovery with the test CAPKs)."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.cards import luhn_ok
from app.emv import tlv as emv_tlv
from app.emv.cryptograms import CardCryptograms, default_iad
from app.sim.card_profiles import CARD_PROFILES
from app.sim.emulator.base import EmulatedCard
from app.sim.emulator.card import EmvCard, parse_dol, pin_from_block, static_data_to_authenticate, tlv
from app.sim.emulator.profiles import EMULATED_CARDS, make_card
from app.sim.issuers import load_issuer_keys

ROOT = Path(__file__).resolve().parents[2]
ISSUER_KEYS = {k.pan_prefix: k for k in load_issuer_keys(ROOT / "app/sim/emulator/issuer-keys.toml")}
CAPKS = {(k["rid"], k["index"]): k for k in tomllib.loads((ROOT / "app/emv/capk_test.toml").read_text())["key"]}

PSE = b"1PAY.SYS.DDF01".hex()
PPSE = b"2PAY.SYS.DDF01".hex()
VISA, MASTERCARD = "A0000000031010", "A0000000041010"
UP_DEBIT, UP_CREDIT = "A000000333010101", "A000000333010102"

# The terminal's transaction data, in CDOL1 order: amount 123.45 CNY, China, 2026-01-15, purchase.
TERMINAL = {
    "9F02": "000000012345",
    "9F03": "000000000000",
    "9F1A": "0156",
    "95": "0000000000",
    "5F2A": "0156",
    "9A": "260115",
    "9C": "00",
    "9F37": "CAFEBABE",
    "9F35": "22",
    "9F34": "1E0300",
}
AC_TAGS = ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37")
ASK_AAC, ASK_TC, ASK_ARQC, CDA = 0x00, 0x40, 0x80, 0x10
TTQ = "36000000"  # qVSDC, EMV contact chip, online PIN, signature


# -- a small terminal -----------------------------------------------------------------------------------------------


def send(card: EmulatedCard, command: str | bytes) -> tuple[bytes, int]:
    raw = bytes.fromhex(command.replace(" ", "")) if isinstance(command, str) else command
    answer = card.process(raw)
    assert len(answer) >= 2
    return answer[:-2], int.from_bytes(answer[-2:], "big")


def apdu(header: str, data: bytes = b"", le: bool = True) -> bytes:
    return bytes.fromhex(header) + (bytes([len(data)]) + data if data else b"") + (b"\x00" if le else b"")


def ok(card: EmulatedCard, command: str | bytes) -> bytes:
    data, sw = send(card, command)
    assert sw == 0x9000, f"{sw:04X}"
    return data


def objects(data: bytes) -> Iterator[tuple[str, bytes, bytes]]:
    """(tag, value, whole encoding) of each object, descending into constructed ones. Raises on overruns."""
    i = 0
    while i < len(data):
        start = i
        i += 1
        if data[start] & 0x1F == 0x1F:
            while data[i] & 0x80:
                i += 1
            i += 1
        tag = data[start:i].hex().upper()
        length = data[i]
        i += 1
        if length & 0x80:
            size = length & 0x7F
            length = int.from_bytes(data[i : i + size], "big")
            i += size
        if i + length > len(data):
            raise ValueError(f"{tag} runs past the end")
        value = data[i : i + length]
        yield tag, value, data[start : i + length]
        if data[start] & 0x20:
            yield from objects(value)
        i += length


def tags(data: bytes) -> dict[str, bytes]:
    return {tag: value for tag, value, _ in objects(data)}


def select(card: EmulatedCard, aid: str, p2: str = "00") -> bytes:
    return ok(card, apdu(f"00A404{p2}", bytes.fromhex(aid)))


def start(card: EmulatedCard, aid: str, pdol_data: str = "") -> bytes:
    """SELECT + GPO; returns the AFL."""
    select(card, aid)
    data = bytes.fromhex(pdol_data)
    answer = tags(ok(card, apdu("80A80000", b"\x83" + bytes([len(data)]) + data)))
    return answer["94"]


def read_records(card: EmulatedCard, afl: bytes) -> dict[tuple[int, int], bytes]:
    records = {}
    for i in range(0, len(afl), 4):
        sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
        for number in range(first, last + 1):
            records[(sfi, number)] = ok(card, f"00B2{number:02X}{(sfi << 3) | 4:02X}00")
    return records


def record_tags(records: dict[tuple[int, int], bytes]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for record in records.values():
        found.update(tags(record))
    return found


def cdol1(changes: dict[str, str] | None = None) -> bytes:
    return bytes.fromhex("".join({**TERMINAL, **(changes or {})}.values()))


def cdol2(arc: bytes = b"00", tag_91: bytes | None = None, changes: dict[str, str] | None = None) -> bytes:
    values = {k: v for k, v in {**TERMINAL, **(changes or {})}.items() if k not in ("9F35", "9F34")}
    return arc + bytes.fromhex("".join(values.values())) + (tag_91 if tag_91 is not None else b"")


def generate_ac(card: EmulatedCard, p1: int, data: bytes) -> tuple[bytes, int]:
    return send(card, apdu(f"80AE{p1:02X}00", data))


def issuer(name: str, pan: str | None = None) -> CardCryptograms:
    """The issuer's keys, from issuer-keys.toml (not from the card's profile)."""
    spec = EMULATED_CARDS[name]
    key = ISSUER_KEYS[pan or spec.apps[0].pan]
    return CardCryptograms.for_card(key.cvn, key.imk_ac, key.pan_prefix, spec.psn)


def expected_ac(name: str, aip: bytes, atc: bytes, values: dict[str, str]) -> bytes:
    spec = EMULATED_CARDS[name]
    data = {t: bytes.fromhex(values[t]) for t in AC_TAGS}
    data.update({"82": aip, "9F36": atc, "9F10": default_iad(spec.cvn)})
    return issuer(name).generate_ac(data)


# -- profiles and the issuer keys file ------------------------------------------------------------------------------


def test_profile_names_are_the_contract():
    assert set(EMULATED_CARDS) == {
        "visa-cda",
        "mastercard-dda",
        "maestro",
        "unionpay-nopse",
        "unionpay-two-apps",
        "visa-expired",
        "visa-offline-pin",
        "visa-aac",
        "visa-arqc-for-aac",
        "visa-tc-for-aac",
        "visa-arqc-at-second",
        "malformed",
        "t0",
        "visa-contactless",
        "mastercard-contactless",
        "unionpay-quickpass",
    }
    with pytest.raises(KeyError, match="no emulated card"):
        make_card("nope")


def test_pans_pass_luhn_sit_in_their_bins_and_are_new():
    old = {p.pan for p in CARD_PROFILES.values()}
    pans = [app.pan for spec in EMULATED_CARDS.values() for app in spec.apps]
    assert len(set(pans)) == len(pans)
    for pan in pans:
        assert luhn_ok(pan)
        assert pan not in old
        assert pan[:6] in ("476173", "541333", "625094", "630493")  # 630493: a public Maestro test number


def test_issuer_keys_file_knows_every_card():
    for spec in EMULATED_CARDS.values():
        for app in spec.apps:
            key = ISSUER_KEYS[app.pan]
            assert (key.cvn, key.imk_ac.hex().upper(), key.pin) == (spec.cvn, spec.imk_ac, spec.online_pin)
            assert key.balance_minor == (100_000 if spec.name == "unionpay-nopse" else 1_000_000)
    assert len(ISSUER_KEYS) == sum(len(s.apps) for s in EMULATED_CARDS.values())


def test_atrs():
    t1 = make_card("visa-cda").atr
    assert t1[:8] == bytes.fromhex("3BEA00008131FE45")
    checksum = 0
    for byte in t1[1:]:
        checksum ^= byte
    assert checksum == 0  # TCK makes T0..TCK XOR to zero
    t0 = make_card("t0").atr
    assert t0[:4] == bytes.fromhex("3B6A0000") and len(t0) == 4 + 10
    assert make_card("visa-contactless").atr == t1[8:-1]  # the ATS carries the same historical bytes


def test_an_emv_card_is_an_emulated_card():
    card: EmulatedCard = make_card("visa-cda")
    assert isinstance(card, EmvCard)


# -- selection ------------------------------------------------------------------------------------------------------


def test_pse_and_its_directory():
    card = make_card("visa-cda")
    fci = ok(card, apdu("00A40400", bytes.fromhex(PSE)))
    assert fci == bytes.fromhex("6F1C840E" + PSE + "A50A880101" + "5F2D04" + b"enzh".hex())
    record = ok(card, "00B2010C00")
    assert record == bytes.fromhex("701B6119" + "4F07" + VISA + "500B" + b"VISA CREDIT".hex() + "870101")
    assert send(card, "00B2020C00")[1] == 0x6A83
    assert send(card, "00B2011400")[1] == 0x6A82  # the PSE has only SFI 1


def test_application_fci():
    card = make_card("visa-cda")
    fci = select(card, VISA)
    assert fci == bytes.fromhex(
        "6F2C8407" + VISA + "A521" + "500B" + b"VISA CREDIT".hex() + "870101" + "9F38039F1A02" + "5F2D04656E7A68"
        "9F110101"
    )
    assert "9F38" not in tags(select(make_card("mastercard-dda"), MASTERCARD))


def test_a_card_without_pse_answers_6a82_but_selects_its_application():
    card = make_card("unionpay-nopse")
    assert send(card, apdu("00A40400", bytes.fromhex(PSE))) == (b"", 0x6A82)
    assert tags(select(card, UP_DEBIT))["50"] == b"UnionPay Debit"
    assert send(card, apdu("00A40400", bytes.fromhex(VISA)))[1] == 0x6A82


def test_two_applications_listed_and_selected_by_partial_name():
    card = make_card("unionpay-two-apps")
    ok(card, apdu("00A40400", bytes.fromhex(PSE)))
    entries = [tags(ok(card, f"00B20{n}0C00")) for n in (1, 2)]
    assert [(e["4F"].hex().upper(), e["50"], e["87"]) for e in entries] == [
        (UP_DEBIT, b"UnionPay Debit", b"\x02"),
        (UP_CREDIT, b"UnionPay Credit", b"\x01"),
    ]
    assert tags(select(card, "A000000333"))["84"].hex().upper() == UP_DEBIT
    assert tags(select(card, "A000000333", p2="02"))["84"].hex().upper() == UP_CREDIT
    assert send(card, apdu("00A40402", bytes.fromhex("A000000333")))[1] == 0x6A82
    assert tags(select(card, UP_CREDIT))["84"].hex().upper() == UP_CREDIT
    # Each application has its own PAN.
    afl = start(card, UP_CREDIT)
    assert record_tags(read_records(card, afl))["5A"] == bytes.fromhex(EMULATED_CARDS["unionpay-two-apps"].apps[1].pan)


def test_select_errors():
    card = make_card("visa-cda")
    assert send(card, apdu("00A40400", bytes.fromhex(PPSE)))[1] == 0x6A82  # contact only
    assert send(card, apdu("00A40000", bytes.fromhex(VISA)))[1] == 0x6A86
    assert send(card, apdu("00A40400", bytes.fromhex("A0000000")))[1] == 0x6A82  # shorter than a RID


# -- processing options and records ---------------------------------------------------------------------------------


def test_gpo_rules():
    card = make_card("visa-cda")
    assert send(card, "80A80000048302015600")[1] == 0x6985  # nothing selected
    select(card, VISA)
    assert send(card, "80A8000002830000")[1] == 0x6700  # PDOL wants 2 bytes
    assert send(card, "80A80000049F02015600")[1] == 0x6A80  # not a command template
    answer = ok(card, "80A80000048302015600")
    assert answer == bytes.fromhex("771282023D00940C" + "08010101" + "10010101" + "18010300")
    assert send(card, "80A80000048302015600")[1] == 0x6985  # once per transaction
    card.reset()
    assert send(card, "80A80000048302015600")[1] == 0x6985  # reset forgets the selection


def test_records_hold_the_card_data():
    card = make_card("unionpay-nopse")
    afl = start(card, UP_DEBIT)
    data = record_tags(read_records(card, afl))
    assert data["5A"] == bytes.fromhex("6250948100000000016F")  # 19 digits, F-padded
    assert data["57"] == bytes.fromhex("6250948100000000016D30122010000000000F")
    assert (data["5F24"], data["5F25"], data["5F34"]) == (bytes.fromhex("301231"), bytes.fromhex("230101"), b"\x01")
    assert (data["5F30"], data["9F07"], data["9F08"]) == (bytes.fromhex("0201"), bytes.fromhex("FF00"), b"\x00\x30")
    assert data["8E"] == bytes(8) + bytes.fromhex("42031F03")
    assert data["8C"] == bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F37049F35019F3403")
    assert data["8D"] == bytes.fromhex("8A029F02069F03069F1A0295055F2A029A039C019F3704")
    assert (data["9F4A"], data["8F"], data["9F32"]) == (b"\x82", b"\xf1", b"\x03")
    assert "93" in data and "9F46" not in data
    assert send(card, "00B2091400")[1] == 0x6A83
    assert send(card, "00B2012400")[1] == 0x6A82
    assert send(card, "00B2011000")[1] == 0x6A86


def test_expired_card_dates():
    card = make_card("visa-expired")
    data = record_tags(read_records(card, start(card, VISA, "0156")))
    assert (data["5F24"], data["5F25"]) == (bytes.fromhex("240131"), bytes.fromhex("210101"))
    assert data["57"].hex().upper().startswith("4761739002020018D2401201")


def test_mastercard_cdol2_carries_tag_91():
    card = make_card("mastercard-dda")
    data = record_tags(read_records(card, start(card, MASTERCARD)))
    assert data["8D"].endswith(bytes.fromhex("910A"))
    assert data["9F49"] == bytes.fromhex("9F3704")


def test_malformed_record_is_rejected_by_a_tlv_parser():
    card = make_card("malformed")
    afl = start(card, VISA, "0156")
    record = ok(card, "00B2010C00")
    assert record[:4] == bytes.fromhex("70075A08")
    with pytest.raises(emv_tlv.TlvError):
        emv_tlv.decode(record)
    with pytest.raises((ValueError, IndexError)):
        list(objects(record))
    assert afl[:4] == bytes.fromhex("08010100")
    assert tags(ok(card, "00B2011400"))["5A"] == bytes.fromhex("4761739002050015")


def test_get_data():
    card = make_card("visa-offline-pin", atc=0x41)
    select(card, VISA)
    assert ok(card, "80CA9F3600") == bytes.fromhex("9F36020041")
    assert ok(card, "80CA9F1300") == bytes.fromhex("9F13020000")
    assert ok(card, "80CA9F1700") == bytes.fromhex("9F170103")
    assert send(card, "80CA9F4F00")[1] == 0x6A88
    assert send(make_card("visa-cda"), "80CA9F3600")[1] == 0x6985  # no application selected


# -- cardholder verification ----------------------------------------------------------------------------------------


def pin_block(pin: str) -> bytes:
    return bytes.fromhex(f"2{len(pin):X}{pin}".ljust(16, "F"))


def test_offline_pin_try_counter():
    card = make_card("visa-offline-pin")
    start(card, VISA)
    assert send(card, apdu("00200080", pin_block("1111"), le=False))[1] == 0x63C2
    assert send(card, "00200080")[1] == 0x63C2  # no data: how many tries are left
    assert send(card, apdu("00200080", pin_block("4321"), le=False)) == (b"", 0x9000)  # resets the counter
    for left in (2, 1, 0):
        assert send(card, apdu("00200080", pin_block("0000"), le=False))[1] == 0x63C0 | left
    assert send(card, apdu("00200080", pin_block("4321"), le=False))[1] == 0x6983
    assert ok(card, "80CA9F1700") == bytes.fromhex("9F170100")
    card.reset()
    select(card, VISA)
    assert send(card, apdu("00200080", pin_block("4321"), le=False))[1] == 0x6983  # stays blocked


def test_verify_errors():
    card = make_card("visa-offline-pin")
    start(card, VISA)
    assert send(card, apdu("00200080", bytes.fromhex("2443211FFFFFFFFF"), le=False))[1] == 0x6A80
    assert send(card, apdu("00200080", pin_block("4321")[:7], le=False))[1] == 0x6700
    assert send(card, apdu("00200088", pin_block("4321"), le=False))[1] == 0x6A86  # enciphered: not supported
    no_offline_pin = make_card("visa-cda")
    select(no_offline_pin, VISA)
    assert send(no_offline_pin, apdu("00200080", pin_block("1234"), le=False))[1] == 0x6A88


def test_pin_block_format_2():
    assert pin_from_block(bytes.fromhex("26123456FFFFFFFF")) == "123456"
    assert pin_from_block(bytes.fromhex("16123456FFFFFFFF")) is None
    assert pin_from_block(bytes.fromhex("2612345FFFFFFFFF")) is None
    assert pin_from_block(bytes.fromhex("24123456FFFFFFFF")) is None  # padding must be F


# -- application cryptograms ----------------------------------------------------------------------------------------


def test_first_generate_ac_is_an_arqc_the_issuer_verifies():
    card = make_card("mastercard-dda", atc=0x10)
    start(card, MASTERCARD)
    data, sw = generate_ac(card, ASK_TC, cdol1())
    assert sw == 0x9000 and data[0] == 0x77
    answer = tags(data)
    assert answer["9F27"] == b"\x80"  # asked TC, the card goes online
    assert answer["9F36"] == b"\x00\x11"  # the ATC went up first
    assert answer["9F10"] == default_iad(16)
    assert answer["9F26"] == expected_ac("mastercard-dda", bytes.fromhex("3800"), b"\x00\x11", TERMINAL)
    assert ok(card, "80CA9F3600") == bytes.fromhex("9F36020011")


def test_generate_ac_errors():
    card = make_card("visa-cda")
    select(card, VISA)
    assert generate_ac(card, ASK_ARQC, cdol1())[1] == 0x6985  # before GPO
    ok(card, "80A80000048302015600")
    assert generate_ac(card, ASK_ARQC, cdol1()[:-1])[1] == 0x6700
    assert generate_ac(card, 0xC0, cdol1())[1] == 0x6A86
    assert generate_ac(card, ASK_AAC, cdol1())[1] == 0x9000
    assert generate_ac(card, ASK_TC, cdol2())[1] == 0x6985  # the AAC ended the transaction


def test_asked_aac_gives_aac():
    card = make_card("visa-cda")
    start(card, VISA, "0156")
    data, _ = generate_ac(card, ASK_AAC | CDA, cdol1())
    assert tags(data)["9F27"] == b"\x00" and "9F26" in tags(data)  # no signature on an AAC


def online(name: str, aid: str, pdol: str = "") -> tuple[EmvCard, bytes, bytes]:
    """A card after its first GENERATE AC: (card, ARQC, ATC)."""
    card = make_card(name)
    start(card, aid, pdol)
    answer = tags(generate_ac(card, ASK_ARQC, cdol1())[0])
    assert answer["9F27"] == b"\x80"
    return card, answer["9F26"], answer["9F36"]


@pytest.mark.parametrize(
    ("tag_91", "external_sw", "arc", "cid"),
    [
        ("approve", 0x9000, b"00", b"\x40"),
        ("decline", 0x9000, b"00", b"\x00"),
        ("garbage", 0x6300, b"00", b"\x00"),
        (None, None, b"00", b"\x00"),  # online, but no issuer authentication: the card requires it
        (None, None, b"Y3", b"\x00"),  # unable to go online: still no issuer authentication
    ],
)
def test_visa_second_generate_ac(tag_91: str | None, external_sw: int | None, arc: bytes, cid: bytes):
    card, arqc, atc = online("visa-offline-pin", VISA)
    keys = issuer("visa-offline-pin")
    if tag_91 is not None:
        approve = tag_91 == "approve"
        # CVN 10 says "declined" in the ARC, CVN 18 in the CSU: give both.
        value = (
            bytes(10)
            if tag_91 == "garbage"
            else keys.issuer_authentication_data(arqc, atc, "00" if approve else "05", approve)
        )
        assert send(card, apdu("00820000", value, le=False)) == (b"", external_sw)
        assert send(card, apdu("00820000", value, le=False))[1] == 0x6985  # once per transaction
    data, sw = generate_ac(card, ASK_TC, cdol2(arc))
    answer = tags(data)
    assert (sw, answer["9F27"], answer["9F36"]) == (0x9000, cid, atc)
    second = {**TERMINAL, "8A": arc.hex()}
    assert answer["9F26"] == expected_ac("visa-offline-pin", bytes.fromhex("3C00"), atc, second)
    assert generate_ac(card, ASK_TC, cdol2(arc))[1] == 0x6985  # no third


def test_visa_aac_card_declines_after_an_approved_online():
    card, arqc, atc = online("visa-aac", VISA, "0156")
    tag_91 = issuer("visa-aac").issuer_authentication_data(arqc, atc, "00", True)
    assert send(card, apdu("00820000", tag_91, le=False))[1] == 0x9000
    assert tags(generate_ac(card, ASK_TC, cdol2())[0])["9F27"] == b"\x00"


@pytest.mark.parametrize(("genuine", "cid"), [(True, b"\x40"), (False, b"\x00")])
def test_mastercard_checks_tag_91_in_the_second_generate_ac(genuine: bool, cid: bytes):
    card, arqc, atc = online("mastercard-dda", MASTERCARD)
    keys = issuer("mastercard-dda")
    tag_91 = keys.issuer_authentication_data(arqc, atc, "00", True) if genuine else bytes(8) + b"00"
    assert send(card, apdu("00820000", tag_91, le=False))[1] == 0x6D00  # no EXTERNAL AUTHENTICATE here
    assert generate_ac(card, ASK_TC, cdol2(tag_91=tag_91)[:-1])[1] == 0x6700
    answer = tags(generate_ac(card, ASK_TC, cdol2(tag_91=tag_91))[0])
    assert answer["9F27"] == cid
    assert ok(card, "80CA9F1300") == (b"\x9f\x13\x02" + (atc if genuine else b"\x00\x00"))


def test_second_generate_ac_with_changed_amount_uses_cdol2_values():
    card, arqc, atc = online("visa-cda", VISA, "0156")
    keys = issuer("visa-cda")
    send(card, apdu("00820000", keys.issuer_authentication_data(arqc, atc, "00", True), le=False))
    answer = tags(generate_ac(card, ASK_TC, cdol2(changes={"9F02": "000000010000", "9F37": "11223344"}))[0])
    values = {**TERMINAL, "9F02": "000000010000", "9F37": "11223344"}
    assert answer["9F26"] == expected_ac("visa-cda", bytes.fromhex("3D00"), atc, values)


# -- offline data authentication (recovered with the test CAPKs) ----------------------------------------------------


def recover(signature: bytes, modulus: bytes, exponent: bytes) -> bytes:
    n, e = int.from_bytes(modulus, "big"), int.from_bytes(exponent, "big")
    assert len(signature) == len(modulus)
    return pow(int.from_bytes(signature, "big"), e, n).to_bytes(len(modulus), "big")


def sha1(data: bytes) -> bytes:
    return hashlib.sha1(data, usedforsecurity=False).digest()


def static_data(records: dict[tuple[int, int], bytes], afl: bytes, aip: bytes) -> bytes:
    """EMV Book 2 5.4, written out again: ODA records of SFI 1-10 without their 70 tag and length, then the AIP."""
    data = b""
    for i in range(0, len(afl), 4):
        sfi, first, count = afl[i] >> 3, afl[i + 1], afl[i + 3]
        for number in range(first, first + count):
            record = records[(sfi, number)]
            assert sfi <= 10
            data += next(objects(record))[1]
    return data + aip


def issuer_public_key(rid: str, data: dict[str, bytes]) -> tuple[bytes, bytes]:
    capk = CAPKS[(rid, data["8F"].hex().upper())]
    n_ca = bytes.fromhex(capk["modulus"])
    m = recover(data["90"], n_ca, bytes.fromhex(capk["exponent"]))
    assert (m[0], m[1], m[-1]) == (0x6A, 0x02, 0xBC)
    assert (m[11], m[12]) == (0x01, 0x01)
    n_i, remainder, exponent = m[13], data.get("92", b""), data["9F32"]
    assert m[14] == len(exponent)
    assert sha1(m[1:-21] + remainder + exponent) == m[-21:-1]
    modulus = (m[15:-21] + remainder)[:n_i]
    assert len(modulus) == n_i == 144
    assert m[2:6].hex().upper().rstrip("F") == data["5A"].hex().upper()[:6]
    assert m[6:8] == bytes.fromhex("1235")  # MMYY
    return modulus, exponent


def icc_public_key(issuer_key: tuple[bytes, bytes], data: dict[str, bytes], static: bytes) -> tuple[bytes, bytes]:
    m = recover(data["9F46"], *issuer_key)
    assert (m[0], m[1], m[-1]) == (0x6A, 0x04, 0xBC)
    assert m[2:12].hex().upper().rstrip("F") == data["5A"].hex().upper().rstrip("F")
    n_ic, remainder, exponent = m[19], data.get("9F48", b""), data["9F47"]
    assert sha1(m[1:-21] + remainder + exponent + static) == m[-21:-1]
    modulus = (m[21:-21] + remainder)[:n_ic]
    assert len(modulus) == n_ic == 128
    return modulus, exponent


def read_for_oda(name: str, aid: str, pdol: str = "") -> tuple[EmvCard, bytes, dict[str, bytes], bytes]:
    card = make_card(name)
    select(card, aid)
    pdol_data = bytes.fromhex(pdol)
    gpo = tags(ok(card, apdu("80A80000", b"\x83" + bytes([len(pdol_data)]) + pdol_data)))
    records = read_records(card, gpo["94"])
    return card, gpo["82"], record_tags(records), static_data(records, gpo["94"], gpo["82"])


@pytest.mark.parametrize(
    ("name", "aid"), [("visa-cda", VISA), ("mastercard-dda", MASTERCARD), ("unionpay-two-apps", UP_CREDIT)]
)
def test_certificates_recover_with_the_test_capk(name: str, aid: str):
    _, _, data, static = read_for_oda(name, aid, "0156" if name == "visa-cda" else "")
    issuer_key = issuer_public_key(aid[:10], data)
    icc_public_key(issuer_key, data, static)


def test_certificates_are_stable_across_cards():
    first = read_for_oda("mastercard-dda", MASTERCARD)[2]
    second = read_for_oda("mastercard-dda", MASTERCARD)[2]
    assert (first["90"], first["9F46"]) == (second["90"], second["9F46"])


def test_sda_signed_static_application_data():
    _, aip, data, static = read_for_oda("unionpay-nopse", UP_DEBIT)
    assert aip[0] & 0x40  # SDA supported
    m = recover(data["93"], *issuer_public_key("A000000333", data))
    assert (m[0], m[1], m[2], m[-1]) == (0x6A, 0x03, 0x01, 0xBC)
    assert m[3:5] == bytes.fromhex("DAC1")
    assert m[5:-21] == b"\xbb" * (144 - 26)
    assert sha1(m[1:-21] + static) == m[-21:-1]


def test_t0_card_sda_verifies_too():
    _, aip, data, static = read_for_oda_t0()
    m = recover(data["93"], *issuer_public_key("A000000004", data))
    assert sha1(m[1:-21] + static) == m[-21:-1]
    assert aip == bytes.fromhex("5800")


def test_dda_internal_authenticate():
    card, _, data, static = read_for_oda("mastercard-dda", MASTERCARD)
    icc_key = icc_public_key(issuer_public_key("A000000004", data), data, static)
    un = bytes.fromhex("01020304")
    answer = ok(card, apdu("00880000", un))
    assert answer[:3] == bytes.fromhex("808180")  # format 1, 128 bytes
    m = recover(answer[3:], *icc_key)
    assert (m[0], m[1], m[2], m[3], m[4], m[-1]) == (0x6A, 0x05, 0x01, 9, 8, 0xBC)
    assert m[13:-21] == b"\xbb" * (128 - 25 - 9)
    assert sha1(m[1:-21] + un) == m[-21:-1]


def test_internal_authenticate_rules():
    card = make_card("unionpay-nopse")
    select(card, UP_DEBIT)
    assert send(card, apdu("00880000", bytes(4)))[1] == 0x6D00  # an SDA card
    dda = make_card("mastercard-dda")
    select(dda, MASTERCARD)
    assert send(dda, apdu("00880000", bytes(4)))[1] == 0x6985  # before GPO


def check_cda(
    answer: bytes, icc_key: tuple[bytes, bytes], un: bytes, terminal_data: bytes, cid: int, ac: bytes
) -> None:
    """Book 2 6.6.2: recover 9F4B, check its hash, then the transaction data hash code over what was exchanged."""
    found = list(objects(answer))
    assert [t for t, _, _ in found] == ["77", "9F27", "9F36", "9F4B", "9F10"]
    m = recover(dict((t, v) for t, v, _ in found)["9F4B"], *icc_key)
    assert (m[0], m[1], m[2], m[-1]) == (0x6A, 0x05, 0x01, 0xBC)
    l_dd = m[3]
    dynamic = m[4 : 4 + l_dd]
    assert l_dd == 38 and dynamic[0] == 8
    assert dynamic[9] == cid
    assert dynamic[10:18] == ac
    assert sha1(m[1:-21] + un) == m[-21:-1]
    response_objects = b"".join(whole for t, _, whole in found[1:] if t != "9F4B")
    assert dynamic[18:38] == sha1(terminal_data + response_objects)


def test_cda_first_and_second_generate_ac():
    card, aip, data, static = read_for_oda("visa-cda", VISA, "0156")
    assert aip == bytes.fromhex("3D00")
    icc_key = icc_public_key(issuer_public_key("A000000003", data), data, static)
    first, sw = generate_ac(card, ASK_TC | CDA, cdol1())
    assert sw == 0x9000
    answer = tags(first)
    assert "9F26" not in answer and answer["9F27"] == b"\x80"
    atc = answer["9F36"]
    arqc = expected_ac("visa-cda", aip, atc, TERMINAL)
    check_cda(first, icc_key, bytes.fromhex(TERMINAL["9F37"]), bytes.fromhex("0156") + cdol1(), 0x80, arqc)

    tag_91 = issuer("visa-cda").issuer_authentication_data(arqc, atc, "00", True)
    assert send(card, apdu("00820000", tag_91, le=False))[1] == 0x9000
    second, sw = generate_ac(card, ASK_TC | CDA, cdol2(changes={"9F37": "0A0B0C0D"}))
    assert sw == 0x9000 and tags(second)["9F27"] == b"\x40"
    tc = expected_ac("visa-cda", aip, atc, {**TERMINAL, "9F37": "0A0B0C0D"})
    exchanged = bytes.fromhex("0156") + cdol1() + cdol2(changes={"9F37": "0A0B0C0D"})
    check_cda(second, icc_key, bytes.fromhex("0A0B0C0D"), exchanged, 0x40, tc)


def test_static_data_counts_whole_records_above_sfi_10():
    records = {(1, 1): tlv("70", tlv("5A", b"\x12")), (11, 1): tlv("70", tlv("9F08", b"\x00\x02"))}
    afl = bytes.fromhex("08010101" + "58010101")
    assert static_data_to_authenticate(records, afl, b"\x38\x00") == bytes.fromhex("5A0112" + "70059F080200023800")


def test_dol_parsing():
    assert parse_dol(bytes.fromhex("9F66045F2A029C01")) == (("9F66", 4), ("5F2A", 2), ("9C", 1))
    with pytest.raises(ValueError, match="DOL"):
        parse_dol(bytes.fromhex("9F66"))


# -- issuer scripts -------------------------------------------------------------------------------------------------


def script(keys: CardCryptograms, header: str, ac: bytes, atc: bytes, value: bytes = b"") -> bytes:
    full_header = bytes.fromhex(header) + bytes([len(value) + 8])
    return full_header + value + bytes(keys.impl.generate_command_mac(full_header, ac, atc, value))


def test_pin_unblock_script():
    card = make_card("visa-offline-pin")
    start(card, VISA)
    for _ in range(3):
        send(card, apdu("00200080", pin_block("9999"), le=False))
    assert send(card, script(issuer("visa-offline-pin"), "84240000", bytes(8), b"\x00\x01"))[1] == 0x6985
    answer = tags(generate_ac(card, ASK_ARQC, cdol1())[0])
    keys = issuer("visa-offline-pin")
    bad = bytearray(script(keys, "84240000", answer["9F26"], answer["9F36"]))
    bad[-1] ^= 1
    assert send(card, bytes(bad))[1] == 0x6988
    assert send(card, script(keys, "84240000", answer["9F26"], answer["9F36"]))[1] == 0x9000
    assert ok(card, "80CA9F1700") == bytes.fromhex("9F170103")
    assert send(card, apdu("00200080", pin_block("4321"), le=False))[1] == 0x9000


def test_application_block_and_put_data():
    card = make_card("visa-cda")
    start(card, VISA, "0156")
    answer = tags(generate_ac(card, ASK_ARQC, cdol1())[0])
    keys = issuer("visa-cda")
    assert send(card, script(keys, "04DA9F14", answer["9F26"], answer["9F36"], b"\x20"))[1] == 0x9000
    assert ok(card, "80CA9F1400") == bytes.fromhex("9F140120")
    assert send(card, script(keys, "841E0000", answer["9F26"], answer["9F36"]))[1] == 0x9000
    card.reset()
    data, sw = send(card, apdu("00A40400", bytes.fromhex(VISA)))
    assert sw == 0x6283 and tags(data)["84"].hex().upper() == VISA
    assert send(card, "80A80000048302015600")[1] == 0x6985


def test_mastercard_script_macs_chain_on_the_arqc():
    card, arqc, atc = online("mastercard-dda", MASTERCARD)
    keys = issuer("mastercard-dda")
    assert send(card, script(keys, "04DA9F23", arqc, atc, b"\x0f"))[1] == 0x9000
    following = (int.from_bytes(arqc, "big") + 1).to_bytes(8, "big")
    assert send(card, script(keys, "841E0000", following, atc))[1] == 0x9000
    assert ok(card, "80CA9F2300") == bytes.fromhex("9F23010F")


# -- T=0 ------------------------------------------------------------------------------------------------------------


def t0_exchange(card: EmulatedCard, command: bytes) -> bytes:
    """What a T=0 terminal does with a case 4 command: send it, then GET RESPONSE with the length offered."""
    data, sw = send(card, command)
    assert data == b"" and sw >> 8 == 0x61
    length = sw & 0xFF
    assert send(card, f"00C00000{(length + 1) & 0xFF:02X}") == (b"", 0x6C00 | length)  # Le must be exact
    body, sw = send(card, f"00C00000{length:02X}")
    assert sw == 0x9000 and len(body) == length
    return body


def t0_read(card: EmulatedCard, command: str) -> bytes:
    data, sw = send(card, command[:-2] + "00")
    assert data == b"" and sw >> 8 == 0x6C
    body, sw = send(card, command[:-2] + f"{sw & 0xFF:02X}")
    assert sw == 0x9000
    return body


def read_for_oda_t0() -> tuple[EmvCard, bytes, dict[str, bytes], bytes]:
    card = make_card("t0")
    t0_exchange(card, apdu("00A40400", bytes.fromhex(MASTERCARD), le=False))
    gpo = tags(t0_exchange(card, bytes.fromhex("80A800000283" + "00")))
    afl = gpo["94"]
    records = {}
    for i in range(0, len(afl), 4):
        sfi = afl[i] >> 3
        for number in range(afl[i + 1], afl[i + 2] + 1):
            records[(sfi, number)] = t0_read(card, f"00B2{number:02X}{(sfi << 3) | 4:02X}00")
    return card, gpo["82"], record_tags(records), static_data(records, afl, gpo["82"])


def test_t0_get_response_and_wrong_le():
    card = make_card("t0")
    assert send(card, "00C0000010")[1] == 0x6985  # nothing pending
    fci = t0_exchange(card, apdu("00A40400", bytes.fromhex(MASTERCARD)))
    assert tags(fci)["84"].hex().upper() == MASTERCARD
    assert send(card, "00C0000010")[1] == 0x6985  # delivered once
    ok_sw = send(card, bytes.fromhex("80A8000002830000"))[1]
    assert ok_sw >> 8 == 0x61
    send(card, "80CA9F3600")  # any other command drops the pending answer
    assert send(card, f"00C00000{ok_sw & 0xFF:02X}")[1] == 0x6985
    assert t0_read(card, "80CA9F3600")[:3] == bytes.fromhex("9F3602")
    assert send(card, apdu("00200080", pin_block("1234"), le=False)) == (b"", 0x6A88)  # no data, no 61xx


def test_t0_card_goes_online_with_no_cvm():
    card, _, data, _ = read_for_oda_t0()
    assert data["8E"] == bytes(8) + bytes.fromhex("1F00")
    answer = tags(t0_exchange(card, apdu("80AE8000", cdol1(), le=False)))
    assert answer["9F27"] == b"\x80"
    # This profile does not require issuer authentication: no genuine ARPC in CDOL2, and still a TC.
    second = tags(t0_exchange(card, apdu("80AE4000", cdol2(tag_91=bytes(10)), le=False)))
    assert second["9F27"] == b"\x40"


# -- contactless ----------------------------------------------------------------------------------------------------


def qvsdc_pdol(amount: str = "000000012345", ttq: str = TTQ) -> bytes:
    values = {**TERMINAL, "9F02": amount}
    return bytes.fromhex(ttq + "".join(values[t] for t in AC_TAGS))


@pytest.mark.parametrize(("name", "aid"), [("visa-contactless", VISA), ("unionpay-quickpass", UP_DEBIT)])
def test_qvsdc_cryptogram_in_gpo(name: str, aid: str):
    card = make_card(name)
    assert send(card, apdu("00A40400", bytes.fromhex(PSE)))[1] == 0x6A82
    ppse = ok(card, apdu("00A40400", bytes.fromhex(PPSE)))
    assert [t for t, _, _ in objects(ppse)] == ["6F", "84", "A5", "BF0C", "61", "4F", "50", "87"]
    assert tags(ppse)["4F"].hex().upper() == aid
    fci = tags(select(card, aid))
    assert fci["9F38"] == bytes.fromhex("9F66049F02069F03069F1A0295055F2A029A039C019F3704")
    data, sw = send(card, apdu("80A80000", b"\x83\x21" + qvsdc_pdol()))
    assert sw == 0x9000
    found = list(objects(data))
    assert [t for t, _, _ in found] == [
        "77", "82", "94", "57", "5F34", "9F10", "9F26", "9F27", "9F36", "9F6C", "5F20",
    ]  # fmt: skip
    answer = tags(data)
    assert (answer["9F27"], answer["9F6C"], answer["82"]) == (b"\x80", bytes.fromhex("8000"), b"\x00\x00")
    assert answer["9F26"] == expected_ac(name, answer["82"], answer["9F36"], TERMINAL)
    record = record_tags(read_records(card, answer["94"]))
    assert set(record) >= {"5A", "5F24", "5F25"}
    assert answer["57"].hex().upper().startswith(record["5A"].hex().upper().rstrip("F") + "D3012201")
    assert generate_ac(card, ASK_ARQC, cdol1())[1] == 0x6985


def test_qvsdc_limit_and_ttq():
    card = make_card("visa-contactless")
    select(card, VISA)
    assert send(card, apdu("80A80000", b"\x83\x21" + qvsdc_pdol("000000500001")))[1] == 0x6986
    select(card, VISA)
    assert send(card, apdu("80A80000", b"\x83\x21" + qvsdc_pdol("000000500000")))[1] == 0x9000
    select(card, VISA)
    assert send(card, apdu("80A80000", b"\x83\x21" + qvsdc_pdol(ttq="16000000")))[1] == 0x6985


def test_mchip_contactless_one_generate_ac():
    card = make_card("mastercard-contactless")
    assert send(card, apdu("00A40400", bytes.fromhex(PSE)))[1] == 0x6A82
    assert tags(ok(card, apdu("00A40400", bytes.fromhex(PPSE))))["4F"].hex().upper() == MASTERCARD
    afl = start(card, MASTERCARD)
    data = record_tags(read_records(card, afl))
    assert "8C" in data and "8D" not in data and "90" not in data
    answer = tags(generate_ac(card, ASK_TC | CDA, cdol1())[0])
    assert answer["9F27"] == b"\x80"
    assert answer["9F26"] == expected_ac("mastercard-contactless", bytes.fromhex("1880"), answer["9F36"], TERMINAL)
    assert generate_ac(card, ASK_TC, cdol2(tag_91=bytes(10)))[1] == 0x6985


# -- robustness -----------------------------------------------------------------------------------------------------


def test_class_and_instruction_errors():
    card = make_card("visa-cda")
    assert send(card, "A0A4040000")[1] == 0x6E00
    assert send(card, "80A4040000")[1] == 0x6E00  # SELECT is CLA 00
    assert send(card, "0050000000")[1] == 0x6D00
    assert send(card, "00C0000000")[1] == 0x6D00  # GET RESPONSE is for T=0 cards
    assert send(card, "00")[1] == 0x6700
    assert send(card, "00A404000500")[1] == 0x6700  # Lc says 5, one byte follows


COMMANDS = st.builds(
    lambda cla, ins, p1, p2, data, le: bytes([cla, ins, p1, p2]) + (bytes([len(data)]) + data if data else b"") + le,
    st.sampled_from([0x00, 0x80, 0x84, 0x04, 0xFF]),
    st.sampled_from([0xA4, 0xA8, 0xB2, 0xCA, 0x20, 0x88, 0xAE, 0x82, 0x24, 0x1E, 0xDA, 0xC0, 0x00]),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=40),
    st.sampled_from([b"", b"\x00", b"\x05"]),
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(EMULATED_CARDS)),
    warm_up=st.integers(0, 3),
    commands=st.lists(st.one_of(st.binary(max_size=300), COMMANDS), max_size=8),
)
def test_any_bytes_get_a_status_word(name: str, warm_up: int, commands: list[bytes]):
    card = make_card(name)
    spec = EMULATED_CARDS[name]
    steps = [
        apdu("00A40400", bytes.fromhex(spec.apps[0].aid)),
        apdu("80A80000", b"\x83" + bytes([len(bytes.fromhex(spec.pdol))]) + bytes(len(bytes.fromhex(spec.pdol)))),
        apdu("80AE8000", cdol1()),
    ]
    for command in steps[:warm_up] + commands:
        answer = card.process(command)
        assert len(answer) >= 2
        assert answer[-2:] != b"\x6f\x00", command.hex()
