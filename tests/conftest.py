"""Shared rigs: a real acquirer simulator (HTTPS, mutual TLS, its own SQLite ledger) on 127.0.0.1 and a real
terminal journal in a temp dir. Nothing is mocked on the acceptance path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from app.bootstrap import build_terminal, card_input
from app.config import Settings, load_settings
from app.domain.money import Money
from app.services.context import CardInput
from app.services.terminal import Terminal
from app.sim.home import SimOptions, SimulatorHome
from app.sim.server import AcquirerServer

# Short timeouts keep the lost/late-answer tests quick; .98 answers after the terminal stops waiting.
READ_TIMEOUT_S = 1.0
LATE_SECONDS = 1.8


@dataclass
class Rig:
    home: SimulatorHome
    server: AcquirerServer
    settings: Settings

    def card(self, profile: str = "visa-credit", entry: str | None = None, **kwargs: object) -> CardInput:
        return card_input(self.settings, profile, entry, **kwargs)  # type: ignore[arg-type]

    def money(self, text: str) -> Money:
        return Money.parse(text, self.settings.terminal.currency)

    def terminal(self, **kwargs: object) -> Terminal:
        return build_terminal(self.settings, **kwargs)  # type: ignore[arg-type]

    def balance_of(self, pan: str) -> int:
        """The card's balance in the acquirer's books (its opening balance until the card is first used)."""
        row = self.home.ledger.card(self.server.acquirer.card_hash(pan))
        if row is None:
            issuer = self.server.acquirer.issuers.lookup(pan)
            assert issuer is not None
            return issuer.balance_minor
        return int(row["balance_minor"])

    def hold_of(self, pan: str) -> int:
        row = self.home.ledger.card(self.server.acquirer.card_hash(pan))
        return 0 if row is None else int(row["hold_minor"])

    @property
    def acquirer_net(self) -> int:
        return self.home.ledger.net_for_terminal(self.settings.terminal.terminal_id)

    def restart_simulator(self) -> None:
        self.server.stop()
        self.server = self.home.start(SimOptions(self.server.port, READ_TIMEOUT_S, LATE_SECONDS))


def start_rig(directory: Path, port: int = 0) -> Rig:
    home = SimulatorHome(directory)
    server = home.start(SimOptions(port, READ_TIMEOUT_S, LATE_SECONDS))
    settings = load_settings(home.terminal_config)
    # In-process tests read their slips as text; the printing tests choose their own printer.
    settings = replace(settings, printer=replace(settings.printer, transport="text"))
    return Rig(home, server, settings)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = start_rig(tmp_path / "acquirer")
    yield r
    r.server.stop()
    r.home.ledger.close()


@pytest.fixture
def terminal(rig: Rig) -> Iterator[Terminal]:
    t = rig.terminal()
    t.sign_in("01", "0000")
    yield t
    t.close()
