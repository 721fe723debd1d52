"""``dosetrail demo``: run the whole story and say where to look."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from dosetrail.demo import run_demo


def command(
    out: Annotated[Path, typer.Option(help="Directory for everything the demo writes.")] = Path(
        "demo-out"
    ),
    population: Annotated[
        int, typer.Option(help="People in the simulated province (1,000,000 ≈ a province).")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 2021,
) -> None:
    """Simulate, capture, log, witness and verify a campaign end to end (SQLite, no server)."""
    console = Console(file=sys.stderr)
    started = time.monotonic()
    columns = (
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def step(message: str) -> None:
            bar.console.print(f"[bold cyan]›[/] {message}")

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        result = run_demo(out, population=population, seed=seed, step=step, progress=progress)
    seconds = time.monotonic() - started
    cp = result.checkpoint
    say = Console().print
    say(f"\n[bold]dosetrail demo[/] finished in {seconds:.0f} s → {out}/")
    say(
        f"  {result.events:,} events in {result.documents:,} signed captures by "
        f"{result.parties} parties; {result.anomalies} adversarial anomalies injected"
    )
    if cp is not None:
        say(f"  log {cp.origin}: {cp.size:,} entries, root {cp.root.hex()[:16]}…, witnessed")
    say(f"  analysis: {result.findings} findings, {result.high} of high severity")
    headline = result.certificate.get("headline", "")
    verdict = result.certificate.get("verdict", {})
    say(f"  certificate: [bold]{headline}[/]")
    if isinstance(verdict, dict):
        word = "supported" if verdict.get("supported") else "NOT supported"
        reasons = "; ".join(str(r) for r in verdict.get("reasons", [])[:2])
        say(f"  the donor's claim is {word}" + (f" ({reasons})" if reasons else ""))
    say(
        f"  bundle: {result.bundle_bytes / 1024:.0f} KiB, verified offline: "
        f"{result.verified_checks} checks passed"
    )
    say(f"  forged bundle refused: [red]{result.forgery_detected}[/]")
    say(f"  tampered log copy refused: [red]{result.tamper_detected}[/]")
    say("\nwhere to look:")
    say(f"  {out}/report.html             the analysis report (open it in a browser)")
    say(f"  {out}/bundle.zip              the certificate bundle; check it with:")
    say(f"      dosetrail verify {out}/bundle.zip --trust {out}/trusted-keys.txt")
    say(f"  {out}/findings.json           the findings, machine-readable")
    say(f"  {out}/sim/truth.json          what the adversary did (ground truth)")
    say(f"  {out}/log/                    published tiles + cosigned checkpoint")
    say(f"  {out}/trusted-keys.txt        the keys a donor trusts")
    say(f"  DOSETRAIL_HOME={out}/home dosetrail serve     dashboard at http://127.0.0.1:8000/")
    say(f"  DOSETRAIL_HOME={out}/home dosetrail query EQ_bizStep=dispensing | less")
