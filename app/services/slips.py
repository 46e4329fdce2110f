"""What goes on each slip: sale slips (merchant, customer and bank copies), not-a-receipt slips, settlement
slips (结算单) and the transaction detail list (明细).

Builds `Receipt` models only; renderers and printers decide how they look on paper or screen. Every label is in
English and Chinese; the terminal prints one of them or both (`[printer] language`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.cards import CardBrand, Cvm
from app.domain.money import Currency, Money
from app.domain.receipt import Align, Copy, Line, Pair, Qr, Receipt, Rule, SignatureBox, Text
from app.domain.settlement import BatchTotals
from app.domain.transaction import TxnKind, TxnState
from app.journal.records import TxnRecord
from app.journal.settlements import SettlementRecord

WORDS: dict[str, tuple[str, str]] = {
    "sales_slip": ("SALES SLIP", "签购单"),
    "record": ("TRANSACTION RECORD", "交易记录"),
    "settlement": ("SETTLEMENT", "结算单"),
    "detail": ("TRANSACTION DETAIL", "交易明细"),
    "merchant_copy": ("MERCHANT COPY", "商户存根"),
    "customer_copy": ("CARDHOLDER COPY", "持卡人存根"),
    "bank_copy": ("BANK COPY", "银行存根"),
    "training": ("TRAINING", "演示"),
    "merchant_id": ("MERCHANT ID", "商户编号"),
    "terminal_id": ("TERMINAL ID", "终端编号"),
    "operator": ("OPERATOR", "操作员"),
    "card_no": ("CARD NO", "卡号"),
    "card_type": ("CARD TYPE", "卡类别"),
    "entry": ("ENTRY", "输入方式"),
    "app": ("APP", "应用"),
    "batch": ("BATCH NO", "批次号"),
    "voucher": ("VOUCHER NO", "凭证号"),
    "orig_voucher": ("ORIG VOUCHER", "原凭证号"),
    "reference": ("REF NO", "参考号"),
    "auth": ("AUTH NO", "授权码"),
    "datetime": ("DATE/TIME", "日期时间"),
    "amount": ("AMOUNT", "金额"),
    "balance": ("BALANCE", "余额"),
    "signature": ("CARDHOLDER SIGNATURE", "持卡人签名"),
    "acknowledge": (
        "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES",
        "本人确认以上交易，同意将其记入本卡账户",
    ),
    "pin_verified": ("PIN VERIFIED", "密码验证"),
    "no_signature": ("NO SIGNATURE REQUIRED", "免签"),
    "not_a_receipt": ("NOT A RECEIPT FOR PAYMENT", "非支付凭证"),
    "duplicate": ("DUPLICATE", "重打印"),
    "debit": ("DEBIT", "借记卡"),
    "credit": ("CREDIT", "信用卡"),
    "chip": ("CHIP", "插卡"),
    "contactless": ("CONTACTLESS", "挥卡"),
    "swipe": ("SWIPE", "刷卡"),
    "fallback": ("FALLBACK", "降级"),
    "declined": ("DECLINED", "交易失败"),
    "unknown_pending": ("RESULT UNKNOWN - REVERSAL PENDING", "结果未知 待冲正"),
    "reversed": ("CANCELLED - REVERSED", "已冲正"),
    "unanswered": ("NO ANSWER", "无应答"),
    "unknown": ("RESULT UNKNOWN", "结果未知"),
    "later_voided": ("LATER VOIDED", "已撤销"),
    "later_completed": ("PRE-AUTH COMPLETED", "已完成"),
    "started": ("STARTED", "开始"),
    "settled_at": ("SETTLED", "结算时间"),
    "vouchers": ("VOUCHERS", "凭证号"),
    "type_count": ("TYPE COUNT", "类型 笔数"),
    "by_card": ("BY CARD", "按卡类别"),
    "net": ("NET", "净额"),
    "matched": ("TOTALS MATCH ACQUIRER", "对账平"),
    "differ": ("TOTALS DIFFER FROM ACQUIRER", "对账不平"),
    "acquirer_totals": ("ACQUIRER TOTALS", "收单行总计"),
    "terminal_side": ("TERMINAL", "终端"),
    "acquirer_side": ("ACQUIRER", "收单行"),
    "unfinished": ("SETTLEMENT NOT FINISHED", "结算未完成"),
    "count": ("TRANSACTIONS", "笔数"),
    "sale": ("SALE", "消费"),
    "void": ("VOID", "撤销"),
    "refund": ("REFUND", "退货"),
    "preauth": ("PRE-AUTH", "预授权"),
    "completion": ("PRE-AUTH COMPLETION", "预授权完成"),
    "preauth_void": ("PRE-AUTH VOID", "预授权撤销"),
    "balance_inquiry": ("BALANCE", "余额查询"),
    "printer_test": ("PRINTER TEST", "打印测试"),
    "printer_works": ("IF YOU CAN READ THIS, THE PRINTER WORKS", "能看清此页即打印正常"),
    "diagnostics": ("DIAGNOSTICS", "诊断报告"),
    "version": ("VERSION", "版本"),
    "printed_at": ("PRINTED", "打印时间"),
    "next_voucher": ("NEXT VOUCHER", "下一凭证号"),
    "last_settlement": ("LAST SETTLEMENT", "上次结算"),
    "none": ("NONE", "无"),
    "unreadable": ("UNREADABLE", "无法读取"),
    "sales_blocked": ("SALES DISABLED", "已停止交易"),
    "all_passed": ("ALL CHECKS PASSED", "自检全部通过"),
    "some_failed": ("CHECKS FAILED", "自检未通过"),
    "check_ok": ("OK", "正常"),
    "check_warn": ("WARN", "注意"),
    "check_fail": ("FAIL", "故障"),
    "part_card readers": ("CARD READERS", "读卡器"),
    "part_chip reader": ("CHIP READER", "接触式读卡器"),
    "part_contactless reader": ("CONTACTLESS READER", "非接读卡器"),
    "part_swipe reader": ("SWIPE READER", "磁条读卡器"),
    "part_printer": ("PRINTER", "打印机"),
    "part_acquirer": ("ACQUIRER", "收单行连接"),
    "part_client certificate": ("CLIENT CERTIFICATE", "终端证书"),
    "part_acquirer CA": ("ACQUIRER CA", "收单行根证书"),
    "part_clock": ("CLOCK", "时钟"),
    "part_journal": ("JOURNAL", "交易日志"),
    "part_disk": ("DISK", "存储空间"),
}
KIND_KEYS = {
    TxnKind.SALE: "sale",
    TxnKind.VOID: "void",
    TxnKind.REFUND: "refund",
    TxnKind.PREAUTH: "preauth",
    TxnKind.COMPLETION: "completion",
    TxnKind.PREAUTH_VOID: "preauth_void",
    TxnKind.BALANCE: "balance_inquiry",
}
COPY_KEYS = {Copy.MERCHANT: "merchant_copy", Copy.CUSTOMER: "customer_copy", Copy.BANK: "bank_copy"}
STATE_KEYS = {
    TxnState.DECLINED: "declined",
    TxnState.REVERSAL_PENDING: "unknown_pending",
    TxnState.REVERSED: "reversed",
    TxnState.UNANSWERED: "unanswered",
    TxnState.PENDING: "unknown",
}
# An approved transaction that something later acted on: its slip is still a receipt, with a note.
LATER_KEYS = {TxnState.VOIDED: "later_voided", TxnState.COMPLETED: "later_completed"}
# Cryptogram Information Data (9F27), first nibble: which cryptogram 9F26 holds.
CRYPTOGRAM_TYPES = {"4": "TC", "8": "ARQC", "0": "AAC"}
CREDIT_KINDS = (TxnKind.VOID, TxnKind.REFUND, TxnKind.PREAUTH_VOID)
LANGUAGES = ("both", "en", "zh")


@dataclass(frozen=True)
class Merchant:
    name: str
    merchant_id: str
    terminal_id: str
    currency: Currency
    training: bool
    language: str = "both"

    def say(self, key: str) -> str:
        english, chinese = WORDS[key]
        if self.language == "en":
            return english
        if self.language == "zh":
            return chinese
        return f"{english} {chinese}"


def _local(utc_text: str) -> str:
    moment = datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _signed(minor: int, cur: Currency, with_code: bool = False) -> str:
    """One way to write a sign on every slip: "-CNY 172.55" and "-172.55", never "CNY -172.55"."""
    money = Money(abs(minor), cur)
    return f"{'-' if minor < 0 else ''}{money if with_code else money.format()}"


def _header(m: Merchant, title: str, copy: Copy | None) -> list[Line]:
    lines: list[Line] = [Text(m.name, Align.CENTER, bold=True, size=2), Text(m.say(title), Align.CENTER, bold=True)]
    if copy in COPY_KEYS:
        lines.append(Text(m.say(COPY_KEYS[copy]), Align.CENTER))
    if m.training:
        lines.append(Text(m.say("training"), Align.CENTER, bold=True, size=2))
    lines += [Rule(), Pair(m.say("merchant_id"), m.merchant_id), Pair(m.say("terminal_id"), m.terminal_id)]
    return lines


def transaction_slip(record: TxnRecord, merchant: Merchant, copy: Copy, *, duplicate: bool = False) -> Receipt:
    """The slip for one transaction. Only an approved one is a receipt for payment; the rest say so."""
    m = merchant
    receipt = record.state in (TxnState.APPROVED, *LATER_KEYS)
    lines = _header(m, "sales_slip" if receipt else "record", copy)
    if not receipt:  # said first and last, so nobody takes it for a paid slip
        lines.append(Text(m.say("not_a_receipt"), Align.CENTER, bold=True))
    lines.append(Pair(m.say("operator"), record.operator))
    lines.append(Rule())
    lines += _card_lines(record, m)
    lines.append(Text(m.say(KIND_KEYS[record.kind]), bold=True, size=2))
    lines.append(Pair(m.say("batch"), f"{record.batch:06d}"))
    lines.append(Pair(m.say("voucher"), f"{record.trace:06d}", bold=True))
    if record.orig_trace:
        lines.append(Pair(m.say("orig_voucher"), f"{record.orig_trace:06d}"))
    if record.rrn:
        lines.append(Pair(m.say("reference"), record.rrn))
    if record.auth_code:
        lines.append(Pair(m.say("auth"), record.auth_code))
    lines.append(Pair(m.say("datetime"), _local(record.created_at)))
    lines.append(Rule())
    lines += _amount_lines(record, m)
    lines += _emv_lines(record)
    lines.append(Rule())
    lines += _verdict_lines(record, m, copy)
    if copy is Copy.CUSTOMER and record.rrn:
        # Lets a shop find the transaction again from the customer's slip (refunds, disputes).
        lines.append(Qr(f"KPOS:{m.terminal_id}:{record.batch:06d}:{record.trace:06d}:{record.rrn}"))
    if duplicate:
        lines.append(Text(m.say("duplicate"), Align.CENTER, bold=True, size=2))
    suffix = "-dup" if duplicate else ""
    return Receipt(f"{record.trace:06d}-{copy.value}{suffix}", copy, tuple(lines))


def _card_lines(record: TxnRecord, m: Merchant) -> list[Line]:
    if not record.masked_pan:
        return []
    lines: list[Line] = [Pair(m.say("card_no"), record.masked_pan, bold=True)]
    brand = CardBrand(record.brand).label if record.brand in set(CardBrand) else (record.brand or "")
    funding = m.say(record.funding) if record.funding in ("debit", "credit") else ""
    lines.append(Pair(m.say("card_type"), f"{brand} {funding}".strip()))
    if record.entry_mode in ("chip", "contactless", "swipe", "fallback"):
        lines.append(Pair(m.say("entry"), m.say(record.entry_mode)))
    label = bytes.fromhex(record.emv["50"]).decode("ascii", "replace") if "50" in record.emv else ""
    if label:
        lines.append(Pair(m.say("app"), label))
    if "84" in record.emv:
        lines.append(Pair("AID", record.emv["84"]))
    return lines


def _amount_lines(record: TxnRecord, m: Merchant) -> list[Line]:
    if record.kind is TxnKind.BALANCE:
        if record.balance_minor is not None and record.state is TxnState.APPROVED:
            balance = _signed(record.balance_minor, m.currency, with_code=True)
            return [Pair(m.say("balance"), balance, bold=True, size=2)]
        return []
    sign = "-" if record.kind in CREDIT_KINDS else ""
    amount = Money(record.amount_minor, m.currency)
    return [Pair(m.say("amount"), f"{sign}{amount}", bold=True, size=2)]


def _emv_lines(record: TxnRecord) -> list[Line]:
    lines: list[Line] = []
    if "9F26" in record.emv:
        kind_of_cryptogram = CRYPTOGRAM_TYPES.get(record.emv.get("9F27", "80")[:1], "ARQC")
        lines.append(Pair(kind_of_cryptogram, record.emv["9F26"]))
    for tag, label in (("9F36", "ATC"), ("95", "TVR"), ("9B", "TSI")):
        if tag in record.emv:
            lines.append(Pair(label, record.emv[tag]))
    return lines


def _verdict_lines(record: TxnRecord, m: Merchant, copy: Copy) -> list[Line]:
    lines: list[Line] = []
    if record.state in LATER_KEYS:
        lines.append(Text(m.say(LATER_KEYS[record.state]), Align.CENTER, bold=True))
    if record.state not in (TxnState.APPROVED, *LATER_KEYS):
        lines.append(Text(m.say(STATE_KEYS.get(record.state, "unknown")), Align.CENTER, bold=True))
        lines.append(Text(m.say("not_a_receipt"), Align.CENTER, bold=True))
        if record.reason:
            lines.append(Text(record.reason))
    elif copy is Copy.MERCHANT and record.cvm == Cvm.SIGNATURE.value:
        lines.append(SignatureBox(m.say("signature")))
        lines.append(Text(m.say("acknowledge")))
    elif record.cvm in (Cvm.ONLINE_PIN.value, Cvm.OFFLINE_PIN.value):
        lines.append(Text(m.say("pin_verified"), Align.CENTER))
    elif record.cvm == Cvm.NO_CVM.value:
        lines.append(Text(m.say("no_signature"), Align.CENTER))
    return lines


def settlement_slip(settlement: SettlementRecord, merchant: Merchant) -> Receipt:
    """结算单: counts and totals of the batch by type and by card, and whether the acquirer agreed."""
    m = merchant
    lines = _header(m, "settlement", None)
    lines.append(Pair(m.say("batch"), f"{settlement.batch:06d}", bold=True))
    lines.append(Pair(m.say("started"), _local(settlement.started_at)))
    if settlement.finished_at:
        lines.append(Pair(m.say("settled_at"), _local(settlement.finished_at)))
    if settlement.first_trace:
        lines.append(Pair(m.say("vouchers"), f"{settlement.first_trace:06d}-{settlement.last_trace or 0:06d}"))
    lines += _totals_lines(settlement.terminal_totals, m)
    lines.append(Rule("="))
    if settlement.matched:
        lines.append(Text(m.say("matched"), Align.CENTER, bold=True))
    elif settlement.matched is False:
        lines.append(Text(m.say("differ"), Align.CENTER, bold=True))
        for d in settlement.differences:
            lines.append(Text(f"{m.say('voucher')} {d.trace:06d}", bold=True))
            lines.append(Pair(m.say("terminal_side"), _side(d.terminal, m)))
            lines.append(Pair(m.say("acquirer_side"), _side(d.acquirer, m)))
        if settlement.acquirer_totals:
            lines.append(Text(m.say("acquirer_totals"), bold=True))
            lines += _totals_lines(settlement.acquirer_totals, m)
    else:
        lines.append(Text(m.say("unfinished"), Align.CENTER, bold=True))
    return Receipt(f"settlement-{settlement.batch:06d}", Copy.REPORT, tuple(lines))


def _side(described: str | None, m: Merchant) -> str:
    """How one side saw a transaction ("sale approved 12345", as the protocol has it) in the slip's words."""
    if not described:
        return "-"
    kind, _, rest = described.partition(" ")
    state, _, minor = rest.partition(" ")
    if kind not in set(TxnKind) or not re.fullmatch(r"[0-9]{1,12}", minor):
        return described
    state_word = m.say(STATE_KEYS[TxnState(state)]) if state in STATE_KEYS else state
    return f"{m.say(KIND_KEYS[TxnKind(kind)])} {state_word} {Money(int(minor), m.currency).format()}"


KIND_ORDER = (TxnKind.SALE, TxnKind.COMPLETION, TxnKind.REFUND, TxnKind.VOID, TxnKind.PREAUTH, TxnKind.PREAUTH_VOID)


def _totals_lines(totals: BatchTotals, m: Merchant) -> list[Line]:
    cur = m.currency
    lines: list[Line] = [Rule(), Pair(m.say("type_count"), m.say("amount"), bold=True)]
    for kind in KIND_ORDER:
        line = totals.by_kind.get(kind.value)
        if line:
            lines.append(Pair(f"{m.say(KIND_KEYS[kind])} x{line.count}", Money(line.amount_minor, cur).format()))
    if totals.by_card:
        lines.append(Rule())
        lines.append(Text(m.say("by_card"), bold=True))
        for key, line in sorted(totals.by_card.items()):
            brand, _, funding = key.partition("/")
            label = CardBrand(brand).label if brand in set(CardBrand) else brand.upper()
            funding_word = m.say(funding) if funding in ("debit", "credit") else funding.upper()
            lines.append(Pair(f"{label} {funding_word} x{line.count}", _signed(line.amount_minor, cur)))
    lines.append(Rule())
    lines.append(Pair(m.say("net"), _signed(totals.net_minor, cur, with_code=True), bold=True, size=2))
    return lines


def detail_slip(records: Iterable[TxnRecord], batch: int, merchant: Merchant) -> Receipt:
    """明细: every transaction of a batch, one or two lines each, for checking against the till."""
    m = merchant
    lines = _header(m, "detail", None)
    lines.append(Pair(m.say("batch"), f"{batch:06d}", bold=True))
    lines.append(Rule())
    count = 0
    for r in sorted(records, key=lambda r: r.trace):
        count += 1
        note = (
            ""
            if r.state is TxnState.APPROVED
            else " " + m.say(LATER_KEYS.get(r.state) or STATE_KEYS.get(r.state, "unknown"))
        )
        amount = ("-" if r.kind in CREDIT_KINDS else "") + Money(r.amount_minor, m.currency).format()
        lines.append(Pair(f"{r.trace:06d} {m.say(KIND_KEYS[r.kind])}", amount))
        lines.append(Text(f"  {r.masked_pan or '-'} {_local(r.created_at)[5:16]}{note}"))
    lines.append(Rule())
    lines.append(Pair(m.say("count"), str(count), bold=True))
    return Receipt(f"detail-{batch:06d}", Copy.REPORT, tuple(lines))


def printer_test_slip(merchant: Merchant, now: datetime) -> Receipt:
    """打印测试: every style the other slips use (sizes, bold, both scripts, a QR), so a fault shows here first."""
    m = merchant
    lines = _header(m, "printer_test", None)
    lines += [
        Pair(m.say("printed_at"), now.strftime("%Y-%m-%d %H:%M:%S")),
        Rule(),
        Text("ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789"),
        Text("abcdefghijklmnopqrstuvwxyz - / : . # *"),
        Text("中文打印测试 签购单 商户存根 持卡人存根"),
        Text(m.say("printer_test"), bold=True, size=2),  # no amount anywhere: nobody may take this for a receipt
        Qr(f"KPOS:{m.terminal_id}:TEST"),
        Rule("="),
        Text(m.say("printer_works"), Align.CENTER, bold=True),
    ]
    return Receipt(f"printer-test-{now:%Y%m%d-%H%M%S}", Copy.REPORT, tuple(lines))


@dataclass(frozen=True)
class DiagnosticsFacts:
    """What the diagnostics slip says about the terminal besides the checks. None: the journal could not say."""

    version: str
    batch: int | None
    next_trace: int | None
    last_settlement: SettlementRecord | None
    sales_blocked: str | None


class CheckResult(Protocol):
    """A self-test check as the slip reads it (app.services.health.Check)."""

    @property
    def name(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def warning(self) -> bool: ...
    @property
    def detail(self) -> str: ...


def diagnostics_slip(
    checks: Iterable[CheckResult], facts: DiagnosticsFacts, merchant: Merchant, now: datetime
) -> Receipt:
    """诊断报告 for support: every self-test check and the terminal's counters. Nothing secret, no card numbers."""
    m = merchant
    results = list(checks)
    lines = _header(m, "diagnostics", None)
    lines.append(Pair(m.say("version"), facts.version))
    lines.append(Pair(m.say("printed_at"), now.strftime("%Y-%m-%d %H:%M:%S")))
    lines.append(Pair(m.say("batch"), f"{facts.batch:06d}" if facts.batch is not None else m.say("unreadable")))
    trace = f"{facts.next_trace:06d}" if facts.next_trace is not None else m.say("unreadable")
    lines.append(Pair(m.say("next_voucher"), trace))
    lines.append(Pair(m.say("last_settlement"), _last_settlement(facts.last_settlement, m)))
    if facts.sales_blocked:
        lines.append(Text(m.say("sales_blocked"), Align.CENTER, bold=True, size=2))
        lines.append(Text(facts.sales_blocked))
    lines.append(Rule())
    for check in results:
        mark = "check_fail" if not check.ok else "check_warn" if check.warning else "check_ok"
        part = m.say(f"part_{check.name}") if f"part_{check.name}" in WORDS else check.name.upper()
        lines.append(Pair(part, m.say(mark), bold=not check.ok))
        lines.append(Text(check.detail.removeprefix(f"{check.name}: ")))  # the line above names the part
    lines.append(Rule("="))
    verdict = "all_passed" if all(c.ok for c in results) else "some_failed"
    lines.append(Text(m.say(verdict), Align.CENTER, bold=True))
    return Receipt(f"diagnostics-{now:%Y%m%d-%H%M%S}", Copy.REPORT, tuple(lines))


def _last_settlement(record: SettlementRecord | None, m: Merchant) -> str:
    if record is None:
        return m.say("none")
    when = _local(record.finished_at)[:16] if record.finished_at else m.say("unfinished")
    return f"{record.batch:06d} {when}"
