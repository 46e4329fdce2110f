"""What every service shares: settings, the journal, the acquirer client, the clock, the printing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.config import Settings
from app.devices.card import CardSource
from app.devices.pin_entry import PinEntry
from app.domain.cards import pan_token
from app.domain.money import Money
from app.host.client import HostClient
from app.journal.journal import Journal
from app.services.clock import Clock
from app.services.printing import Printing
from app.services.slips import Merchant

log = logging.getLogger("app.services")


def merchant_of(settings: Settings) -> Merchant:
    t = settings.terminal
    return Merchant(t.merchant_name, t.merchant_id, t.terminal_id, t.currency, t.training, settings.printer.language)


@dataclass(frozen=True)
class CardInput:
    """Where this transaction's card comes from, and who types its PIN."""

    source: CardSource
    pin_entry: PinEntry


@dataclass
class Context:
    settings: Settings
    journal: Journal
    host: HostClient
    clock: Clock
    printing: Printing
    progress: Callable[[str], None] = field(default=lambda _msg: None)

    @property
    def merchant(self) -> Merchant:
        return merchant_of(self.settings)

    def now(self) -> datetime:
        return self.clock.now()

    def money(self, minor: int) -> Money:
        return Money(minor, self.settings.terminal.currency)

    def pan_token(self, pan: str) -> str:
        return pan_token(pan, self.settings.secrets.token_secret)

    def say(self, message: str) -> None:
        log.info(message)
        self.progress(message)
