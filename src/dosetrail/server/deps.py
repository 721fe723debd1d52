"""The server's state and the dependencies routes declare (``Annotated`` aliases).

``State`` is the per-app :class:`ServerState`; ``Body`` the request body read within the size
and time limits; ``Caller`` the party that signed the request (RFC 9421, :mod:`.auth`);
``Reader`` the same when read access is restricted, ``None`` when it is public.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from dosetrail.errors import AuthError
from dosetrail.log.reader import LogReader
from dosetrail.server.auth import SignedRequest, verify_request
from dosetrail.server.jobs import JobRunner
from dosetrail.server.overview import AnalysisCache
from dosetrail.server.problems import PayloadTooLarge, RequestTimeout
from dosetrail.server.settings import ServerSettings
from dosetrail.store.ledger import Ledger
from dosetrail.store.parties import Party

__all__ = ["Body", "Caller", "Reader", "ServerState", "State", "read_body"]


@dataclass(slots=True)
class ServerState:
    settings: ServerSettings
    ledger: Ledger
    jobs: JobRunner
    log: LogReader
    analysis: AnalysisCache


def get_state(request: Request) -> ServerState:
    return cast(ServerState, request.app.state.dosetrail)


State = Annotated[ServerState, Depends(get_state)]


async def read_body(request: Request, state: State) -> bytes:
    """The whole body, refusing more than ``max_body_bytes`` (413) or a slow sender (408)."""
    cached = getattr(request.state, "body", None)
    if isinstance(cached, bytes):
        return cached
    limit = state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")

    async def receive() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        body = await asyncio.wait_for(receive(), state.settings.body_timeout_s)
    except TimeoutError as e:
        raise RequestTimeout(
            f"the body did not arrive within {state.settings.body_timeout_s:g} s"
        ) from e
    request.state.body = body
    return body


Body = Annotated[bytes, Depends(read_body)]


def signed_request(request: Request, body: bytes) -> SignedRequest:
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    return SignedRequest(
        request.method,
        raw_path.decode("latin-1"),
        request.scope.get("query_string", b"").decode("latin-1"),
        dict(request.headers),
        body,
    )


async def caller(request: Request, state: State, body: Body) -> Party:
    """The party that signed this request (401 otherwise)."""
    signed = signed_request(request, body)
    window = state.settings.signature_window_s
    return await run_in_threadpool(verify_request, state.ledger.engine, signed, window)


Caller = Annotated[Party, Depends(caller)]


async def reader(request: Request, state: State) -> Party | None:
    """``None`` for public read access; else the signing party, whose role must be allowed."""
    if state.settings.read_access == "public":
        return None
    who = await caller(request, state, await read_body(request, state))
    if who.role not in state.settings.read_roles:
        raise AuthError(f"a {who.role} may not read this programme's events")
    return who


Reader = Annotated[Party | None, Depends(reader)]
