"""Staff accounts: who may sign in, what their PINs look like, how PINs are kept, when an account locks."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from app.errors import UserFacingError


class Role(StrEnum):
    OPERATOR = "operator"  # 操作员: takes sales
    SUPERVISOR = "supervisor"  # 主管: authorises voids, refunds, operator changes


SUPERVISOR_ID = "00"
LOCKOUT_ATTEMPTS = 5

# Classic terminals ship with these; only demo and simulator configurations seed them.
DEMO_OPERATOR = ("01", "0000")
DEMO_SUPERVISOR = (SUPERVISOR_ID, "123456")


class CredentialError(UserFacingError, ValueError):
    """A PIN, password or operator number that cannot be accepted."""


def check_operator_id(operator_id: str) -> str:
    if not re.fullmatch(r"[0-9]{2}", operator_id):
        raise CredentialError(f"operator number must be two digits, like 01 (got {operator_id!r})")
    return operator_id


def role_of(operator_id: str) -> Role:
    return Role.SUPERVISOR if operator_id == SUPERVISOR_ID else Role.OPERATOR


def check_new_pin(role: Role, pin: str) -> str:
    if role is Role.SUPERVISOR:
        if not re.fullmatch(r"[0-9]{6,12}", pin):
            raise CredentialError("the supervisor password must be 6 to 12 digits")
    elif not re.fullmatch(r"[0-9]{4,6}", pin):
        raise CredentialError("an operator PIN must be 4 to 6 digits")
    return pin


@dataclass(frozen=True)
class PinHash:
    """A salted scrypt hash: slow on purpose, so a copied journal does not give up PINs quickly."""

    salt: bytes
    digest: bytes
    n: int = 2**14

    @classmethod
    def of(cls, pin: str) -> PinHash:
        salt = secrets.token_bytes(16)
        return cls(salt, _scrypt(pin, salt, 2**14), 2**14)

    def matches(self, pin: str) -> bool:
        return hmac.compare_digest(_scrypt(pin, self.salt, self.n), self.digest)


def _scrypt(pin: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
