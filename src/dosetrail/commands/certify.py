"""``dosetrail nonce``, ``sample``, ``certify``, ``verify``, ``trust``: certification.

The steps of one programme and period, in order::

    dosetrail nonce commit --programme P            donor commits SHA-256(nonce)
    dosetrail sample frame --programme P            monitor commits the frame
    dosetrail sample seal --programme P             cosigned sampling checkpoint
    dosetrail nonce reveal --programme P            donor reveals the nonce
    dosetrail sample show --programme P             the units to visit
    dosetrail sample observe --programme P --capture OBS.jsonld   monitor's observations
    dosetrail certify --programme P --out BUNDLE    certificate + bundle
    dosetrail verify BUNDLE --trust KEYS            anyone, offline
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from dosetrail.certify import (
    Trust,
    certify,
    commit_frame,
    commit_nonce,
    load_plan,
    local_witnesses,
    new_nonce,
    observations_from_reality,
    record_observations,
    reveal_nonce,
    seal,
    trust_for,
    verify_bundle,
)
from dosetrail.certify.nonce import parse_nonce
from dosetrail.certify.verify import Check
from dosetrail.epcis.timestamps import to_micros
from dosetrail.errors import MalformedInput, NotFound
from dosetrail.log.witness import Witness
from dosetrail.store.ledger import Ledger

nonce_app = typer.Typer(
    help="The donor's sampling nonce: commit before the period closes, reveal after.",
    no_args_is_help=True,
)
sample_app = typer.Typer(
    help="The sampling frame, the sampling checkpoint, the sample and its observations.",
    no_args_is_help=True,
)

Programme = Annotated[str, typer.Option("--programme", help="Programme label (e.g. dtvax-2025).")]
Period = Annotated[str, typer.Option("--period", help="Period label within the programme.")]
Witnesses = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="Witness party (key in DOSETRAIL_HOME) to cosign; default every local witness.",
    ),
]
_out = Console(soft_wrap=True)


def _witnesses(ledger: Ledger, names: list[str] | None) -> list[Witness]:
    return local_witnesses(ledger, names or None)


def _nonce_path(ledger: Ledger, programme: str, period: str) -> Path:
    return ledger.home.keys_dir / f"nonce-{programme}-{period}.hex"


@nonce_app.command("commit")
def nonce_commit(
    programme: Programme,
    period: Period = "all",
    donor: Annotated[str, typer.Option("--as", help="The donor party.")] = "donor",
    nonce: Annotated[
        str | None, typer.Option("--nonce", help="64 hex digits (default: a fresh random one).")
    ] = None,
) -> None:
    """Log the donor's commitment to a secret nonce (kept in DOSETRAIL_HOME/keys)."""
    ledger = Ledger.open()
    value = parse_nonce(nonce) if nonce else new_nonce()
    index = commit_nonce(ledger, programme, period, value, donor)
    path = _nonce_path(ledger, programme, period)
    path.write_text(value.hex() + "\n", encoding="ascii")
    path.chmod(0o600)
    typer.echo(f"nonce commitment logged at index {index}; the nonce is in {path}")


@nonce_app.command("reveal")
def nonce_reveal(
    programme: Programme,
    period: Period = "all",
    donor: Annotated[str, typer.Option("--as", help="The donor party.")] = "donor",
    nonce: Annotated[
        str | None, typer.Option("--nonce", help="The nonce (default: the one kept at commit).")
    ] = None,
) -> None:
    """Reveal the nonce for the sealed sampling checkpoint."""
    ledger = Ledger.open()
    if nonce is None:
        path = _nonce_path(ledger, programme, period)
        try:
            nonce = path.read_text(encoding="ascii")
        except OSError as e:
            raise NotFound(f"no kept nonce at {path}: pass --nonce") from e
    index = reveal_nonce(ledger, programme, period, parse_nonce(nonce), donor)
    typer.echo(f"nonce revealed at log index {index}")


def _micros(day: str | None, what: str) -> int | None:
    if day is None:
        return None
    try:
        parsed = datetime.fromisoformat(day)
    except ValueError as e:
        raise MalformedInput(f"{what} {day!r} is not an ISO date or date-time") from e
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return to_micros(parsed)


@sample_app.command("frame")
def sample_frame(
    programme: Programme,
    period: Period = "all",
    monitor: Annotated[str, typer.Option("--as", help="The certifying monitor.")] = "monitor",
    start: Annotated[
        str | None, typer.Option("--from", help="Only events at or after this time.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Only events before this time.")] = None,
) -> None:
    """Commit the sampling frame: every session and closing stock count logged so far."""
    ledger = Ledger.open()
    frame, index = commit_frame(
        ledger,
        programme,
        period,
        certifier=monitor,
        start=_micros(start, "--from"),
        end=_micros(end, "--to"),
    )
    for kind in ("session", "stock"):
        typer.echo(
            f"{kind}: {sum(1 for u in frame.units if u.kind == kind):,} units, weight "
            f"{frame.weight(kind):,}, {len(frame.strata[kind])} strata"
        )
    typer.echo(f"frame committed at log index {index}")


@sample_app.command("seal")
def sample_seal(programme: Programme, period: Period = "all", witness: Witnesses = None) -> None:
    """Sign the sampling checkpoint and have the witnesses cosign it."""
    ledger = Ledger.open()
    cp = seal(ledger, programme, period, _witnesses(ledger, witness))
    typer.echo(f"sampling checkpoint {cp.origin} size {cp.size} sealed")


@sample_app.command("show")
def sample_show(
    programme: Programme,
    period: Period = "all",
    as_json: Annotated[bool, typer.Option("--json", help="The draws as JSON.")] = False,
) -> None:
    """Print the sample (needs the revealed nonce): one row per unit to visit."""
    plan = load_plan(Ledger.open(), programme, period)
    if as_json:
        typer.echo(plan.sample.encode().decode())
        return
    table = Table("sample index", "kind", "stratum", "log index", "weight", "draws")
    counts: dict[int, int] = {}
    for d in plan.sample.draws:
        counts[d.unit] = counts.get(d.unit, 0) + 1
    for unit, d in sorted(plan.sample.first_draw.items(), key=lambda kv: kv[1].index):
        weight = plan.frame.by_index[unit].weight
        table.add_row(str(d.index), d.kind, d.stratum, str(unit), f"{weight:,}", str(counts[unit]))
    _out.print(table)
    _out.print(f"seed {plan.sample.seed.hex()}: {len(plan.sample.draws)} draws")


@sample_app.command("observe")
def sample_observe(
    programme: Programme,
    period: Period = "all",
    monitor: Annotated[str, typer.Option("--as", help="The monitor party.")] = "monitor",
    capture: Annotated[
        Path | None, typer.Option("--capture", help="A monitor's own observation document.")
    ] = None,
    reality: Annotated[
        Path | None,
        typer.Option("--reality", help="Simulated: observe what reality.json says is there."),
    ] = None,
) -> None:
    """Record the monitor's observations of the sampled units (signed, logged)."""
    if (capture is None) == (reality is None):
        raise MalformedInput("give either --capture FILE or --reality reality.json")
    ledger = Ledger.open()
    if capture is not None:
        try:
            document = capture.read_bytes()
        except OSError as e:
            raise NotFound(f"cannot read {capture}: {e}") from e
        result = record_observations(ledger, programme, period, [], monitor, document=document)
    else:
        assert reality is not None
        try:
            real = orjson.loads(reality.read_bytes())
        except (OSError, orjson.JSONDecodeError) as e:
            raise MalformedInput(f"cannot read {reality}: {e}") from e
        events = observations_from_reality(ledger, load_plan(ledger, programme, period), real)
        result = record_observations(ledger, programme, period, events, monitor)
    typer.echo(f"{result.stored} observations captured at log index {result.log_index}")


def certify_cmd(
    programme: Programme,
    out: Annotated[Path, typer.Option("--out", help="The bundle file to write (zip).")],
    period: Period = "all",
    monitor: Annotated[str, typer.Option("--as", help="The certifying monitor.")] = "monitor",
    witness: Witnesses = None,
) -> None:
    """Issue the signed certificate and write the offline bundle."""
    ledger = Ledger.open()
    certify(ledger, programme, out, period=period, witnesses=_witnesses(ledger, witness))
    cert = orjson.loads(
        (ledger.home.root / "certify" / programme / period / "certificate.json").read_bytes()
    )
    typer.echo(cert["headline"])
    typer.echo(f"wrote {out} ({out.stat().st_size:,} bytes)")


def verify_cmd(
    bundle: Annotated[Path, typer.Argument(help="The bundle (zip) to verify.")],
    trust: Annotated[
        Path, typer.Option("--trust", help="Trusted keys: log, witness, party lines.")
    ],
) -> None:
    """Verify a bundle offline; print each check; exit 0 only if all pass (1 otherwise)."""
    keys = Trust.load(trust)

    def show(check: Check) -> None:
        mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
        _out.print(f"{mark} {check.name}: {check.detail}", highlight=False)

    report = verify_bundle(bundle, keys, show)
    cert = report.certificate or {}
    _out.print(f"[bold]{cert.get('headline', '')}[/bold]", highlight=False)


def trust_cmd(
    witness: Witnesses = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to FILE (default stdout).")
    ] = None,
) -> None:
    """Print the trust file for this ledger (log key, witnesses, parties with roles)."""
    ledger = Ledger.open()
    text = trust_for(ledger, _witnesses(ledger, witness)).text()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
