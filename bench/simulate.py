"""Simulator throughput: events generated and written per second, and peak memory.

Prints one JSON line per run: population, events, seconds, events/s, peak RSS (MiB, from
``resource.getrusage``; the maximum over the process so far). Runs one province
(1,500,000 people) and, unless ``--national 0``, the national scale (26,000,000; several minutes).
Run: ``python bench/simulate.py [--national N] [--days D] [--scenario S]``.

Measured on the 2-core project machine (honest, 60 days): 1.5 M people 41,234 events in 4.3 s
(9,566 events/s, 115 MB, 60 MiB RSS); 26 M people 745,638 events in 221,321 documents in 72 s
(10,321 events/s, 2.0 GB, 609 MiB RSS). Events are heavy (2.7 kB on average: 51-EPC commissioning,
48–96-reading logger days, ~40-vial sessions), so bytes/s (~28 MB/s) says more than events/s.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from dosetrail.sim import simulate


def run(population: int, days: int, scenario: str) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix="dosetrail-bench-")) / "run"
    try:
        start = time.perf_counter()
        result = simulate(scenario, population, 1, out, days=days)
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "population": population,
        "scenario": scenario,
        "days": days,
        "events": result.events,
        "documents": result.documents,
        "megabytes": round(result.bytes / 1e6, 1),
        "seconds": round(seconds, 2),
        "events_per_s": round(result.events / seconds),
        "peak_rss_mib": round(peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--national", type=int, default=26_000_000)
    parser.add_argument("--province", type=int, default=1_500_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--scenario", default="honest")
    args = parser.parse_args()
    for population in (args.province, args.national):
        if population:
            print(json.dumps(run(population, args.days, args.scenario)), flush=True)


if __name__ == "__main__":
    main()
