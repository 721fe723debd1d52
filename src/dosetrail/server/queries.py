"""EPCIS 2.0 §12 queries over REST: events, per-dimension resources and named queries.

``GET /events`` takes the SimpleEventQuery parameters that :mod:`dosetrail.store.query`
supports (others are refused with 400 naming the parameter); ``/eventTypes``, ``/epcs``,
``/bizSteps``, ``/bizLocations``, ``/readPoints`` and ``/dispositions`` list the values in the
ledger and expose ``/{dimension}/{value}/events``, which is ``/events`` with that value fixed.
``/queries`` stores named queries (``named_query``) and runs them at ``/queries/{name}/events``.
Paging is keyset based (``perPage``, ``nextPageToken``, ``Link: rel="next"``): a token stays
valid while events are added, and there is nothing to invalidate. Subscriptions are not offered.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dosetrail.epcis.structure import EVENT_TYPES
from dosetrail.epcis.vocabulary import BIZ_STEP, DISPOSITION
from dosetrail.errors import Conflict, MalformedInput, NotFound
from dosetrail.server.deps import Body, Caller, Reader, ServerState, State
from dosetrail.server.problems import NotImplementedHere
from dosetrail.server.render import collection, json_response, query_response
from dosetrail.server.tables import named_query
from dosetrail.store.engine import read_tx, write_tx
from dosetrail.store.query import MAX_PAGE
from dosetrail.store.schema import event, event_epc

__all__ = ["router"]

router = APIRouter()

TOP_LEVEL = [
    "events",
    "eventTypes",
    "epcs",
    "bizSteps",
    "bizLocations",
    "readPoints",
    "dispositions",
    "capture",
    "queries",
]
_DIMENSIONS: dict[str, tuple[str, sa.ColumnElement[Any] | None]] = {
    "eventTypes": ("eventType", None),
    "epcs": ("MATCH_anyEPC", event_epc.c.epc),
    "bizSteps": ("EQ_bizStep", event.c.biz_step),
    "bizLocations": ("EQ_bizLocation", event.c.biz_location),
    "readPoints": ("EQ_readPoint", event.c.read_point),
    "dispositions": ("EQ_disposition", event.c.disposition),
}
_SHORT: dict[str, Callable[[str], str | None]] = {
    "bizSteps": BIZ_STEP.term,
    "dispositions": DISPOSITION.term,
}


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _run(state: ServerState, params: dict[str, list[str]]) -> tuple[list[dict[str, Any]], Any]:
    page = state.ledger.query(params, per_page=state.settings.per_page_default)
    return [e.event for e in page.events], page.next_page_token


async def _events(
    request: Request, state: ServerState, fixed: dict[str, list[str]] | None = None
) -> Response:
    params = _params(request)
    if fixed:
        for key, values in fixed.items():
            params[key] = values + params.get(key, [])
    events, token = await run_in_threadpool(_run, state, params)
    return query_response(request, events, token)


@router.get("/")
async def top_level(request: Request, _reader: Reader) -> Response:
    """The top-level resources (HATEOAS); a browser is sent to the dashboard."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/dashboard/", status_code=303)
    return collection(request, TOP_LEVEL)


@router.get("/events")
async def all_events(request: Request, state: State, _reader: Reader) -> Response:
    return await _events(request, state)


@router.get("/events/{event_id:path}")
async def one_event(
    request: Request, state: State, _reader: Reader, event_id: Annotated[str, Path()]
) -> Response:
    """One event by its CBV 2.0 hash ID (``ni:///sha-256;…?ver=CBV2.0``)."""
    try:
        events, _ = await run_in_threadpool(_run, state, {"EQ_eventID": [event_id]})
    except MalformedInput as e:
        raise NotFound(
            f"no event {event_id!r}: events are named by their CBV 2.0 hash ID here"
        ) from e
    if not events:
        raise NotFound(f"no event {event_id!r}")
    return query_response(request, events[:1], None)


def _distinct(
    state: ServerState, column: sa.ColumnElement[Any], after: str | None, limit: int
) -> tuple[list[str], str | None]:
    query = sa.select(column).where(column.is_not(None)).distinct().order_by(column)
    if after is not None:
        query = query.where(column > after)
    with read_tx(state.ledger.engine) as conn:
        values = [str(v) for v in conn.execute(query.limit(limit + 1)).scalars()]
    more = len(values) > limit
    values = values[:limit]
    token = base64.urlsafe_b64encode(values[-1].encode()).decode() if more and values else None
    return values, token


def _page_args(request: Request, state: ServerState) -> tuple[str | None, int]:
    token = request.query_params.get("nextPageToken")
    after = None
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise MalformedInput("nextPageToken: not a token issued by this repository") from e
    raw = request.query_params.get("perPage")
    per_page = state.settings.per_page_default
    if raw is not None:
        try:
            per_page = int(raw)
        except ValueError as e:
            raise MalformedInput(f"perPage: {raw!r} is not an integer") from e
        if per_page < 1:
            raise MalformedInput("perPage: must be at least 1")
    return after, min(per_page, MAX_PAGE)


def _dimension_routes(name: str) -> None:
    param, column = _DIMENSIONS[name]
    short = _SHORT.get(name)

    async def listing(request: Request, state: State, _reader: Reader) -> Response:
        if column is None:
            return collection(request, list(EVENT_TYPES))
        after, per_page = _page_args(request, state)
        values, token = await run_in_threadpool(_distinct, state, column, after, per_page)
        if short is not None:
            values = [short(v) or v for v in values]
        return collection(request, values, token)

    async def resource(request: Request, _reader: Reader, value: str) -> Response:
        if name == "eventTypes" and value not in EVENT_TYPES:
            raise NotFound(f"no event type {value!r}")
        return collection(request, ["events"])

    async def events_of(request: Request, state: State, _reader: Reader, value: str) -> Response:
        return await _events(request, state, {param: [value]})

    listing.__doc__ = f"The {name} found in the ledger (GS1 Collection, paged)."
    events_of.__doc__ = f"Events with this value of {param} (same parameters as /events)."
    router.add_api_route(f"/{name}", listing, methods=["GET"])
    router.add_api_route(f"/{name}/{{value:path}}/events", events_of, methods=["GET"])
    router.add_api_route(f"/{name}/{{value:path}}", resource, methods=["GET"])


for _name in _DIMENSIONS:
    _dimension_routes(_name)


# -- named queries -------------------------------------------------------------------------


def _query_params(query: Any) -> dict[str, list[str]]:
    """A JSON query (EPCIS query schema) as string parameters for the ledger."""
    if not isinstance(query, dict):
        raise MalformedInput("query: must be a JSON object of EPCIS query parameters")
    params: dict[str, list[str]] = {}
    for key, value in query.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool):
                params.setdefault(key, []).append("true" if v else "false")
            elif isinstance(v, str | int | float):
                params.setdefault(key, []).append(str(v))
            else:
                raise MalformedInput(f"query.{key}: values must be strings, numbers or booleans")
    return params


def _create_query(state: ServerState, body: bytes, party_id: int) -> str:
    try:
        definition = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise MalformedInput(f"not valid JSON: {e}") from e
    if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
        raise MalformedInput('a query definition is {"name": …, "query": {…}}')
    name = definition["name"]
    if not name or len(name) > 200 or not name.isprintable() or "/" in name:
        raise MalformedInput("name: 1–200 printable characters, no '/'")
    params = _query_params(definition.get("query"))
    state.ledger.query(params, per_page=1)  # refuses unsupported parameters now, not later
    with write_tx(state.ledger.engine) as conn:
        exists = conn.execute(sa.select(named_query.c.name).where(named_query.c.name == name))
        if exists.first() is not None:
            raise Conflict(f"a query named {name!r} already exists")
        conn.execute(
            sa.insert(named_query).values(
                name=name,
                party_id=party_id,
                query=orjson.dumps(definition.get("query")).decode(),
                created=time.time_ns() // 1000,
            )
        )
    return str(name)


def _load_query(state: ServerState, name: str) -> Any:
    with read_tx(state.ledger.engine) as conn:
        row = conn.execute(
            sa.select(named_query.c.query).where(named_query.c.name == name)
        ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no query named {name!r}")
    return orjson.loads(row)


@router.get("/queries")
async def list_queries(request: Request, state: State, _reader: Reader) -> Response:
    def names() -> list[dict[str, Any]]:
        with read_tx(state.ledger.engine) as conn:
            rows = conn.execute(
                sa.select(named_query.c.name, named_query.c.query).order_by(named_query.c.name)
            ).all()
        return [{"name": r.name, "query": orjson.loads(r.query)} for r in rows]

    return json_response(await run_in_threadpool(names))


@router.post("/queries", status_code=201)
async def create_query(state: State, who: Caller, body: Body) -> Response:
    """Create a named query (any registered party; the query is checked before it is kept)."""
    name = await run_in_threadpool(_create_query, state, body, who.id)
    return json_response(
        {"name": name}, status=201, headers={"Location": f"/queries/{_quote(name)}"}
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get("/queries/{name}")
async def get_query(state: State, _reader: Reader, name: str) -> Response:
    query = await run_in_threadpool(_load_query, state, name)
    return json_response({"name": name, "query": query})


@router.delete("/queries/{name}", status_code=204)
async def delete_query(state: State, who: Caller, name: str) -> Response:
    def delete() -> None:
        with write_tx(state.ledger.engine) as conn:
            gone = conn.execute(sa.delete(named_query).where(named_query.c.name == name))
            if gone.rowcount == 0:
                raise NotFound(f"no query named {name!r}")

    await run_in_threadpool(delete)
    return Response(status_code=204, headers={"GS1-EPCIS-Version": "2.0.0"})


@router.get("/queries/{name}/events")
async def run_named(request: Request, state: State, _reader: Reader, name: str) -> Response:
    query = await run_in_threadpool(_load_query, state, name)
    params = _query_params(query)
    for key in ("perPage", "nextPageToken"):
        if key in request.query_params:
            params[key] = [request.query_params[key]]
    events, token = await run_in_threadpool(_run, state, params)
    return query_response(request, events, token, query_name=name)


@router.api_route("/queries/{name}/subscriptions", methods=["GET", "POST"])
@router.api_route("/queries/{name}/subscriptions/{subscription}", methods=["GET", "DELETE"])
async def subscriptions(name: str) -> Response:
    raise NotImplementedHere("query subscriptions (webhooks, WebSockets) are not offered")


@router.delete("/nextPageToken/{token}")
async def forget_token(token: str) -> Response:
    raise NotImplementedHere("page tokens are stateless keysets: there is nothing to invalidate")
