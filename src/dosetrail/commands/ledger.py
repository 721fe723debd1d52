"""``dosetrail init``, ``party``, ``capture``: the ledger's write side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dosetrail.errors import NotFound
from dosetrail.store.ledger import Ledger
from dosetrail.store.roles import ROLE_RULES, ROLES

party_app = typer.Typer(
    help="Register and list the parties that record events.", no_args_is_help=True
)
_err = Console(stderr=True)


def init() -> None:
    """Create (or upgrade) the ledger in DOSETRAIL_HOME and print the log's verifier key."""
    ledger = Ledger.open()
    typer.echo(f"ledger ready at {ledger.home.root} (log {ledger.origin})")
    typer.echo(ledger.operator.verifier_key)


@party_app.command("add")
def party_add(
    name: Annotated[str, typer.Argument(help="Party name (no spaces or '+').")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    pubkey: Annotated[
        str | None,
        typer.Option("--pubkey", help="Register an external verifier key instead of creating one."),
    ] = None,
) -> None:
    """Register a party; its Ed25519 key is created in DOSETRAIL_HOME/keys unless --pubkey."""
    who = Ledger.open().add_party(name, role, pubkey)
    typer.echo(who.verifier_key)


@party_app.command("list")
def party_list() -> None:
    """List parties with their role and verifier key."""
    table = Table("name", "role", "verifier key", "may record")
    for who in Ledger.open().parties():
        steps = ", ".join(sorted(ROLE_RULES[who.role].biz_steps)) or "—"
        table.add_row(who.name, who.role, who.verifier_key, steps)
    Console().print(table)


def capture(
    files: Annotated[list[Path], typer.Argument(help="EPCIS documents (JSON-LD or XML).")],
    party: Annotated[str, typer.Option("--as", help="The registered party recording them.")],
    signature: Annotated[
        Path | None,
        typer.Option(help="The party's signed note over the capture text (external keys)."),
    ] = None,
) -> None:
    """Validate, sign and store documents (one transaction each), then extend the log.

    Exit 1 if a document is invalid or unauthorised (nothing of it is stored).
    """
    ledger = Ledger.open()
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"no such file: {path}") from e
        sig = signature.read_bytes() if signature is not None else None
        result = ledger.capture(data, party, name=str(path), signature=sig)
        if result.already_captured:
            typer.echo(f"{path}: already captured (capture {result.capture_id[:16]}…)")
            continue
        note = f", {len(result.duplicates)} duplicate(s) not stored" if result.duplicates else ""
        last = result.log_index + result.stored
        typer.echo(
            f"{path}: {result.stored} event(s) stored{note}; log entries "
            f"{result.log_index}–{last} (capture {result.capture_id[:16]}…)"
        )
        for index, hash_id in result.duplicates:
            _err.print(f"  duplicate: event {index} {hash_id}")
    checkpoint = ledger.integrate()
    typer.echo(f"log size {checkpoint.size}, root {checkpoint.root.hex()[:16]}…")
