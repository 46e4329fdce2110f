"""Customer-presented payment codes: the wallet from the code alone, refusals in one line, only the masked form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.qr.errors import QrError
from app.qr.payment_code import PaymentCode, Wallet, mask, recognise


@pytest.mark.parametrize(
    ("code", "wallet"),
    [
        pytest.param("100000000000000001", Wallet.WECHAT, id="wechat-10"),
        pytest.param("134567890123456789", Wallet.WECHAT, id="wechat-13"),
        pytest.param("159999999999999999", Wallet.WECHAT, id="wechat-15"),
        pytest.param("2500000000000001", Wallet.ALIPAY, id="alipay-25-16-digits"),
        pytest.param("288888888888888888", Wallet.ALIPAY, id="alipay-28-18-digits"),
        pytest.param("300000000000000000000001", Wallet.ALIPAY, id="alipay-30-24-digits"),
        pytest.param("6212345678901234567", Wallet.UNIONPAY, id="unionpay-62-19-digits"),
        pytest.param("  134567890123456789\t", Wallet.WECHAT, id="surrounding-blanks"),
    ],
)
def test_the_wallet_comes_from_the_code(code: str, wallet: Wallet) -> None:
    found = recognise(code)
    assert found.wallet is wallet
    assert found.code == code.strip()


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("", id="empty"),
        pytest.param("13456789012345678", id="wechat-17-digits"),
        pytest.param("1345678901234567890", id="wechat-prefix-19-digits"),
        pytest.param("163456789012345678", id="prefix-16"),
        pytest.param("093456789012345678", id="prefix-09"),
        pytest.param("250000000000001", id="alipay-15-digits"),
        pytest.param("2500000000000000000000001", id="alipay-25-digits"),
        pytest.param("310000000000000000", id="prefix-31"),
        pytest.param("241234567890123456", id="prefix-24"),
        pytest.param("621234567890123456", id="unionpay-18-digits"),
        pytest.param("62123456789012345678", id="unionpay-20-digits"),
        pytest.param("6312345678901234567", id="prefix-63-19-digits"),
        pytest.param("1345 6789 0123 4567 89", id="spaces-inside"),
        pytest.param("１３４５６７８９０１２３４５６７８９", id="full-width-digits"),
        pytest.param("١٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩", id="arabic-indic-digits"),
        pytest.param("13456789012345678X", id="a-letter"),
        pytest.param("https://qr.alipay.com/fkx12345", id="a-url"),
        pytest.param("13456789\n0123456789", id="two-lines"),
    ],
)
def test_anything_else_is_refused_in_one_line_that_does_not_echo_it(code: str) -> None:
    with pytest.raises(QrError) as caught:
        recognise(code)
    message = str(caught.value)
    assert message.startswith("not a WeChat Pay, Alipay or UnionPay payment code")
    assert "\n" not in message and "\n" not in caught.value.zh
    assert caught.value.words("zh_CN") == "不是微信、支付宝或云闪付的付款码：未扣款，请重新扫码"
    digits = code.strip()
    if len(digits) >= 8:
        assert digits[2:10] not in message


def test_repr_and_str_show_only_first_4_and_last_4() -> None:
    found = recognise("134567890123456789")
    for shown in (repr(found), str(found), f"{found}", f"{found!r}", repr([found]), repr({"code": found})):
        assert "134567890123456789" not in shown
        assert "5678901234" not in shown
        assert "1345**********6789" in shown
    assert found.masked == "1345**********6789"


def test_mask_of_short_text_hides_everything() -> None:
    assert mask("12345678") == "********"
    assert mask("123456789") == "1234*6789"


@given(prefix=st.integers(10, 15), rest=st.text("0123456789", min_size=16, max_size=16))
def test_every_18_digit_code_from_10_to_15_is_wechat_and_masked(prefix: int, rest: str) -> None:
    code = f"{prefix}{rest}"
    found = recognise(code)
    assert found == PaymentCode(Wallet.WECHAT, code)
    assert code not in repr(found) and found.masked == code[:4] + "*" * 10 + code[-4:]


@given(prefix=st.integers(25, 30), rest=st.text("0123456789", min_size=14, max_size=22))
def test_every_16_to_24_digit_code_from_25_to_30_is_alipay(prefix: int, rest: str) -> None:
    assert recognise(f"{prefix}{rest}").wallet is Wallet.ALIPAY
