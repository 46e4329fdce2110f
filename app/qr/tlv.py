"""The ID / length / value objects of an EMVCo QR payload (EMV QRCPS Merchant-Presented Mode, section 4).

Each object is a two-digit ID, a two-digit length and that many characters of value. Lengths count characters,
not bytes (the published example's language template holds Chinese and counts each character once); the CRC is
taken over the UTF-8 bytes. This module only splits and joins one level; what the IDs mean is in mpm.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.qr.errors import QrError

HEADER = 4  # two digits of ID, two of length


@dataclass(frozen=True)
class DataObject:
    id: str
    value: str

    def encode(self) -> str:
        return f"{self.id}{len(self.value):02d}{self.value}"


def bad_payload(en: str, zh: str) -> QrError:
    """One line for a payload that cannot be read; says where, never repeats payment data."""
    return QrError(f"not a valid payment QR code: {en}", f"不是有效的支付二维码：{zh}")


def split(text: str, template: str | None = None) -> tuple[DataObject, ...]:
    """The objects of one level, in order: the payload's, or those inside the template with that ID."""
    where, where_zh = ("the payload", "二维码") if template is None else (f"template {template}", f"模板 {template}")
    objects: list[DataObject] = []
    seen: set[str] = set()
    at = 0
    while at < len(text):
        header = text[at : at + HEADER]
        if len(header) < HEADER or not _digits(header):
            raise bad_payload(
                f"{where} has a broken object header at character {at}", f"{where_zh}第 {at} 个字符处的数据对象头无效"
            )
        object_id, length = header[:2], int(header[2:])
        if length == 0:
            raise bad_payload(f"object {object_id} in {where} is empty", f"{where_zh}中的数据对象 {object_id} 为空")
        value = text[at + HEADER : at + HEADER + length]
        if len(value) < length:
            raise bad_payload(
                f"object {object_id} in {where} is longer than what is left of it",
                f"{where_zh}中的数据对象 {object_id} 长度超出剩余内容",
            )
        if object_id in seen:
            raise bad_payload(
                f"object {object_id} appears twice in {where}", f"数据对象 {object_id} 在{where_zh}中重复"
            )
        seen.add(object_id)
        objects.append(DataObject(object_id, value))
        at += HEADER + length
    return tuple(objects)


def join(objects: tuple[DataObject, ...] | list[DataObject]) -> str:
    return "".join(item.encode() for item in objects)


def _digits(text: str) -> bool:
    # Not str.isdigit(): that also accepts full-width and other Unicode digits.
    return all("0" <= char <= "9" for char in text)
