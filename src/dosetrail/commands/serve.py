"""``dosetrail serve``: the EPCIS 2.0 REST binding, the log's tiles and the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from dosetrail.errors import MalformedInput


def command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    read_access: Annotated[
        str,
        typer.Option(
            "--read-access", help="public: anyone may query events; restricted: parties only."
        ),
    ] = "public",
    max_body_mb: Annotated[
        float, typer.Option("--max-body-mb", help="Largest capture body accepted (MiB).")
    ] = 32.0,
) -> None:
    """Serve DOSETRAIL_HOME over HTTP (see docs/server.md); the database comes from --db."""
    import uvicorn

    from dosetrail.home import Home
    from dosetrail.server import ServerSettings, create_app

    if read_access not in ("public", "restricted"):
        raise MalformedInput(f"--read-access must be public or restricted, not {read_access!r}")
    settings = ServerSettings(
        home=Home.from_env(),
        read_access="public" if read_access == "public" else "restricted",
        max_body_bytes=int(max_body_mb * (1 << 20)),
    )
    app = create_app(settings)
    typer.echo(f"dosetrail serving {settings.home.root} on http://{host}:{port}/dashboard/")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=5,
        limit_concurrency=512,
        h11_max_incomplete_event_size=64 * 1024,
    )
