"""``dosetrail demo``: the whole story on the embedded default, end to end.

Simulate a mixed adversarial campaign in one province → register its parties and replay every
capture into a fresh SQLite ledger → integrate the transparency log → analyse the ledger
(``findings.json``, ``report.html``) → publish the log's tiles → a witness checks consistency
and cosigns → a tampered copy of the log fails the audit. Each later
capability (analysis, certification) adds its step here. Everything lands in ``--out DIR``:

``DIR/sim/`` the simulation (EPCIS documents, truth, reality), ``DIR/home/`` the ledger and keys,
``DIR/log/`` the published tiles with the cosigned checkpoint, ``DIR/trusted-keys.txt`` the keys
a donor trusts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dosetrail.analysis import analyze, write_report
from dosetrail.errors import Conflict, DosetrailError
from dosetrail.home import Home
from dosetrail.log.audit import audit_log
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.witness import Witness, request_from_tiles
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
    findings: int = 0
    high: int = 0
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

    step("publishing the log's tiles")
    tiles = DirectoryTiles(out / "log")
    result.checkpoint = export_tiles(ledger.engine, tiles)

    step("a witness checks the log's consistency and cosigns its checkpoint")
    witness = Witness.init(out / "witness", "witness.demo.dosetrail")
    request = request_from_tiles(tiles, 0)
    cosignature = witness.add_checkpoint(request, ledger.operator.verifier_key)
    tiles.write("checkpoint", request.checkpoint + cosignature.line().encode(), sync=True)
    audit_log(tiles, [ledger.operator.verifier])

    step("the operator tries to rewrite history: a tampered copy of the log must fail")
    result.tamper_detected = _tamper_and_audit(out, tiles, ledger)

    (out / "trusted-keys.txt").write_text(_trusted_keys(ledger, witness))
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


def _trusted_keys(ledger: Ledger, witness: Witness) -> str:
    """The keys a donor trusts, one per line: ``log``, ``witness`` and ``party NAME ROLE``."""
    lines = [
        "# dosetrail trusted keys: the only inputs `dosetrail verify` trusts",
        f"log {ledger.operator.verifier_key}",
        f"witness {witness.cosigner.verifier_key}",
    ]
    lines += [f"party {p.name} {p.role} {p.verifier_key}" for p in ledger.parties()]
    return "\n".join(lines) + "\n"
