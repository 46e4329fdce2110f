"""The terminal's configuration: one TOML file, every key checked at start.

A bad value stops the start with one line that names the file, the key and what it should be. Relative paths
are relative to the configuration file. docs/configuration.md lists every key.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.devices.printing.profile import DEFAULT_PROFILE, PROFILES, PrinterProfile
from app.domain.cards import CardBrand, Funding
from app.domain.money import AmountError, Currency, Money, currency
from app.emv.config import DEFAULT_AIDS, AidConfig
from app.errors import UserFacingError
from app.host.client import AcquirerSettings, Identity
from app.host.protocol import MERCHANT_ID, TERMINAL_ID
from app.sim.card_profiles import CARD_PROFILES


class ConfigError(UserFacingError, ValueError):
    """A configuration that cannot be used. str() is the one line to show."""


@dataclass(frozen=True)
class TerminalSettings:
    terminal_id: str
    merchant_id: str
    merchant_name: str
    currency: Currency
    country_numeric: int
    data_dir: Path
    training: bool

    @property
    def identity(self) -> Identity:
        return Identity(self.terminal_id, self.merchant_id)


@dataclass(frozen=True)
class Secrets:
    master_key: bytes
    token_secret: bytes

    def __repr__(self) -> str:
        return "Secrets(<hidden>)"


@dataclass(frozen=True)
class Limits:
    max_amount: Money
    refund_window_days: int
    preauth_validity_days: int


@dataclass(frozen=True)
class CardSettings:
    source: str  # "simulated" test-card profiles, or "readers"
    default_profile: str
    default_entry: str
    contactless_limit: Money
    contactless_cvm_limit: Money
    pin_entry: str
    chip_reader: str | None = None  # PC/SC reader name; "" means the first reader
    contactless_reader: str | None = None  # nfcpy path: "usb", "usb:072f:2200", "udp:localhost:PORT"
    swipe_device: Path | None = None  # the swipe reader's /dev/input/event* (better: a /dev/input/by-id link)
    capk_file: Path | None = None  # the payment networks' CA public keys


@dataclass(frozen=True)
class PrinterSettings:
    transport: str  # none, preview (PNG files), text (text files), file, network, usb, serial
    profile: PrinterProfile
    host: str = ""
    port: int = 9100
    usb_vendor: int = 0
    usb_product: int = 0
    device: str = ""  # serial port, or the file/device node for the file transport
    baudrate: int = 19200
    timeout_s: float = 5.0
    copies: int = 2  # 3 adds a bank copy (银行存根)
    language: str = "both"
    confirm_between_copies: bool = True
    preview_dir: Path | None = None


@dataclass(frozen=True)
class UiSettings:
    screen: str = "7inch"  # 7inch (800x480) or touch-display-2 (1280x800)
    rotation: int = 0  # degrees: 90 or 270 for portrait
    language: str = "zh"
    dim_after_s: int = 30
    lock_after_s: int = 300
    shuffle_pin_keypad: bool = False
    # A touchscreen is not a certified PIN pad; only an acquirer's written approval makes it more than a demo.
    touchscreen_pin_approved: bool = False
    kiosk: bool = True  # full screen, no way out by keyboard or gesture
    backlight: Path | None = None  # e.g. /sys/class/backlight/10-0045/brightness, to dim the screen for real
    # Where touches come from: "sdl" (SDL's touch-as-mouse, one finger, any screen), or Kivy reading the
    # touchscreen's /dev/input device itself through "mtdev" or "hidinput" (the Pi's official displays).
    touch: str = "sdl"


@dataclass(frozen=True)
class Settings:
    path: Path
    terminal: TerminalSettings
    acquirer: AcquirerSettings
    secrets: Secrets
    limits: Limits
    cards: CardSettings
    printer: PrinterSettings
    ui: UiSettings
    seed_demo_accounts: bool
    log_level: str
    # A short digest of each section as written, so the audit log can say which sections changed.
    section_digests: dict[str, str]
    # The EMV applications the terminal accepts, with each one's risk parameters ([[emv.aid]]).
    emv_aids: tuple[AidConfig, ...] = DEFAULT_AIDS

    @property
    def journal_path(self) -> Path:
        return self.terminal.data_dir / "journal.sqlite"

    @property
    def log_path(self) -> Path:
        return self.terminal.data_dir / "pos.log"


class _Unrepeatable(ValueError):
    """A refusal whose value must not be shown again (it holds a credential)."""


_MISSING = object()
Parser = Callable[[Any], Any]


class _Reader:
    """Takes keys out of one [section], checking each; whatever is left over is a typo and is refused."""

    def __init__(self, path: Path, data: dict[str, Any], section: str) -> None:
        self.path, self.section = path, section
        raw = data.get(section, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        self.values = dict(raw)

    def get(self, key: str, parse: Parser, default: Any = _MISSING) -> Any:
        if key not in self.values:
            if default is _MISSING:
                raise ConfigError(f"{self.path}: [{self.section}] {key} is required")
            return default
        value = self.values.pop(key)
        try:
            return parse(value)
        except _Unrepeatable as exc:
            raise ConfigError(f"{self.path}: [{self.section}] {key}: {exc}") from None
        except (ValueError, TypeError, AmountError) as exc:
            raise ConfigError(f"{self.path}: [{self.section}] {key}: {exc} (got {value!r})") from None

    def done(self) -> None:
        if self.values:
            raise ConfigError(f"{self.path}: [{self.section}] has an unknown key {sorted(self.values)[0]!r}")


# Control and format characters (Cc, Cf: CR, NUL, ESC, bidi overrides, zero-width joiners) and the Unicode line
# and paragraph separators (Zl, Zp): on a slip or a screen they break lines, move the print head, reorder text
# or hide characters, and in a log they forge lines. No configured text has a use for any of them.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _printable(value: str) -> str:
    if any(unicodedata.category(ch) in _UNPRINTABLE for ch in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _text(pattern: str, what: str) -> Parser:
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be {what}")
        if not re.fullmatch(pattern, _printable(value)):
            raise ValueError(f"must be {what}")
        return value

    return parse


def _integer(low: int, high: int) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return parse


def _number(low: float, high: float) -> Parser:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ValueError(f"must be a number from {low:g} to {high:g}")
        return float(value)

    return parse


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _choice(*options: str) -> Parser:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return str(value)

    return parse


def _https_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an https:// address")
    parts = urlsplit(_printable(value))  # before splitting: urlsplit silently drops tabs and newlines
    if "@" in parts.netloc:
        # Credentials in the address would be written wherever the address is: logs, doctor output, support.
        raise _Unrepeatable("must not carry a user name or password (user:password@)")
    try:
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError:
        port = -1
    if parts.scheme != "https" or not parts.hostname or port == -1 or " " in value:
        raise ValueError("must be an https:// address, like https://acquirer.example:8443")
    return value


def _path(base: Path, must_exist: bool) -> Parser:
    def parse(value: Any) -> Path:
        if not isinstance(value, str) or not value:
            raise ValueError("must be a path")
        _printable(value)
        path = (base / value).resolve() if not Path(value).is_absolute() else Path(value)
        if must_exist and not path.is_file():
            raise ValueError("no such file")
        return path

    return parse


def _money(cur: Currency) -> Parser:
    def parse(value: Any) -> Money:
        if not isinstance(value, str):
            raise ValueError(f'must be an amount in quotes, like "{Money(123456, cur).format()}"')
        return Money.parse(value, cur)

    return parse


def _hex_secret(base: Path, min_bytes: int, sizes: tuple[int, ...] | None = None) -> Parser:
    def parse(value: Any) -> bytes:
        path = _path(base, must_exist=True)(value)
        try:
            text = path.read_text(encoding="ascii").strip()
            key = bytes.fromhex(text)
        except (OSError, UnicodeDecodeError):
            raise ValueError("cannot read the key file") from None
        except ValueError:
            raise ValueError("the key file must hold hex digits") from None
        if len(key) < min_bytes or (sizes and len(key) not in sizes):
            raise ValueError(f"the key file holds a key of the wrong length ({len(key)} bytes)")
        return key

    return parse


SECTIONS = ("terminal", "acquirer", "secrets", "limits", "cards", "printer", "ui", "operators", "logging", "emv")


def load_settings(path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown section [{sorted(unknown)[0]}]")
    base = path.parent.resolve()

    t = _Reader(path, data, "terminal")
    cur = t.get("currency", lambda v: currency(_text(r"[A-Za-z]{3}", "a currency code like CNY")(v)), None)
    if cur is None:
        raise ConfigError(f"{path}: [terminal] currency is required")
    terminal = TerminalSettings(
        terminal_id=t.get("terminal_id", _text(TERMINAL_ID, "8 capital letters or digits")),
        merchant_id=t.get("merchant_id", _text(MERCHANT_ID, "15 capital letters or digits")),
        merchant_name=t.get("merchant_name", _text(r".{1,40}", "1 to 40 characters")),
        currency=cur,
        country_numeric=t.get("country", _integer(1, 999), 156),
        data_dir=t.get("data_dir", _path(base, must_exist=False)),
        training=t.get("training", _boolean, False),
    )
    t.done()

    a = _Reader(path, data, "acquirer")
    acquirer = AcquirerSettings(
        url=a.get("url", _https_url),
        ca_file=a.get("ca_file", _path(base, must_exist=True)),
        client_cert=a.get("client_cert", _path(base, must_exist=True)),
        client_key=a.get("client_key", _path(base, must_exist=True)),
        connect_timeout_s=a.get("connect_timeout_s", _number(0.5, 60), 5.0),
        read_timeout_s=a.get("read_timeout_s", _number(0.5, 120), 15.0),
        retries=a.get("retries", _integer(0, 5), 1),
    )
    a.done()

    s = _Reader(path, data, "secrets")
    secrets = Secrets(
        master_key=s.get("master_key_file", _hex_secret(base, 16, (16, 24, 32))),
        token_secret=s.get("token_secret_file", _hex_secret(base, 32)),
    )
    s.done()

    lim = _Reader(path, data, "limits")
    limits = Limits(
        max_amount=lim.get("max_amount", _money(cur), Money(50_000 * 10**cur.exponent, cur)),
        refund_window_days=lim.get("refund_window_days", _integer(1, 3650), 180),
        preauth_validity_days=lim.get("preauth_validity_days", _integer(1, 365), 30),
    )
    lim.done()

    c = _Reader(path, data, "cards")
    cards = CardSettings(
        source=c.get("source", _choice("simulated", "readers"), "simulated"),
        default_profile=c.get("default_profile", _text(r"[a-z0-9-]{1,40}", "a test card name"), "visa-credit"),
        default_entry=c.get("default_entry", _choice("chip", "contactless", "swipe"), "chip"),
        contactless_limit=c.get("contactless_limit", _money(cur), Money(5_000 * 10**cur.exponent, cur)),
        contactless_cvm_limit=c.get("contactless_cvm_limit", _money(cur), Money(1_000 * 10**cur.exponent, cur)),
        pin_entry=c.get("pin_entry", _choice("simulated", "console"), "simulated"),
        chip_reader=c.get("chip_reader", _text(r"[^\n]{0,80}", "a PC/SC reader name"), None),
        contactless_reader=c.get(
            "contactless_reader", _text(r"(usb|udp|tty)(:[^\s]*)?", "an nfcpy path like usb"), None
        ),
        swipe_device=c.get("swipe_device", _path(base, must_exist=False), None),
        capk_file=c.get("capk_file", _path(base, must_exist=True), None),
    )
    c.done()
    if cards.contactless_cvm_limit > cards.contactless_limit:
        raise ConfigError(f"{path}: [cards] contactless_cvm_limit must not be above contactless_limit")
    if cards.source == "readers" and not (
        cards.chip_reader is not None or cards.contactless_reader or cards.swipe_device
    ):
        raise ConfigError(f'{path}: [cards] source = "readers" needs chip_reader, contactless_reader or swipe_device')
    if cards.source == "simulated" and cards.default_profile not in CARD_PROFILES:
        raise ConfigError(
            f"{path}: [cards] default_profile: no test card called {cards.default_profile!r} "
            f"(known: {', '.join(CARD_PROFILES)})"
        )
    if limits.max_amount.is_zero:
        raise ConfigError(f"{path}: [limits] max_amount must be more than zero")

    printer = _printer(_Reader(path, data, "printer"), base, terminal)
    u = _Reader(path, data, "ui")
    ui = UiSettings(
        screen=u.get("screen", _choice("7inch", "touch-display-2"), "7inch"),
        rotation=u.get("rotation", _choice_int(0, 90, 180, 270), 0),
        language=u.get("language", _choice("zh", "en"), "zh"),
        dim_after_s=u.get("dim_after_s", _integer(5, 3600), 30),
        lock_after_s=u.get("lock_after_s", _integer(30, 86400), 300),
        shuffle_pin_keypad=u.get("shuffle_pin_keypad", _boolean, False),
        touchscreen_pin_approved=u.get("touchscreen_pin_approved", _boolean, False),
        kiosk=u.get("kiosk", _boolean, True),
        backlight=u.get("backlight", _path(base, must_exist=False), None),
        touch=u.get("touch", _choice("sdl", "mtdev", "hidinput"), "sdl"),
    )
    u.done()
    if ui.lock_after_s <= ui.dim_after_s:
        raise ConfigError(f"{path}: [ui] lock_after_s must be longer than dim_after_s")

    o = _Reader(path, data, "operators")
    seed = o.get("seed_demo_accounts", _boolean, False)
    o.done()

    lg = _Reader(path, data, "logging")
    level = lg.get("level", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
    lg.done()

    aids = _emv_aids(path, data, cur)

    digests = {
        name: hashlib.sha256(json.dumps(data.get(name, {}), sort_keys=True, default=str).encode()).hexdigest()[:12]
        for name in SECTIONS
    }
    return Settings(path.resolve(), terminal, acquirer, secrets, limits, cards, printer, ui, seed, level, digests, aids)


def _printer(p: _Reader, base: Path, terminal: TerminalSettings) -> PrinterSettings:
    transport = p.get("transport", _choice("none", "preview", "text", "file", "network", "usb", "serial"), "preview")
    profile = p.get("profile", lambda v: PROFILES[_choice(*PROFILES)(v)], PROFILES[DEFAULT_PROFILE])
    settings = PrinterSettings(
        transport=transport,
        profile=profile,
        host=p.get("host", _text(r"[A-Za-z0-9.:-]{1,253}", "a host name or address"), ""),
        port=p.get("port", _integer(1, 65535), 9100),
        usb_vendor=p.get("usb_vendor", _hex_id, 0),
        usb_product=p.get("usb_product", _hex_id, 0),
        device=p.get("device", _text(r"/[^\s]{1,200}", "a device path like /dev/ttyUSB0"), ""),
        baudrate=p.get("baudrate", _choice_int(9600, 19200, 38400, 57600, 115200), 19200),
        timeout_s=p.get("timeout_s", _number(0.5, 60), 5.0),
        copies=p.get("copies", _integer(2, 3), 2),
        language=p.get("language", _choice("both", "en", "zh"), "both"),
        confirm_between_copies=p.get("confirm_between_copies", _boolean, True),
        preview_dir=p.get("preview_dir", _path(base, must_exist=False), terminal.data_dir / "slips"),
    )
    p.done()
    needs = {"network": ("host", settings.host), "usb": ("usb_vendor", settings.usb_vendor),
             "serial": ("device", settings.device), "file": ("device", settings.device)}  # fmt: skip
    if transport in needs and not needs[transport][1]:
        raise ConfigError(f'{p.path}: [printer] transport = "{transport}" needs {needs[transport][0]}')
    return settings


def _hex_id(value: Any) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9A-Fa-f]{4}", value):
        raise ValueError('must be a USB id in quotes, like "0x0416"')
    return int(value, 16)


def _choice_int(*options: int) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or value not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options))}")
        return int(value)

    return parse


def _hex_bytes(size: int) -> Parser:
    def parse(value: Any) -> bytes:
        if not isinstance(value, str) or not re.fullmatch(f"[0-9A-Fa-f]{{{2 * size}}}", value):
            raise ValueError(f"must be {2 * size} hex digits")
        return bytes.fromhex(value)

    return parse


def _aid_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be one or more [[emv.aid]] tables")
    return value


def _aid_name(value: Any) -> str:
    # An AID is a 5-byte RID and up to 11 bytes of proprietary extension (ISO 7816-5), in whole bytes.
    text: str = _text(r"[0-9A-F]{10,32}", "10 to 32 capital hex digits")(value)
    if len(text) % 2:
        raise ValueError("must be whole bytes (an even number of hex digits)")
    return text


def _emv_aids(path: Path, data: dict[str, Any], cur: Currency) -> tuple[AidConfig, ...]:
    """[[emv.aid]]: the whole AID list, in the order the terminal tries the applications; none given, the defaults."""
    e = _Reader(path, data, "emv")
    entries = e.get("aid", _aid_list, None)
    e.done()
    if entries is None:
        return DEFAULT_AIDS
    aids: list[AidConfig] = []
    for n, entry in enumerate(entries, 1):
        name = f"emv.aid {n}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: [{name}] must be a table")
        aids.append(_aid(_Reader(path, {name: entry}, name), cur))
        if [a.aid for a in aids].count(aids[-1].aid) > 1:
            raise ConfigError(f"{path}: [{name}] aid {aids[-1].aid} is listed twice")
    return tuple(aids)


def _aid(a: _Reader, cur: Currency) -> AidConfig:
    zero, base = Money(0, cur), AidConfig("A000000000", CardBrand.OTHER)  # base: the kernel's default TACs
    entry = AidConfig(
        aid=a.get("aid", _aid_name),
        brand=a.get("brand", lambda v: CardBrand(_choice("visa", "mastercard", "unionpay", "amex", "jcb")(v))),
        funding=a.get("funding", lambda v: Funding(_choice("debit", "credit")(v)), None),
        partial_selection=a.get("partial_selection", _boolean, True),
        version=a.get("version", _hex_bytes(2)),
        tac_denial=a.get("tac_denial", _hex_bytes(5), base.tac_denial),
        tac_online=a.get("tac_online", _hex_bytes(5), base.tac_online),
        tac_default=a.get("tac_default", _hex_bytes(5), base.tac_default),
        floor_limit_minor=a.get("floor_limit", _money(cur), zero).minor,
        random_threshold_minor=a.get("random_threshold", _money(cur), zero).minor,
        random_target_percent=a.get("random_target_percent", _integer(0, 99), 0),
        random_max_percent=a.get("random_max_percent", _integer(0, 99), 0),
    )
    a.done()
    if entry.random_threshold_minor > entry.floor_limit_minor:
        raise ConfigError(f"{a.path}: [{a.section}] random_threshold must not be above floor_limit")
    if entry.random_target_percent > entry.random_max_percent:
        raise ConfigError(f"{a.path}: [{a.section}] random_target_percent must not be above random_max_percent")
    return entry
