"""Capture over REST (EPCIS 2.0 §12): ``POST /capture`` jobs and ``POST /events``.

A capture is made as a party: the request carries an RFC 9421 signature (:mod:`.auth`) and the
party's own signed note over the capture text (DESIGN.md, "Capture") in
``Dosetrail-Capture-Signature`` (base64), which the ledger checks and keeps — the server never
signs for a party. Before answering, the document is read (400 if it cannot be), its events
counted against ``GS1-EPCIS-Capture-Limit`` (413) and checked against the party's role with the
ledger's own rule (:func:`dosetrail.store.roles.role_problem`; 403, nothing stored). Everything
else — schema, CBV rules, sites, signature — is checked by the ledger when the job runs
(:mod:`.jobs`); ``GET /capture/{id}`` then lists each refused event as an RFC 7807 problem.
``GS1-Capture-Error-Behaviour: proceed`` stores the valid events of a document, ``rollback``
(the default) stores all or none.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dosetrail.epcis import Document, digest, hash_id_from_digest, read_document
from dosetrail.errors import AuthError, Conflict, MalformedInput
from dosetrail.server.client import CAPTURE_SIGNATURE_HEADER
from dosetrail.server.deps import Body, Caller, Reader, ServerState, State
from dosetrail.server.problems import PayloadTooLarge, Unauthenticated, UnsupportedMediaType
from dosetrail.server.render import epcis_headers, json_response
from dosetrail.store.parties import Party
from dosetrail.store.roles import role_problem

__all__ = ["router"]

router = APIRouter()

_MEDIA = ("application/json", "application/ld+json", "application/xml", "text/xml")
_BEHAVIOURS = ("rollback", "proceed")


def _media(request: Request) -> None:
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given and given not in _MEDIA:
        raise UnsupportedMediaType(f"cannot capture {given!r}: send EPCIS JSON-LD or XML")


def _capture_note(request: Request) -> bytes:
    raw = request.headers.get(CAPTURE_SIGNATURE_HEADER)
    if not raw:
        raise Unauthenticated(
            f"{CAPTURE_SIGNATURE_HEADER} is missing: the party signs the capture text "
            "(dosetrail-capture/v1) itself; the server never signs for it"
        )
    try:
        return base64.b64decode(raw.strip(), validate=True)
    except binascii.Error as e:
        raise MalformedInput(f"{CAPTURE_SIGNATURE_HEADER} is not base64") from e


def _precheck(state: ServerState, who: Party, body: bytes, name: str, roles: bool) -> Document:
    """Read the document, apply the event limit and (if ``roles``) the party's role."""
    doc = read_document(body, name)
    limit = state.settings.capture_limit
    if len(doc.events) > limit:
        raise PayloadTooLarge(f"{len(doc.events)} events; GS1-EPCIS-Capture-Limit is {limit}")
    if roles:
        prefixes = doc.prefixes()
        for i, ev in enumerate(doc.events):
            why = role_problem(who.role, ev, prefixes)
            if why is not None:
                raise AuthError(f"event {i}: {why}")
    return doc


@router.post("/capture", status_code=202)
async def capture(
    request: Request,
    state: State,
    who: Caller,
    body: Body,
    behaviour: Annotated[str, Header(alias="GS1-Capture-Error-Behaviour")] = "rollback",
) -> Response:
    """Accept a capture job: 202 with ``Location: /capture/{id}`` once it is stored durably."""
    _media(request)
    if behaviour not in _BEHAVIOURS:
        raise MalformedInput(
            f"GS1-Capture-Error-Behaviour {behaviour!r}: this repository offers rollback, proceed"
        )
    note = _capture_note(request)
    await run_in_threadpool(_precheck, state, who, body, "capture", behaviour == "rollback")
    job = await run_in_threadpool(state.jobs.submit, who, body, note, behaviour)
    limits = {
        "GS1-EPCIS-Capture-Limit": str(state.settings.capture_limit),
        "GS1-EPCIS-Capture-File-Size-Limit": str(state.settings.max_body_bytes),
    }
    return Response(
        status_code=202, headers={**epcis_headers(), **limits, "Location": f"/capture/{job}"}
    )


@router.get("/capture")
async def capture_jobs(state: State, _reader: Reader) -> Response:
    """The most recent capture jobs, newest first."""
    return json_response(
        await run_in_threadpool(state.jobs.recent, state.settings.per_page_default)
    )


@router.get("/capture/{capture_id}")
async def capture_job(state: State, _reader: Reader, capture_id: str) -> Response:
    """The job's state in the GS1 CaptureJob format, with per-event errors."""
    return json_response(await run_in_threadpool(state.jobs.status, capture_id))


@router.post("/events", status_code=201)
async def capture_event(request: Request, state: State, who: Caller, body: Body) -> Response:
    """Capture ONE event synchronously: 201 with ``Location: /events/{hash ID}``; 409 if the
    ledger already holds it (a safe retry after a lost answer)."""
    _media(request)
    note = _capture_note(request)
    doc = await run_in_threadpool(_precheck, state, who, body, "event", True)
    if len(doc.events) != 1:
        raise MalformedInput(f"POST /events takes one event, not {len(doc.events)}")
    hash_id = hash_id_from_digest(digest(doc.events[0], doc.prefixes()))
    result = await run_in_threadpool(
        state.ledger.capture, body, who.name, name="event", signature=note
    )
    state.jobs.mark_dirty()
    location = f"/events/{quote(hash_id, safe='')}"
    if result.already_captured or result.stored == 0:
        raise Conflict(f"the ledger already holds this event: {location}")
    return Response(status_code=201, headers={**epcis_headers(), "Location": location})
