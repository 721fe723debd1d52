"""``dosetrail analyze``: findings as JSON and a self-contained HTML report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dosetrail.analysis import analyze, write_report
from dosetrail.store.ledger import Ledger


def command(
    out: Annotated[Path, typer.Option(help="Folder for findings.json and report.html.")] = Path(
        "analysis"
    ),
) -> None:
    """Analyse the whole ledger: stock, cold chain, coverage, diversion and fabrication
    indicators; writes OUT/findings.json (docs/findings.md) and OUT/report.html, and stores the
    findings in the ledger."""
    ledger = Ledger.open()
    ledger.integrate()  # the analysis covers a checkpointed prefix; make it all of the log
    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]analysing[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("", total=1)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        findings = analyze(ledger, report)
        bar.update(task, description="writing the report")
        data, page = write_report(findings, out)
    kinds = Counter(f.severity for f in findings.findings)
    typer.echo(
        f"{len(findings.findings)} findings ({kinds['high']} high, {kinds['medium']} medium, "
        f"{kinds['low']} low) over log size {findings.covered['logSize']} → {data}, {page}"
    )
