import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.cards import CardBrand, CardDataError, brand_of, check_pan, luhn_ok, mask_pan, pan_token
from app.sim.card_profiles import CARD_PROFILES


@pytest.mark.parametrize("profile", list(CARD_PROFILES.values()), ids=list(CARD_PROFILES))
def test_every_test_card_has_a_valid_pan_and_the_brand_of_its_aid(profile):
    assert luhn_ok(profile.pan)
    aid_brand = {"A000000003": CardBrand.VISA, "A000000004": CardBrand.MASTERCARD, "A000000333": CardBrand.UNIONPAY}
    assert profile.brand is aid_brand[profile.aid[:10]]


@given(st.text(alphabet="0123456789", min_size=10, max_size=19))
def test_a_masked_pan_shows_at_most_first_six_and_last_four(pan):
    masked = mask_pan(pan)
    assert len(masked) == len(pan)
    assert masked[:6] == pan[:6] and masked[-4:] == pan[-4:]
    assert set(masked[6:-4]) <= {"*"}


def test_bad_card_numbers_are_refused():
    with pytest.raises(CardDataError):
        check_pan("4761739001010011")  # check digit wrong
    with pytest.raises(CardDataError):
        check_pan("47617390")


def test_brands_by_prefix():
    assert brand_of("6250947000000014") is CardBrand.UNIONPAY
    assert brand_of("2221000000000009") is CardBrand.MASTERCARD
    assert brand_of("9999999999999999") is CardBrand.OTHER


@pytest.mark.parametrize(
    "pan",
    # Public Maestro test numbers (Ingenico ePayments, Access PaySuite) and the Maestro UK 6759 range.
    ["6304939304310009610", "5641820000000005", "6759649826438453", "5018000000000009"],
)
def test_maestro_numbers_are_mastercard_brand(pan):
    assert brand_of(pan) is CardBrand.MASTERCARD


def test_a_visa_electron_number_is_visa():
    assert brand_of("4844215500115643") is CardBrand.VISA  # Visa Electron test number (Access PaySuite)


def test_token_is_stable_keyed_and_not_the_pan():
    a = pan_token("4761739001010010", b"k" * 32)
    assert a == pan_token("4761739001010010", b"k" * 32)
    assert a != pan_token("4761739001010010", b"x" * 32)
    assert "4761739001010010" not in a
