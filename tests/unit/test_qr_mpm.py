"""The EMVCo merchant-presented payload: the specification's own example, our builder, and the parser's refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import CURRENCIES
from app.qr import mpm
from app.qr.errors import QrError
from tests.rigs.qr_codes import SPEC_EXAMPLE, UNIONPAY_AID, crc_ccitt_false, order, with_crc

# --- the specification's example ------------------------------------------------------------------------------


def test_the_crc_is_ccitt_false_by_its_catalogue_check_value() -> None:
    assert mpm.crc16("123456789") == "29B1"


def test_the_published_example_parses_with_its_crc() -> None:
    assert mpm.crc16(SPEC_EXAMPLE[:-4]) == "A13A" == f"{crc_ccitt_false(SPEC_EXAMPLE[:-4].encode()):04X}"
    code = mpm.parse(SPEC_EXAMPLE)
    assert code.dynamic
    assert code.accounts["29"] == {"00": "D15600000000", "05": "A93FO3230Q"}
    assert code.accounts["31"] == {"00": "D15600000001", "03": "12345678"}
    assert (code.mcc, code.currency.code, code.amount, code.amount_minor) == ("4111", "CNY", "23.72", 2372)
    assert (code.country, code.merchant_name, code.merchant_city) == ("CN", "BEST TRANSPORT", "BEIJING")
    assert code.templates["64"] == {"00": "ZH", "01": "最佳运输", "02": "北京"}
    assert code.additional == {"03": "1234", "06": "***", "07": "A6008667", "09": "ME"}
    assert code.templates["91"] == {"00": "A011223344998877", "07": "12345678"}


# --- what the terminal builds ---------------------------------------------------------------------------------


def test_a_dynamic_order_code_has_every_object_the_issue_asks_for() -> None:
    payload = mpm.build(order())
    assert payload.startswith("000201" + "010212")
    assert payload[-8:-4] == "6304" and int(payload[-4:], 16) == crc_ccitt_false(payload[:-4].encode())
    code = mpm.parse(payload)
    assert code.dynamic and code.accounts["26"] == {"00": UNIONPAY_AID, "01": "898310012345678"}
    assert (code.mcc, code.currency.numeric, code.amount, code.amount_minor) == ("5411", 156, "123.45", 12345)
    assert (code.country, code.merchant_name, code.merchant_city) == ("CN", "KIOSK CORNER SHOP", "SHANGHAI")
    assert code.order_reference == "T0001B000123V0042" and code.additional["07"] == "T0001"


@pytest.mark.parametrize(("minor", "text"), [(1, "0.01"), (10, "0.10"), (100, "1.00"), (99999999999, "999999999.99")])
def test_amounts_are_written_from_integer_minor_units(minor: int, text: str) -> None:
    code = mpm.parse(mpm.build(order(amount_minor=minor)))
    assert (code.amount, code.amount_minor) == (text, minor)


def test_a_yen_amount_has_no_decimal_point() -> None:
    code = mpm.parse(mpm.build(order(amount_minor=500, currency=CURRENCIES["JPY"], country="JP")))
    assert (code.amount, code.amount_minor) == ("500", 500)


def _ans(longest: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=longest)


@given(
    amount=st.integers(1, 10**10),
    name=_ans(25),
    city=_ans(15),
    reference=_ans(25),
    template=st.integers(26, 51),
)
def test_whatever_the_builder_accepts_reads_back_the_same(
    amount: int, name: str, city: str, reference: str, template: int
) -> None:
    account = mpm.MerchantAccount(str(template), "com.example.pay")
    payload = mpm.build(
        order(
            account=account,
            amount_minor=amount,
            merchant_name=name,
            merchant_city=city,
            order_reference=reference,
            terminal_label=None,
        )
    )
    code = mpm.parse(payload)
    assert (code.amount_minor, code.merchant_name, code.merchant_city, code.order_reference) == (
        amount,
        name,
        city,
        reference,
    )
    assert code.accounts[str(template)] == {"00": "com.example.pay"}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        pytest.param({"merchant_name": "A" * 26}, "merchant name (59) is longer than 25", id="name-26"),
        pytest.param({"merchant_city": "B" * 16}, "merchant city (60) is longer than 15", id="city-16"),
        pytest.param(
            {"merchant_name": "北京小店"}, "object 59 has characters other than printable ASCII", id="han-name"
        ),
        pytest.param({"amount_minor": 0}, "the amount must be more than zero", id="zero"),
        pytest.param({"amount_minor": -100}, "the amount must be more than zero", id="negative"),
        pytest.param({"amount_minor": 10**13}, "amount (54) is longer than 13", id="too-big"),
        pytest.param({"mcc": "54A1"}, "merchant category code (52) must be 4 digits", id="mcc"),
        pytest.param({"order_reference": "R" * 26}, "additional data 05 (in 62) is longer than 25", id="reference"),
        pytest.param({"order_reference": ""}, "object 05 in template 62 must be 1 to 99", id="empty-reference"),
        pytest.param({"account": mpm.MerchantAccount("25", UNIONPAY_AID)}, "template must be 26 to 51", id="id-25"),
    ],
)
def test_the_builder_refuses_what_the_specification_forbids(changes: dict[str, object], says: str) -> None:
    with pytest.raises(
        QrError, match="^not a valid payment QR code: .*" + says.replace("(", r"\(").replace(")", r"\)")
    ):
        mpm.build(order(**changes))


def test_the_name_and_city_at_their_limits_are_fine() -> None:
    code = mpm.parse(mpm.build(order(merchant_name="N" * 25, merchant_city="C" * 15)))
    assert (len(code.merchant_name), len(code.merchant_city)) == (25, 15)


# --- what the parser refuses ----------------------------------------------------------------------------------

GOOD = mpm.build(order())
BODY = GOOD[:-8]  # everything before "6304" + CRC


def swap(old: str, new: str) -> str:
    assert old in BODY
    return with_crc(BODY.replace(old, new, 1))


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        pytest.param(GOOD[:-4] + "0000", "the CRC does not match", id="wrong-crc"),
        pytest.param(GOOD.replace("SHANGHAI", "SHANGHAJ"), "the CRC does not match", id="one-character-changed"),
        pytest.param(BODY, "does not end with a CRC", id="no-crc"),
        pytest.param(BODY + "6303ABC", "does not end with a CRC", id="crc-3-long"),
        pytest.param(with_crc(BODY)[:-8] + "5802CN" + with_crc(BODY)[-8:], "appears twice", id="crc-not-last"),
        pytest.param(with_crc(BODY + "6599AB"), "longer than what is left", id="cut-short"),
        pytest.param(swap("6008SHANGHAI", "60X8SHANGHAI"), "broken object header", id="length-not-digits"),
        pytest.param(swap("5406123.45", "5400"), "object 54 in the payload is empty", id="zero-length"),
        pytest.param(swap("5802CN", "5802CN5802CN"), "object 58 appears twice", id="duplicate"),
        pytest.param(
            swap("6008SHANGHAI", "6008上海市中心区大街"),
            "object 60 has characters other than printable ASCII",
            id="han-city",
        ),
        pytest.param(swap("6008SHANGHAI", "6008SHANG\u00e9AI"), "object 60 has characters other", id="latin1-city"),
        pytest.param(swap("6008SHANGHAI", "6008SHANG\tAI"), "object 60 has characters other", id="control-char"),
        pytest.param(
            swap("T0001B000123V0042", "T0001B000123V004é"), "object 62.05 has characters other", id="han-in-template"
        ),
        pytest.param(
            swap("5917KIOSK CORNER SHOP", "5926" + "K" * 26), "merchant name (59) is longer than 25", id="name-26"
        ),
        pytest.param(swap("6008SHANGHAI", "6016" + "S" * 16), "merchant city (60) is longer than 15", id="city-16"),
        pytest.param(swap("5917KIOSK CORNER SHOP", ""), "the merchant name (59) is missing", id="no-name"),
        pytest.param(swap("010212", "010213"), "point of initiation must be 11 or 12", id="initiation-13"),
        pytest.param(swap("000201", "000202"), "does not start with payload format 01", id="format-02"),
        pytest.param(swap("5303156", "5303999"), "currency 999 is not one this terminal takes", id="currency"),
        pytest.param(swap("5406123.45", "54050.000"), "not a positive amount in CNY", id="zero-amount"),
        pytest.param(swap("5406123.45", "540612.345"), "not a positive amount", id="three-decimals"),
        pytest.param(swap("5406123.45", "5406-12.34"), "not a positive amount", id="negative"),
        pytest.param(swap("5406123.45", "5404123."), "not a positive amount", id="dot-without-decimals"),
        pytest.param(swap("5406123.45", "5406123,45"), "not a positive amount", id="decimal-comma"),
        pytest.param(swap("5406123.45", "54051.2e3"), "not a positive amount", id="exponent"),
        pytest.param(swap("5802CN", "5802cn"), "country (58) must be two capital letters", id="country"),
        pytest.param(swap("52045411", "520454x1"), "merchant category code (52) must be 4", id="mcc"),
        pytest.param(
            swap(BODY[12 : 12 + 4 + int(BODY[14:16])], ""), "no merchant account information", id="no-account"
        ),
        pytest.param(
            swap("0016A000000333010101", "0216A000000333010101"),
            "has no unique identifier (00)",
            id="account-without-00",
        ),
        pytest.param(
            with_crc(BODY + "".join(f"{rfu}99" + "A" * 99 for rfu in (65, 66, 67, 68))),
            "longer than 512 characters",
            id="too-long",
        ),
        pytest.param("", "does not end with a CRC", id="empty"),
        pytest.param("hello", "broken object header", id="garbage"),
    ],
)
def test_the_parser_refuses_with_one_clear_line(payload: str, says: str) -> None:
    with pytest.raises(QrError) as caught:
        mpm.parse(payload)
    message = str(caught.value)
    assert message.startswith("not a valid payment QR code: ") and says in message
    assert "\n" not in message and caught.value.zh.startswith("不是有效的支付二维码：") and "\n" not in caught.value.zh


def test_chinese_is_allowed_in_the_language_template_only() -> None:
    payload = with_crc(BODY + "64200002ZH0104街角小店0202上海")
    assert mpm.parse(payload).templates["64"] == {"00": "ZH", "01": "街角小店", "02": "上海"}
    with pytest.raises(QrError, match=r"object 64\.00 has characters other"):
        mpm.parse(with_crc(BODY + "64200002中文0104街角小店0202上海"))


def test_a_lowercase_crc_is_still_the_crc() -> None:
    assert mpm.parse(GOOD[:-4] + GOOD[-4:].lower()).amount_minor == 12345
