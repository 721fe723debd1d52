"""``dosetrail epcis``: hash, validate and convert EPCIS 2.0 documents."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Read, validate, hash and convert GS1 EPCIS 2.0 documents.", no_args_is_help=True
)
