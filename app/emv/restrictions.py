"""Processing restrictions (EMV Book 3, 10.4): application version, usage control, effective and expiry dates."""

from __future__ import annotations

from datetime import date

from app.emv.tvr import Bits, TvrBit

# Application Usage Control (9F07), first byte: the bits a merchant terminal taking goods and services checks.
AUC_DOMESTIC_GOODS, AUC_INTERNATIONAL_GOODS = 0x20, 0x10
AUC_DOMESTIC_SERVICES, AUC_INTERNATIONAL_SERVICES = 0x08, 0x04
AUC_NOT_ATM = 0x01


def yymmdd(value: bytes) -> date | None:
    text = value.hex()
    try:
        return date(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def check(tags: dict[str, bytes], tvr: Bits, today: date, terminal_version: bytes, terminal_country: bytes) -> None:
    card_version = tags.get("9F08")
    if card_version is not None and card_version != terminal_version:
        tvr.set(TvrBit.VERSIONS_DIFFER)
    auc = tags.get("9F07")
    if auc is not None and len(auc) == 2:
        domestic = tags.get("5F28") == terminal_country
        goods = AUC_DOMESTIC_GOODS if domestic else AUC_INTERNATIONAL_GOODS
        services = AUC_DOMESTIC_SERVICES if domestic else AUC_INTERNATIONAL_SERVICES
        if not auc[0] & AUC_NOT_ATM or not auc[0] & (goods | services):
            tvr.set(TvrBit.SERVICE_NOT_ALLOWED)
    effective = yymmdd(tags.get("5F25", b""))
    if effective is not None and effective > today:
        tvr.set(TvrBit.NOT_YET_EFFECTIVE)
    expiry = yymmdd(tags.get("5F24", b""))
    if expiry is None or expiry < today:
        tvr.set(TvrBit.EXPIRED)
