"""``dosetrail simulate``: write a simulated national campaign with ground truth."""

# ruff: noqa: PLR0917 - one parameter per command-line option

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dosetrail.sim import SCENARIOS, parse_scenarios, simulate
from dosetrail.sim.timeline import DEFAULT_DAYS


def command(
    scenario: Annotated[
        str,
        typer.Option(help=f"Scenario, or several joined by commas: {', '.join(SCENARIOS)}."),
    ],
    population: Annotated[
        int, typer.Option(help="People: 26000000 national, ~1500000 a province, 50000 a county.")
    ],
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")],
    out: Annotated[Path, typer.Option(help="Output directory (created; must be empty).")],
    intensity: Annotated[
        float, typer.Option(help="Share affected by adversarial scenarios (0-0.5).")
    ] = 0.05,
    days: Annotated[int, typer.Option(help="Days simulated.")] = DEFAULT_DAYS,
    xml: Annotated[bool, typer.Option("--xml", help="Also write each document as XML.")] = False,
) -> None:
    """Simulate a donated-vaccine campaign: EPCIS documents per party and day, truth.json,
    reality.json, plan.json (see docs/simulator.md)."""
    parse_scenarios(scenario)  # an unknown name stops here (exit 2), before the progress bar
    console = Console(file=sys.stderr)
    columns = (
        TextColumn("[bold]simulating[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days · {task.fields[events]:,} events"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("days", total=days, events=0)

        def report(done: int, total: int, events: int) -> None:
            bar.update(task, completed=done, total=total, events=events)

        result = simulate(
            scenario,
            population,
            seed,
            out,
            intensity=intensity,
            days=days,
            xml=xml,
            progress=report,
        )
    typer.echo(
        f"{result.events:,} events in {result.documents:,} documents "
        f"({result.parties:,} parties, {result.facilities:,} facilities, "
        f"{result.anomalies} anomalies) → {result.out}",
        err=True,
    )
