"""Validate EPCIS documents: GS1 schemas (JSON Schema for JSON-LD, XSD for XML) plus the rules in
:mod:`dosetrail.epcis.rules`, every problem placed by document, event index and field.

Per event, a compiled schema (fastjsonschema) accepts the common case quickly; only an event it
rejects is re-checked with ``jsonschema``, which is authoritative and reports every error with its
path. XML is checked against the XSD with libxml2, and each error is placed in the event whose
lines contain it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
from lxml import etree

from dosetrail.epcis.document import Event
from dosetrail.epcis.jsonld import parse_json
from dosetrail.epcis.reader import Source, sniff, stream_events
from dosetrail.epcis.rules import check_event
from dosetrail.epcis.schema_twin import VerdictCache, format_fields
from dosetrail.epcis.schemas import json_schema, xml_schema
from dosetrail.errors import InvalidDocument, Location, NotEpcis, Problem

__all__ = [
    "ValidationReport",
    "event_problems",
    "require_valid",
    "validate",
    "xsd_problems",
]

_XSD_LIMIT = 256 << 20  # parse larger XML documents without XSD (streaming rules only)
_ELEMENT = re.compile(r"Element '([^']+)'")


@dataclass(slots=True)
class ValidationReport:
    """The outcome of validating one document."""

    name: str
    format: str = ""
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


@cache
def _event_schema() -> dict[str, Any]:
    full = json_schema()
    return {
        "$schema": full["$schema"],
        "$ref": "#/definitions/EPCIS-Document-Event",
        "definitions": full["definitions"],
    }


@cache
def _fast_event_check() -> Any:
    return fastjsonschema.compile(_event_schema())


@cache
def _event_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(_event_schema(), format_checker=jsonschema.FormatChecker())


@cache
def _document_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json_schema(), format_checker=jsonschema.FormatChecker())


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@cache
def _verdicts() -> VerdictCache:
    check = _fast_event_check()

    def valid(event: Event) -> bool:
        try:
            check(event)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return VerdictCache(valid, format_fields(json_schema()))


def _schema_problems(event: Event) -> list[tuple[str, str]]:
    if _verdicts().valid(event):
        return []
    errors = sorted(_event_validator().iter_errors(event), key=lambda e: list(e.path))
    return [(_path(e.absolute_path), _short(e.message)) for e in errors]


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def event_problems(
    event: Event, prefixes: dict[str, str], index: int, name: str, *, schema: bool = True
) -> list[Problem]:
    """Schema (JSON binding) and rule problems of one event, placed at ``name``/``index``."""
    try:
        found = _schema_problems(event) if schema else []
        found.extend(check_event(event, prefixes))
    except RecursionError:
        found = [("", "extensions nested too deeply to check")]
    seen: set[tuple[str, str]] = set()
    problems = []
    for where, message in found:
        if (where, message) not in seen:
            seen.add((where, message))
            problems.append(Problem(Location(name, index, where or None), message))
    return problems


def validate(source: Source, name: str | None = None) -> ValidationReport:
    """Check a whole document; structural failures (not EPCIS at all) are problems too.

    Raises :class:`~dosetrail.errors.MalformedInput` only when the input is not JSON or XML.
    """
    name = name or (str(source) if isinstance(source, Path) else "<document>")
    head = source[:4096] if isinstance(source, bytes) else _head(source)
    report = ValidationReport(name, sniff(head, name))
    json_binding = report.format == "json"
    try:
        stream = stream_events(source, name)
        for i, event in enumerate(stream):
            report.events += 1
            prefixes = stream.prefixes()
            report.problems.extend(event_problems(event, prefixes, i, name, schema=json_binding))
    except NotEpcis as e:
        report.problems.append(Problem(e.location.within(name), e.message))
        return report
    if json_binding:
        report.problems.extend(_document_problems(source, name))
    else:
        lines = getattr(getattr(stream, "reader", None), "event_lines", [])
        report.problems.extend(xsd_problems(source, name, lines, report.notes))
    return report


def require_valid(source: Source, name: str | None = None) -> ValidationReport:
    """:func:`validate`, raising :class:`InvalidDocument` with every problem if there are any."""
    report = validate(source, name)
    if not report.valid:
        first = report.problems[0]
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise InvalidDocument(first.message + more, first.location, report.problems)
    return report


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(4096)


def _document_problems(source: Source, name: str) -> list[Problem]:
    """Header-level JSON Schema problems (events were checked one by one already)."""
    data = parse_json(source if isinstance(source, bytes) else source.read_bytes(), name)
    if not isinstance(data, dict):
        return []
    body = data.get("epcisBody")
    shell = {**data, "epcisBody": _without_events(body)} if isinstance(body, dict) else data
    return [
        Problem(Location(name, field=_path(e.absolute_path) or None), _short(e.message))
        for e in _document_validator().iter_errors(shell)
    ]


def _without_events(body: dict[str, Any]) -> dict[str, Any]:
    if "eventList" in body:
        return {**body, "eventList": []}
    if "event" in body:
        return {k: v for k, v in body.items() if k != "event"} | {"eventList": []}
    results = body.get("queryResults")
    if isinstance(results, dict) and isinstance(results.get("resultsBody"), dict):
        rbody = {**results["resultsBody"], "eventList": []}
        return {**body, "queryResults": {**results, "resultsBody": rbody}}
    return body


def xsd_problems(
    source: Source, name: str, lines: list[int], notes: list[str] | None = None
) -> list[Problem]:
    """XSD problems of an XML document, placed in the event whose source lines hold them."""
    notes = [] if notes is None else notes
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    if size > _XSD_LIMIT:
        notes.append(f"XSD not applied: document larger than {_XSD_LIMIT >> 20} MiB")
        return []
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    data = source if isinstance(source, bytes) else source.read_bytes()
    root = etree.fromstring(data, parser)
    ns = etree.QName(root).namespace or ""
    if ns.endswith(":xsd:1"):
        notes.append("EPCIS 1.x document: checked with EPCIS 2.0 rules, not the 2.0 XSD")
        return []
    schema = xml_schema()
    if schema.validate(root):
        return []
    problems = []
    for error in schema.error_log:
        index = bisect.bisect_right(lines, error.line) - 1
        match = _ELEMENT.search(error.message)
        element = match.group(1) if match else None
        if element and element.startswith("{"):
            element = element.split("}", 1)[1]
        where = Location(name, index if index >= 0 else None, element)
        problems.append(Problem(where, f"line {error.line}: {_short(error.message)}"))
    return problems
