"""The slip renderers: ESC/POS bytes and pictures of the real slips against golden files, and properties.

Golden files live in tests/golden/{escpos,png}. When the slip builders change on purpose, regenerate them with

    KIOSKPOS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_slip_rendering.py

and review the diff: each .bin has a .txt beside it that spells the commands and text out line by line.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import qrcode
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from app.devices.printing.fonts import FontFile, FontMissing, locate
from app.devices.printing.layout import Row, clean_controls, layout, native_width, wrap
from app.devices.printing.profile import PROFILES, PrinterProfile
from app.devices.printing.render_escpos import escpos_bytes, render_escpos
from app.devices.printing.render_png import draw_row, measure_for, render_png, save_png
from app.domain.cards import CardBrand, Cvm, EntryMode, mask_pan
from app.domain.money import CURRENCIES
from app.domain.receipt import Align, Copy, Line, Pair, Qr, Receipt, Rule, SignatureBox, Text
from app.domain.settlement import BatchTotals, Difference, SettlementState
from app.domain.settlement import Line as TotalsLine
from app.domain.transaction import TxnKind, TxnState
from app.journal.records import TxnRecord
from app.journal.settlements import SettlementRecord
from app.services.slips import Merchant, settlement_slip, transaction_slip

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("KIOSKPOS_UPDATE_GOLDEN") == "1"
MAX_DIFFERING_PIXELS = 0.005  # font rasterisers differ by a few pixels between Pillow/FreeType versions

NATIVE_58, NATIVE_80 = PROFILES["58mm-chinese"], PROFILES["80mm-chinese"]
IMAGE_58, IMAGE_80 = PROFILES["58mm"], PROFILES["80mm"]


@pytest.fixture(scope="module", autouse=True)
def shanghai_time() -> Iterator[None]:
    """Slips show local time: pin it (module scope, so the hypothesis tests may share it)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


# --- the slips -------------------------------------------------------------------------------------------------

MERCHANT = Merchant("小王咖啡 Wang's Coffee", "898310048990001", "10000001", CURRENCIES["CNY"], training=False)
EMV = {
    "50": "554E494F4E504159",  # "UNIONPAY"
    "84": "A000000333010101",
    "9F26": "8E1A6F2B93C4D5E6",
    "9F27": "40",
    "9F36": "002A",
    "95": "0000008000",
    "9B": "E800",
}
SALE = TxnRecord(
    trace=123,
    batch=7,
    kind=TxnKind.SALE,
    state=TxnState.APPROVED,
    amount_minor=12345,
    currency="CNY",
    created_at="2025-03-14T06:30:15.000000Z",
    local_date="2025-03-14",
    updated_at="2025-03-14T06:30:17.000000Z",
    operator="01",
    supervisor=None,
    idempotency_key="golden-sale",
    orig_trace=None,
    masked_pan="622202******1234",
    pan_token="t0",
    brand="unionpay",
    funding="debit",
    entry_mode="chip",
    cvm="signature",
    emv=EMV,
    response_code="00",
    auth_code="A1B2C3",
    rrn="507314123456",
    balance_minor=None,
    reason=None,
    reversal_attempts=0,
    reversal_error=None,
)
VOID = replace(
    SALE,
    trace=124,
    kind=TxnKind.VOID,
    orig_trace=123,
    cvm="online_pin",
    auth_code="D4E5F6",
    rrn="507314123457",
    supervisor="99",
    created_at="2025-03-14T06:41:02.000000Z",
)
REFUND = replace(
    SALE,
    trace=125,
    batch=7,
    kind=TxnKind.REFUND,
    amount_minor=5000,
    orig_trace=98,
    masked_pan="476173******0119",
    brand="visa",
    funding="credit",
    entry_mode="contactless",
    cvm="no_cvm",
    emv={"84": "A0000000031010", "9F26": "C3D2E1F001122334", "9F27": "40", "9F36": "0101", "95": "0000000000"},
    auth_code="778899",
    rrn="507314123458",
    created_at="2025-03-14T08:02:45.000000Z",
)
DECLINED = replace(
    SALE,
    trace=126,
    state=TxnState.DECLINED,
    amount_minor=880000,
    cvm="online_pin",
    response_code="51",
    auth_code=None,
    rrn="507314123459",
    reason="51 Insufficient funds 余额不足",
    emv={**EMV, "9F27": "80"},
    created_at="2025-03-14T09:15:00.000000Z",
)
TOTALS = BatchTotals(
    "CNY",
    by_kind={"sale": TotalsLine(3, 35600), "refund": TotalsLine(1, 5000), "void": TotalsLine(1, 12345)},
    by_card={"unionpay/debit": TotalsLine(2, 23255), "visa/credit": TotalsLine(1, 7345)},
    net_minor=30600,
)
SETTLED = SettlementRecord(
    batch=7,
    state=SettlementState.SETTLED,
    started_at="2025-03-14T14:00:00.000000Z",
    finished_at="2025-03-14T14:00:03.000000Z",
    idempotency_key="golden-settle",
    terminal_totals=TOTALS,
    acquirer_totals=TOTALS,
    matched=True,
    differences=[],
    first_trace=121,
    last_trace=126,
)
MISMATCH = replace(
    SETTLED,
    state=SettlementState.MISMATCH,
    finished_at=None,
    acquirer_totals=BatchTotals(
        "CNY",
        by_kind={"sale": TotalsLine(2, 23255), "refund": TotalsLine(2, 6000)},
        by_card={"unionpay/debit": TotalsLine(2, 23255), "visa/credit": TotalsLine(2, -6000)},
        net_minor=17255,
    ),
    matched=False,
    differences=[
        Difference(122, "sale approved 12345", None),
        Difference(127, None, "refund approved 1000"),
    ],
)
# Model features the real slips do not use (yet): right alignment, punctuation without Han, a long QR code.
FEATURES = Receipt(
    "features",
    Copy.REPORT,
    (
        Text("RIGHT 右", Align.RIGHT),
        Text("，（）。、：", Align.CENTER),
        Text("Café · 5×2 … naïve"),
        Pair("TOTAL DUE 应付金额", "CNY 1,234,567.89", bold=True, size=2),
        Pair("A label long enough to need wrapping on the narrowest paper", "value"),
        Text("一二三四五六七八九十" * 4),
        Rule("="),
        SignatureBox("SIGN 签名"),
        Qr("https://example.com/r/" + "0123456789" * 6),
    ),
)
SLIPS: dict[str, Callable[[], Receipt]] = {
    "sale-merchant": lambda: transaction_slip(SALE, MERCHANT, Copy.MERCHANT),
    "sale-customer": lambda: transaction_slip(SALE, MERCHANT, Copy.CUSTOMER),
    "void": lambda: transaction_slip(VOID, MERCHANT, Copy.MERCHANT),
    "refund": lambda: transaction_slip(REFUND, MERCHANT, Copy.CUSTOMER),
    "reprint": lambda: transaction_slip(SALE, MERCHANT, Copy.MERCHANT, duplicate=True),
    "declined": lambda: transaction_slip(DECLINED, MERCHANT, Copy.MERCHANT),
    "settlement-matched": lambda: settlement_slip(SETTLED, MERCHANT),
    "settlement-mismatch": lambda: settlement_slip(MISMATCH, MERCHANT),
    "features": lambda: FEATURES,
}
# Every slip in the default profile (80 mm, Chinese in the printer) and as pictures on 58 mm; the sale slip in all
# four. Pictures: every slip in the default profile, the two longest on 58 mm as well.
ESCPOS_GOLDENS = [(s, p) for s in SLIPS for p in ("80mm-chinese", "58mm")] + [
    ("sale-merchant", "58mm-chinese"),
    ("sale-merchant", "80mm"),
]
PNG_GOLDENS = [(s, "80mm-chinese") for s in SLIPS] + [("sale-merchant", "58mm"), ("settlement-mismatch", "58mm")]


# --- reading ESC/POS back --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One ESC/POS command or run of text. kind: text, lf, raster, qr, or the command's name ("ESC E")."""

    kind: str
    raw: bytes
    arg: int | None = None


FIXED = {
    b"\x1b@": ("ESC @", 2),
    b"\x1c&": ("FS &", 2),
    b"\x1c.": ("FS .", 2),
    b"\x1bt": ("ESC t", 3),
    b"\x1bE": ("ESC E", 3),
    b"\x1ba": ("ESC a", 3),
    b"\x1b!": ("ESC !", 3),
    b"\x1d!": ("GS !", 3),
}
CONTROL = frozenset(b"\x1b\x1c\x1d\n")


def parse(data: bytes) -> list[Command]:
    """Commands and text of what the renderers send; anything else is an error (a control byte that leaked)."""
    out: list[Command] = []
    i = 0
    while i < len(data):
        command, i = _next_command(data, i)
        out.append(command)
    return out


def _next_command(data: bytes, i: int) -> tuple[Command, int]:
    head = data[i : i + 2]
    if head in FIXED:
        name, size = FIXED[head]
        return Command(name, data[i : i + size], data[i + 2] if size == 3 else None), i + size
    if data[i : i + 3] == b"\x1dv0":  # GS v 0 m xL xH yL yH, then the raster
        width_bytes, height = (
            int.from_bytes(data[i + 4 : i + 6], "little"),
            int.from_bytes(data[i + 6 : i + 8], "little"),
        )
        end = i + 8 + width_bytes * height
        return Command("raster", data[i:end]), end
    if data[i : i + 3] == b"\x1d(k":  # GS ( k pL pH cn fn ...
        end = i + 5 + int.from_bytes(data[i + 3 : i + 5], "little")
        return Command("qr", data[i:end], data[i + 6]), end
    if data[i] == 0x0A:
        return Command("lf", b"\n"), i + 1
    if data[i] in CONTROL or data[i] < 0x20 or data[i] == 0x7F:
        raise AssertionError(f"unexpected control byte {data[i]:#04x} at {i}: {data[i : i + 8]!r}")
    end = i
    while end < len(data) and data[end] >= 0x20 and data[end] != 0x7F:  # GB18030 never uses bytes below 0x20
        end += 1
    return Command("text", data[i:end]), end


def printed_text(data: bytes) -> str:
    """The text a printer would print (lines separated by newlines), with QR contents as lines of their own."""
    parts: list[str] = []
    for c in parse(data):
        if c.kind == "text":
            parts.append(c.raw.decode("gb18030", "replace"))
        elif c.kind == "lf":
            parts.append("\n")
        elif c.kind == "qr" and c.arg == 80:  # fn 80: store the data
            parts.append("\n" + c.raw[8:].decode("utf-8", "replace") + "\n")
    return "".join(parts)


def describe(data: bytes, captions: list[str] | None = None) -> str:
    """One line per printed line: the commands before its text in brackets, pictures as size and digest followed
    by the text they were drawn from (`captions`, in order)."""
    lines: list[str] = []
    pending: list[str] = []
    captions = list(reversed(captions or []))
    for c in parse(data):
        if c.kind == "text":
            pending.append(c.raw.decode("gb18030", "replace"))
        elif c.kind == "lf":
            lines.append("".join(pending) + "⏎")
            pending = []
        elif c.kind == "raster":
            width, height = int.from_bytes(c.raw[4:6], "little") * 8, int.from_bytes(c.raw[6:8], "little")
            digest = hashlib.sha256(c.raw).hexdigest()[:12]
            caption = captions.pop() if captions else "?"
            lines.append("".join(pending) + f"[picture {width}x{height} {digest}] {caption}")
            pending = []
        elif c.kind == "qr":
            pending.append(f"[QR fn{c.arg} {c.raw[7:].decode('utf-8', 'replace')!r}]")
        else:
            pending.append(f"[{c.kind}{'' if c.arg is None else ' ' + str(c.arg)}]")
    lines.append("".join(pending))
    return "\n".join(lines) + "\n"


def _raster_bits_differing(a: Command, b: Command) -> int:
    return (int.from_bytes(a.raw[8:], "big") ^ int.from_bytes(b.raw[8:], "big")).bit_count()


def assert_same_escpos(actual: bytes, expected: bytes, where: str) -> None:
    """Equal bytes; or, for pictures only, a few differing dots (another FreeType draws glyphs a little apart)."""
    if actual == expected:
        return
    got, want = parse(actual), parse(expected)
    for n, (a, b) in enumerate(zip(got, want, strict=False)):
        if a.kind == b.kind == "raster" and a.raw[:8] == b.raw[:8]:
            continue
        assert a == b, f"{where}: command {n} differs: {a} != {b}"
    assert len(got) == len(want), f"{where}: {len(got)} commands, golden has {len(want)}"
    pictures = [(a, b) for a, b in zip(got, want, strict=True) if a.kind == "raster"]
    differing = sum(_raster_bits_differing(a, b) for a, b in pictures)
    total = sum((len(a.raw) - 8) * 8 for a, _ in pictures)
    assert differing <= MAX_DIFFERING_PIXELS * total, f"{where}: {differing} of {total} picture dots differ"


# --- golden tests ----------------------------------------------------------------------------------------------


def _golden(path: Path, data: bytes) -> bytes:
    """The golden file's bytes; in update mode, writes `data` there first. A missing golden fails the test."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if not path.exists():
        pytest.fail(f"golden file {path} is missing: create it with KIOSKPOS_UPDATE_GOLDEN=1")
    return path.read_bytes()


@pytest.mark.parametrize(("slip", "profile"), ESCPOS_GOLDENS)
def test_escpos_golden(slip: str, profile: str) -> None:
    receipt, printer = SLIPS[slip](), PROFILES[profile]
    data = escpos_bytes(receipt, printer)
    path = GOLDEN / "escpos" / f"{slip}.{profile}.bin"
    expected = _golden(path, data)
    assert_same_escpos(data, expected, path.name)
    # The readable twin of the golden, for reviewing changes; it must describe the golden, not an older one.
    rows = layout(receipt, printer, measure_for(printer), clean_controls)
    captions = [r.text.strip() for r in rows if isinstance(r, Row) and not r.text.isascii()]
    text = _golden(path.with_suffix(".txt"), describe(data, captions).encode("utf-8"))
    assert text == describe(expected, captions).encode("utf-8"), f"{path.with_suffix('.txt')} is not of {path.name}"


def test_golden_comparison_forgives_a_few_picture_dots_only() -> None:
    data = escpos_bytes(SLIPS["void"](), IMAGE_58)
    picture = next(n for n, c in enumerate(parse(data)) if c.kind == "raster")
    at = sum(len(c.raw) for c in parse(data)[:picture]) + 8 + 100  # a byte inside the first picture
    assert_same_escpos(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :], data, "one dot")
    with pytest.raises(AssertionError, match="command"):
        assert_same_escpos(data.replace(b"AID", b"AIX"), data, "text")


@pytest.mark.parametrize(("slip", "profile"), PNG_GOLDENS)
def test_png_golden(slip: str, profile: str, tmp_path: Path) -> None:
    picture = render_png(SLIPS[slip](), PROFILES[profile])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    path = GOLDEN / "png" / f"{slip}.{profile}.png"
    expected = Image.open(io.BytesIO(_golden(path, buffer.getvalue())))
    assert picture.size == expected.size, f"{path.name}: {picture.size} != golden {expected.size}"
    differing = _differing_pixels(picture, expected)
    if differing > MAX_DIFFERING_PIXELS * picture.width * picture.height:
        picture.save(tmp_path / path.name)
        pytest.fail(f"{path.name}: {differing} pixels differ from the golden; this run's picture: {tmp_path}")


def _differing_pixels(a: Image.Image, b: Image.Image) -> int:
    difference = ImageChops.difference(a.convert("L"), b.convert("L"))
    return sum(count for value, count in enumerate(difference.histogram()) if value)


# --- ESC/POS framing and styles --------------------------------------------------------------------------------


def test_native_slip_is_framed_by_chinese_mode_and_not_cut_or_fed() -> None:
    commands = parse(escpos_bytes(SLIPS["sale-merchant"](), NATIVE_58))
    kinds = [c.kind for c in commands]
    assert kinds[:2] == ["ESC @", "FS &"] and kinds[-2:] == ["lf", "FS ."]
    assert kinds.count("ESC @") == 1 and kinds.count("FS &") == 1 and "raster" not in kinds
    assert b"\xc7\xa9\xb9\xba\xb5\xa5" in b"".join(c.raw for c in commands)  # 签购单 in GB18030


def test_image_slip_sends_ascii_lines_as_text_and_the_rest_as_full_width_pictures() -> None:
    receipt = SLIPS["sale-merchant"]()
    data = escpos_bytes(receipt, IMAGE_80)
    commands = parse(data)
    assert commands[0].kind == "ESC @" and "FS &" not in [c.kind for c in commands]
    rows = [b for b in layout(receipt, IMAGE_80, measure_for(IMAGE_80), clean_controls) if isinstance(b, Row)]
    pictures = [c for c in commands if c.kind == "raster"]
    assert len(pictures) == sum(not r.text.isascii() for r in rows)
    assert {int.from_bytes(p.raw[4:6], "little") * 8 for p in pictures} == {IMAGE_80.dots}
    assert "AID" in printed_text(data) and "签" not in printed_text(data)


def test_any_escpos_printer_gets_the_same_bytes_and_stdout_stays_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    receipt = SLIPS["sale-merchant"]()
    for profile in (NATIVE_58, IMAGE_80):
        printer = Dummy()  # python-escpos' default profile, which does not know the paper width
        render_escpos(receipt, profile, printer)
        assert printer.output == escpos_bytes(receipt, profile)
    assert capsys.readouterr().out == ""  # python-escpos print()s a notice per picture if it lacks the width


def test_full_width_punctuation_without_han_is_gb18030_not_question_marks() -> None:
    receipt = Receipt("p", Copy.REPORT, (Text("，（）"), Pair("é", "·")))
    text = printed_text(escpos_bytes(receipt, NATIVE_58))
    assert text.startswith("，（）\né") and "·" in text and "?" not in text


def test_double_size_uses_gs_excl_for_han_too_and_is_undone() -> None:
    receipt = Receipt("s", Copy.REPORT, (Text("金额 12", Align.CENTER, bold=True, size=2), Text("x")))
    kinds = [(c.kind, c.arg) for c in parse(escpos_bytes(receipt, NATIVE_80))]
    styled = [("GS !", 0x11), ("ESC E", 1), ("ESC a", 1)]
    undone = [("GS !", 0), ("ESC E", 0), ("ESC a", 0)]
    start = kinds.index(styled[0])
    assert kinds[start : start + 3] == styled and kinds[start + 5 : start + 8] == undone
    assert ("ESC !", 0x30) not in kinds


def test_control_characters_never_reach_the_printer() -> None:
    receipt = Receipt("c", Copy.REPORT, (Text("a\x1b@b\x1d!\x11c\x1c&"), Pair("x\x00", "\x7fy"), Text("😀 tab\tz")))
    for profile in (NATIVE_58, IMAGE_58):
        text = printed_text(escpos_bytes(receipt, profile))  # parse() fails on any stray control byte
        assert "a?@b?!?c?&" in text and "x?" in text and "?y" in text
    assert "? tab z" in printed_text(escpos_bytes(receipt, NATIVE_58))  # on IMAGE printers a picture


def test_qr_is_native_and_centred() -> None:
    commands = parse(escpos_bytes(SLIPS["sale-customer"](), NATIVE_80))
    first_qr = next(n for n, c in enumerate(commands) if c.kind == "qr")
    assert (commands[first_qr - 1].kind, commands[first_qr - 1].arg) == ("ESC a", 1)
    assert [c.arg for c in commands if c.kind == "qr"] == [65, 67, 69, 80, 81]  # model, size, EC, data, print


def test_a_slip_computes_its_qr_code_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Choosing the QR code's mask is most of a slip picture's cost: the layout and the drawing share one code."""
    made: list[object] = []
    real_make = qrcode.QRCode.make

    def counted(code: qrcode.QRCode, *args: object, **kwargs: object) -> None:
        made.append(code)
        real_make(code, *args, **kwargs)

    monkeypatch.setattr(qrcode.QRCode, "make", counted)
    picture = render_png(SLIPS["sale-customer"](), NATIVE_80)
    assert len(made) == 1
    assert picture.size[0] == NATIVE_80.dots


# --- layout ----------------------------------------------------------------------------------------------------


def _rows(lines: tuple[Line, ...], profile: PrinterProfile = NATIVE_58) -> list[Row]:
    blocks = layout(Receipt("l", Copy.REPORT, lines), profile, native_width, str)
    return [b for b in blocks if isinstance(b, Row)]


def test_pair_on_one_line_when_it_fits_else_value_right_aligned_below() -> None:
    assert _rows((Pair("AID", "A0000003330101"),)) == [Row("AID" + " " * 15 + "A0000003330101")]
    label, value = _rows((Pair("DATE/TIME 日期时间", "2025-03-14 14:30:15"),))
    assert label == Row("DATE/TIME 日期时间") and value.text == " " * 13 + "2025-03-14 14:30:15"


def test_double_size_pair_that_does_not_fit_has_a_normal_label_and_a_double_value() -> None:
    label, value = _rows((Pair("AMOUNT 金额", "CNY 123.45", bold=True, size=2),))
    assert (label.size, value.size, label.bold, value.bold) == (1, 2, True, True)
    assert value.text == " " * 6 + "CNY 123.45"  # 16 double cells on 58 mm
    assert _rows((Pair("NET", "CNY 1.00", size=2),)) == [Row("NET" + " " * 5 + "CNY 1.00", size=2)]


def test_text_wraps_at_spaces_and_chinese_anywhere() -> None:
    assert wrap("I ACKNOWLEDGE SATISFACTORY RECEIPT", 16) == ["I ACKNOWLEDGE", "SATISFACTORY", "RECEIPT"]
    assert wrap("本人确认以上交易，同意", 8) == ["本人确认", "以上交易", "，同意"]
    assert wrap("       acquirer: -", 32) == ["       acquirer: -"]  # an indent is kept
    assert [r.text for r in _rows((Text("一二三四五六七八九十", size=2),))] == ["一二三四五六七八", "九十"]


def test_chinese_mode_counts_every_double_byte_character_as_two_cells() -> None:
    assert native_width("Café ·") == 8  # é and · are full-width glyphs of the printer's Han font
    assert native_width("😀") == 2  # not printable there ('?' on paper), measured as on a screen


def test_signature_box_has_room_to_sign_and_a_line() -> None:
    rows = _rows((SignatureBox("SIGN 签名"),))
    assert [r.text for r in rows] == ["SIGN 签名", "", "", "", "_" * 32]


def test_qr_too_big_for_the_paper_prints_its_data_as_text() -> None:
    rows = _rows((Qr("9" * 7100),))
    assert rows and all(r.text == "9" * 32 for r in rows[:-1])


# --- pictures --------------------------------------------------------------------------------------------------


def test_picture_is_the_paper_width_with_margins_above_and_below() -> None:
    for profile in PROFILES.values():
        picture = render_png(SLIPS["sale-customer"](), profile)
        assert picture.width == profile.dots and picture.mode == "1"
        inked = Image.eval(picture.convert("L"), lambda v: 255 - v).getbbox()
        assert inked is not None and inked[1] >= 10 and picture.height - inked[3] >= 20


def _ink(picture: Image.Image) -> int:
    return picture.convert("L").histogram()[0]


def test_bold_is_visibly_bold_and_han_takes_two_cells() -> None:
    plain, bold = (draw_row(Row("VOUCHER NO 凭证号", bold=b), IMAGE_58, native_width) for b in (False, True))
    assert _ink(bold) > 1.25 * _ink(plain)
    han = draw_row(Row("中"), IMAGE_58, native_width).convert("L").point(lambda v: 255 - v).getbbox()
    assert han is not None and han[2] - han[0] > 16  # wider than one 12-dot cell


def test_double_size_doubles_both_dimensions() -> None:
    small, big = (draw_row(Row("SALE 消费", size=s), IMAGE_58, native_width) for s in (1, 2))
    assert _ink(big) == pytest.approx(4 * _ink(small), rel=0.02)


def test_save_png_writes_a_png(tmp_path: Path) -> None:
    path = save_png(SLIPS["void"](), NATIVE_80, tmp_path / "void.png")
    with Image.open(path) as saved:
        assert saved.format == "PNG" and saved.size == render_png(SLIPS["void"](), NATIVE_80).size
    assert list(tmp_path.iterdir()) == [path]


def test_missing_font_names_the_debian_package() -> None:
    with pytest.raises(FontMissing) as caught:
        locate(FontFile(Path("/nonexistent/wqy-microhei.ttc"), "fonts-wqy-microhei"))
    assert "apt-get install fonts-wqy-microhei" in str(caught.value) and "\n" not in str(caught.value)


# --- properties ------------------------------------------------------------------------------------------------


def model_text(receipt: Receipt) -> str:
    """Every string the model holds: what the picture draws."""
    parts: list[str] = []
    for line in receipt.lines:
        if isinstance(line, Text):
            parts.append(line.text)
        elif isinstance(line, Pair):
            parts += [line.label, line.value]
        elif isinstance(line, SignatureBox):
            parts.append(line.label)
        elif isinstance(line, Qr):
            parts.append(line.data)
        else:
            parts.append(line.char)
    return "\n".join(parts)


def _runs(pan: str) -> set[str]:
    """Every run of the PAN longer than its first 6 or last 4 digits: 7 digits from anywhere in it."""
    return {pan[i : i + 7] for i in range(len(pan) - 6)}


def _seen(receipt: Receipt) -> str:
    return "\n".join([model_text(receipt), *(printed_text(escpos_bytes(receipt, p)) for p in (NATIVE_58, IMAGE_80))])


RECORDS = st.builds(
    replace,
    st.just(SALE),
    trace=st.integers(1, 999_999),
    batch=st.integers(1, 999_999),
    amount_minor=st.integers(1, 10**10),
    operator=st.text("0123456789", min_size=2, max_size=2),
    rrn=st.text("0123456789", min_size=12, max_size=12),
    auth_code=st.text("0123456789ABCDEF", min_size=6, max_size=6),
    brand=st.sampled_from([b.value for b in CardBrand]),
    entry_mode=st.sampled_from([e.value for e in EntryMode]),
    cvm=st.sampled_from([c.value for c in Cvm]),
    emv=st.fixed_dictionaries({"84": st.text("0123456789ABCDEF", min_size=14, max_size=16)}),
)


@settings(max_examples=30, deadline=None)
@given(pan=st.text("0123456789", min_size=13, max_size=19), record=RECORDS, copy=st.sampled_from(list(Copy)[:2]))
def test_no_pan_digits_beyond_the_masked_ones_on_paper_or_picture(pan: str, record: TxnRecord, copy: Copy) -> None:
    masked = mask_pan(pan)
    receipt = transaction_slip(replace(record, masked_pan=masked), MERCHANT, copy)
    # The same slip with the card number starred out: digit runs the other (random) fields bring themselves.
    starred = transaction_slip(replace(record, masked_pan="*" * len(pan)), MERCHANT, copy)
    seen, background = _seen(receipt), _seen(starred)
    assert masked in model_text(receipt) and masked in printed_text(escpos_bytes(receipt, NATIVE_58))
    assert not {run for run in _runs(pan) if run in seen and run not in background}


# Emoji, C0 and C1 controls (ESC/POS command bytes among them), invisible and bidi formatting, a lone surrogate,
# full-width punctuation, GBK and non-GBK characters, private use.
AWKWARD = "😀🎉\x00\x1b\x1c\x1d\n\r\t\x7f\x85\u200b\u202e\ufeff\ud800，（中é·\ue000𠀀 "
ODD = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=60),  # any code point, controls included
    st.text(st.sampled_from(AWKWARD), max_size=40),
    st.text("abc", min_size=1, max_size=3).map(lambda s: s * 120),  # one very long word
)
LINES: st.SearchStrategy[Line] = st.one_of(
    st.builds(Text, ODD, st.sampled_from(list(Align)), st.booleans(), st.integers(-1, 4)),
    st.builds(Pair, ODD, ODD, st.booleans(), st.integers(-1, 4)),
    st.builds(Rule, ODD),
    st.builds(SignatureBox, ODD),
    st.builds(Qr, ODD),
)


@settings(max_examples=25, deadline=None)
@given(lines=st.lists(LINES, min_size=1, max_size=6))
def test_odd_text_never_raises(lines: list[Line]) -> None:
    receipt = Receipt("odd", Copy.REPORT, tuple(lines))
    for profile in (NATIVE_58, IMAGE_80):
        commands = parse(escpos_bytes(receipt, profile))  # fails on stray control bytes
        assert commands[0].kind == "ESC @"
        assert render_png(receipt, profile).width == profile.dots
