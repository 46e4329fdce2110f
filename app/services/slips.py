"""What goes on each slip: sale slips (merchant and customer copies), not-a-receipt slips, settlement slips.

Builds `Receipt` models only; renderers and printers decide how they look on paper or screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.cards import CardBrand, Cvm
from app.domain.money import Currency, Money
from app.domain.receipt import Align, Copy, Line, Pair, Receipt, Rule, SignatureBox, Text
from app.domain.settlement import BatchTotals
from app.domain.transaction import TxnKind, TxnState
from app.journal.records import TxnRecord
from app.journal.settlements import SettlementRecord

COPY_TITLES = {
    Copy.MERCHANT: "MERCHANT COPY 商户存根",
    Copy.CUSTOMER: "CARDHOLDER COPY 持卡人存根",
    Copy.BANK: "BANK COPY 银行存根",
}
ENTRY_LABELS = {
    "chip": "CHIP 插卡",
    "contactless": "CONTACTLESS 挥卡",
    "swipe": "SWIPE 刷卡",
    "fallback": "FALLBACK 降级",
}
STATE_WORDS = {
    TxnState.DECLINED: "DECLINED 交易失败",
    TxnState.REVERSAL_PENDING: "RESULT UNKNOWN - REVERSAL PENDING 结果未知 待冲正",
    TxnState.REVERSED: "CANCELLED - REVERSED 已冲正",
    TxnState.UNANSWERED: "NO ANSWER 无应答",
    TxnState.PENDING: "RESULT UNKNOWN 结果未知",
}
# Cryptogram Information Data (9F27), first nibble: which cryptogram 9F26 holds.
CRYPTOGRAM_TYPES = {"4": "TC", "8": "ARQC", "0": "AAC"}
# An approved transaction that something later acted on: its slip is still a receipt, with a note.
LATER_STATES = {TxnState.VOIDED: "LATER VOIDED 已撤销", TxnState.COMPLETED: "PRE-AUTH COMPLETED 已完成"}


@dataclass(frozen=True)
class Merchant:
    name: str
    merchant_id: str
    terminal_id: str
    currency: Currency
    training: bool


def _local(utc_text: str) -> str:
    moment = datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _header(m: Merchant, title: str, copy: Copy | None) -> list[Line]:
    lines: list[Line] = [Text(m.name, Align.CENTER, bold=True, size=2), Text(title, Align.CENTER, bold=True)]
    if copy in COPY_TITLES:
        lines.append(Text(COPY_TITLES[copy], Align.CENTER))
    if m.training:
        lines.append(Text("TRAINING 演示", Align.CENTER, bold=True, size=2))
    lines += [
        Rule(),
        Pair("MERCHANT ID 商户编号", m.merchant_id),
        Pair("TERMINAL ID 终端编号", m.terminal_id),
    ]
    return lines


def transaction_slip(record: TxnRecord, merchant: Merchant, copy: Copy, *, duplicate: bool = False) -> Receipt:
    """The slip for one transaction. Only an approved one is a receipt for payment; the rest say so."""
    amount = Money(record.amount_minor, merchant.currency)
    lines = _header(merchant, "SALES SLIP 签购单", copy)
    lines.append(Pair("OPERATOR 操作员", record.operator))
    lines.append(Rule())
    if record.masked_pan:
        lines.append(Pair("CARD NO 卡号", record.masked_pan, bold=True))
        brand = CardBrand(record.brand).label if record.brand in set(CardBrand) else (record.brand or "")
        funding = {"debit": "DEBIT 借记卡", "credit": "CREDIT 信用卡"}.get(record.funding or "", "")
        lines.append(Pair("CARD TYPE 卡类别", f"{brand} {funding}".strip()))
        if record.entry_mode:
            lines.append(Pair("ENTRY 输入方式", ENTRY_LABELS.get(record.entry_mode, record.entry_mode)))
        label = bytes.fromhex(record.emv["50"]).decode("ascii", "replace") if "50" in record.emv else ""
        if label:
            lines.append(Pair("APP 应用", label))
        if "84" in record.emv:
            lines.append(Pair("AID", record.emv["84"]))
    lines.append(Text(record.kind.label, bold=True, size=2))
    lines.append(Pair("BATCH NO 批次号", f"{record.batch:06d}"))
    lines.append(Pair("VOUCHER NO 凭证号", f"{record.trace:06d}", bold=True))
    if record.orig_trace:
        lines.append(Pair("ORIG VOUCHER 原凭证号", f"{record.orig_trace:06d}"))
    if record.rrn:
        lines.append(Pair("REF NO 参考号", record.rrn))
    if record.auth_code:
        lines.append(Pair("AUTH NO 授权码", record.auth_code))
    lines.append(Pair("DATE/TIME 日期时间", _local(record.created_at)))
    lines.append(Rule())
    sign = "-" if record.kind in (TxnKind.VOID, TxnKind.REFUND, TxnKind.PREAUTH_VOID) else ""
    if record.kind is TxnKind.BALANCE:
        if record.balance_minor is not None and record.state is TxnState.APPROVED:
            lines.append(Pair("BALANCE 余额", str(Money(record.balance_minor, merchant.currency)), bold=True, size=2))
    else:
        lines.append(Pair("AMOUNT 金额", f"{sign}{amount}", bold=True, size=2))
    if "9F26" in record.emv:
        kind_of_cryptogram = CRYPTOGRAM_TYPES.get(record.emv.get("9F27", "80")[:1], "ARQC")
        lines.append(Pair(kind_of_cryptogram, record.emv["9F26"]))
    for tag, label in (("9F36", "ATC"), ("95", "TVR")):
        if tag in record.emv:
            lines.append(Pair(label, record.emv[tag]))
    lines.append(Rule())
    if record.state in LATER_STATES:
        lines.append(Text(LATER_STATES[record.state], Align.CENTER, bold=True))
    if record.state not in (TxnState.APPROVED, *LATER_STATES):
        lines.append(Text(STATE_WORDS.get(record.state, record.state.value.upper()), Align.CENTER, bold=True))
        lines.append(Text("NOT A RECEIPT FOR PAYMENT 非支付凭证", Align.CENTER, bold=True))
        if record.reason:
            lines.append(Text(record.reason))
    elif copy is Copy.MERCHANT and record.cvm == Cvm.SIGNATURE.value:
        lines.append(SignatureBox("CARDHOLDER SIGNATURE 持卡人签名"))
        lines.append(Text("I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES"))
        lines.append(Text("本人确认以上交易，同意将其记入本卡账户"))
    elif record.cvm in (Cvm.ONLINE_PIN.value, Cvm.OFFLINE_PIN.value):
        lines.append(Text("PIN VERIFIED 密码验证", Align.CENTER))
    elif record.cvm == Cvm.NO_CVM.value:
        lines.append(Text("NO SIGNATURE REQUIRED 免签", Align.CENTER))
    if duplicate:
        lines.append(Text("DUPLICATE 重打印", Align.CENTER, bold=True, size=2))
    suffix = "-dup" if duplicate else ""
    return Receipt(f"{record.trace:06d}-{copy.value}{suffix}", copy, tuple(lines))


def settlement_slip(settlement: SettlementRecord, merchant: Merchant) -> Receipt:
    """结算单: counts and totals of the batch by type and by card, and whether the acquirer agreed."""
    lines = _header(merchant, "SETTLEMENT 结算单", None)
    lines.append(Pair("BATCH NO 批次号", f"{settlement.batch:06d}", bold=True))
    lines.append(Pair("STARTED 开始", _local(settlement.started_at)))
    if settlement.finished_at:
        lines.append(Pair("SETTLED 结算时间", _local(settlement.finished_at)))
    if settlement.first_trace:
        lines.append(Pair("VOUCHERS 凭证号", f"{settlement.first_trace:06d}-{settlement.last_trace or 0:06d}"))
    lines += _totals_lines(settlement.terminal_totals, merchant.currency)
    lines.append(Rule("="))
    if settlement.matched:
        lines.append(Text("TOTALS MATCH ACQUIRER 对账平", Align.CENTER, bold=True))
    elif settlement.matched is False:
        lines.append(Text("TOTALS DIFFER FROM ACQUIRER 对账不平", Align.CENTER, bold=True))
        for d in settlement.differences:
            lines.append(Text(f"{d.trace:06d} terminal: {d.terminal or '-'}"))
            lines.append(Text(f"       acquirer: {d.acquirer or '-'}"))
        if settlement.acquirer_totals:
            lines.append(Text("ACQUIRER TOTALS 收单行总计", bold=True))
            lines += _totals_lines(settlement.acquirer_totals, merchant.currency)
    else:
        lines.append(Text("SETTLEMENT NOT FINISHED 结算未完成", Align.CENTER, bold=True))
    return Receipt(f"settlement-{settlement.batch:06d}", Copy.REPORT, tuple(lines))


KIND_ORDER = (
    TxnKind.SALE,
    TxnKind.COMPLETION,
    TxnKind.REFUND,
    TxnKind.VOID,
    TxnKind.PREAUTH,
    TxnKind.PREAUTH_VOID,
)


def _totals_lines(totals: BatchTotals, cur: Currency) -> list[Line]:
    lines: list[Line] = [Rule(), Pair("TYPE 类型  COUNT 笔数", "AMOUNT 金额", bold=True)]
    for kind in KIND_ORDER:
        line = totals.by_kind.get(kind.value)
        if line:
            lines.append(Pair(f"{kind.label}  x{line.count}", Money(line.amount_minor, cur).format()))
    if totals.by_card:
        lines.append(Rule())
        lines.append(Text("BY CARD 按卡类别", bold=True))
        for key, line in sorted(totals.by_card.items()):
            brand, _, funding = key.partition("/")
            label = CardBrand(brand).label if brand in set(CardBrand) else brand.upper()
            sign = "-" if line.amount_minor < 0 else ""
            lines.append(
                Pair(
                    f"{label} {funding.upper()}  x{line.count}",
                    sign + Money(abs(line.amount_minor), cur).format(),
                )
            )
    lines.append(Rule())
    net = totals.net_minor
    lines.append(Pair("NET 净额", f"{'-' if net < 0 else ''}{Money(abs(net), cur)}", bold=True, size=2))
    return lines
