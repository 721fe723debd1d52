"""``dosetrail epcis``: hash, validate and convert EPCIS 2.0 documents."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dosetrail.epcis import hash_ids, read_document, to_json_bytes, to_xml_bytes
from dosetrail.epcis.validate import validate as validate_document

app = typer.Typer(
    help="Read, validate, hash and convert GS1 EPCIS 2.0 documents.", no_args_is_help=True
)

Files = Annotated[
    list[Path], typer.Argument(help="EPCIS documents (JSON-LD or XML, recognised by content).")
]


@app.command("hash")
def hash_command(
    files: Files,
    prehash: Annotated[
        bool, typer.Option("--prehash", help="Print the CBV 2.0 pre-hash string instead.")
    ] = False,
) -> None:
    """Print each event's CBV 2.0 canonical hash ID, one per line, in document order.

    XML documents are streamed, so a document of any size hashes in bounded memory.
    """
    out = sys.stdout
    for path in files:
        for line in hash_ids(path, prehash=prehash):
            out.write(line + "\n")
    out.flush()


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="EPCIS document to check.")]) -> None:
    """Check a document against the GS1 schemas and the EPCIS/CBV rules.

    Exit 0 when valid, 1 when invalid (each problem listed with document, event and field),
    2 when the file cannot be read as JSON or XML at all.
    """
    report = validate_document(file)
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    if report.valid:
        typer.echo(f"valid: {report.name} ({report.events} events, {report.format})")
        return
    for problem in report.problems:
        typer.echo(str(problem))
    typer.echo(f"invalid: {report.name}: {len(report.problems)} problem(s)", err=True)
    raise typer.Exit(1)


class Binding(StrEnum):
    xml = "xml"
    jsonld = "jsonld"


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="EPCIS document to convert.")],
    to: Annotated[Binding, typer.Option("--to", help="Target binding.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Convert between the JSON-LD and XML bindings; every event keeps its canonical hash ID."""
    doc = read_document(file)
    data = to_xml_bytes(doc) if to is Binding.xml else to_json_bytes(doc)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
