"""One online transaction, start to finish: the only place a request for money is sent.

    1. commit the intent (trace allocated, reversal armed)            -- fsync 1
    2. send it; check the answer's MAC, trace, terminal, amount
    3. give a chip card the answer; it accepts (TC) or refuses (AAC)
    4. commit the outcome                                             -- fsync 2
    5. only now show it and print it

No valid answer, a card that refuses an approval, or anything else that fails between steps 1 and 4 (an
exception of any type, an outcome the disk will not take) commits REVERSAL_PENDING if it can and reverses at
once (best effort; recovery keeps trying, and finds the row still PENDING if even that commit failed).
Nothing is shown as approved unless step 4 committed APPROVED.
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from dataclasses import dataclass, replace
from typing import Any

from app.crypto import seal
from app.devices.card import CardError, CardRead, CardSession, HostAnswer
from app.domain.money import Money, currency
from app.domain.responses import APPROVED, meaning
from app.domain.transaction import TxnKind, TxnState
from app.emv.tlv import TlvError, icc_hex, split_scripts
from app.faults import checkpoint
from app.host.client import HostBadAnswer, HostError
from app.host.protocol import AUTH_CODE, HEX, RESPONSE_CODE, RRN, MessageType, ProtocolError, int_field, text_field
from app.journal.records import CardSummary, Intent, Outcome, TxnRecord
from app.journal.store import NO_SALE, JournalWriteFailed
from app.services.context import Context
from app.services.errors import PosError
from app.services.recovery import Recovery
from app.services.results import STATUS_OF_STATE, TxnResult

log = logging.getLogger(__name__)

JOURNAL_CATCHES_UP = "the terminal brings its journal up to date when it next starts"

MESSAGE_OF_KIND = {
    TxnKind.SALE: MessageType.AUTHORISE,
    TxnKind.PREAUTH: MessageType.AUTHORISE,
    TxnKind.BALANCE: MessageType.AUTHORISE,
    TxnKind.COMPLETION: MessageType.COMPLETION,
    TxnKind.VOID: MessageType.VOID,
    TxnKind.REFUND: MessageType.REFUND,
    TxnKind.PREAUTH_VOID: MessageType.PREAUTH_VOID,
}
# Kinds where the chip card gets the acquirer's answer and has the last word (second GENERATE AC).
CARD_DECIDES = (TxnKind.SALE, TxnKind.PREAUTH)


@dataclass(frozen=True)
class OnlineRequest:
    kind: TxnKind
    amount_minor: int
    operator: str
    card: CardSession | None = None  # the card presented for this transaction, if any
    card_summary: CardSummary | None = None  # what to journal about the card (inherited for reference kinds)
    original: TxnRecord | None = None
    original_becomes: TxnState | None = None
    supervisor: str | None = None


@dataclass(frozen=True)
class _Answer:
    code: str
    auth_code: str | None
    rrn: str | None
    icc: dict[str, str]
    balance_minor: int | None
    text: str
    scripts: tuple[bytes, ...] = ()

    @property
    def approved(self) -> bool:
        return self.code == APPROVED


def summarise(card: CardRead, token: str) -> CardSummary:
    return CardSummary(
        card.masked_pan,
        token,
        card.brand.value,
        card.funding.value,
        card.entry_mode.value,
        card.cvm.value,
        card.slip_emv(),
    )


class OnlineTransaction:
    def __init__(self, ctx: Context, recovery: Recovery) -> None:
        self.ctx = ctx
        self.recovery = recovery

    def run(self, req: OnlineRequest) -> TxnResult:
        ctx = self.ctx
        now = ctx.now()
        intent = Intent(
            req.kind,
            req.amount_minor,
            ctx.settings.terminal.currency.code,
            req.operator,
            uuid.uuid4().hex,
            now,
            now.date().isoformat(),
            req.card_summary,
            req.original.trace if req.original else None,
            req.supervisor,
        )
        try:
            record = ctx.journal.txns.record_intent(intent)
        except JournalWriteFailed as exc:
            raise PosError(f"{exc} — {NO_SALE}") from None  # nothing was sent
        checkpoint("before_send")
        ctx.say("Waiting for the acquirer")
        # From here until the outcome is committed the acquirer may have moved money the journal does not show.
        # Whatever goes wrong in this window, of whatever type (a hostile answer that breaks a parser, a disk
        # that cannot take the outcome), is an unknown outcome, reversed at once: never an error to the cashier.
        try:
            record, acquirer_text = self._send_and_commit(req, record)
        except HostError as exc:
            return self._unknown(req, record, str(exc), f"no valid answer from the acquirer: {exc}")
        except Exception as exc:  # noqa: BLE001 -- any type at all: that is the point of the window
            log.error("voucher %06d: outcome not committed (%s)\n%s", record.trace, type(exc).__name__, _where(exc))
            why = _unhandled(exc)
            return self._unknown(req, record, why, why)
        checkpoint("after_commit")
        if record.state is TxnState.REVERSAL_PENDING:
            return self._reverse(req, record, acquirer_text)
        return self._finish(req, record, acquirer_text)

    def _send_and_commit(self, req: OnlineRequest, record: TxnRecord) -> tuple[TxnRecord, str]:
        answer = self._exchange(req, record)
        checkpoint("after_response")
        outcome = self._outcome(req, answer)
        original = None
        if outcome.state is TxnState.APPROVED and req.original and req.original_becomes:
            original = (req.original.trace, req.original_becomes)
        return self.ctx.journal.txns.record_outcome(record.trace, outcome, self.ctx.now(), original), answer.text

    # -- the exchange ---------------------------------------------------------------------------------------

    def _exchange(self, req: OnlineRequest, record: TxnRecord) -> _Answer:
        host = self.ctx.host
        fields: dict[str, Any] = {
            "stan": record.trace,
            "batch": record.batch,
            "txn": {"kind": req.kind.value, "amount_minor": record.amount_minor, "currency": record.currency},
        }
        if req.card is not None:
            fields["card"] = self._card_block(req.card.card, record)
        if req.original is not None:
            o = req.original
            fields["orig"] = {
                "stan": o.trace,
                "batch": o.batch,
                "amount_minor": o.amount_minor,
                "auth_code": o.auth_code,
                "rrn": o.rrn,
            }
        body = host.envelope(MESSAGE_OF_KIND[req.kind], record.idempotency_key, **fields)
        raw = host.exchange(MESSAGE_OF_KIND[req.kind], body)
        try:
            return self._parse(raw, record)
        except (ProtocolError, TlvError) as exc:
            raise HostBadAnswer(f"acquirer answer refused: {exc}") from None

    def _card_block(self, card: CardRead, record: TxnRecord) -> dict[str, Any]:
        keys = self.ctx.host.require_keys()
        s = card.sensitive
        secret = json.dumps({"pan": s.pan, "expiry": s.expiry, "psn": s.psn, "track2": s.track2}).encode()
        context = f"{self.ctx.settings.terminal.terminal_id}|{record.idempotency_key}".encode()
        return {
            "entry_mode": card.entry_mode.value,
            "masked_pan": card.masked_pan,
            "brand": card.brand.value,
            "funding": card.funding.value,
            "sealed": seal(keys.data, secret, context),
            "pin_block": card.pin_block.hex().upper() if card.pin_block else None,
            "icc": icc_hex(card.icc) if card.icc else None,
        }

    @staticmethod
    def _parse(raw: dict[str, Any], record: TxnRecord) -> _Answer:
        code = text_field(raw, "response_code", RESPONSE_CODE)
        approved = code == APPROVED
        if approved and (raw.get("amount_minor") != record.amount_minor or raw.get("currency") != record.currency):
            raise ProtocolError("the approved amount is not the amount we asked for")
        icc_text = text_field(raw, "icc", HEX, optional=True)
        tags, scripts = split_scripts(icc_text) if icc_text else ({}, ())
        icc = {t: v.hex().upper() for t, v in tags.items()}
        balance = None
        if approved and record.kind is TxnKind.BALANCE:
            balance = int_field(raw, "balance_minor", -(10**12), 10**12)
        auth_code = text_field(raw, "auth_code", AUTH_CODE) if approved else None
        rrn = text_field(raw, "rrn", RRN) if approved else None
        message = raw.get("message")
        text = message[:200] if isinstance(message, str) else meaning(code).english
        return _Answer(code, auth_code, rrn, icc, balance, text, scripts)

    # -- outcomes -------------------------------------------------------------------------------------------

    def _outcome(self, req: OnlineRequest, answer: _Answer) -> Outcome:
        card_emv: dict[str, str] = {}
        if req.card is not None and req.kind in CARD_DECIDES:
            try:
                verdict = req.card.complete(HostAnswer(answer.approved, answer.code, answer.icc, answer.scripts))
                accepted, why, card_emv = verdict.accepted, verdict.reason, verdict.icc
            except CardError as exc:
                accepted, why = False, str(exc)
            if answer.approved and not accepted:
                return Outcome(
                    TxnState.REVERSAL_PENDING,
                    answer.code,
                    answer.auth_code,
                    answer.rrn,
                    reason=f"the card refused after the acquirer approved: {why}",
                    emv=card_emv,
                )
        if not answer.approved:
            m = meaning(answer.code)
            return Outcome(TxnState.DECLINED, answer.code, reason=f"{m.english} {m.chinese}")
        return Outcome(TxnState.APPROVED, answer.code, answer.auth_code, answer.rrn, answer.balance_minor, emv=card_emv)

    def _unknown(self, req: OnlineRequest, record: TxnRecord, why: str, reason: str) -> TxnResult:
        ctx = self.ctx
        if req.card is not None and req.kind in CARD_DECIDES:
            try:
                req.card.complete(None)  # the card hears "unable to go online" and declines
            except Exception:  # noqa: BLE001 -- the card's say does not change what happens to the money
                log.warning("voucher %06d: the card did not take the offline decline", record.trace)
        state = TxnState.REVERSAL_PENDING if req.kind.moves_money else TxnState.UNANSWERED
        outcome = Outcome(state, reason=reason)
        journal_error = None
        try:
            record = ctx.journal.txns.record_outcome(record.trace, outcome, ctx.now())
        except JournalWriteFailed as exc:
            # The row stays PENDING, which recovery turns into a reversal at the next start; this one goes now.
            log.error("voucher %06d: %s; its outcome stays pending", record.trace, exc)
            journal_error = str(exc)
            record = replace(record, state=outcome.state, reason=outcome.reason)
        checkpoint("after_commit")
        if record.state is TxnState.REVERSAL_PENDING:
            return self._reverse(req, record, why, journal_error)
        return self._finish(req, record, why)

    def _reverse(
        self, req: OnlineRequest, record: TxnRecord, acquirer_text: str, journal_error: str | None = None
    ) -> TxnResult:
        done = self.recovery.reverse_at_once(record, journal_error)
        result = self._finish(req, done.record, acquirer_text)
        if done.journal_error is None:
            return result
        said = "" if done.journal_error in result.message else f"{done.journal_error}; "
        return replace(result, message=f"{result.message}; {said}{JOURNAL_CATCHES_UP}")

    def _finish(self, req: OnlineRequest, record: TxnRecord, acquirer_text: str) -> TxnResult:
        log.info(
            "voucher %06d batch %06d %s %s %s: %s (code %s, auth %s, card %s %s)",
            record.trace,
            record.batch,
            record.kind.value,
            record.currency,
            record.amount_minor,
            record.state.value,
            record.response_code or "-",
            record.auth_code or "-",
            record.masked_pan or "-",
            record.entry_mode or "",
        )
        if req.supervisor:
            try:
                self.ctx.journal.audit.add(
                    req.supervisor,
                    req.kind.value,
                    f"voucher {record.trace:06d} of {record.orig_trace or 0:06d}: {record.state.value}",
                    self.ctx.now(),
                )
            except JournalWriteFailed as exc:  # the outcome is committed: the cashier still gets to see it
                log.error("voucher %06d: audit line not written: %s", record.trace, exc)
        status = STATUS_OF_STATE[record.state]
        printed = self.ctx.printing.transaction(record)
        return TxnResult(status, describe(record, acquirer_text), record, printed.slips, printed.error)


def _where(exc: BaseException) -> str:
    """Where it broke, for the log: the stack only. The message is left out, as it could quote what the
    acquirer or the card sent."""
    return "".join(traceback.format_tb(exc.__traceback__, limit=-12))


def _unhandled(exc: Exception) -> str:
    """Why, in one line, for the journal and the cashier. Only the type's name: a message could quote the answer."""
    if isinstance(exc, JournalWriteFailed):
        return f"the outcome could not be recorded: {exc}"
    return f"the acquirer's answer could not be processed ({type(exc).__name__})"


def describe(record: TxnRecord, acquirer_text: str = "") -> str:
    """One sentence for the cashier about how the transaction ended."""
    state = record.state
    if state is TxnState.APPROVED:
        if record.kind is TxnKind.BALANCE and record.balance_minor is not None:
            balance = Money(abs(record.balance_minor), currency(record.currency))
            return f"Approved: available balance {'-' if record.balance_minor < 0 else ''}{balance}"
        return f"Approved, authorisation code {record.auth_code}"
    if state is TxnState.DECLINED:
        if record.response_code is None:  # settled by a status inquiry, not by an answer of its own
            return f"Declined: {record.reason}"
        m = meaning(record.response_code)
        advice = f" {m.advice}" if m.advice else ""
        return f"Declined: {m.english} ({record.response_code}).{advice}"
    if state is TxnState.REVERSED:
        return f"Result unknown, reversal sent: the customer is not charged ({record.reason})"
    if state is TxnState.REVERSAL_PENDING:
        return f"Result unknown: a reversal is pending and will be sent before the next transaction ({record.reason})"
    if state is TxnState.UNANSWERED:
        return f"No answer from the acquirer: {acquirer_text}"
    if state is TxnState.VOIDED:
        return f"Approved (authorisation code {record.auth_code}), later voided"
    if state is TxnState.COMPLETED:
        return f"Pre-authorised (authorisation code {record.auth_code}), since completed"
    return state.value
