"""The chip reader check against the real PC/SC stack: pcscd with vpcd's virtual readers, and pcscd stopped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.bootstrap import build_terminal
from app.config import Settings
from app.services.health import Check
from tests.conftest import Rig
from tests.rigs import pcsc
from tests.rigs.pcsc import pcscd  # noqa: F401 - the session fixture, used through pytestmark

pytestmark = pytest.mark.usefixtures("pcscd")


def with_chip_reader(rig: Rig, name: str) -> Settings:
    return replace(rig.settings, cards=replace(rig.settings.cards, source="readers", chip_reader=name))


def checks_of(settings: Settings) -> dict[str, Check]:
    t = build_terminal(settings)
    try:
        return {c.name: c for c in t.self_test()}
    finally:
        t.close()


def test_the_configured_reader_is_seen_through_pcscd(rig):
    checks = checks_of(with_chip_reader(rig, pcsc.READER))
    assert checks["chip reader"] == Check("chip reader", True, f"chip reader: '{pcsc.READER}' ready")
    assert "card readers" not in checks and all(c.ok for c in checks.values())


def test_no_name_means_the_first_reader(rig):
    found = checks_of(with_chip_reader(rig, ""))["chip reader"]
    assert found.ok and found.detail == f"chip reader: '{pcsc.READER}' ready (the first PC/SC reader)"


def test_a_reader_name_pcscd_does_not_know_is_named_with_the_ones_it_does(rig):
    checks = checks_of(with_chip_reader(rig, "Acme Reader 9000"))
    found = checks["chip reader"]
    assert not found.ok and found.detail.startswith("chip reader: no reader called 'Acme Reader 9000' (pcscd sees ")
    assert f"'{pcsc.READER}'" in found.detail and "check [cards] chip_reader" in found.detail
    assert [name for name, c in checks.items() if not c.ok] == ["chip reader"]


def test_pcscd_not_running_is_said_in_words_an_installer_can_act_on(rig):
    running = pcsc.rig()
    if not running.owned:
        pytest.fail("stopping pcscd needs the rig's own pcscd: stop the running one", pytrace=False)
    running.stop()
    try:
        checks = checks_of(with_chip_reader(rig, pcsc.READER))
    finally:
        running.start()
    found = checks["chip reader"]
    assert not found.ok and "the PC/SC service (pcscd) does not answer" in found.detail
    assert [name for name, c in checks.items() if not c.ok] == ["chip reader"], "the other parts still checked"
