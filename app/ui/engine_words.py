"""The engine's progress lines (English, from `ctx.say` in app/services) in words for the counter, both languages.

The engine speaks plain English for its log and the CLI; the screen shows the same moment in the cashier's
language. A line this table does not know is shown as it is: better untranslated than hidden.
"""

from __future__ import annotations

import re

from app.ui import i18n

# (what the line starts with, the words for it); named groups carry the numbers into the words.
_LINES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"Present the card", "engine_present"),
        (r"Signing on", "engine_signing_on"),
        (r"Waiting for the acquirer", "engine_waiting"),
        (r"Sending reversal for voucher (?P<voucher>\d+)", "engine_reversal"),
        (r"Settling batch (?P<batch>\d+) after the batch upload", "engine_settling_after_upload"),
        (r"Settling batch (?P<batch>\d+)", "engine_settling"),
        (r"Uploading (?P<count>\d+) transactions of batch (?P<batch>\d+)", "engine_uploading"),
        # A refusal, not progress: shown on the result screen when a sale is refused for the clock.
        (
            r"the clock says (?P<now>[\d-]+ [\d:]+) UTC, earlier than the journal's last transaction at "
            r"(?P<latest>[\d-]+ [\d:]+) UTC",
            "engine_clock_behind",
        ),
        (r"the journal cannot be written: disk full", "engine_disk_full"),
    )
)

# The line the engine says just before it sends a request for money: from here on, Cancel cannot stop it.
SENDING = "Waiting for the acquirer"


def known(line: str) -> bool:
    return any(pattern.match(line) for pattern, _key in _LINES)


def words(line: str, lang: str) -> str:
    for pattern, key in _LINES:
        found = pattern.match(line)
        if found:
            return i18n.tr(key, lang, **found.groupdict())
    return line


def is_asking_for_card(line: str) -> bool:
    return line.startswith("Present the card")


def is_sending(line: str) -> bool:
    return line.startswith(SENDING)


i18n.add(
    {
        "engine_present": ("Waiting for the card: insert, tap or swipe", "等待刷卡：请插卡、挥卡或刷卡"),
        "engine_signing_on": ("Signing on to the acquirer…", "正在向收单机构签到…"),
        "engine_waiting": ("Sent: waiting for the acquirer's answer…", "已发送，等待收单机构应答…"),
        "engine_reversal": ("Sending a reversal for voucher {voucher}…", "正在发送凭证号 {voucher} 的冲正…"),
        "engine_settling": ("Settling batch {batch}…", "正在结算批次 {batch}…"),
        "engine_settling_after_upload": (
            "Settling batch {batch} again after uploading its transactions…",
            "批次 {batch} 明细已上送，正在重新结算…",
        ),
        "engine_uploading": (
            "Uploading {count} transactions of batch {batch}…",
            "正在上送批次 {batch} 的 {count} 笔交易…",
        ),
        "engine_clock_behind": (
            "The clock says {now} UTC, earlier than the last transaction at {latest} UTC. Set the date and time "
            "right: no sales, refunds or settlement until then.",
            "终端时钟为 {now} UTC，早于最后一笔交易的时间 {latest} UTC。"
            "请先校正日期和时间，校正前不能消费、退货或结算。",
        ),
        "engine_disk_full": (
            "The journal cannot be written: the disk is full. No sale is possible until space is freed.",
            "交易记录无法写入：存储已满。释放空间前不能交易。",
        ),
    }
)
