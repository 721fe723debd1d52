"""EPCIS 2.0 JSON / JSON-LD binding (EPCIS 2.0 §10): read and write documents.

Reading accepts an ``EPCISDocument`` (``epcisBody.eventList`` or the single-event form
``epcisBody.event``), an ``EPCISQueryDocument`` (``epcisBody.queryResults.resultsBody.eventList``)
or a bare event. Everything that is not the event list is kept as is, so writing gives back the
document that was read.
"""

from __future__ import annotations

from typing import Any

import orjson

from dosetrail.epcis.document import (
    DOCUMENT,
    EPCIS_CONTEXT_URL,
    NO_EVENT_KINDS,
    QUERY_DOCUMENT,
    Document,
    Event,
)
from dosetrail.epcis.structure import EVENT_TYPES, is_event_type
from dosetrail.errors import Location, MalformedInput, NotEpcis

__all__ = ["context_namespaces", "document_from_json", "parse_json", "to_json", "to_json_bytes"]


def parse_json(data: bytes, name: str) -> Any:
    """Decode JSON bytes; any failure is a :class:`MalformedInput` naming the document."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise MalformedInput(f"not valid JSON: {e}", Location(name)) from e


def document_from_json(data: Any, name: str) -> Document:
    """Build a :class:`Document` from decoded JSON."""
    if isinstance(data, list):
        return Document(_events(data, name), name=name, kind="eventList")
    if not isinstance(data, dict):
        raise NotEpcis("top level must be a JSON object (an EPCIS document)", Location(name))
    context = data.get("@context", [])
    namespaces = context_namespaces(context if isinstance(context, list) else [context])
    kind = data.get("type")
    if is_event_type(kind):
        return Document(_events([data], name), namespaces, "event", context=context, name=name)
    header = {k: v for k, v in data.items() if k not in ("@context", "type", "epcisBody")}
    if kind in NO_EVENT_KINDS:
        return Document([], namespaces, kind, header, context=context, name=name)
    if kind not in (DOCUMENT, QUERY_DOCUMENT):
        got = f"type {kind!r}" if kind is not None else "no type"
        raise NotEpcis(
            f"expected an EPCISDocument or EPCISQueryDocument, found {got}",
            Location(name, field="type"),
        )
    body = data.get("epcisBody")
    if not isinstance(body, dict):
        raise NotEpcis("missing epcisBody object", Location(name, field="epcisBody"))
    query: dict[str, Any] = {}
    if kind == QUERY_DOCUMENT:
        results = body.get("queryResults")
        if not isinstance(results, dict):
            raise NotEpcis(
                "missing queryResults object", Location(name, field="epcisBody.queryResults")
            )
        query = {k: v for k, v in results.items() if k != "resultsBody"}
        rbody = results.get("resultsBody")
        raw = rbody.get("eventList", []) if isinstance(rbody, dict) else None
        where = "epcisBody.queryResults.resultsBody.eventList"
    elif "event" in body and "eventList" not in body:
        raw, where = [body["event"]], "epcisBody.event"
        header["@singleEvent"] = True
    else:
        raw, where = body.get("eventList", []), "epcisBody.eventList"
    if not isinstance(raw, list):
        raise NotEpcis("the event list must be an array", Location(name, field=where))
    return Document(_events(raw, name), namespaces, kind, header, query, context, name)


def _events(raw: list[Any], name: str) -> list[Event]:
    for i, event in enumerate(raw):
        if not isinstance(event, dict):
            raise NotEpcis("an event must be a JSON object", Location(name, i))
        etype = event.get("type")
        if not is_event_type(etype):
            raise NotEpcis(
                f"unknown event type {etype!r} (expected one of {', '.join(EVENT_TYPES)}, "
                "or a namespaced extension event type)",
                Location(name, i, "type"),
            )
    return raw


def context_namespaces(contexts: list[Any]) -> dict[str, str]:
    """Prefix definitions (``{"ext": "https://…/"}``) found in JSON-LD ``@context`` entries."""
    found: dict[str, str] = {}
    for entry in contexts:
        if not isinstance(entry, dict):
            continue
        for key, value in entry.items():
            if key.startswith("@") or ":" in key:
                continue
            iri = value.get("@id") if isinstance(value, dict) else value
            if isinstance(iri, str) and ":" in iri:
                found[key] = iri
    return found


def to_json(doc: Document) -> dict[str, Any]:
    """The JSON-LD form of ``doc`` (a new dict; events are shared, not copied)."""
    context = doc.context or [EPCIS_CONTEXT_URL]
    as_list = context if isinstance(context, list) else [context]
    declared = context_namespaces(as_list)
    missing = {p: u for p, u in doc.namespaces.items() if declared.get(p) != u}
    if missing:
        context = [*as_list, missing]
    if doc.kind == "event" and len(doc.events) == 1:
        return {"@context": context, **doc.events[0]}
    out: dict[str, Any] = {"@context": context, "type": _kind(doc)}
    header = dict(doc.header)
    single = header.pop("@singleEvent", False)
    out.update(header)
    if doc.kind in NO_EVENT_KINDS:
        return out
    if doc.kind == QUERY_DOCUMENT:
        results = {**doc.query, "resultsBody": {"eventList": doc.events}}
        out["epcisBody"] = {"queryResults": results}
    elif single and len(doc.events) == 1:
        out["epcisBody"] = {"event": doc.events[0]}
    else:
        out["epcisBody"] = {"eventList": doc.events}
    return out


def _kind(doc: Document) -> str:
    return doc.kind if doc.kind in (DOCUMENT, QUERY_DOCUMENT, *NO_EVENT_KINDS) else DOCUMENT


def to_json_bytes(doc: Document, *, indent: bool = True) -> bytes:
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(to_json(doc), option=option | orjson.OPT_APPEND_NEWLINE)
