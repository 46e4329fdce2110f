"""Acquirer response codes (ISO 8583 field 39 values) and what a cashier should be told about each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResponseMeaning:
    english: str
    chinese: str
    advice: str  # what the cashier can do next
    advice_zh: str  # the same advice, for a Chinese-speaking cashier


APPROVED = "00"

RESPONSE_CODES: dict[str, ResponseMeaning] = {
    "00": ResponseMeaning("Approved", "交易成功", "", ""),
    "01": ResponseMeaning(
        "Refer to card issuer", "请持卡人与发卡行联系", "Ask the customer to call their bank.", "请持卡人致电发卡银行。"
    ),
    "05": ResponseMeaning(
        "Do not honour", "不予承兑", "Ask for another card or another way to pay.", "请换一张卡或换一种付款方式。"
    ),
    "12": ResponseMeaning(
        "Invalid transaction", "无效交易", "This card cannot be used for this transaction.", "此卡不能用于本交易。"
    ),
    "13": ResponseMeaning("Invalid amount", "无效金额", "Check the amount and try again.", "请核对金额后重试。"),
    "14": ResponseMeaning("Invalid card number", "无效卡号", "Ask for another card.", "请换一张卡。"),
    "25": ResponseMeaning(
        "Original transaction not found", "找不到原始交易", "Check the voucher number.", "请核对凭证号。"
    ),
    "30": ResponseMeaning(
        "Message format error",
        "报文格式错误",
        "Try again; if it repeats, call support.",
        "请重试；如果反复出现，请联系客服。",
    ),
    "51": ResponseMeaning(
        "Insufficient funds", "余额不足", "Ask for another card or a smaller amount.", "请换一张卡或减少金额。"
    ),
    "54": ResponseMeaning("Expired card", "过期卡", "Ask for another card.", "请换一张卡。"),
    "55": ResponseMeaning(
        "Incorrect PIN", "密码错", "Ask the customer to try the PIN again.", "请持卡人重新输入密码。"
    ),
    "58": ResponseMeaning(
        "Not permitted to terminal", "终端无效", "Call the acquirer's support line.", "请致电收单机构客服。"
    ),
    "61": ResponseMeaning(
        "Exceeds amount limit", "超出金额限制", "Ask for another card or a smaller amount.", "请换一张卡或减少金额。"
    ),
    "64": ResponseMeaning(
        "Amount does not match original", "原始金额错误", "Check the amount of the original.", "请核对原交易金额。"
    ),
    "75": ResponseMeaning("PIN tries exceeded", "密码错误次数超限", "Ask for another card.", "请换一张卡。"),
    "91": ResponseMeaning(
        "Issuer unavailable",
        "发卡方不能操作",
        "Try again in a moment, or ask for another card.",
        "请稍后重试，或换一张卡。",
    ),
    "94": ResponseMeaning(
        "Duplicate transmission", "重复交易", "Check the journal before trying again.", "重试前请先查询交易记录。"
    ),
    "95": ResponseMeaning(
        "Reconciliation error",
        "对账不平",
        "The terminal uploads the batch and settles again.",
        "终端会上送批次明细并重新结算。",
    ),
    "96": ResponseMeaning("Acquirer system error", "系统故障", "Try again in a moment.", "请稍后重试。"),
    "A0": ResponseMeaning(
        "MAC check failed", "MAC校验错", "Sign in again to refresh the keys.", "请重新签到以更新密钥。"
    ),
}


def meaning(code: str) -> ResponseMeaning:
    return RESPONSE_CODES.get(code, ResponseMeaning(f"Declined (code {code})", f"交易失败 ({code})", "", ""))
