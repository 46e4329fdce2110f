from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("x")
    (tmp_path / "master.key").write_text("00" * 32)
    (tmp_path / "token.key").write_text("11" * 32)
    return tmp_path


GOOD = """
[terminal]
terminal_id = "KPOS0001"
merchant_id = "898310048990001"
merchant_name = "Shop"
currency = "CNY"
data_dir = "data"
[acquirer]
url = "https://127.0.0.1:8443"
ca_file = "ca.pem"
client_cert = "client.pem"
client_key = "client.key"
[secrets]
master_key_file = "master.key"
token_secret_file = "token.key"
"""


def write(directory: Path, text: str) -> Path:
    path = directory / "terminal.toml"
    path.write_text(text)
    return path


def test_a_good_file_loads_with_defaults_and_relative_paths(config_dir):
    s = load_settings(write(config_dir, GOOD))
    assert s.terminal.data_dir == config_dir / "data"
    assert s.limits.refund_window_days == 180
    assert s.limits.max_amount.minor == 5_000_000
    assert s.acquirer.retries == 1
    assert not s.seed_demo_accounts
    assert (s.ui.screen, s.ui.language, s.ui.dim_after_s, s.ui.lock_after_s) == ("7inch", "zh", 30, 300)
    assert s.ui.kiosk and not s.ui.touchscreen_pin_approved


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (('terminal_id = "KPOS0001"', 'terminal_id = "kpos1"'), "[terminal] terminal_id"),
        (('currency = "CNY"', 'currency = "XXX"'), "[terminal] currency"),
        (('url = "https://127.0.0.1:8443"', 'url = "http://127.0.0.1:8443"'), "[acquirer] url"),
        (('url = "https://127.0.0.1:8443"', 'url = "https://127.0.0.1:abc"'), "[acquirer] url"),
        (('url = "https://127.0.0.1:8443"', 'url = "https://127.0.0.1:99999"'), "[acquirer] url"),
        (('ca_file = "ca.pem"', 'ca_file = "missing.pem"'), "[acquirer] ca_file"),
        (("[acquirer]", "[acquirer]\nread_timeout_s = 0"), "[acquirer] read_timeout_s"),
        (("[acquirer]", "[acquirer]\nretries = true"), "[acquirer] retries"),
        (("[secrets]", "[limits]\nmax_amount = 12.5\n[secrets]"), "[limits] max_amount"),
        (("[secrets]", '[limits]\nmax_amount = "12.345"\n[secrets]'), "[limits] max_amount"),
        (("[secrets]", '[cards]\nsource = "nfc"\n[secrets]'), "[cards] source"),
        (("[acquirer]", "[acquirer]\nurl_typo = 1"), "unknown key 'url_typo'"),
        (("[secrets]", '[cards]\ncontactless_cvm_limit = "6000.00"\n[secrets]'), "contactless_cvm_limit"),
        (("[secrets]", '[cards]\ndefault_profile = "nope"\n[secrets]'), "[cards] default_profile"),
        (("[secrets]", '[limits]\nmax_amount = "0"\n[secrets]'), "[limits] max_amount"),
        (
            ("[secrets]", '[cards]\nsource = "readers"\n[secrets]'),
            "needs chip_reader, contactless_reader or swipe_device",
        ),
        (("[secrets]", '[cards]\ncontactless_reader = "bluetooth"\n[secrets]'), "[cards] contactless_reader"),
        (("[secrets]", '[cards]\ncapk_file = "nowhere.toml"\n[secrets]'), "[cards] capk_file"),
        (("[secrets]", '[printer]\ntransport = "network"\n[secrets]'), 'transport = "network" needs host'),
        (("[secrets]", '[printer]\nprofile = "60mm"\n[secrets]'), "[printer] profile"),
        (("[secrets]", '[printer]\ntransport = "usb"\nusb_vendor = 1046\n[secrets]'), "[printer] usb_vendor"),
        (("[secrets]", "[printer]\ncopies = 4\n[secrets]"), "[printer] copies"),
        (("[secrets]", '[ui]\nscreen = "9inch"\n[secrets]'), "[ui] screen"),
        (("[secrets]", "[ui]\nrotation = 45\n[secrets]"), "[ui] rotation"),
        (("[secrets]", "[ui]\ndim_after_s = 2\n[secrets]"), "[ui] dim_after_s"),
        (("[secrets]", "[ui]\ndim_after_s = 60\nlock_after_s = 60\n[secrets]"), "[ui] lock_after_s"),
        (("[secrets]", '[ui]\nlanguage = "fr"\n[secrets]'), "[ui] language"),
        (("[terminal]", "[termnial]\nx = 1\n[terminal]"), "unknown section [termnial]"),
        (('merchant_id = "898310048990001"\n', ""), "[terminal] merchant_id is required"),
    ],
)
def test_a_bad_value_stops_with_one_line_naming_the_key(config_dir, change, names):
    text = GOOD.replace(*change)
    with pytest.raises(ConfigError) as err:
        load_settings(write(config_dir, text))
    message = str(err.value)
    assert names in message
    assert "\n" not in message


def test_a_short_master_key_is_refused(config_dir):
    (config_dir / "master.key").write_text("00" * 5)
    with pytest.raises(ConfigError, match=r"\[secrets\] master_key_file"):
        load_settings(write(config_dir, GOOD))


def test_broken_toml_is_one_line(config_dir):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(config_dir, "[terminal\n"))


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (('merchant_name = "Shop"', 'merchant_name = "Shop\\rEvil"'), "[terminal] merchant_name"),
        (('merchant_name = "Shop"', 'merchant_name = "Shop\\u2028Evil"'), "[terminal] merchant_name"),
        (('merchant_name = "Shop"', 'merchant_name = "Shop\\u2029Evil"'), "[terminal] merchant_name"),
        (('merchant_name = "Shop"', 'merchant_name = "Shop\\u202EpohS"'), "[terminal] merchant_name"),
        (('merchant_name = "Shop"', 'merchant_name = "Shop\\u001B@"'), "[terminal] merchant_name"),
        (('merchant_name = "Shop"', 'merchant_name = "Shop\\u0085"'), "[terminal] merchant_name"),
        (("[secrets]", '[cards]\nchip_reader = "ACS\\rACR38U"\n[secrets]'), "[cards] chip_reader"),
        (('data_dir = "data"', 'data_dir = "da\\tta"'), "[terminal] data_dir"),
        (('url = "https://127.0.0.1:8443"', 'url = "https://user:secret@127.0.0.1:8443"'), "[acquirer] url"),
        (('url = "https://127.0.0.1:8443"', 'url = "https://user@127.0.0.1:8443"'), "[acquirer] url"),
        (('url = "https://127.0.0.1:8443"', 'url = "https://127.0.0.1:8443/v1\\n"'), "[acquirer] url"),
        (('url = "https://127.0.0.1:8443"', 'url = "https://127.0.\\t0.1:8443"'), "[acquirer] url"),
    ],
)
def test_control_characters_and_credentials_are_refused_in_one_line(config_dir, change, names):
    with pytest.raises(ConfigError) as err:
        load_settings(write(config_dir, GOOD.replace(*change)))
    message = str(err.value)
    assert names in message and "\n" not in message and "\r" not in message and "\u2028" not in message
    assert "secret@" not in message, "the password is not repeated"


def test_ordinary_text_with_chinese_and_punctuation_is_accepted(config_dir):
    text = GOOD.replace('merchant_name = "Shop"', 'merchant_name = "张记小吃 Café & Bar (No. 2)"')
    assert load_settings(write(config_dir, text)).terminal.merchant_name == "张记小吃 Café & Bar (No. 2)"


MAESTRO_ONLY = """
[[emv.aid]]
aid = "A0000000043060"
brand = "mastercard"
funding = "debit"
partial_selection = false
version = "0002"
tac_denial = "0000000000"
tac_online = "FC50BCF800"
tac_default = "FC50BCA000"
floor_limit = "100.00"
random_threshold = "50.00"
random_target_percent = 20
random_max_percent = 50
"""


def test_the_default_aid_list_covers_the_brands_the_terminal_takes(config_dir):
    aids = {a.aid: (a.brand.value, a.funding) for a in load_settings(write(config_dir, GOOD)).emv_aids}
    assert aids == {
        "A0000000031010": ("visa", None),
        "A0000000032010": ("visa", "debit"),  # Visa Electron
        "A0000000032020": ("visa", "debit"),  # V PAY
        "A0000000041010": ("mastercard", None),
        "A0000000043060": ("mastercard", "debit"),  # Maestro
        "A000000333010101": ("unionpay", "debit"),
        "A000000333010102": ("unionpay", "credit"),
        "A000000333010103": ("unionpay", "credit"),  # quasi-credit
    }


def test_a_configured_aid_list_replaces_the_defaults(config_dir):
    (aid,) = load_settings(write(config_dir, GOOD + MAESTRO_ONLY)).emv_aids
    assert (aid.aid, aid.brand.value, aid.funding, aid.partial_selection, aid.version) == (
        "A0000000043060", "mastercard", "debit", False, b"\x00\x02"
    )  # fmt: skip
    assert (aid.tac_denial, aid.tac_online, aid.tac_default) == (
        bytes.fromhex("0000000000"), bytes.fromhex("FC50BCF800"), bytes.fromhex("FC50BCA000")
    )  # fmt: skip
    assert (aid.floor_limit_minor, aid.random_threshold_minor) == (10_000, 5_000)
    assert (aid.random_target_percent, aid.random_max_percent) == (20, 50)


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (('aid = "A0000000043060"', 'aid = "A000000004306"'), "[emv.aid 1] aid: must be whole bytes"),
        (('aid = "A0000000043060"', 'aid = "a0000000043060"'), "[emv.aid 1] aid"),
        (('brand = "mastercard"', 'brand = "maestro"'), "[emv.aid 1] brand: must be one of"),
        (('funding = "debit"', 'funding = "prepaid"'), "[emv.aid 1] funding"),
        (('version = "0002"\n', ""), "[emv.aid 1] version is required"),
        (('tac_online = "FC50BCF800"', 'tac_online = "FC50BCF8"'), "[emv.aid 1] tac_online: must be 10 hex digits"),
        (('floor_limit = "100.00"', "floor_limit = 100"), "[emv.aid 1] floor_limit"),
        (('random_threshold = "50.00"', 'random_threshold = "150.00"'), "random_threshold must not be above"),
        (("random_max_percent = 50", "random_max_percent = 10"), "random_target_percent must not be above"),
        (("random_max_percent = 50", "random_max_percent = 100"), "[emv.aid 1] random_max_percent"),
        (("partial_selection = false", "partial_selection = false\ntacs = 1"), "[emv.aid 1] has an unknown key"),
        (("[[emv.aid]]", '[emv]\nkernel = "c2"\n[[emv.aid]]'), "[emv] has an unknown key 'kernel'"),
        (('merchant_name = "Shop"', 'merchant_name = "Shop"'), "[emv.aid 2] aid A0000000043060 is listed twice"),
    ],
)
def test_a_bad_aid_entry_stops_with_one_line(config_dir, change, names):
    text = GOOD + MAESTRO_ONLY.replace(*change)
    if "listed twice" in names:
        text += MAESTRO_ONLY
    with pytest.raises(ConfigError) as err:
        load_settings(write(config_dir, text))
    assert names in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("emv", ["[emv]\naid = []\n", '[emv]\naid = ["A0000000043060"]\n', "[emv]\naid = 1\n"])
def test_an_aid_list_that_is_no_list_of_tables_is_one_line(config_dir, emv):
    with pytest.raises(ConfigError, match=r"\[emv\] aid: must be one or more|\[emv.aid 1\] must be a table"):
        load_settings(write(config_dir, GOOD + emv))
