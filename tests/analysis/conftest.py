"""Fixtures for analysis tests: ledgers on SQLite and PostgreSQL (as in tests/store), hand-built
EPCIS streams captured through the real ``Ledger.capture``, and small simulated campaigns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dosetrail.home import Home
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger
from tests.analysis.stream import CLINIC, CLINIC_B, STORE, master_data
from tests.store.conftest import home

__all__ = ["home"]


@pytest.fixture
def ledger(home: Home) -> Iterator[Ledger]:
    """A ledger with a store, two clinics, a donor and the master data of tests.analysis.stream."""
    opened = Ledger.open(home)
    opened.add_party("operator", "operator")
    opened.add_party("donor", "donor")
    opened.add_party("store", "store", site=STORE)
    opened.add_party("clinic", "facility", site=CLINIC)
    opened.add_party("clinic-b", "facility", site=CLINIC_B)
    opened.capture(master_data(), "operator", name="masterdata.jsonld")
    yield opened
    opened.close()


def simulated(
    tmp: Path, scenario: str, seed: int, intensity: float = 0.1, population: int = 60000
) -> tuple[Ledger, Path]:
    sim = tmp / "sim"
    simulate(scenario, population, seed, sim, intensity=intensity)
    root = tmp / "home"
    ledger = Ledger.open(Home(root, sqlite_url(root / "ledger.db")).ensure())
    load_simulation(ledger, sim)
    ledger.integrate()
    return ledger, sim
