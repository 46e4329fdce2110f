"""MACs, working keys and PIN blocks of the 8583 dialect, against published known answers."""

from __future__ import annotations

import pytest
from psec import pinblock

from app.host.iso8583 import keys, mac
from app.host.iso8583.keys import KeyScheme, WorkingKeyError
from tests.unit.iso8583_rig import MAC_KEY, MASTER_KEY, PAN, PIN_KEY, sign_on_keys

NOW_IS_THE_TIME = b"Now is the time for all "  # the ANSI X9.9 / X9.19 and FIPS 113 example message


def test_unionpay_ecb_mac_matches_the_published_worked_example() -> None:
    # The worked example of the UnionPay POS ECB MAC published in solo123/pgate
    # (test/integration/pos_mac_test.rb): MAB 1234567890ABCDEF ABCDEF1234567890, MAK 2222222222222222;
    # XOR B9F9B96AA4FDB57F, first encryption 9FDE90A34CF73B2E, MAC "E267B6E2".
    assert mac.xor_blocks(bytes.fromhex("1234567890ABCDEFABCDEF1234567890")) == bytes.fromhex("B9F9B96AA4FDB57F")
    assert mac.unionpay_ecb(bytes.fromhex("2222222222222222"), bytes.fromhex("1234567890ABCDEFABCDEF1234567890")) == (
        b"E267B6E2"
    )


def test_a_double_length_key_with_equal_halves_is_the_single_des_mac() -> None:
    single = bytes.fromhex("2222222222222222")
    mab = bytes(range(37))
    assert mac.unionpay_ecb(single, mab) == mac.unionpay_ecb(single + single, mab)


def test_x919_retail_mac_matches_the_ansi_example() -> None:
    # ANSI X9.19 annex example (also ISO 9797-1 algorithm 3): K = 0123456789ABCDEF, K' = FEDCBA9876543210 over
    # "Now is the time for all " gives A1C72E74EA3FA9B6; its single-DES X9.9 MAC is 70A30640CC76DD8B.
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    assert mac.x919(key, NOW_IS_THE_TIME).hex().upper() == "A1C72E74EA3FA9B6"
    single = bytes.fromhex("0123456789ABCDEF0123456789ABCDEF")
    assert mac.x919(single, NOW_IS_THE_TIME).hex().upper() == "70A30640CC76DD8B"


def test_a_mac_key_of_the_wrong_length_is_one_clear_error() -> None:
    with pytest.raises(mac.MacKeyError, match="8, 16 or 24 bytes"):
        mac.unionpay_ecb(bytes(5), b"x")
    with pytest.raises(mac.MacKeyError, match="16 bytes"):
        mac.x919(bytes(8), b"x")


def test_kcv_is_the_key_over_zeros() -> None:
    # The classic TDES check value: 0123456789ABCDEFFEDCBA9876543210 over zeros starts 08D7B4FB.
    assert keys.kcv(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")).hex().upper() == "08D7B4FB"


@pytest.mark.parametrize("scheme", list(KeyScheme))
def test_working_keys_open_under_the_master_key(scheme: KeyScheme) -> None:
    got = keys.unwrap_f62(MASTER_KEY, scheme, bytes.fromhex(sign_on_keys(scheme)))
    if scheme is KeyScheme.SINGLE:
        assert (got.pin, got.mac) == (PIN_KEY[:8], MAC_KEY[:8])
    else:
        assert (got.pin, got.mac) == (PIN_KEY, MAC_KEY)
    assert (got.track is not None) is (scheme is KeyScheme.DOUBLE_WITH_TRACK_KEY)
    assert "4041" not in repr(got)


@pytest.mark.parametrize("where", [16, 36, 39])  # the PIN key's KCV, the MAC key, the MAC key's KCV
def test_a_wrong_check_value_installs_nothing(where: int) -> None:
    f62 = bytearray.fromhex(sign_on_keys(KeyScheme.DOUBLE))
    f62[where] ^= 0x01
    with pytest.raises(WorkingKeyError, match="fails its check value: nothing installed"):
        keys.unwrap_f62(MASTER_KEY, KeyScheme.DOUBLE, bytes(f62))


def test_keys_under_another_master_key_fail_their_check_values() -> None:
    with pytest.raises(WorkingKeyError, match="PIN working key fails"):
        keys.unwrap_f62(bytes(16), KeyScheme.DOUBLE, bytes.fromhex(sign_on_keys(KeyScheme.DOUBLE)))


def test_f62_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(WorkingKeyError, match="F62 has 24 bytes; scheme 003 carries 40"):
        keys.unwrap_f62(MASTER_KEY, KeyScheme.DOUBLE, bytes.fromhex(sign_on_keys(KeyScheme.SINGLE)))


def test_pin_block_is_format_0_under_the_pin_key() -> None:
    from psec import des

    block = keys.pin_block(PIN_KEY, "123456", PAN)
    clear = des.decrypt_tdes_ecb(PIN_KEY, block)
    assert clear[0] >> 4 == 0  # format 0
    assert pinblock.decode_pinblock_iso_0(clear, PAN) == "123456"
