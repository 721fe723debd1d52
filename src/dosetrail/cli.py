"""The ``dosetrail`` command line: assembles the command groups and maps errors to exit codes.

This is the one place where a :class:`~dosetrail.errors.DosetrailError` becomes a message on
stderr and an exit code (0 ok, 1 verification failed or invalid document, 2 usage or bad input).
Commands themselves never format errors; ``--verbose`` adds the traceback for developers.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from dosetrail.commands import analyze, certify, demo, epcis, ledger, log, serve, simulate, witness
from dosetrail.errors import DosetrailError, InvalidDocument

app = typer.Typer(
    name="dosetrail",
    help="Prove that donated vaccines reached people: signed EPCIS events, a transparency log, "
    "analysis and offline-verifiable certificates.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(ledger.init)
app.add_typer(ledger.party_app, name="party")
app.command("capture")(ledger.capture)
app.command("query")(ledger.query)
app.command("trace")(ledger.trace)
app.add_typer(epcis.app, name="epcis")
app.add_typer(log.app, name="log")
app.add_typer(witness.app, name="witness")
app.command("simulate")(simulate.command)
app.command("analyze")(analyze.command)
app.command("demo")(demo.command)
app.add_typer(certify.nonce_app, name="nonce")
app.add_typer(certify.sample_app, name="sample")
app.command("certify")(certify.certify_cmd)
app.command("verify")(certify.verify_cmd)
app.command("trust")(certify.trust_cmd)
app.command("serve")(serve.command)

_options = {"verbose": False}


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks on errors."),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: SQLite in DOSETRAIL_HOME; or DOSETRAIL_DB)."
    ),
) -> None:
    _options["verbose"] = verbose
    if db:
        os.environ["DOSETRAIL_DB"] = db


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and, as a console script, exit with) the process exit code.

    Typer's standalone mode handles usage errors (exit 2) and ``--help``; everything dosetrail
    raises on purpose arrives here as a :class:`DosetrailError`.
    """
    args = sys.argv[1:] if argv is None else argv
    code = 0
    try:
        app(args=args, prog_name="dosetrail")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except DosetrailError as e:
        if _options["verbose"]:
            traceback.print_exc()
        _err(f"error: {e}")
        if isinstance(e, InvalidDocument) and len(e.problems) > 1:
            for problem in e.problems:
                _err(f"  {problem}")
        code = e.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        code = 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    if argv is None:
        sys.exit(code)
    return code


def _err(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    main()
