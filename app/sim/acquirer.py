"""What the simulated acquirer decides: one method per message type, over the ledger.

Transport-free: the HTTPS server hands it a path, the raw body and the client certificate's name, and gets a
`Reply` back. Money-moving requests are recorded with their answer under their idempotency key, so a retry gets
the same answer and never a second charge.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from psec import pinblock

from app.crypto import CryptoError, unseal
from app.domain.cards import CardDataError, EntryMode, brand_of, check_pan, mask_pan
from app.domain.responses import APPROVED, meaning
from app.domain.settlement import BatchItem, BatchTotals, compute_totals, find_differences
from app.domain.transaction import ORIGINAL_KINDS, TxnKind, TxnState
from app.emv.cryptograms import CardCryptograms, CryptogramError
from app.emv.terminal_data import n_bcd
from app.emv.tlv import TlvError, icc_hex, icc_tags
from app.host.keys import generate_working_keys, sign_on_key
from app.host.protocol import (
    HEX,
    IDEMPOTENCY_KEY,
    MERCHANT_ID,
    TERMINAL_ID,
    MessageType,
    ProtocolError,
    canonical,
    check_mac,
    int_field,
    object_field,
    parse_json_object,
    text_field,
    with_mac,
)
from app.sim.issuers import IssuerDirectory, IssuerKey
from app.sim.ledger import Ledger, RequestRow
from app.sim.magic import Delivery, magic_decline, magic_delivery

log = logging.getLogger(__name__)


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    delivery: Delivery = Delivery.NORMAL


@dataclass
class Decision:
    """The outcome of one money-moving request, before it is recorded."""

    code: str
    kind: TxnKind
    amount_minor: int
    currency: str
    card_hash: str | None = None
    brand: str = ""
    funding: str = ""
    orig: RequestRow | None = None
    orig_becomes: TxnState | None = None
    balance_delta: int = 0
    hold_delta: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    @property
    def approved(self) -> bool:
        return self.code == APPROVED


class Decline(Exception):
    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(text or meaning(code).english)
        self.code = code


@dataclass(frozen=True)
class Card:
    pan: str
    card_hash: str
    brand: str
    funding: str
    issuer: IssuerKey
    psn: str | None
    entry_mode: EntryMode


class Acquirer:
    def __init__(self, ledger: Ledger, issuers: IssuerDirectory) -> None:
        self.ledger = ledger
        self.issuers = issuers
        secret = ledger.meta("card_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            ledger.set_meta("card_secret", secret)
        self._card_secret = bytes.fromhex(secret)
        self._handlers: dict[MessageType, Callable[[dict[str, Any], dict[str, Any]], Reply]] = {
            MessageType.AUTHORISE: self._authorise,
            MessageType.COMPLETION: self._completion,
            MessageType.VOID: self._void,
            MessageType.REFUND: self._refund,
            MessageType.PREAUTH_VOID: self._preauth_void,
            MessageType.REVERSAL: self._reversal,
            MessageType.INQUIRY: self._inquiry,
            MessageType.SETTLEMENT: self._settlement,
            MessageType.BATCH_UPLOAD: self._batch_upload,
        }

    def card_hash(self, pan: str) -> str:
        return hmac.new(self._card_secret, pan.encode(), hashlib.sha256).hexdigest()

    # -- entry point ----------------------------------------------------------------------------------------

    def handle(self, path: str, raw: bytes, peer_terminal_id: str | None) -> Reply:
        kind = next((t for t in MessageType if t.path == path), None)
        if kind is None:
            return Reply(404, {"error": "no such endpoint"})
        try:
            body = parse_json_object(raw)
            if body.get("type") != kind.value:
                raise ProtocolError("message type does not match the endpoint")
            terminal_id = text_field(body, "terminal_id", TERMINAL_ID)
            merchant_id = text_field(body, "merchant_id", MERCHANT_ID)
        except ProtocolError as exc:
            return Reply(400, {"error": str(exc)})
        terminal = self.ledger.terminal(terminal_id)
        if terminal is None or peer_terminal_id != terminal_id:
            return Reply(403, {"error": "this certificate does not belong to that terminal"})
        if merchant_id != terminal["merchant_id"]:
            return Reply(403, {"error": "that terminal does not belong to that merchant"})
        if kind is MessageType.SIGN_ON:
            return self._sign_on(terminal, body)
        if not terminal["working_keys"]:
            return Reply(401, {"error": "sign on first"})
        keys = json.loads(terminal["working_keys"])
        mac_key = bytes.fromhex(keys["mac"])
        try:
            check_mac(body, mac_key)
        except ProtocolError:
            return Reply(401, {"error": "MAC check failed"})
        context = {"terminal_id": terminal_id, "keys": keys}
        try:
            reply = self._handlers[kind](body, context)
        except ProtocolError as exc:
            reply = Reply(200, self._answer(kind, body, "30", str(exc)))
        if reply.status == 200:
            reply.body = with_mac(reply.body, mac_key)
        return reply

    def _answer(
        self, kind: MessageType, body: dict[str, Any], code: str, text: str = "", **fields: Any
    ) -> dict[str, Any]:
        answer = {
            "type": kind.response_type,
            "terminal_id": body.get("terminal_id"),
            "idempotency_key": body.get("idempotency_key"),
            "response_code": code,
            "message": text or meaning(code).english,
            **fields,
        }
        if "stan" in body:
            answer["stan"] = body["stan"]
        return answer

    # -- sign-on --------------------------------------------------------------------------------------------

    def _sign_on(self, terminal: sqlite3.Row, body: dict[str, Any]) -> Reply:
        try:
            nonce = text_field(body, "nonce", r"[0-9a-f]{16}")
            check_mac(body, sign_on_key(bytes.fromhex(terminal["master_key"])))
        except ProtocolError as exc:
            return Reply(401 if "MAC" in str(exc) else 400, {"error": str(exc)})
        keys, blocks = generate_working_keys(bytes.fromhex(terminal["master_key"]))
        self.ledger.set_working_keys(
            terminal["terminal_id"], {"pin": keys.pin.hex(), "mac": keys.mac.hex(), "data": keys.data.hex()}
        )
        answer = self._answer(
            MessageType.SIGN_ON, body, APPROVED, keys={u: b.to_json() for u, b in blocks.items()}, nonce=nonce
        )
        return Reply(200, with_mac(answer, keys.mac))

    # -- money-moving requests ------------------------------------------------------------------------------

    def _financial(
        self,
        kind: MessageType,
        body: dict[str, Any],
        ctx: dict[str, Any],
        base: Decision,
        decide: Callable[[sqlite3.Connection, Decision], Decision],
    ) -> Reply:
        key = text_field(body, "idempotency_key", IDEMPOTENCY_KEY)
        stan = int_field(body, "stan", 1, 10**9)
        batch = int_field(body, "batch", 1, 10**9)
        fingerprint = _fingerprint(body)
        existing = self.ledger.request(key)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                return Reply(200, self._answer(kind, body, "94", "idempotency key reused for another request"))
            return Reply(200, existing.response, magic_delivery(existing.amount_minor))
        if self.ledger.tombstoned(key):
            return Reply(200, self._answer(kind, body, "94", "this request was reversed before it arrived"))
        if self.ledger.request_by_stan(ctx["terminal_id"], stan) is not None:
            return Reply(200, self._answer(kind, body, "94", "trace number already used"))
        if batch <= self.ledger.closed_batch(ctx["terminal_id"]):
            return Reply(200, self._answer(kind, body, "12", "that batch is already settled"))
        with self.ledger.transaction() as c:
            try:
                decision = decide(c, base)
            except Decline as dec:
                decision = replace(base, code=dec.code, text=str(dec))
            answer = self._answer(
                kind,
                body,
                decision.code,
                decision.text,
                amount_minor=decision.amount_minor,
                currency=decision.currency,
                **decision.extra,
            )
            if decision.approved:
                answer.update(auth_code=f"{secrets.randbelow(10**6):06d}", rrn=_rrn())
            else:
                decision = replace(decision, balance_delta=0, hold_delta=0, orig_becomes=None)
            self.ledger.insert_request(
                c,
                RequestRow(
                    key,
                    ctx["terminal_id"],
                    stan,
                    batch,
                    decision.kind,
                    decision.amount_minor,
                    decision.currency,
                    fingerprint,
                    decision.card_hash,
                    decision.orig.idempotency_key if decision.orig else None,
                    TxnState.APPROVED if decision.approved else TxnState.DECLINED,
                    decision.code,
                    decision.balance_delta,
                    decision.hold_delta,
                    answer,
                    decision.brand,
                    decision.funding,
                ),
            )
            if decision.orig is not None and decision.orig_becomes is not None:
                self.ledger.set_status(c, decision.orig.idempotency_key, decision.orig_becomes)
        return Reply(200, answer, magic_delivery(decision.amount_minor))

    def _base(self, body: dict[str, Any], kinds: tuple[TxnKind, ...]) -> Decision:
        txn = object_field(body, "txn")
        try:
            kind = TxnKind(text_field(txn, "kind"))
        except ValueError:
            raise ProtocolError("unknown transaction kind") from None
        if kind not in kinds:
            raise ProtocolError(f"{kind.value} is not allowed here")
        return Decision(APPROVED, kind, int_field(txn, "amount_minor"), text_field(txn, "currency", r"[A-Z]{3}"))

    def _authorise(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        def decide(c: sqlite3.Connection, d: Decision) -> Decision:
            card = self._card(body, ctx)
            d = replace(d, card_hash=card.card_hash, brand=card.brand, funding=card.funding)
            self.ledger.ensure_card(c, card.card_hash, mask_pan(card.pan), card.issuer.balance_minor)
            code, arqc_ok = self._verify_card(body, ctx, card, d.kind, d.amount_minor)
            if code == APPROVED:
                code = self._funds(card.card_hash, d.kind, d.amount_minor)
            d = replace(d, code=code, text="" if arqc_ok else "cryptogram check failed")
            if d.kind is TxnKind.SALE:
                d = replace(d, balance_delta=-d.amount_minor)
            elif d.kind is TxnKind.PREAUTH:
                d = replace(d, hold_delta=d.amount_minor)
            elif code == APPROVED:
                d.extra["balance_minor"] = self._available(card.card_hash)
            if arqc_ok and card.entry_mode in (EntryMode.CHIP, EntryMode.CONTACTLESS):
                d.extra["icc"] = self._issuer_auth(body, card, code)
            return d

        base = self._base(body, (TxnKind.SALE, TxnKind.PREAUTH, TxnKind.BALANCE))
        return self._financial(MessageType.AUTHORISE, body, ctx, base, decide)

    def _completion(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        def decide(c: sqlite3.Connection, d: Decision) -> Decision:
            orig = self._original(body, ctx, d)
            d = self._on_original(d, orig)
            if not 0 < d.amount_minor <= orig.amount_minor:
                raise Decline("13", "a completion is more than 0 and at most the pre-authorised amount")
            if (code := magic_decline(d.amount_minor)) is not None:
                raise Decline(code)
            return replace(
                d,
                orig_becomes=TxnState.COMPLETED,
                balance_delta=-d.amount_minor,
                hold_delta=-orig.amount_minor,
            )

        return self._financial(MessageType.COMPLETION, body, ctx, self._base(body, (TxnKind.COMPLETION,)), decide)

    def _void(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        def decide(c: sqlite3.Connection, d: Decision) -> Decision:
            orig = self._original(body, ctx, d)
            d = self._on_original(d, orig)
            if orig.batch != int_field(body, "batch"):
                raise Decline("12", "only transactions of the open batch can be voided")
            if d.amount_minor != orig.amount_minor:
                raise Decline("64")
            return replace(d, orig_becomes=TxnState.VOIDED, balance_delta=orig.amount_minor)

        return self._financial(MessageType.VOID, body, ctx, self._base(body, (TxnKind.VOID,)), decide)

    def _preauth_void(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        def decide(c: sqlite3.Connection, d: Decision) -> Decision:
            orig = self._original(body, ctx, d)
            d = self._on_original(d, orig)
            if d.amount_minor != orig.amount_minor:
                raise Decline("64")
            return replace(d, orig_becomes=TxnState.VOIDED, hold_delta=-orig.amount_minor)

        base = self._base(body, (TxnKind.PREAUTH_VOID,))
        return self._financial(MessageType.PREAUTH_VOID, body, ctx, base, decide)

    def _refund(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        def decide(c: sqlite3.Connection, d: Decision) -> Decision:
            orig = self._original(body, ctx, d)
            d = self._on_original(d, orig)
            card = self._card(body, ctx)
            if card.card_hash != orig.card_hash:
                raise Decline("14", "this is not the card of the original sale")
            refunded = self.ledger.refunded_total(c, orig.idempotency_key)
            if d.amount_minor == 0 or refunded + d.amount_minor > orig.amount_minor:
                raise Decline("13", "refunds would exceed the original amount")
            if (code := magic_decline(d.amount_minor)) is not None:
                raise Decline(code)
            return replace(d, balance_delta=d.amount_minor)

        return self._financial(MessageType.REFUND, body, ctx, self._base(body, (TxnKind.REFUND,)), decide)

    def _original(self, body: dict[str, Any], ctx: dict[str, Any], d: Decision) -> RequestRow:
        ref = object_field(body, "orig")
        orig = self.ledger.request_by_stan(ctx["terminal_id"], int_field(ref, "stan", 1, 10**9))
        if orig is None or orig.kind not in ORIGINAL_KINDS[d.kind]:
            raise Decline("25")
        return orig

    @staticmethod
    def _on_original(d: Decision, orig: RequestRow) -> Decision:
        """Reference-based requests inherit the original's card; they need the original to still stand."""
        d = replace(d, orig=orig, card_hash=orig.card_hash, brand=orig.brand, funding=orig.funding)
        if orig.status is not TxnState.APPROVED:
            raise Decline("12", f"the original is {orig.status.value}")
        return d

    # -- card checks ----------------------------------------------------------------------------------------

    def _card(self, body: dict[str, Any], ctx: dict[str, Any]) -> Card:
        card = object_field(body, "card")
        try:
            entry = EntryMode(text_field(card, "entry_mode"))
        except ValueError:
            raise ProtocolError("unknown entry mode") from None
        context = f"{ctx['terminal_id']}|{body['idempotency_key']}".encode()
        try:
            plain = json.loads(unseal(bytes.fromhex(ctx["keys"]["data"]), text_field(card, "sealed"), context))
            pan = check_pan(str(plain["pan"]))
            expiry = str(plain["expiry"])
            psn = plain.get("psn")
        except (CryptoError, ValueError, KeyError, TypeError, CardDataError):
            raise Decline("30", "card data could not be read") from None
        if text_field(card, "masked_pan") != mask_pan(pan):
            raise Decline("30", "masked PAN does not match the card data")
        issuer = self.issuers.lookup(pan)
        if issuer is None:
            raise Decline("14", "no issuer knows this card")
        if entry in (EntryMode.SWIPE, EntryMode.FALLBACK):
            track2 = str(plain.get("track2") or "")
            if not track2.startswith(f"{pan}={expiry}"):
                raise Decline("30", "track 2 does not match the card number")
        if expiry < datetime.now().strftime("%y%m"):
            raise Decline("54")
        funding = text_field(card, "funding", r"debit|credit")
        return Card(pan, self.card_hash(pan), brand_of(pan).value, funding, issuer, psn, entry)

    def _verify_card(
        self, body: dict[str, Any], ctx: dict[str, Any], card: Card, kind: TxnKind, amount: int
    ) -> tuple[str, bool]:
        """(response code, whether the ARQC verified). Magic amounts decide after the data checks out."""
        arqc_ok = True
        if card.entry_mode in (EntryMode.CHIP, EntryMode.CONTACTLESS):
            arqc_ok = self._arqc_ok(body, card, amount)
            if not arqc_ok:
                return "05", False
        pin_block = text_field(object_field(body, "card"), "pin_block", HEX, optional=True)
        if pin_block:
            try:
                entered = pinblock.decipher_pinblock_iso_4(
                    bytes.fromhex(ctx["keys"]["pin"]), bytes.fromhex(pin_block), card.pan
                )
            except ValueError:
                entered = None
            if entered != card.issuer.pin:
                return "55", arqc_ok
        elif kind is TxnKind.BALANCE:
            return "55", arqc_ok
        return magic_decline(amount) or APPROVED, arqc_ok

    def _arqc_ok(self, body: dict[str, Any], card: Card, amount: int) -> bool:
        try:
            tags = icc_tags(text_field(object_field(body, "card"), "icc", HEX))
            if tags.get("9F02") != n_bcd(amount, 12):
                return False
            keys = CardCryptograms.for_card(card.issuer.cvn, card.issuer.imk_ac, card.pan, card.psn)
            return hmac.compare_digest(keys.generate_ac(tags), tags.get("9F26", b""))
        except (TlvError, CryptogramError, ProtocolError, ValueError):
            return False

    def _issuer_auth(self, body: dict[str, Any], card: Card, code: str) -> str:
        tags = icc_tags(object_field(body, "card")["icc"])
        keys = CardCryptograms.for_card(card.issuer.cvn, card.issuer.imk_ac, card.pan, card.psn)
        tag_91 = keys.issuer_authentication_data(tags["9F26"], tags["9F36"], code, code == APPROVED)
        return icc_hex({"91": tag_91.hex(), "8A": code.encode("ascii").hex()})

    def _funds(self, card_hash: str, kind: TxnKind, amount: int) -> str:
        if kind is TxnKind.BALANCE:
            return APPROVED
        return APPROVED if amount <= self._available(card_hash) else "51"

    def _available(self, card_hash: str) -> int:
        row = self.ledger.card(card_hash)
        return 0 if row is None else int(row["balance_minor"] - row["hold_minor"])

    # -- reversal and inquiry -------------------------------------------------------------------------------

    def _replayable(
        self, kind: MessageType, body: dict[str, Any], work: Callable[[sqlite3.Connection], dict[str, Any]]
    ) -> Reply:
        """Answer once, keep the answer, and give the same answer to every retry with the same key."""
        key = text_field(body, "idempotency_key", IDEMPOTENCY_KEY)
        fingerprint = _fingerprint(body)
        kept = self.ledger.reply(key)
        if kept is not None:
            if kept[0] != fingerprint:
                return Reply(200, self._answer(kind, body, "94", "idempotency key reused for another request"))
            return Reply(200, kept[1])
        with self.ledger.transaction() as c:
            answer = work(c)
            self.ledger.save_reply(c, key, fingerprint, answer)
        return Reply(200, answer)

    def _reversal(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        orig_ref = object_field(body, "orig")
        orig_key = text_field(orig_ref, "idempotency_key", IDEMPOTENCY_KEY)
        amount = int_field(orig_ref, "amount_minor")

        def work(c: sqlite3.Connection) -> dict[str, Any]:
            target = self.ledger.request(orig_key)
            if target is None:
                self.ledger.tombstone(c, orig_key)
                return self._answer(MessageType.REVERSAL, body, APPROVED, "nothing to reverse", status="not_found")
            if target.terminal_id != ctx["terminal_id"] or target.amount_minor != amount:
                return self._answer(MessageType.REVERSAL, body, "30", "reversal does not match its original")
            if target.status is TxnState.APPROVED:
                self.ledger.move_money(c, target.card_hash or "", -target.balance_delta, -target.hold_delta)
                self.ledger.set_status(c, target.idempotency_key, TxnState.REVERSED)
                if target.orig_key and target.kind in (
                    TxnKind.COMPLETION,
                    TxnKind.VOID,
                    TxnKind.PREAUTH_VOID,
                ):
                    self.ledger.set_status(c, target.orig_key, TxnState.APPROVED)
                return self._answer(MessageType.REVERSAL, body, APPROVED, "reversed", status="reversed")
            if target.status in (TxnState.DECLINED, TxnState.REVERSED):
                return self._answer(
                    MessageType.REVERSAL, body, APPROVED, "nothing to reverse", status=target.status.value
                )
            return self._answer(MessageType.REVERSAL, body, "12", f"cannot reverse: it is {target.status.value}")

        return self._replayable(MessageType.REVERSAL, body, work)

    def _inquiry(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        orig_key = text_field(object_field(body, "orig"), "idempotency_key", IDEMPOTENCY_KEY)
        target = self.ledger.request(orig_key)
        if target is None or target.terminal_id != ctx["terminal_id"]:
            return Reply(200, self._answer(MessageType.INQUIRY, body, APPROVED, status="not_found"))
        return Reply(
            200,
            self._answer(
                MessageType.INQUIRY,
                body,
                APPROVED,
                status=target.status.value,
                orig_response_code=target.response_code,
            ),
        )

    # -- settlement -----------------------------------------------------------------------------------------

    def _settlement(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        terminal_id = ctx["terminal_id"]
        batch = int_field(body, "batch", 1, 10**9)
        try:
            theirs = BatchTotals.from_json(object_field(body, "totals"))
        except ValueError as exc:
            raise ProtocolError(f"totals: {exc}") from None
        after_upload = body.get("after_upload") is True

        def work(c: sqlite3.Connection) -> dict[str, Any]:
            done = self.ledger.settlement(terminal_id, batch)
            if done is not None:
                return self._settled(
                    body, json.loads(done["totals"]), bool(done["matched"]), json.loads(done["differences"])
                )
            ours = compute_totals(theirs.currency, self.ledger.batch_groups(terminal_id, batch))
            matched = ours.to_json() == theirs.to_json()
            if not matched and not after_upload:
                return self._answer(MessageType.SETTLEMENT, body, "95", totals=ours.to_json(), matched=False)
            differences: list[dict[str, Any]] = []
            if not matched:
                found = find_differences(
                    self.ledger.uploaded_items(terminal_id, batch),
                    self.ledger.batch_items(terminal_id, batch),
                )
                differences = [{"trace": d.trace, "terminal": d.terminal, "acquirer": d.acquirer} for d in found]
            self.ledger.save_settlement(c, terminal_id, batch, matched, ours.to_json(), differences)
            return self._settled(body, ours.to_json(), matched, differences)

        return self._replayable(MessageType.SETTLEMENT, body, work)

    def _settled(self, body: dict[str, Any], totals: dict[str, Any], matched: bool, diffs: list[Any]) -> dict[str, Any]:
        return self._answer(
            MessageType.SETTLEMENT,
            body,
            APPROVED,
            "batch closed",
            totals=totals,
            matched=matched,
            differences=diffs,
        )

    def _batch_upload(self, body: dict[str, Any], ctx: dict[str, Any]) -> Reply:
        batch = int_field(body, "batch", 1, 10**9)
        raw_items = body.get("items")
        if not isinstance(raw_items, list):
            raise ProtocolError("field 'items' is missing or not a list")
        items = []
        for raw in raw_items:
            if not isinstance(raw, dict):
                raise ProtocolError("a batch item is not an object")
            try:
                items.append(
                    BatchItem(
                        int_field(raw, "trace", 1, 10**9),
                        TxnKind(str(raw.get("kind"))),
                        TxnState(str(raw.get("state"))),
                        int_field(raw, "amount_minor"),
                    )
                )
            except ValueError:
                raise ProtocolError("a batch item has an unknown kind or state") from None

        def work(c: sqlite3.Connection) -> dict[str, Any]:
            self.ledger.store_upload(c, ctx["terminal_id"], batch, items)
            return self._answer(MessageType.BATCH_UPLOAD, body, APPROVED, received=len(items))

        return self._replayable(MessageType.BATCH_UPLOAD, body, work)


def _fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in body.items() if k != "sent_at"})).hexdigest()


def _rrn() -> str:
    return datetime.now().strftime("%y%j") + f"{secrets.randbelow(10**7):07d}"
