"""``dosetrail log``: the ledger's transparency log — key, checkpoints, tiles, proofs, audit."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated

import orjson
import typer

from dosetrail.errors import MalformedInput, NotFound
from dosetrail.home import Home
from dosetrail.log.audit import audit_log
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.integrate import integrate
from dosetrail.log.keys import OpenLog, open_log
from dosetrail.log.merkle import leaf_hash
from dosetrail.log.note import Verifier, parse_note
from dosetrail.log.reader import LogReader

app = typer.Typer(
    help="The transparency log: verifier key, checkpoints, C2SP tiles, proofs and audits.",
    no_args_is_help=True,
)


def read_key_option(value: str) -> str:
    """A key given inline, or as ``@FILE``."""
    if value.startswith("@"):
        try:
            return Path(value[1:]).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise NotFound(f"cannot read key file {value[1:]}: {e}") from e
    return value.strip()


def _log() -> OpenLog:
    return open_log(Home.from_env())


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


@app.command("key")
def key() -> None:
    """Print the log's verifier key (name+keyhash+base64), to give to verifiers and witnesses."""
    typer.echo(_log().signer.verifier_key)


@app.command("integrate")
def integrate_cmd() -> None:
    """Extend the tiles over all sequenced entries and sign a new checkpoint."""
    log = _log()
    cp = integrate(log.engine, log.signer)
    typer.echo(f"{cp.origin} size {cp.size} root {_b64(cp.root)}")


@app.command("checkpoint")
def checkpoint() -> None:
    """Print the newest signed checkpoint (C2SP tlog-checkpoint)."""
    typer.echo(LogReader(_log().engine).checkpoint().decode(), nl=False)


@app.command("tiles")
def tiles(
    out: Annotated[Path, typer.Option("--out", help="Directory for the C2SP tlog-tiles tree.")],
) -> None:
    """Integrate, then write the tiles, entry bundles and DIR/checkpoint (C2SP tlog-tiles)."""
    log = _log()
    integrate(log.engine, log.signer)
    cp = export_tiles(log.engine, DirectoryTiles(out))
    typer.echo(f"wrote {out}: {cp.origin} size {cp.size} root {_b64(cp.root)}")


@app.command("prove")
def prove(
    index: Annotated[
        int | None, typer.Option("--index", help="Prove inclusion of this entry.")
    ] = None,
    old: Annotated[
        int | None, typer.Option("--old", help="Prove consistency from this tree size.")
    ] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="Tree size (default: newest checkpoint).")
    ] = None,
) -> None:
    """Print an RFC 9162 inclusion (--index) or consistency (--old) proof as JSON."""
    if (index is None) == (old is None):
        raise MalformedInput("give exactly one of --index or --old")
    reader = LogReader(_log().engine)
    n = reader.checkpoint_size() if size is None else size
    if index is not None:
        proof = reader.inclusion_proof(index, n)
        doc: dict[str, object] = {
            "index": index,
            "size": n,
            "leaf_hash": _b64(leaf_hash(reader.entry(index))),
            "root": _b64(reader.root(n)),
            "proof": [_b64(h) for h in proof],
        }
    else:
        assert old is not None
        proof = reader.consistency_proof(old, n)
        doc = {
            "old_size": old,
            "size": n,
            "old_root": _b64(reader.root(old)),
            "root": _b64(reader.root(n)),
            "proof": [_b64(h) for h in proof],
        }
    typer.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())


@app.command("verify")
def verify(
    directory: Annotated[Path, typer.Argument(help="A C2SP tlog-tiles directory.")],
    key: Annotated[
        str, typer.Option("--key", help="Trusted log verifier key, or @FILE holding it.")
    ],
    since: Annotated[
        Path | None,
        typer.Option(
            "--since", help="An earlier checkpoint you trust: check the log grew from it."
        ),
    ] = None,
    proofs: Annotated[
        int, typer.Option("--proofs", help="Also check this many inclusion proofs.")
    ] = 0,
) -> None:
    """Audit a tiles directory offline: signature, every entry, every tile, the root."""
    verifier = Verifier.from_key(read_key_option(key))
    previous = None
    if since is not None:
        try:
            previous = Checkpoint.parse(parse_note(since.read_bytes())[0])
        except OSError as e:
            raise NotFound(f"cannot read {since}: {e}") from e
    result = audit_log(DirectoryTiles(directory), [verifier], previous=previous, proofs=proofs)
    cp = result.checkpoint
    typer.echo(
        f"ok: {cp.origin} size {cp.size} root {_b64(cp.root)}; "
        f"{result.entries} entries and {result.tiles} tiles verified"
    )
