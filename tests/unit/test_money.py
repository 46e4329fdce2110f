import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import MAX_MINOR, AmountError, Money, currency

CNY = currency("CNY")
JPY = currency("JPY")
KWD = currency("KWD")


@pytest.mark.parametrize(
    ("text", "cur", "minor"),
    [
        ("12.34", CNY, 1234),
        ("12", CNY, 1200),
        ("12.3", CNY, 1230),
        ("0.01", CNY, 1),
        ("1234", JPY, 1234),
        ("1.234", KWD, 1234),
        (" 7.00 ", CNY, 700),
    ],
)
def test_what_a_cashier_types_becomes_exact_minor_units(text, cur, minor):
    assert Money.parse(text, cur).minor == minor


@pytest.mark.parametrize("text", ["-1", "12.345", "1e3", "1,000", "", "12.", ".5", "abc", "0x10", "１２", "12.3.4"])
def test_anything_else_is_refused_with_one_clear_line(text):
    with pytest.raises(AmountError) as err:
        Money.parse(text, CNY)
    assert "\n" not in str(err.value)


def test_yen_has_no_decimals():
    with pytest.raises(AmountError):
        Money.parse("12.5", JPY)


def test_a_float_can_never_be_money():
    with pytest.raises(AmountError):
        Money(12.34, CNY)  # type: ignore[arg-type]


def test_amounts_beyond_twelve_digits_are_refused():
    with pytest.raises(AmountError):
        Money(MAX_MINOR + 1, CNY)


def test_currencies_do_not_mix():
    with pytest.raises(AmountError):
        Money(1, CNY) + Money(1, JPY)


@given(st.integers(min_value=0, max_value=MAX_MINOR), st.sampled_from([CNY, JPY, KWD]))
def test_formatting_and_parsing_round_trip(minor, cur):
    money = Money(minor, cur)
    assert Money.parse(money.format().replace(",", ""), cur) == money


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_addition_and_subtraction_stay_exact(a, b):
    assert (Money(a, CNY) + Money(b, CNY) - Money(b, CNY)).minor == a
