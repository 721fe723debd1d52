"""``dosetrail witness``: cosign a log's checkpoints only if they extend what was cosigned."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from dosetrail.commands.log import read_key_option
from dosetrail.errors import MalformedInput, NotFound
from dosetrail.home import Home
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.note import parse_note
from dosetrail.log.witness import AddCheckpointRequest, Witness, request_from_tiles

app = typer.Typer(
    help="A C2SP tlog-witness: keeps the last cosigned checkpoint per log, refuses forks.",
    no_args_is_help=True,
)

StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Witness state directory "
        "(default $DOSETRAIL_WITNESS_STATE, else DOSETRAIL_HOME/witness).",
    ),
]


def _state(state: Path | None) -> Path:
    if state is not None:
        return state
    env = os.environ.get("DOSETRAIL_WITNESS_STATE")
    return Path(env) if env else Home.from_env().root / "witness"


@app.command("init")
def init(
    name: Annotated[str, typer.Argument(help="The witness's name.")], state: StateOption = None
) -> None:
    """Create the witness key; print its cosigner verifier key (C2SP tlog-cosignature)."""
    typer.echo(Witness.init(_state(state), name).cosigner.verifier_key)


@app.command("key")
def key(state: StateOption = None) -> None:
    """Print the witness's cosigner verifier key."""
    typer.echo(Witness.open(_state(state)).cosigner.verifier_key)


@app.command("add-checkpoint")
def add_checkpoint(
    log_key: Annotated[
        str, typer.Option("--log-key", help="The log's verifier key, or @FILE holding it.")
    ],
    request: Annotated[
        Path | None,
        typer.Argument(help="A C2SP tlog-witness add-checkpoint request body ('-' for stdin)."),
    ] = None,
    tiles: Annotated[
        Path | None,
        typer.Option("--tiles", help="Instead of a request: a tiles directory to prove from."),
    ] = None,
    state: StateOption = None,
) -> None:
    """Check a checkpoint's consistency with the last one cosigned; print the cosignature."""
    if (request is None) == (tiles is None):
        raise MalformedInput("give either a request file or --tiles DIR")
    witness = Witness.open(_state(state))
    vkey = read_key_option(log_key)
    if tiles is not None:
        source = DirectoryTiles(tiles)
        origin = Checkpoint.parse(parse_note(source.read("checkpoint"))[0]).origin
        latest = witness.latest(origin)
        req = request_from_tiles(source, latest[0].size if latest else 0)
    else:
        assert request is not None
        try:
            body = (
                typer.get_binary_stream("stdin").read()
                if str(request) == "-"
                else request.read_bytes()
            )
        except OSError as e:
            raise NotFound(f"cannot read {request}: {e}") from e
        req = AddCheckpointRequest.parse(body)
    typer.echo(witness.add_checkpoint(req, vkey).line(), nl=False)
