"""The one mark every error type carries when its message is written for a person (cashier or installer).

Each boundary keeps its own error type (card, host, printer, config, journal...); what they share is this base,
so the command line and the screen show any of them as its one line, and only a real bug is "internal".
"""

from __future__ import annotations


class UserFacingError(Exception):
    """str() is one line a person can act on, naming no card data. Shown as it is, never as a traceback."""
