"""``dosetrail init``, ``party``, ``capture``: the ledger's write side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from dosetrail.epcis.document import EPCIS_CONTEXT_URL
from dosetrail.epcis.timestamps import from_micros
from dosetrail.errors import MalformedInput, NotFound
from dosetrail.store.ledger import Ledger
from dosetrail.store.roles import ROLE_STEPS, ROLES

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
    site: Annotated[
        str | None,
        typer.Option("--site", help="SGLN of the site a donor, store or facility operates."),
    ] = None,
) -> None:
    """Register a party; its Ed25519 key is created in DOSETRAIL_HOME/keys unless --pubkey."""
    who = Ledger.open().add_party(name, role, pubkey, site)
    typer.echo(who.verifier_key)


@party_app.command("list")
def party_list() -> None:
    """List parties with their role and verifier key."""
    table = Table("name", "role", "verifier key", "may record")
    for who in Ledger.open().parties():
        steps = ", ".join(sorted(ROLE_STEPS[who.role])) or "—"
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


def query(
    params: Annotated[
        list[str] | None,
        typer.Argument(help="EPCIS query parameters as NAME=VALUE (e.g. EQ_bizStep=shipping)."),
    ] = None,
    all_pages: Annotated[
        bool, typer.Option("--all", help="Follow nextPageToken to the end.")
    ] = False,
    per_page: Annotated[int, typer.Option("--per-page", help="Events per page.")] = 100,
) -> None:
    """Run an EPCIS 2.0 query and print the result as a JSON-LD EPCISQueryDocument."""
    parsed: dict[str, list[str]] = {}
    for item in params or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise MalformedInput(f"{item!r} is not NAME=VALUE")
        parsed.setdefault(name, []).append(value)
    ledger = Ledger.open()
    events: list[dict[str, object]] = []
    token: str | None = None
    while True:
        page = ledger.query({**parsed, **({"nextPageToken": [token]} if token else {})}, per_page)
        events.extend(e.event for e in page.events)
        token = page.next_page_token
        if not all_pages or token is None:
            break
    results: dict[str, object] = {
        "queryName": "SimpleEventQuery",
        "resultsBody": {"eventList": events},
    }
    doc: dict[str, object] = {
        "@context": [EPCIS_CONTEXT_URL],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {"queryResults": results},
    }
    if token:
        doc["nextPageToken"] = token
    sys.stdout.buffer.write(
        orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    )


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def trace(
    epc: Annotated[str, typer.Argument(help="EPC URI or Digital Link of a vial, case or pallet.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Follow one object through every custody step, with each event's log index."""
    steps = Ledger.open().trace(epc)
    if not steps:
        raise NotFound(f"no events name {epc}")
    if as_json:
        sys.stdout.buffer.write(
            orjson.dumps([s.as_json() for s in steps], option=orjson.OPT_INDENT_2)
        )
        return
    table = Table(
        "time (UTC)", "log", "event", "bizStep", "where", "via", title=f"custody of {epc}"
    )
    for s in steps:
        when = f"{from_micros(s.event_time):%Y-%m-%d %H:%M}"
        step = (s.biz_step or "").rsplit("-", 1)[-1] if s.biz_step else "—"
        what = f"{s.event_type.removesuffix('Event')} {s.action or ''}".strip()
        where = s.location_name or s.location or "—"
        via = "itself" if s.via == _canon(epc) else f"in {s.via.rsplit('/', 1)[-1]}"
        table.add_row(when, str(s.log_index), what, step, where, via)
    Console().print(table)


def _canon(epc: str) -> str:
    from dosetrail.epcis.identifiers import normalise_epc

    return normalise_epc(epc.strip())
