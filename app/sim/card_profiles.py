"""The built-in test cards: what a simulated card holds and what the simulated issuer knows about it.

These PANs are public test numbers. Their issuer master keys are test keys; the cryptograms computed from them
are real, so the acquirer simulator verifies every ARQC exactly as an issuer host would.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.cards import CardBrand, Cvm, Funding, brand_of

# Demo/test issuer master keys (AC). Never used for anything but these test cards.
_TEST_IMK_VISA = "0123456789ABCDEFFEDCBA9876543210"
_TEST_IMK_MC = "9E15204313F7318ACB79B90BD986AD29"
_TEST_IMK_CUP = "C1D0F8FB4958670DBA40AB1F3752EF0D"

AID_VISA = "A0000000031010"
AID_MASTERCARD = "A0000000041010"
AID_UNIONPAY_DEBIT = "A000000333010101"
AID_UNIONPAY_CREDIT = "A000000333010102"


@dataclass(frozen=True)
class CardProfile:
    name: str
    description: str
    pan: str
    expiry: str  # YYMM
    psn: str
    cvn: int
    imk_ac: str  # hex
    pin: str
    funding: Funding
    app_label: str
    aid: str
    chip: bool
    contactless: bool
    chip_cvm: Cvm  # what the card's CVM list settles on for chip above any CVM limit
    balance_minor: int

    @property
    def brand(self) -> CardBrand:
        return brand_of(self.pan)

    @property
    def service_code(self) -> str:
        return "201" if self.chip else "101"

    @property
    def track2(self) -> str:
        """Track 2 as the stripe carries it (PAN = expiry service-code discretionary)."""
        return f"{self.pan}={self.expiry}{self.service_code}0000000000"


CARD_PROFILES: dict[str, CardProfile] = {
    c.name: c
    for c in (
        CardProfile(
            "visa-credit",
            "Visa credit, chip and contactless, signature",
            "4761739001010010",
            "2812",
            "01",
            18,
            _TEST_IMK_VISA,
            "1234",
            Funding.CREDIT,
            "VISA CREDIT",
            AID_VISA,
            True,
            True,
            Cvm.SIGNATURE,
            2_000_000,
        ),
        CardProfile(
            "visa-debit",
            "Visa debit, chip and contactless, online PIN 1234",
            "4761739001010119",
            "2812",
            "01",
            10,
            _TEST_IMK_VISA,
            "1234",
            Funding.DEBIT,
            "VISA DEBIT",
            AID_VISA,
            True,
            True,
            Cvm.ONLINE_PIN,
            300_000,
        ),
        CardProfile(
            "mastercard-debit",
            "Mastercard debit, chip and contactless, online PIN 1234",
            "5413330089010608",
            "2712",
            "00",
            16,
            _TEST_IMK_MC,
            "1234",
            Funding.DEBIT,
            "DEBIT MASTERCARD",
            AID_MASTERCARD,
            True,
            True,
            Cvm.ONLINE_PIN,
            500_000,
        ),
        CardProfile(
            "mastercard-credit",
            "Mastercard credit, chip, signature",
            "5413330089010616",
            "2712",
            "00",
            17,
            _TEST_IMK_MC,
            "1234",
            Funding.CREDIT,
            "MASTERCARD",
            AID_MASTERCARD,
            True,
            False,
            Cvm.SIGNATURE,
            1_000_000,
        ),
        CardProfile(
            "unionpay-debit",
            "UnionPay debit 借记卡, chip and QuickPass, online PIN 123456",
            "6250947000000014",
            "3012",
            "01",
            18,
            _TEST_IMK_CUP,
            "123456",
            Funding.DEBIT,
            "UnionPay Debit",
            AID_UNIONPAY_DEBIT,
            True,
            True,
            Cvm.ONLINE_PIN,
            100_000,
        ),
        CardProfile(
            "unionpay-credit",
            "UnionPay credit 信用卡, chip, signature",
            "6250946000000016",
            "3012",
            "01",
            22,
            _TEST_IMK_CUP,
            "123456",
            Funding.CREDIT,
            "UnionPay Credit",
            AID_UNIONPAY_CREDIT,
            True,
            False,
            Cvm.SIGNATURE,
            5_000_000,
        ),
        CardProfile(
            "magstripe-visa",
            "Visa credit, magnetic stripe only, signature",
            "4000000000000002",
            "2812",
            "00",
            10,
            _TEST_IMK_VISA,
            "1234",
            Funding.CREDIT,
            "VISA",
            AID_VISA,
            False,
            False,
            Cvm.SIGNATURE,
            1_000_000,
        ),
        CardProfile(
            "expired-visa",
            "Visa credit that expired in January 2024",
            "4761739001010218",
            "2401",
            "01",
            18,
            _TEST_IMK_VISA,
            "1234",
            Funding.CREDIT,
            "VISA CREDIT",
            AID_VISA,
            True,
            True,
            Cvm.SIGNATURE,
            1_000_000,
        ),
    )
}

DEFAULT_CARD_PROFILE = "visa-credit"


def card_profile(name: str) -> CardProfile:
    try:
        return CARD_PROFILES[name]
    except KeyError:
        raise KeyError(f"no test card profile called {name!r} (known: {', '.join(CARD_PROFILES)})") from None
