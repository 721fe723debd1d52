"""Findings against the simulator's ground truth (SQLite): recall on the scenarios the issue
sets targets for, and false findings on an honest run.

Precision and recall are computed by :mod:`dosetrail.analysis.evaluation` from truth.json
(matching findings to anomalies by place, event hash and EPC): no expected counts here. The
populations are small to keep the suite fast; ``bench/detect.py`` runs every scenario at several
intensities and seeds.
"""

from __future__ import annotations

import math
from pathlib import Path

import orjson
import pytest

from dosetrail.analysis import analyze
from dosetrail.analysis.evaluation import score
from tests.analysis.conftest import simulated

TARGETS = ("diversion", "ghost", "clone", "cold-breach", "backdate")


@pytest.mark.parametrize("scenario", TARGETS)
def test_recall_on_target_scenarios(tmp_path: Path, scenario: str) -> None:
    ledger, sim = simulated(tmp_path, scenario, seed=11, intensity=0.1)
    findings = analyze(ledger)
    ledger.close()
    truth = orjson.loads((sim / "truth.json").read_bytes())
    result = score(findings.findings, truth)
    assert result.anomalies > 0
    assert result.recall >= 0.9, result.as_json()
    assert result.precision >= 0.5, result.as_json()


def test_honest_run_false_findings(tmp_path: Path) -> None:
    ledger, sim = simulated(tmp_path, "honest", seed=5, population=120000)
    findings = analyze(ledger)
    ledger.close()
    facilities = len(orjson.loads((sim / "plan.json").read_bytes())["facilities"])
    allowed = max(1, math.floor(facilities / 100))
    assert len(findings.findings) <= allowed, [f.title for f in findings.findings]
