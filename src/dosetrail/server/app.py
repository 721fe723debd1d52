"""``create_app(settings)``: the ASGI app for one ``DOSETRAIL_HOME``.

Opens the ledger (creating or upgrading its schema), starts the capture worker (which also
extends the log), and mounts the routers: EPCIS 2.0 REST binding (:mod:`.capture`,
:mod:`.queries`), the log (:mod:`.log`) and the dashboard (:mod:`.dashboard`). A small ASGI
middleware puts the GS1 version headers on every response and answers ``OPTIONS`` (EPCIS 2.0
discovery) from the routes themselves. Errors are handled once, in :mod:`.problems`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dosetrail.errors import NotFound
from dosetrail.log.reader import LogReader
from dosetrail.server import capture, dashboard, log, problems, queries
from dosetrail.server.deps import ServerState
from dosetrail.server.jobs import JobRunner
from dosetrail.server.overview import AnalysisCache
from dosetrail.server.problems import PROBLEM_JSON, problem_body
from dosetrail.server.render import check_versions, epcis_headers
from dosetrail.server.settings import ServerSettings
from dosetrail.store.ledger import Ledger

__all__ = ["create_app"]


async def _versions(request: Request) -> None:
    """EPCIS 2.0 §12: a request naming versions this repository does not speak gets 406."""
    check_versions(request.headers)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The server for ``settings.home`` (default: ``DOSETRAIL_HOME`` / ``DOSETRAIL_DB``)."""
    settings = settings or ServerSettings()
    ledger = Ledger.open(settings.home)
    jobs = JobRunner(
        ledger,
        batch_jobs=settings.batch_jobs,
        batch_bytes=settings.batch_bytes,
        integrate_interval_s=settings.integrate_interval_s,
    )
    analysis = AnalysisCache(ledger.engine, settings.analysis_max_age_s)
    state = ServerState(settings, ledger, jobs, LogReader(ledger.engine), analysis)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.start_worker:
            jobs.start()
        try:
            yield
        finally:
            jobs.stop()
            ledger.close()

    app = FastAPI(
        title="dosetrail",
        summary="EPCIS 2.0 repository with a transparency log",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.dosetrail = state
    problems.install(app)
    versions = [Depends(_versions)]
    app.include_router(queries.router, dependencies=versions)
    app.include_router(capture.router, dependencies=versions)
    app.include_router(log.router)
    app.include_router(dashboard.router)
    routes = [
        (route.path_regex, frozenset(route.methods or ()))
        for router in (queries.router, capture.router, log.router, dashboard.router)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    app.add_middleware(_Gs1Middleware, settings=settings, routes=routes)
    return app


class _Gs1Middleware:
    """GS1 version headers on every response; ``OPTIONS`` discovery (EPCIS 2.0 §12.4)."""

    def __init__(
        self,
        app: ASGIApp,
        settings: ServerSettings,
        routes: list[tuple[re.Pattern[str], frozenset[str]]],
    ) -> None:
        self.app = app
        self.settings = settings
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await self._options(scope, send)
            return
        extra = [(k.encode(), v.encode()) for k, v in epcis_headers().items()]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k.lower() not in names
                ]
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _options(self, scope: Scope, send: Send) -> None:
        methods: set[str] = set()
        for pattern, allowed in self.routes:
            if pattern.match(scope["path"]):
                methods |= allowed
        if not methods:
            body = orjson.dumps(problem_body(NotFound(f"no resource {scope['path']!r}")))
            headers = {**epcis_headers(), "Content-Type": PROBLEM_JSON}
            await _send(send, 404, headers, body)
            return
        headers = {
            **epcis_headers(),
            "Allow": ", ".join(sorted(methods | {"OPTIONS"})),
            "GS1-EPCIS-Min": "2.0.0",
            "GS1-EPCIS-Max": "2.0.0",
            "GS1-CBV-Min": "2.0.0",
            "GS1-CBV-Max": "2.0.0",
            "GS1-Capture-Error-Behaviour": "all",  # both rollback and proceed
            "GS1-EPCIS-Capture-Limit": str(self.settings.capture_limit),
            "GS1-EPCIS-Capture-File-Size-Limit": str(self.settings.max_body_bytes),
        }
        await _send(send, 204, headers, b"")


async def _send(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})
