"""Detection quality: precision and recall of findings against the simulator's ground truth.

Runs every scenario at several intensities and seeds: simulate, load into a fresh SQLite ledger,
analyse, score (:mod:`dosetrail.analysis.evaluation`). Prints one JSON line per run: scenario,
intensity, seed, population, facilities, findings, precision, recall (overall and per anomaly
kind/mode), missed anomalies, and false findings per 100 facilities.
Run: ``python bench/detect.py [--population N] [--seeds 1,2] [--intensities 0.05,0.15]
[--scenarios diversion,ghost]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import orjson

from dosetrail.analysis import analyze
from dosetrail.analysis.evaluation import score
from dosetrail.home import Home
from dosetrail.sim import SCENARIOS, simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger


def run(scenario: str, intensity: float, seed: int, population: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="dosetrail-detect-"))
    try:
        sim = tmp / "sim"
        simulate(scenario, population, seed, sim, intensity=intensity)
        root = tmp / "home"
        ledger = Ledger.open(Home(root, sqlite_url(root / "ledger.db")).ensure())
        load_simulation(ledger, sim)
        ledger.integrate()
        start = time.perf_counter()
        findings = analyze(ledger)
        seconds = time.perf_counter() - start
        ledger.close()
        truth = orjson.loads((sim / "truth.json").read_bytes())
        plan = orjson.loads((sim / "plan.json").read_bytes())
        facilities = len(plan.get("facilities", []))
        result = score(findings.findings, truth)
        false = result.findings - result.true_findings
        return {
            "scenario": scenario,
            "intensity": intensity,
            "seed": seed,
            "population": population,
            "facilities": facilities,
            **result.as_json(),
            "falsePer100Facilities": round(100 * false / max(1, facilities), 2),
            "falseKinds": sorted(
                {f.kind for f in findings.findings if score([f], truth).true_findings == 0}
            ),
            "analysisSeconds": round(seconds, 2),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=60000)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--intensities", default="0.05,0.15")
    parser.add_argument("--scenarios", default=",".join(s for s in SCENARIOS))
    args = parser.parse_args()
    for scenario in args.scenarios.split(","):
        levels = [0.0] if scenario == "honest" else [float(x) for x in args.intensities.split(",")]
        for intensity in levels:
            for seed in (int(s) for s in args.seeds.split(",")):
                line = run(scenario, intensity or 0.05, seed, args.population)
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
