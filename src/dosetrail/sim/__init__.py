"""National campaign simulator: a donated 2-dose vaccine campaign in a closed country.

:func:`simulate` writes EPCIS documents per party and day that follow docs/profile.md, plus the
ground truth (``truth.json``), what a field monitor would observe (``reality.json``) and the plan
(``plan.json``); see docs/simulator.md. Scenarios: :data:`SCENARIOS`.
"""

from __future__ import annotations

from dosetrail.sim.run import Progress, SimulationResult, simulate
from dosetrail.sim.scenarios import SCENARIOS, parse_scenarios

__all__ = ["SCENARIOS", "Progress", "SimulationResult", "parse_scenarios", "simulate"]
