"""Acquirer response codes (ISO 8583 field 39 values) and what a cashier should be told about each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResponseMeaning:
    english: str
    chinese: str
    advice: str  # what the cashier can do next


APPROVED = "00"

RESPONSE_CODES: dict[str, ResponseMeaning] = {
    "00": ResponseMeaning("Approved", "交易成功", ""),
    "01": ResponseMeaning("Refer to card issuer", "请持卡人与发卡行联系", "Ask the customer to call their bank."),
    "05": ResponseMeaning("Do not honour", "不予承兑", "Ask for another card or another way to pay."),
    "12": ResponseMeaning("Invalid transaction", "无效交易", "This card cannot be used for this transaction."),
    "13": ResponseMeaning("Invalid amount", "无效金额", "Check the amount and try again."),
    "14": ResponseMeaning("Invalid card number", "无效卡号", "Ask for another card."),
    "25": ResponseMeaning("Original transaction not found", "找不到原始交易", "Check the voucher number."),
    "30": ResponseMeaning("Message format error", "报文格式错误", "Try again; if it repeats, call support."),
    "51": ResponseMeaning("Insufficient funds", "余额不足", "Ask for another card or a smaller amount."),
    "54": ResponseMeaning("Expired card", "过期卡", "Ask for another card."),
    "55": ResponseMeaning("Incorrect PIN", "密码错", "Ask the customer to try the PIN again."),
    "58": ResponseMeaning("Not permitted to terminal", "终端无效", "Call the acquirer's support line."),
    "61": ResponseMeaning("Exceeds amount limit", "超出金额限制", "Ask for another card or a smaller amount."),
    "64": ResponseMeaning("Amount does not match original", "原始金额错误", "Check the amount of the original."),
    "75": ResponseMeaning("PIN tries exceeded", "密码错误次数超限", "Ask for another card."),
    "91": ResponseMeaning("Issuer unavailable", "发卡方不能操作", "Try again in a moment, or ask for another card."),
    "94": ResponseMeaning("Duplicate transmission", "重复交易", "Check the journal before trying again."),
    "95": ResponseMeaning("Reconciliation error", "对账不平", "The terminal uploads the batch and settles again."),
    "96": ResponseMeaning("Acquirer system error", "系统故障", "Try again in a moment."),
    "A0": ResponseMeaning("MAC check failed", "MAC校验错", "Sign in again to refresh the keys."),
}


def meaning(code: str) -> ResponseMeaning:
    return RESPONSE_CODES.get(code, ResponseMeaning(f"Declined (code {code})", f"交易失败 ({code})", ""))
