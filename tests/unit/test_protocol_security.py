import os

import pytest
from psec import tr31

from app.crypto import CryptoError, aes_kcv, seal, unseal
from app.host.keys import KeyBlock, KeyExchangeError, generate_working_keys, unwrap_working_keys
from app.host.protocol import ProtocolError, canonical, check_mac, with_mac

KEY = bytes(range(16))


def test_a_mac_covers_every_field():
    body = with_mac({"type": "authorise", "txn": {"amount_minor": 1234}, "stan": 7}, KEY)
    check_mac(body, KEY)
    tampered = {**body, "txn": {"amount_minor": 1235}}
    with pytest.raises(ProtocolError):
        check_mac(tampered, KEY)
    with pytest.raises(ProtocolError):
        check_mac({k: v for k, v in body.items() if k != "mac"}, KEY)


def test_canonical_form_ignores_key_order_and_the_mac():
    assert canonical({"b": 1, "a": [1, 2], "mac": "x"}) == canonical({"a": [1, 2], "b": 1})


def test_sealed_card_data_opens_only_with_the_same_key_and_context():
    token = seal(KEY, b"secret", b"KPOS0001|key1")
    assert unseal(KEY, token, b"KPOS0001|key1") == b"secret"
    with pytest.raises(CryptoError):
        unseal(KEY, token, b"KPOS0001|key2")
    with pytest.raises(CryptoError):
        unseal(bytes(16), token, b"KPOS0001|key1")
    with pytest.raises(CryptoError):
        unseal(KEY, "not base64!", b"x")


def test_working_keys_round_trip_under_the_master_key():
    master = os.urandom(32)
    keys, blocks = generate_working_keys(master)
    assert unwrap_working_keys(master, blocks) == keys
    assert all(b.kcv == aes_kcv(getattr(keys, u)) for u, b in blocks.items())


def test_a_key_block_marked_for_another_use_is_refused():
    master = os.urandom(32)
    _, blocks = generate_working_keys(master)
    # A genuine block, but a MAC key presented as the PIN key.
    swapped = {**blocks, "pin": KeyBlock("pin", blocks["mac"].block, blocks["mac"].kcv)}
    with pytest.raises(KeyExchangeError, match="another use"):
        unwrap_working_keys(master, swapped)


def test_a_wrong_check_value_or_master_key_is_refused():
    master = os.urandom(32)
    _, blocks = generate_working_keys(master)
    with pytest.raises(KeyExchangeError, match="check value"):
        unwrap_working_keys(master, {**blocks, "data": KeyBlock("data", blocks["data"].block, "000000")})
    with pytest.raises(KeyExchangeError, match="does not unwrap"):
        unwrap_working_keys(os.urandom(32), blocks)


def test_keys_never_print():
    keys, _ = generate_working_keys(os.urandom(32))
    assert keys.pin.hex() not in repr(keys) and keys.mac.hex() not in str(keys)


def test_tr31_header_is_version_d_aes():
    master = os.urandom(32)
    _, blocks = generate_working_keys(master)
    header, _ = tr31.unwrap(master, blocks["pin"].block)
    assert (header.version_id, header.key_usage, header.algorithm) == ("D", "P0", "A")
