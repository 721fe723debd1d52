"""End to end: simulate a campaign, capture it into a fresh SQLite ledger and integrate the log
(the national target: both in < 10 minutes, peak RSS < 4 GB); optionally analyse it (target
< 2 minutes, < 4 GB) and certify it (bundle < 20 MB, verify < 10 s on one core).

Prints one JSON line per population and stage. Peak RSS is VmHWM of this process so far.
Run: ``python bench/campaign.py [--populations 1500000,26000000] [--analyze] [--certify]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import emit
from dosetrail.analysis import analyze
from dosetrail.certify.pipeline import certify_simulation
from dosetrail.certify.trust import Trust
from dosetrail.certify.verify import verify_bundle
from dosetrail.home import Home
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger


def _peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def run(population: int, analyze_too: bool, certify_too: bool) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="dosetrail-campaign-"))
    try:
        t0 = time.perf_counter()
        sim = simulate("mixed", population, 1, root / "sim")
        t1 = time.perf_counter()
        ledger = Ledger.open(Home(root / "home", sqlite_url(root / "home" / "ledger.db")))
        loaded = load_simulation(ledger, root / "sim")
        checkpoint = ledger.integrate()
        t2 = time.perf_counter()
        size = sum(p.stat().st_size for p in (root / "home").glob("ledger.db*"))
        if analyze_too:
            t = time.perf_counter()
            findings = analyze(ledger)
            emit(
                bench="campaign_analyze",
                population=population,
                events=loaded.events,
                findings=len(findings.findings),
                seconds=round(time.perf_counter() - t, 1),
                peak_rss_mb=round(_peak_mb()),
            )
        if certify_too:
            t = time.perf_counter()
            certified = certify_simulation(ledger, root / "sim", root / "cert")
            certify_s = time.perf_counter() - t
            trust = Trust.parse(certified.trust.read_text())
            t = time.perf_counter()
            verify_bundle(certified.bundle, trust)
            emit(
                bench="campaign_certify",
                population=population,
                bundle_bytes=certified.size,
                certify_s=round(certify_s, 1),
                verify_s=round(time.perf_counter() - t, 2),
                peak_rss_mb=round(_peak_mb()),
            )
        ledger.close()
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
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "simulated_events": sim.events,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--populations", default="1500000,26000000")
    parser.add_argument("--analyze", action="store_true", help="also time the analysis")
    parser.add_argument("--certify", action="store_true", help="also certify and verify")
    args = parser.parse_args()
    for population in (int(p) for p in args.populations.split(",")):
        emit(**run(population, args.analyze, args.certify))


if __name__ == "__main__":
    main()
