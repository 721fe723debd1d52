"""Analysis speed: seconds and peak RSS of ``analyze`` on ledgers of growing size.

For each population: simulate (mixed scenario), load into a fresh SQLite ledger (timed
separately: capture speed is not analysis speed), then analyse in a child process so its peak
RSS is its own. Prints one JSON line per size: population, events, load seconds, analysis
seconds, analysis peak RSS (MiB).
Run: ``python bench/analyze.py [--populations 60000,1500000]``.

Measured on the 2-core machine (mixed 5 %, SQLite): 60,000 people (2,174 events) analysed in
1.6 s, 225 MiB peak RSS; one province, 1,500,000 people (42,947 events), 20.4 s and 1,132 MiB
(loading it took 316 s). The national ledger (~745,000 events) was not loaded: at the current
capture speed that takes over an hour, so the < 2 min national target is not yet measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shutil
import tempfile
import time
from pathlib import Path

from dosetrail.home import Home
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger


def _analyse(root: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from dosetrail.analysis import analyze

    home = Home(Path(root), sqlite_url(Path(root) / "ledger.db"))
    ledger = Ledger.open(home)
    start = time.perf_counter()
    findings = analyze(ledger)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "analysisSeconds": round(seconds, 2),
            "peakRssMiB": round(rss),
            "findings": len(findings.findings),
            "events": findings.covered["events"],
        }
    )


def run(population: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="dosetrail-analyze-"))
    try:
        simulate("mixed", population, 7, tmp / "sim", intensity=0.05)
        root = tmp / "home"
        ledger = Ledger.open(Home(root, sqlite_url(root / "ledger.db")).ensure())
        start = time.perf_counter()
        load_simulation(ledger, tmp / "sim")
        ledger.integrate()
        loading = time.perf_counter() - start
        ledger.close()
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        child = multiprocessing.Process(target=_analyse, args=(str(root), queue))
        child.start()
        result = queue.get()
        child.join()
        return {"population": population, "loadSeconds": round(loading, 1), **result}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--populations", default="60000,1500000")
    args = parser.parse_args()
    for population in (int(p) for p in args.populations.split(",")):
        print(json.dumps(run(population)), flush=True)


if __name__ == "__main__":
    main()
