"""The terminal's EMV parameters: which applications it accepts and how it judges risk for each."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.cards import CardBrand, Funding
from app.emv.capk import TEST_KEYS, CapkStore


@dataclass(frozen=True)
class AidConfig:
    aid: str
    brand: CardBrand
    funding: Funding | None = None  # None: decided from the card (its label)
    partial_selection: bool = True
    version: bytes = b"\x00\x8c"  # 9F09, the application version the terminal implements
    # Terminal action codes (Book 3, 10.7): bit for bit against the TVR.
    tac_denial: bytes = bytes.fromhex("0010000000")
    tac_online: bytes = bytes.fromhex("DC4004F800")
    tac_default: bytes = bytes.fromhex("DC4000A800")
    floor_limit_minor: int = 0  # an online-only counter: everything goes online
    random_threshold_minor: int = 0
    random_target_percent: int = 0
    random_max_percent: int = 0


# The terminal's AID list when the configuration gives none ([[emv.aid]] in terminal.toml replaces it whole).
# Application versions (9F09) are the schemes' current contact ones: Visa VIS 1.6 0096 (Electron and V PAY are
# Visa applications), Mastercard M/Chip 0002 (Maestro too), UnionPay PBOC 3.0 0030. Maestro, Visa Electron and
# V PAY are debit-only brands; UnionPay's quasi-credit card (准贷记卡) is a credit product.
DEFAULT_AIDS: tuple[AidConfig, ...] = (
    AidConfig("A0000000031010", CardBrand.VISA, version=b"\x00\x96"),
    AidConfig("A0000000032010", CardBrand.VISA, Funding.DEBIT, version=b"\x00\x96"),  # Visa Electron
    AidConfig("A0000000032020", CardBrand.VISA, Funding.DEBIT, version=b"\x00\x96"),  # V PAY
    AidConfig("A0000000041010", CardBrand.MASTERCARD, version=b"\x00\x02"),
    AidConfig("A0000000043060", CardBrand.MASTERCARD, Funding.DEBIT, version=b"\x00\x02"),  # Maestro
    AidConfig("A000000333010101", CardBrand.UNIONPAY, Funding.DEBIT, version=b"\x00\x30"),
    AidConfig("A000000333010102", CardBrand.UNIONPAY, Funding.CREDIT, version=b"\x00\x30"),
    AidConfig("A000000333010103", CardBrand.UNIONPAY, Funding.CREDIT, version=b"\x00\x30"),  # quasi-credit
)


@dataclass(frozen=True)
class KernelConfig:
    aids: tuple[AidConfig, ...] = DEFAULT_AIDS
    capks: CapkStore = field(default_factory=lambda: CapkStore.load(TEST_KEYS))
    # 9F33: manual key entry, magstripe, IC; plaintext PIN by ICC, enciphered PIN online, signature, no CVM;
    # SDA, DDA, CDA.
    capabilities: bytes = bytes.fromhex("E0E8C8")
    additional_capabilities: bytes = bytes.fromhex("6000F0A001")  # 9F40: goods, services
    terminal_type: int = 0x22  # attended, online with offline capability, merchant
    merchant_category_code: str = "5999"
    contactless_transaction_limit_minor: int = 500_000
    contactless_cvm_limit_minor: int = 100_000

    def aid(self, aid: str) -> AidConfig | None:
        """The terminal AID an application matches: exactly, or by prefix when partial selection is allowed."""
        for entry in self.aids:
            if aid == entry.aid or (entry.partial_selection and aid.startswith(entry.aid)):
                return entry
        return None

    def aid_for_brand(self, brand: CardBrand) -> AidConfig | None:
        return next((entry for entry in self.aids if entry.brand is brand), None)

    def supports_cvm(self, code: int) -> bool:
        cvm = code & 0x3F
        caps = self.capabilities[1]
        return {
            0x01: bool(caps & 0x80),  # plaintext PIN for ICC verification
            0x02: bool(caps & 0x40),  # enciphered PIN online
            0x03: bool(caps & 0x80) and bool(caps & 0x20),  # plaintext PIN and signature
            0x04: bool(caps & 0x10),  # enciphered PIN for ICC verification
            0x05: bool(caps & 0x10) and bool(caps & 0x20),
            0x1E: bool(caps & 0x20),  # signature
            0x1F: bool(caps & 0x08),  # no CVM required
        }.get(cvm, False)
