"""Responses in the EPCIS 2.0 REST binding's formats (EPCIS 2.0 §12, the GS1 OpenAPI).

* Version headers: every response says ``GS1-EPCIS-Version: 2.0.0`` and ``GS1-CBV-Version:
  2.0.0``; a request that requires another version (``GS1-EPCIS-Version``, ``-Min``, ``-Max`` and
  the CBV ones) gets 406.
* Content negotiation: JSON-LD (``application/json``, ``application/ld+json``) or XML
  (``application/xml``, ``text/xml``) by ``Accept``; anything else is 406.
* Query results: an ``EPCISQueryDocument``; the page's events keep the namespaces they were
  captured with (hoisted into the document's ``@context``); the next page is a ``Link`` header
  with ``rel="next"`` (and ``nextPageToken`` in the JSON body, as the CLI prints it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request
from fastapi.responses import Response

from dosetrail.epcis import Document, to_xml_bytes
from dosetrail.epcis.document import EPCIS_CONTEXT_URL, QUERY_DOCUMENT
from dosetrail.server.problems import NotAcceptable

__all__ = [
    "EPCIS_VERSION",
    "check_versions",
    "collection",
    "epcis_headers",
    "json_response",
    "negotiate",
    "query_response",
    "wants_xml",
]

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
_JSON = ("application/json", "application/ld+json")
_XML = ("application/xml", "text/xml")
_VERSION = re.compile(r"\d+(\.\d+)*")


def epcis_headers() -> dict[str, str]:
    return {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION}


def _version(text: str) -> tuple[int, ...]:
    text = text.strip()
    if not _VERSION.fullmatch(text):
        raise NotAcceptable(f"{text!r} is not a version number")
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def check_versions(headers: Mapping[str, str]) -> None:
    """406 unless EPCIS 2.0.0 / CBV 2.0.0 satisfy the request's version headers."""
    for name, ours in (("EPCIS", EPCIS_VERSION), ("CBV", CBV_VERSION)):
        mine = _version(ours)
        exact = headers.get(f"gs1-{name.lower()}-version")
        low = headers.get(f"gs1-{name.lower()}-min")
        high = headers.get(f"gs1-{name.lower()}-max")
        if exact is not None and _version(exact)[:2] != mine[:2]:
            raise NotAcceptable(f"this repository speaks {name} {ours}, not {exact.strip()}")
        if low is not None and _version(low) > mine:
            raise NotAcceptable(f"{name} {ours} is below GS1-{name}-Min {low.strip()}")
        if high is not None and _version(high) < mine:
            raise NotAcceptable(f"{name} {ours} is above GS1-{name}-Max {high.strip()}")


def negotiate(request: Request) -> str:
    """The media type to answer with: ``application/json`` (the default), ``application/ld+json``
    when asked for by name, or ``application/xml``; 406 if ``Accept`` allows none of them."""
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return "application/json"
    best: tuple[float, int, str] | None = None
    for order, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        media = media.lower()
        if q <= 0:
            continue
        if media in _XML:
            choice = "application/xml"
        elif media == "application/ld+json":
            choice = media
        elif media in ("application/json", "*/*", "application/*", "application/problem+json"):
            choice = "application/json"
        else:
            continue
        if best is None or q > best[0]:
            best = (q, -order, choice)
    if best is None:
        raise NotAcceptable(f"cannot produce {accept!r}: use application/json or application/xml")
    return best[2]


def wants_xml(request: Request) -> bool:
    return negotiate(request) == "application/xml"


def json_response(
    body: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=media_type,
        headers={**epcis_headers(), **(headers or {})},
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _hoist(events: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Move the events' own ``@context`` prefix maps to the document when they agree."""
    merged: dict[str, str] = {}
    out = []
    for ev in events:
        context = ev.get("@context")
        own: dict[str, str] = {}
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, dict):
                own.update({str(k): str(v) for k, v in item.items()})
        if any(merged.get(k, v) != v for k, v in own.items()):
            out.append(ev)  # a clashing prefix: this event keeps its own context
            continue
        merged.update(own)
        out.append({k: v for k, v in ev.items() if k != "@context"})
    return out, merged


def query_response(
    request: Request,
    events: Sequence[dict[str, Any]],
    next_token: str | None,
    *,
    query_name: str = "SimpleEventQuery",
) -> Response:
    """A page of results as an EPCISQueryDocument, JSON-LD or XML as negotiated."""
    media = negotiate(request)
    listed, namespaces = _hoist(events)
    headers = epcis_headers()
    if next_token is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
        params.append(("nextPageToken", next_token))
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    if media == "application/xml":
        doc = Document(
            listed,
            namespaces,
            kind=QUERY_DOCUMENT,
            header={"schemaVersion": "2.0", "creationDate": _now()},
            query={"queryName": query_name},
        )
        return Response(to_xml_bytes(doc), media_type="application/xml", headers=headers)
    context: list[Any] = [EPCIS_CONTEXT_URL, *([namespaces] if namespaces else [])]
    body: dict[str, Any] = {
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {
            "queryResults": {"queryName": query_name, "resultsBody": {"eventList": listed}}
        },
    }
    if next_token is not None:
        body["nextPageToken"] = next_token
    return Response(orjson.dumps(body), media_type=media, headers=headers)


def collection(request: Request, members: Sequence[str], next_token: str | None = None) -> Response:
    """A GS1 ``Collection`` resource (top-level lists, per-dimension values)."""
    headers = {}
    if next_token is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
        params.append(("nextPageToken", next_token))
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    media = negotiate(request)
    if media == "application/xml":
        raise NotAcceptable("collections are served as JSON-LD only")
    body = {"@context": [EPCIS_CONTEXT_URL], "type": "Collection", "member": list(members)}
    return json_response(body, headers=headers, media_type=media)
