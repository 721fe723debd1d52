"""``dosetrail demo``: the whole story on the embedded default, end to end.

Simulate a mixed adversarial campaign in one province → register its parties and replay every
capture into a fresh SQLite ledger → integrate the transparency log → analyse the ledger
(``findings.json``, ``report.html``) → certify: donor nonce, witnessed checkpoint, verifiable
sample, monitor field checks, signed certificate, offline bundle → publish the tiles with a
cosigned checkpoint → a donor verifies the bundle offline; a forged bundle and a rewritten log
are both refused. Each later
capability (analysis, certification) adds its step here. Everything lands in ``--out DIR``:

``DIR/sim/`` the simulation (EPCIS documents, truth, reality), ``DIR/home/`` the ledger and keys,
``DIR/log/`` the published tiles with the cosigned checkpoint, ``DIR/bundle.zip`` the
certificate bundle, ``DIR/trusted-keys.txt`` the keys a donor trusts, ``DIR/report.html`` and
``DIR/findings.json`` the analysis.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dosetrail.analysis import analyze, write_report
from dosetrail.certify.checkpoints import cosigned_checkpoint, local_witnesses
from dosetrail.certify.pipeline import certify_simulation, tampered_copy
from dosetrail.certify.trust import Trust
from dosetrail.certify.verify import verify_bundle
from dosetrail.errors import Conflict, DosetrailError
from dosetrail.home import Home
from dosetrail.log.audit import audit_log
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger

__all__ = ["DemoResult", "run_demo"]

Step = Callable[[str], None]  # announces a step
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(slots=True)
class DemoResult:
    out: Path
    events: int = 0
    documents: int = 0
    parties: int = 0
    anomalies: int = 0
    checkpoint: Checkpoint | None = None
    tamper_detected: str = ""
    forgery_detected: str = ""
    findings: int = 0
    high: int = 0
    certificate: dict[str, Any] = field(default_factory=dict)
    bundle_bytes: int = 0
    verified_checks: int = 0
    notes: list[str] = field(default_factory=list)


def run_demo(
    out: Path,
    *,
    population: int = 1_000_000,
    seed: int = 2021,
    step: Step = lambda _: None,
    progress: Progress = lambda *_: None,
) -> DemoResult:
    """Run the demo into ``out`` (which must not exist or be empty)."""
    if out.exists() and any(out.iterdir()):
        raise Conflict(f"{out} is not empty: choose a new --out directory")
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out)

    step(f"simulating a mixed adversarial campaign for {population:,} people")
    sim = simulate(
        "mixed",
        population,
        seed,
        out / "sim",
        progress=lambda done, total, _events: progress("days", done, total),
    )
    result.anomalies = sim.anomalies

    step("registering the parties and capturing every signed document")
    home = Home(out / "home", sqlite_url(out / "home" / "ledger.db"))
    ledger = Ledger.open(home)
    loaded = load_simulation(
        ledger, out / "sim", progress=lambda done, total: progress("documents", done, total)
    )
    result.events, result.documents, result.parties = (
        loaded.events,
        loaded.documents,
        loaded.parties,
    )

    step("integrating the transparency log")
    ledger.integrate()

    step("analysing the ledger: stock, cold chain, coverage, diversion and fabrication")
    findings = analyze(ledger, lambda what, done, total: progress("analysis", done, total))
    write_report(findings, out)
    result.findings = len(findings.findings)
    result.high = sum(1 for f in findings.findings if f.severity == "high")

    step("certifying: donor nonce, frame, witnessed checkpoint, sample, field checks, certificate")
    certified = certify_simulation(ledger, out / "sim", out)
    result.certificate = certified.certificate
    result.bundle_bytes = certified.size
    (home.root / "certificates").mkdir(exist_ok=True)  # where `dosetrail serve` lists bundles
    shutil.copy(certified.bundle, home.root / "certificates" / "bundle.zip")

    step("publishing the log's tiles with a witness-cosigned checkpoint")
    witnesses = local_witnesses(ledger)
    cp, cosigned = cosigned_checkpoint(ledger, witnesses)
    tiles = DirectoryTiles(out / "log")
    export_tiles(ledger.engine, tiles)
    tiles.write("checkpoint", cosigned, sync=True)
    result.checkpoint = cp
    audit_log(tiles, [ledger.operator.verifier])

    step("a donor verifies the bundle offline, with nothing but the trusted keys")
    trust = Trust.parse(certified.trust.read_text(), str(certified.trust))
    report = verify_bundle(certified.bundle, trust)
    result.verified_checks = len(report.checks)

    step("a forger edits the certificate; the operator rewrites the log: both must fail")
    forged = tampered_copy(certified.bundle, out / "bundle-tampered.zip")
    try:
        verify_bundle(forged, trust)
    except DosetrailError as e:
        result.forgery_detected = str(e)
    else:
        raise DosetrailError("the tampered bundle passed verification: this must never happen")
    result.tamper_detected = _tamper_and_audit(out, tiles, ledger)
    ledger.close()
    return result


def _tamper_and_audit(out: Path, tiles: DirectoryTiles, ledger: Ledger) -> str:
    """Change one byte of one logged entry in a copy of the tiles; the audit must refuse it."""
    copy = out / "log-tampered"
    shutil.copytree(tiles.root, copy)
    bundle = next(p for p in sorted((copy / "tile" / "entries").rglob("*")) if p.is_file())
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    bundle.write_bytes(bytes(data))
    try:
        audit_log(DirectoryTiles(copy), [ledger.operator.verifier])
    except DosetrailError as e:
        return str(e)
    raise DosetrailError("the tampered log copy passed the audit: this must never happen")
