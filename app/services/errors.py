"""The one error type services raise for things a cashier or supervisor can act on.

Raised before anything is committed: a PosError means nothing changed.
"""

from __future__ import annotations

from app.errors import UserFacingError


class PosError(UserFacingError):
    """str() is one line, in words for the person at the counter; never card data."""
