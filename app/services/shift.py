"""签到 / 签退 and staff accounts: sign-in (operator PIN, then host sign-on for fresh keys), sign-out, the
supervisor password, and adding, removing and re-PINning operators. Every step lands in the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.operators import (
    DEMO_OPERATOR,
    DEMO_SUPERVISOR,
    LOCKOUT_ATTEMPTS,
    SUPERVISOR_ID,
    CredentialError,
    PinHash,
    Role,
    check_new_pin,
    check_operator_id,
    role_of,
)
from app.host.client import HostError
from app.journal.staff import OperatorRecord, Staff
from app.services.context import Context
from app.services.errors import PosError

SUPERVISOR_LOCKOUT = timedelta(minutes=30)


class Shift:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def _staff(self) -> Staff:
        return self.ctx.journal.staff

    def is_set_up(self) -> bool:
        return self._staff.get(SUPERVISOR_ID) is not None

    def seed_demo_accounts(self) -> bool:
        """Demo and simulator configurations only: operator 01/0000 and supervisor 00/123456."""
        if self.is_set_up():
            return False
        now = self.ctx.now()
        for operator_id, pin in (DEMO_SUPERVISOR, DEMO_OPERATOR):
            self._staff.put(operator_id, role_of(operator_id), PinHash.of(pin), now)
        self.ctx.journal.audit.add("system", "seed_demo_accounts", "operator 01, supervisor 00", now)
        return True

    def set_up(self, supervisor_password: str, first_operator: tuple[str, str] | None = None) -> None:
        """First run: the supervisor password and, from the touchscreen, the first operator (number, PIN), in one
        commit, so that a failure between them cannot leave a terminal nobody can sign in to."""
        if self.is_set_up():
            raise PosError("this terminal is already set up; change the supervisor password with: operator passwd 00")
        self._check_pin(Role.SUPERVISOR, supervisor_password)
        if first_operator is not None:
            operator_id = self._check_id(first_operator[0])
            if role_of(operator_id) is Role.SUPERVISOR:
                raise PosError("00 is the supervisor's number; operators are 01 to 99")
            self._check_pin(Role.OPERATOR, first_operator[1])
        now = self.ctx.now()
        with self.ctx.journal.store.write():
            self._staff.put(SUPERVISOR_ID, Role.SUPERVISOR, PinHash.of(supervisor_password), now)
            self.ctx.journal.audit.add(SUPERVISOR_ID, "setup", "supervisor password set", now)
            if first_operator is not None:
                self._staff.put(operator_id, Role.OPERATOR, PinHash.of(first_operator[1]), now)
                self.ctx.journal.audit.add(SUPERVISOR_ID, "operator_added", operator_id, now)

    def require_set_up(self) -> None:
        if not self.is_set_up():
            raise PosError("this terminal is not set up yet: run `pos setup` to choose the supervisor password")

    # -- sign-in --------------------------------------------------------------------------------------------

    def sign_in(self, operator_id: str, pin: str) -> OperatorRecord:
        self.require_set_up()
        operator_id = self._check_id(operator_id)
        if role_of(operator_id) is Role.SUPERVISOR:
            raise PosError("the supervisor account authorises; sign in with an operator number such as 01")
        op = self._verify(operator_id, pin)
        ctx = self.ctx
        ctx.say("Signing on to the acquirer")
        try:
            blocks = ctx.host.sign_on()
        except HostError as exc:
            ctx.journal.audit.add(operator_id, "sign_in_failed", f"host sign-on: {exc}", ctx.now())
            raise PosError(
                f"sign-in failed, the acquirer did not sign us on: {exc}. Check the network and try again"
            ) from None
        now = ctx.now()
        ctx.journal.keyring.save(blocks, now)
        self._staff.sign_in(operator_id, now)
        ctx.journal.audit.add(operator_id, "sign_in", "", now)
        return op

    def sign_out(self) -> str | None:
        operator_id = self._staff.signed_in()
        if operator_id is not None:
            self._staff.sign_out()
            self.ctx.journal.audit.add(operator_id, "sign_out", "", self.ctx.now())
        return operator_id

    def signed_in(self) -> str:
        operator_id = self._staff.signed_in()
        if operator_id is None:
            raise PosError("no operator is signed in: sign in first (签到)")
        return operator_id

    # -- the supervisor -------------------------------------------------------------------------------------

    def verify_supervisor(self, password: str, purpose: str) -> str:
        self.require_set_up()
        self._verify(SUPERVISOR_ID, password)
        self.ctx.journal.audit.add(SUPERVISOR_ID, "supervisor_authorised", purpose, self.ctx.now())
        return SUPERVISOR_ID

    def add_operator(self, supervisor_password: str, operator_id: str, pin: str) -> None:
        operator_id = self._check_id(operator_id)
        if role_of(operator_id) is Role.SUPERVISOR:
            raise PosError("00 is the supervisor's number; operators are 01 to 99")
        if self._staff.get(operator_id) is not None:
            raise PosError(
                f"operator {operator_id} already exists; to give a new PIN use: operator passwd {operator_id}"
            )
        self._check_pin(Role.OPERATOR, pin)
        self.verify_supervisor(supervisor_password, f"add operator {operator_id}")
        now = self.ctx.now()
        self._staff.put(operator_id, Role.OPERATOR, PinHash.of(pin), now)
        self.ctx.journal.audit.add(SUPERVISOR_ID, "operator_added", operator_id, now)

    def remove_operator(self, supervisor_password: str, operator_id: str) -> None:
        operator_id = self._check_id(operator_id)
        if role_of(operator_id) is Role.SUPERVISOR:
            raise PosError("the supervisor account cannot be removed")
        if self._staff.get(operator_id) is None:
            raise PosError(f"there is no operator {operator_id}")
        if [op.id for op in self._staff.all() if op.role is Role.OPERATOR] == [operator_id]:
            raise PosError(f"operator {operator_id} is the last operator: add another before removing this one")
        self.verify_supervisor(supervisor_password, f"remove operator {operator_id}")
        self._staff.remove(operator_id)
        self.ctx.journal.audit.add(SUPERVISOR_ID, "operator_removed", operator_id, self.ctx.now())

    def change_pin(self, operator_id: str, authority: str, new_pin: str, *, by_supervisor: bool) -> None:
        """A new PIN, authorised by the account's current PIN or by the supervisor (which also unlocks it)."""
        operator_id = self._check_id(operator_id)
        if self._staff.get(operator_id) is None:
            raise PosError(f"there is no operator {operator_id}")
        role = role_of(operator_id)
        self._check_pin(role, new_pin)
        if by_supervisor:
            self.verify_supervisor(authority, f"new PIN for {operator_id}")
        else:
            self._verify(operator_id, authority)
        now = self.ctx.now()
        self._staff.put(operator_id, role, PinHash.of(new_pin), now)
        self.ctx.journal.audit.add(SUPERVISOR_ID if by_supervisor else operator_id, "pin_changed", operator_id, now)

    # -- checks ---------------------------------------------------------------------------------------------

    @staticmethod
    def _check_id(operator_id: str) -> str:
        try:
            return check_operator_id(operator_id)
        except CredentialError as exc:
            raise PosError(str(exc)) from None

    @staticmethod
    def _check_pin(role: Role, pin: str) -> None:
        try:
            check_new_pin(role, pin)
        except CredentialError as exc:
            raise PosError(str(exc)) from None

    def _verify(self, operator_id: str, pin: str) -> OperatorRecord:
        op = self._staff.get(operator_id)
        who = "the supervisor password" if operator_id == SUPERVISOR_ID else f"operator {operator_id}"
        if op is None:
            raise PosError(f"there is no operator {operator_id}")
        now = self.ctx.now()
        if op.locked:
            if op.role is Role.SUPERVISOR and _since(op.locked_at, now) >= SUPERVISOR_LOCKOUT:
                self._staff.unlock(operator_id)
            elif op.role is Role.SUPERVISOR:
                raise PosError(f"{who} is locked after {LOCKOUT_ATTEMPTS} wrong tries; try again in 30 minutes")
            else:
                raise PosError(
                    f"{who} is locked after {LOCKOUT_ATTEMPTS} wrong PINs: the supervisor must reset the PIN"
                )
        if not op.pin.matches(pin):
            failures = self._staff.record_failure(operator_id, LOCKOUT_ATTEMPTS, now)
            left = LOCKOUT_ATTEMPTS - failures
            if left <= 0:
                self.ctx.journal.audit.add(operator_id, "locked_out", f"{failures} wrong tries", now)
                raise PosError(f"wrong PIN: {who} is now locked")
            self.ctx.journal.audit.add(operator_id, "wrong_pin", f"{failures} of {LOCKOUT_ATTEMPTS}", now)
            raise PosError(f"wrong PIN for {who} ({left} {'try' if left == 1 else 'tries'} left)")
        if op.failures:
            self._staff.clear_failures(operator_id)
        return op


def _since(utc_text: str | None, now: datetime) -> timedelta:
    if utc_text is None:
        return timedelta(0)
    return now - datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
