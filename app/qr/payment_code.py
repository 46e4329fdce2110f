"""Customer-presented payment codes (付款码, "B扫C"): which wallet a code belongs to, and its masked form.

The wallet is recognised from the code alone, by the issuers' published shapes:
WeChat Pay 18 digits starting 10-15, Alipay 16-24 digits starting 25-30, UnionPay 云闪付 19 digits starting 62.
A code is a one-time token, but it is still handled like a card number: only the masked form (first 4, last 4)
is ever logged, shown or kept.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from app.qr.errors import QrError


class Wallet(enum.Enum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"


# (wallet, pattern of the whole code). Prefixes do not overlap, so the order does not matter.
_SHAPES: tuple[tuple[Wallet, re.Pattern[str]], ...] = (
    (Wallet.WECHAT, re.compile(r"1[0-5][0-9]{16}")),
    (Wallet.ALIPAY, re.compile(r"(2[5-9]|30)[0-9]{14,22}")),
    (Wallet.UNIONPAY, re.compile(r"62[0-9]{17}")),
)

NOT_A_PAYMENT_CODE = "not a WeChat Pay, Alipay or UnionPay payment code: nothing was charged, scan the code again"
NOT_A_PAYMENT_CODE_ZH = "不是微信、支付宝或云闪付的付款码：未扣款，请重新扫码"


def mask(code: str) -> str:
    """First 4 and last 4 characters; the rest as '*'. Short input is masked entirely."""
    if len(code) <= 8:
        return "*" * len(code)
    return code[:4] + "*" * (len(code) - 8) + code[-4:]


@dataclass(frozen=True, repr=False)
class PaymentCode:
    """A recognised payment code. `code` is for the acquirer request only; repr and str show the masked form."""

    wallet: Wallet
    code: str = field(repr=False)

    @property
    def masked(self) -> str:
        return mask(self.code)

    def __repr__(self) -> str:
        return f"PaymentCode({self.wallet.name}, {self.masked})"

    __str__ = __repr__


def recognise(text: str) -> PaymentCode:
    """The payment code in a scanned or typed line (surrounding blanks are ignored). Raises QrError for anything
    that is not one, without echoing it."""
    code = text.strip()
    # [0-9] and not isdigit(): full-width and other Unicode digits are not what a wallet app draws.
    for wallet, shape in _SHAPES:
        if shape.fullmatch(code):
            return PaymentCode(wallet, code)
    raise QrError(NOT_A_PAYMENT_CODE, NOT_A_PAYMENT_CODE_ZH)
