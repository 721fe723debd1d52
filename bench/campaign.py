"""End to end: simulate a campaign, then capture it into a fresh SQLite ledger and integrate
the log — the issue's national target is both in < 10 minutes with peak RSS < 4 GB.

Prints one JSON line per population: events, documents, simulate seconds, capture seconds,
capture events/s, total seconds and peak RSS (VmHWM of this process).
Run: ``python bench/campaign.py [--populations 1500000,26000000]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import emit
from dosetrail.home import Home
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger


def _peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def run(population: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="dosetrail-campaign-"))
    try:
        t0 = time.perf_counter()
        sim = simulate("mixed", population, 1, root / "sim")
        t1 = time.perf_counter()
        ledger = Ledger.open(Home(root / "home", sqlite_url(root / "home" / "ledger.db")))
        loaded = load_simulation(ledger, root / "sim")
        checkpoint = ledger.integrate()
        t2 = time.perf_counter()
        ledger.close()
        size = sum(p.stat().st_size for p in (root / "home").glob("ledger.db*"))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "bench": "campaign",
        "population": population,
        "events": loaded.events,
        "documents": loaded.documents,
        "log_size": checkpoint.size,
        "simulate_s": round(t1 - t0, 1),
        "capture_s": round(t2 - t1, 1),
        "capture_events_per_s": round(loaded.events / (t2 - t1)),
        "total_s": round(t2 - t0, 1),
        "ledger_bytes": size,
        "peak_rss_mb": round(_peak_mb()),
        "simulated_events": sim.events,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--populations", default="1500000,26000000")
    args = parser.parse_args()
    for population in (int(p) for p in args.populations.split(",")):
        emit(**run(population))


if __name__ == "__main__":
    main()
