"""The EMVCo merchant-presented QR payload ("C扫B"): build one for an order, read one back.

EMV® QR Code Specification for Payment Systems: Merchant-Presented Mode, v1.1. The terminal draws a dynamic code
(point of initiation 12) for one order: merchant account information in a template 26-51 (UnionPay and the
aggregators each name theirs with a globally unique ID in sub-object 00), MCC, currency 156, the amount, country
CN, merchant name (at most 25 characters) and city (at most 15), the order reference in the additional data
template 62, and CRC-16/CCITT-FALSE in 63 over everything before it including "6304". The parser is strict
so that a code the terminal draws is one every wallet reads: anything off is one QrError, and nothing else.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from app.domain.money import CURRENCIES, Currency
from app.qr.errors import QrError
from app.qr.tlv import DataObject, bad_payload, join, split

FORMAT, INITIATION = "00", "01"
MCC, CURRENCY, AMOUNT, COUNTRY, NAME, CITY, POSTAL_CODE = "52", "53", "54", "58", "59", "60", "61"
ADDITIONAL, CRC, LANGUAGE = "62", "63", "64"
STATIC, DYNAMIC = "11", "12"
# Sub-objects of template 62 (additional data).
BILL_NUMBER, STORE_LABEL, REFERENCE_LABEL, TERMINAL_LABEL = "01", "03", "05", "07"

ACCOUNT_PRIMITIVES = frozenset(f"{n:02d}" for n in range(2, 26))  # reserved for card schemes
ACCOUNT_TEMPLATES = frozenset(f"{n:02d}" for n in range(26, 52))
UNRESERVED_TEMPLATES = frozenset(f"{n:02d}" for n in range(80, 100))
TEMPLATES = ACCOUNT_TEMPLATES | UNRESERVED_TEMPLATES | {ADDITIONAL, LANGUAGE}

MAX_PAYLOAD = 512  # characters, the specification's limit for the whole payload
CRC_OBJECT_HEAD = CRC + "04"
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")
# Field -> (longest value, English name, Chinese name): the limits the specification sets.
_LIMITS: dict[str, tuple[int, str, str]] = {
    NAME: (25, "merchant name", "商户名称"),
    CITY: (15, "merchant city", "商户所在城市"),
    POSTAL_CODE: (10, "postal code", "邮政编码"),
    AMOUNT: (13, "amount", "金额"),
}
_ADDITIONAL_LIMIT = 25  # each primitive of template 62 (the specification: ans, up to 25)


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) of the UTF-8 bytes, as four
    upper-case hex digits: binascii.crc_hqx is exactly that CRC when started at 0xFFFF."""
    return f"{binascii.crc_hqx(text.encode('utf-8'), 0xFFFF):04X}"


@dataclass(frozen=True)
class MerchantAccount:
    """Merchant account information: the template ID the acquirer or aggregator uses (26-51), its globally unique
    identifier (an AID such as UnionPay's, or a reverse domain name) and its own sub-objects (01-99)."""

    template_id: str
    unique_id: str
    fields: tuple[tuple[str, str], ...] = ()

    def encode(self) -> DataObject:
        inner = [DataObject("00", self.unique_id), *(DataObject(i, v) for i, v in self.fields)]
        return DataObject(self.template_id, _join_checked(inner, self.template_id))


@dataclass(frozen=True)
class DynamicOrder:
    """What the terminal puts in the code it draws for one order. Money in integer minor units."""

    account: MerchantAccount
    mcc: str
    amount_minor: int
    merchant_name: str
    merchant_city: str
    order_reference: str
    terminal_label: str | None = None
    currency: Currency = CURRENCIES["CNY"]
    country: str = "CN"


@dataclass(frozen=True)
class MerchantPresented:
    """A payload read back and checked. Templates keep their sub-objects by ID; everything as written."""

    dynamic: bool
    accounts: Mapping[str, Mapping[str, str] | str]
    mcc: str
    currency: Currency
    amount: str | None
    country: str
    merchant_name: str
    merchant_city: str
    additional: Mapping[str, str] = field(default_factory=dict)
    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def amount_minor(self) -> int | None:
        """The amount in minor units, from its text by integer arithmetic (never a float)."""
        if self.amount is None:
            return None
        whole, _, fraction = self.amount.partition(".")
        return int(whole + fraction.ljust(self.currency.exponent, "0"))

    @property
    def order_reference(self) -> str | None:
        return self.additional.get(REFERENCE_LABEL)


def build(order: DynamicOrder) -> str:
    """The payload for an order, CRC included. Raises QrError when the order cannot be put in a valid code; the
    result is read back by `parse`, so what is drawn is what the parser accepts."""
    if order.account.template_id not in ACCOUNT_TEMPLATES:
        raise bad_payload("merchant account template must be 26 to 51", "商户账户信息模板编号须为 26 至 51")
    if order.amount_minor <= 0:
        raise bad_payload("the amount must be more than zero", "金额必须大于零")
    additional = [DataObject(REFERENCE_LABEL, order.order_reference)]
    if order.terminal_label is not None:
        additional.append(DataObject(TERMINAL_LABEL, order.terminal_label))
    objects = [
        DataObject(FORMAT, "01"),
        DataObject(INITIATION, DYNAMIC),
        order.account.encode(),
        DataObject(MCC, order.mcc),
        DataObject(CURRENCY, order.currency.numeric_text),
        DataObject(AMOUNT, _amount_text(order.amount_minor, order.currency)),
        DataObject(COUNTRY, order.country),
        DataObject(NAME, order.merchant_name),
        DataObject(CITY, order.merchant_city),
        DataObject(ADDITIONAL, _join_checked(additional, ADDITIONAL)),
    ]
    body = _join_checked(objects, None) + CRC_OBJECT_HEAD
    payload = body + crc16(body)
    parse(payload)
    return payload


def parse(payload: str) -> MerchantPresented:
    """Read and check a payload. Raises QrError (one line) for a bad CRC, a bad length, a character the field
    does not allow, a missing mandatory object or a value out of the specification's range."""
    if len(payload) > MAX_PAYLOAD:
        raise bad_payload(f"longer than {MAX_PAYLOAD} characters", f"超过 {MAX_PAYLOAD} 个字符")
    objects = split(payload)
    _check_crc(payload, objects)
    top = {item.id: item.value for item in objects}
    if objects[0].id != FORMAT or objects[0].value != "01":
        raise bad_payload("it does not start with payload format 01", "开头不是载荷格式 01")
    nested = {item.id: split(item.value, item.id) for item in objects if item.id in TEMPLATES}
    _check_characters(objects, nested)
    for object_id, name, name_zh in (
        (MCC, "merchant category code", "商户类别码"),
        (CURRENCY, "currency", "币种"),
        (COUNTRY, "country", "国家代码"),
        (NAME, "merchant name", "商户名称"),
        (CITY, "merchant city", "商户所在城市"),
    ):
        if object_id not in top:
            raise bad_payload(f"the {name} ({object_id}) is missing", f"缺少{name_zh}（{object_id}）")
    for object_id, (limit, name, name_zh) in _LIMITS.items():
        if len(top.get(object_id, "")) > limit:
            raise bad_payload(
                f"the {name} ({object_id}) is longer than {limit} characters",
                f"{name_zh}（{object_id}）超过 {limit} 个字符",
            )
    initiation = top.get(INITIATION, STATIC)
    if initiation not in (STATIC, DYNAMIC):
        raise bad_payload("point of initiation must be 11 or 12", "发起方式须为 11 或 12")
    accounts = _accounts(objects, nested)
    if not _numeric(top[MCC], 4):
        raise bad_payload("the merchant category code (52) must be 4 digits", "商户类别码（52）须为 4 位数字")
    currency = _currency(top[CURRENCY])
    amount = top.get(AMOUNT)
    if amount is not None:
        _check_amount(amount, currency)
    if re.fullmatch(r"[A-Z]{2}", top[COUNTRY]) is None:
        raise bad_payload("the country (58) must be two capital letters", "国家代码（58）须为两个大写字母")
    additional = {sub.id: sub.value for sub in nested.get(ADDITIONAL, ())}
    for sub_id, value in additional.items():
        if len(value) > _ADDITIONAL_LIMIT and int(sub_id) < 50:
            raise bad_payload(
                f"additional data {sub_id} (in 62) is longer than {_ADDITIONAL_LIMIT} characters",
                f"附加数据 {sub_id}（62 中）超过 {_ADDITIONAL_LIMIT} 个字符",
            )
    return MerchantPresented(
        dynamic=initiation == DYNAMIC,
        accounts=MappingProxyType(accounts),
        mcc=top[MCC],
        currency=currency,
        amount=amount,
        country=top[COUNTRY],
        merchant_name=top[NAME],
        merchant_city=top[CITY],
        additional=MappingProxyType(additional),
        templates=MappingProxyType(
            {tid: MappingProxyType({sub.id: sub.value for sub in subs}) for tid, subs in nested.items()}
        ),
    )


# -- checks ------------------------------------------------------------------------------------------------------


def _check_crc(payload: str, objects: tuple[DataObject, ...]) -> None:
    last = objects[-1] if objects else None
    if last is None or last.id != CRC or len(last.value) != 4:
        raise bad_payload("it does not end with a CRC (63, 4 characters)", "结尾没有校验码（63，4 个字符）")
    if last.value.upper() != crc16(payload[:-4]):
        raise bad_payload("the CRC does not match: the code is damaged", "校验码不符：二维码已损坏")


def _check_characters(objects: tuple[DataObject, ...], nested: Mapping[str, tuple[DataObject, ...]]) -> None:
    """Everything is printable ASCII except the texts of the language template (64), which may be any script."""
    for item in objects:
        if item.id == LANGUAGE:
            for sub in nested[LANGUAGE]:
                if sub.id == "00" and not _ascii(sub.value):
                    raise _not_ascii("64.00")
        elif item.id in nested:
            for sub in nested[item.id]:
                if not _ascii(sub.value):
                    raise _not_ascii(f"{item.id}.{sub.id}")
        elif not _ascii(item.value):
            raise _not_ascii(item.id)


def _accounts(
    objects: tuple[DataObject, ...], nested: Mapping[str, tuple[DataObject, ...]]
) -> dict[str, Mapping[str, str] | str]:
    accounts: dict[str, Mapping[str, str] | str] = {}
    for item in objects:
        if item.id in ACCOUNT_PRIMITIVES:
            accounts[item.id] = item.value
        elif item.id in ACCOUNT_TEMPLATES:
            subs = {sub.id: sub.value for sub in nested[item.id]}
            if "00" not in subs:
                raise bad_payload(
                    f"merchant account template {item.id} has no unique identifier (00)",
                    f"商户账户信息模板 {item.id} 缺少唯一标识（00）",
                )
            accounts[item.id] = MappingProxyType(subs)
    if not accounts:
        raise bad_payload("it has no merchant account information (02-51)", "缺少商户账户信息（02-51）")
    return accounts


def _currency(numeric: str) -> Currency:
    if not _numeric(numeric, 3):
        raise bad_payload("the currency (53) must be 3 digits", "币种（53）须为 3 位数字")
    for currency in CURRENCIES.values():
        if currency.numeric_text == numeric:
            return currency
    raise bad_payload(f"currency {numeric} is not one this terminal takes", f"本终端不受理币种 {numeric}")


def _check_amount(amount: str, currency: Currency) -> None:
    whole, dot, fraction = amount.partition(".")
    if (
        _AMOUNT.fullmatch(amount) is None
        or len(fraction) > currency.exponent
        or (dot and currency.exponent == 0)
        or int(whole + fraction or "0") == 0
    ):
        raise bad_payload(
            f"the amount (54) is not a positive amount in {currency.code}",
            f"金额（54）不是有效的 {currency.code} 正数金额",
        )


def _amount_text(minor: int, currency: Currency) -> str:
    if currency.exponent == 0:
        return str(minor)
    units, cents = divmod(minor, 10**currency.exponent)
    return f"{units}.{cents:0{currency.exponent}d}"


def _join_checked(objects: list[DataObject], template: str | None) -> str:
    for item in objects:
        if not 1 <= len(item.value) <= 99:
            where = "" if template is None else f" in template {template}"
            where_zh = "" if template is None else f"（模板 {template} 中）"
            raise bad_payload(
                f"object {item.id}{where} must be 1 to 99 characters", f"数据对象 {item.id}{where_zh}长度须为 1 至 99"
            )
    return join(objects)


def _not_ascii(where: str) -> QrError:
    return bad_payload(
        f"object {where} has characters other than printable ASCII", f"数据对象 {where} 含有非 ASCII 可打印字符"
    )


def _ascii(text: str) -> bool:
    return all(" " <= char <= "~" for char in text)


def _numeric(text: str, length: int) -> bool:
    return len(text) == length and all("0" <= char <= "9" for char in text)
