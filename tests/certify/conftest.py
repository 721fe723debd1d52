"""A certified simulated campaign (honest and adversarial), built once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from dosetrail.certify import Certified, certify_simulation
from dosetrail.home import Home
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger


@dataclass(frozen=True)
class Campaign:
    sim: Path
    home: Home
    certified: Certified
    truth: dict[str, object]
    reality: dict[str, object]


def _campaign(root: Path, scenario: str, intensity: float) -> Campaign:
    sim = root / "sim"
    simulate(scenario.split(","), 60_000, 7, sim, intensity=intensity)
    home = Home(root / "home", sqlite_url(root / "home" / "ledger.db"))
    ledger = Ledger.open(home)
    try:
        load_simulation(ledger, sim)
        certified = certify_simulation(
            ledger, sim, root / "out", programme="dtvax", issued="2025-06-01T00:00:00Z"
        )
    finally:
        ledger.close()
    return Campaign(
        sim,
        home,
        certified,
        orjson.loads((sim / "truth.json").read_bytes()),
        orjson.loads((sim / "reality.json").read_bytes()),
    )


@pytest.fixture(scope="session")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    return _campaign(tmp_path_factory.mktemp("honest"), "honest", 0.05)


@pytest.fixture(scope="session")
def adversarial(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    return _campaign(tmp_path_factory.mktemp("adversarial"), "ghost,inflated", 0.3)
