import pytest

from app.emv.cryptograms import SUPPORTED_CVNS, CardCryptograms, CryptogramError, default_iad

IMK = bytes.fromhex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")


def test_visa_cvn18_matches_the_published_pyemv_vector():
    # The worked example in pyemv's documentation (cvn module docstring).
    keys = CardCryptograms.for_card(18, IMK, "1234567890123456", "00")
    tags = {
        "9F02": bytes.fromhex("000000009999"),
        "9F03": bytes.fromhex("000000000000"),
        "9F1A": bytes.fromhex("0840"),
        "95": bytes.fromhex("8000048000"),
        "5F2A": bytes.fromhex("0840"),
        "9A": bytes.fromhex("991231"),
        "9C": bytes.fromhex("01"),
        "9F37": bytes.fromhex("52BF4585"),
        "82": bytes.fromhex("1800"),
        "9F36": bytes.fromhex("0FFF"),
        "9F10": bytes.fromhex("06011203A0B800"),
    }
    arqc = keys.generate_ac(tags)
    assert arqc.hex().upper() == "769577B5ABE9FE62"
    tag_91 = keys.issuer_authentication_data(arqc, tags["9F36"], "00", approve=False)
    assert tag_91[:4].hex().upper() == "76503F48"  # the ARPC for CSU 00000000


def _tags(cvn):
    return {
        "9F02": bytes.fromhex("000000001234"),
        "9F03": bytes(6),
        "9F1A": bytes.fromhex("0156"),
        "95": bytes(5),
        "5F2A": bytes.fromhex("0156"),
        "9A": bytes.fromhex("261120"),
        "9C": b"\x00",
        "9F37": bytes.fromhex("01020304"),
        "82": bytes.fromhex("3900"),
        "9F36": bytes.fromhex("0042"),
        "9F10": default_iad(cvn),
    }


@pytest.mark.parametrize("cvn", SUPPORTED_CVNS)
def test_the_card_accepts_only_the_genuine_issuer_answer(cvn):
    card = CardCryptograms.for_card(cvn, IMK, "4761739001010010", "01")
    issuer = CardCryptograms.for_card(cvn, IMK, "4761739001010010", "01")
    tags = _tags(cvn)
    arqc = card.generate_ac(tags)
    assert issuer.generate_ac(tags) == arqc
    approve = issuer.issuer_authentication_data(arqc, tags["9F36"], "00", approve=True)
    decline = issuer.issuer_authentication_data(arqc, tags["9F36"], "05", approve=False)
    assert card.check_issuer_authentication(arqc, tags["9F36"], approve) is True
    assert card.check_issuer_authentication(arqc, tags["9F36"], decline) is False
    forged = bytes([approve[0] ^ 1]) + approve[1:]
    assert card.check_issuer_authentication(arqc, tags["9F36"], forged) is None


@pytest.mark.parametrize("cvn", SUPPORTED_CVNS)
def test_a_different_amount_gives_a_different_cryptogram(cvn):
    keys = CardCryptograms.for_card(cvn, IMK, "5413330089010608", "00")
    tags = _tags(cvn)
    other = {**tags, "9F02": bytes.fromhex("000000001235")}
    assert keys.generate_ac(tags) != keys.generate_ac(other)


def test_unsupported_versions_and_missing_data_raise_the_one_error():
    with pytest.raises(CryptogramError):
        CardCryptograms.for_card(99, IMK, "4761739001010010", "01")
    keys = CardCryptograms.for_card(18, IMK, "4761739001010010", "01")
    with pytest.raises(CryptogramError):
        keys.generate_ac({"9F02": b"\x00"})
