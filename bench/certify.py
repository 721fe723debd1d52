"""Certification benchmarks: bundle size and offline verify time; Monte-Carlo soundness table.

``python bench/certify.py [--population N]``: simulate N people (default 1,500,000, one
province), load them into a fresh SQLite ledger, certify, and measure the bundle and
``verify_bundle`` (one process, one core). Then, from the simulator's national run
(``--national-sim DIR``, made with ``dosetrail simulate --population 26000000``), build the
national frame from its EPCIS files and measure its encoded size, its decode + sample time, and
the number of units a national sample visits, to extrapolate the national bundle.

``python bench/certify.py --soundness [--runs R]``: the coverage / detection table of
``docs/certification.md`` (:mod:`dosetrail.certify.soundness`). One JSON line per measurement.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
import zlib
from pathlib import Path

from _util import emit, peak_rss_mb
from dosetrail.certify import Trust, certify_simulation, verify_bundle
from dosetrail.certify import bundle as b
from dosetrail.certify._zip import read_zip
from dosetrail.certify.design import DEFAULT_DESIGN
from dosetrail.certify.frame import Frame, Unit
from dosetrail.certify.outcomes import claim_of
from dosetrail.certify.sampling import draw_sample
from dosetrail.certify.soundness import soundness
from dosetrail.epcis import read_document
from dosetrail.home import Home
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger


def measured(population: int, keep: Path | None) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="dosetrail-certify-"))
    try:
        sim = root / "sim"
        t = time.perf_counter()
        simulate(["honest"], population, 7, sim)
        emit(
            bench="certify",
            op="simulate",
            population=population,
            seconds=round(time.perf_counter() - t, 1),
        )
        home = Home(root / "home", sqlite_url(root / "home" / "ledger.db"))
        ledger = Ledger.open(home)
        t = time.perf_counter()
        loaded = load_simulation(ledger, sim)
        emit(
            bench="certify",
            op="load",
            population=population,
            documents=loaded.documents,
            events=loaded.events,
            seconds=round(time.perf_counter() - t, 1),
        )
        t = time.perf_counter()
        certified = certify_simulation(ledger, sim, root / "out")
        certify_s = time.perf_counter() - t
        trust = Trust.load(certified.trust)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            report = verify_bundle(certified.bundle, trust)
            times.append(time.perf_counter() - t)
        assert report.ok
        members = read_zip(certified.bundle.read_bytes())
        sessions = certified.certificate["sessions"]
        units = len(certified.certificate["units"])
        frame = members[b.FRAME]
        fixed = certified.size - len(zlib.compress(frame, 9))
        emit(
            bench="certify",
            op="certify+verify",
            population=population,
            sessions=sessions["units"],
            sampled_units=units,
            bundle_bytes=certified.size,
            frame_bytes=len(frame),
            frame_deflated=len(zlib.compress(frame, 9)),
            certify_s=round(certify_s, 2),
            verify_s=round(min(times), 3),
            member_bytes={k: len(v) for k, v in members.items()},
            peak_rss_mib=round(peak_rss_mb()),
        )
        if keep is not None:
            shutil.copy(certified.bundle, keep)
        return {"fixed_per_unit": fixed / units, "verify_per_unit": min(times) / units}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def national(sim: Path, per_unit: dict[str, float]) -> None:
    """The national frame from the simulator's files (log indices: event order, as a capture
    replay would give them), and the extrapolated bundle and verify time."""
    t = time.perf_counter()
    units = []
    index = 0
    for path in sorted((sim / "epcis").glob("*/*.jsonld")):
        doc = read_document(path.read_bytes(), str(path))
        prefixes = doc.prefixes()
        for ev in doc.events:
            index += 1
            if ev.get("bizStep") in ("dispensing", "cycle_counting"):
                claim = claim_of(ev, prefixes)
                if claim.kind is not None and claim.weight > 0:
                    units.append(
                        Unit(
                            claim.kind,
                            f"KP-{zlib.crc32(str(claim.site).encode()) % 12:02d}",
                            index,
                            claim.weight,
                        )
                    )
    scan_s = time.perf_counter() - t
    frame = Frame.build("campaign", "all", index + 1, DEFAULT_DESIGN, units)
    data = frame.encode()
    t = time.perf_counter()
    decoded = Frame.decode(data)
    sample = draw_sample(decoded, hashlib.sha256(b"national").digest())
    decode_s = time.perf_counter() - t
    visited = len(sample.first_draw)
    deflated = len(zlib.compress(data, 9))
    estimate = deflated + visited * per_unit["fixed_per_unit"]
    emit(
        bench="certify",
        op="national-frame",
        units=len(frame.units),
        sessions=sum(1 for u in frame.units if u.kind == "session"),
        frame_bytes=len(data),
        frame_deflated=deflated,
        scan_s=round(scan_s, 1),
        frame_decode_and_sample_s=round(decode_s, 2),
        sampled_units=visited,
        draws=len(sample.draws),
    )
    emit(
        bench="certify",
        op="national-extrapolated",
        bundle_bytes=round(estimate),
        verify_s=round(decode_s + visited * per_unit["verify_per_unit"], 2),
        assumption="bundle = deflated national frame + sampled units x measured bytes per unit "
        "(province run); verify = measured frame decode + sample + units x measured s per unit",
    )


def table(runs: int) -> None:
    rows = [(d, False, False) for d in (0.0, 0.01, 0.02, 0.05, 0.10, 0.20, 0.30)]
    rows += [(d, True, False) for d in (0.05, 0.10)]
    rows += [(d, False, True) for d in (0.02, 0.05, 0.10)]
    for diversion, concentrated, smooth in rows:
        t = time.perf_counter()
        row = soundness(diversion, runs, concentrated=concentrated, smooth_only=smooth)
        emit(bench="certify-soundness", **row.as_json(), seconds=round(time.perf_counter() - t, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=1_500_000)
    parser.add_argument("--national-sim", type=Path, default=None)
    parser.add_argument("--soundness", action="store_true")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--keep", type=Path, default=None, help="Copy the bundle here.")
    args = parser.parse_args()
    if args.soundness:
        table(args.runs)
        return
    per_unit = measured(args.population, args.keep)
    if args.national_sim is not None:
        national(args.national_sim, per_unit)
    else:
        emit(bench="certify", op="national", skipped="no --national-sim DIR given")


if __name__ == "__main__":
    main()
