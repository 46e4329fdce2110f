"""The one error type services raise for things a cashier or supervisor can act on.

Raised before anything is committed: a PosError means nothing changed.
"""

from __future__ import annotations


class PosError(Exception):
    """str() is one line, in words for the person at the counter; never card data."""
