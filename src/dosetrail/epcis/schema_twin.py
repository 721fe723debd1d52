"""Fast schema checks: validate one stand-in ("twin") per event shape, not every event.

The GS1 JSON Schema judges most of an event's volume — EPC lists, location and device URIs,
timestamps, sensor readings — only by *format*: ``uri``, ``date-time``, number. A twin replaces
each such value that passes its format (tested with the very regex the compiled validator uses)
by one fixed valid value, collapses an EPC list whose items all pass and are distinct to one
item (keeping ``minItems``/``uniqueItems`` verdicts), and keeps one of each distinct object in
other lists. Every other value — vocabulary terms, patterns, enums — is kept as it is. The twin
therefore gets exactly the event's verdict (a property test checks this on random damage), and
events of one shape share one twin, whose verdict is computed once.

Which fields are format-only is read from the schema itself, so a new schema cannot silently
make this unsound.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from fastjsonschema.draft07 import CodeGeneratorDraft07

__all__ = ["FormatFields", "VerdictCache", "format_fields", "twin"]

_URI = re.compile(CodeGeneratorDraft07.FORMAT_REGEXS["uri"])
_DATE_TIME = re.compile(CodeGeneratorDraft07.FORMAT_REGEXS["date-time"])
_URI_TWIN = "urn:twin:uri"
_TIME_TWIN = "2000-01-01T00:00:00Z"
_LEAF_REFS = {
    "#/definitions/uri": "uri",
    "#/definitions/id": "uri",
    "#/definitions/time": "time",
    "#/definitions/decimal": "number",
}


class FormatFields:
    """Property names the schema constrains only by format (wherever they appear)."""

    def __init__(
        self,
        uri: frozenset[str],
        time: frozenset[str],
        number: frozenset[str],
        uri_lists: frozenset[str],
        unique_lists: frozenset[str],
    ) -> None:
        self.uri = uri
        self.time = time
        self.number = number
        self.uri_lists = uri_lists
        self.unique_lists = unique_lists


def _kind(definition: Any) -> str | None:
    if not isinstance(definition, dict):
        return None
    ref = definition.get("$ref")
    if isinstance(ref, str) and set(definition) == {"$ref"}:
        if ref in _LEAF_REFS:
            return _LEAF_REFS[ref]
        if ref == "#/definitions/epcList":
            return "uri_list"
        return None
    if definition.get("type") == "array" and set(definition) <= {"type", "items", "minItems"}:
        items = definition.get("items")
        if _kind(items) == "uri" or items == {"type": "string"}:
            return "uri_list"
    return None


def format_fields(schema: dict[str, Any]) -> FormatFields:
    """Classify every property name by how *all* its occurrences in ``schema`` are defined."""
    seen: dict[str, set[str | None]] = {}
    unique: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                seen.setdefault(name, set()).add(_kind(sub))
                if isinstance(sub, dict) and sub.get("uniqueItems"):
                    unique.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    epc_list = schema.get("definitions", {}).get("epcList", {})
    assert epc_list.get("uniqueItems"), "the EPC list definition is expected to be uniqueItems"

    def only(kind: str) -> frozenset[str]:
        return frozenset(n for n, kinds in seen.items() if kinds == {kind})

    return FormatFields(
        only("uri"), only("time"), only("number"), only("uri_list"), frozenset(unique)
    )


def twin(event: dict[str, Any], fields: FormatFields) -> dict[str, Any]:
    """The stand-in of ``event`` (see the module docstring)."""
    return _dict(event, fields)


def _dict(node: dict[str, Any], f: FormatFields) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, str):
            if key in f.uri and _URI.match(value):
                value = _URI_TWIN
            elif key in f.time and _DATE_TIME.match(value):
                value = _TIME_TWIN
        elif isinstance(value, list):
            value = _list(key, value, f)
        elif isinstance(value, dict):
            value = _dict(value, f)
        elif key in f.number and not isinstance(value, bool):
            if isinstance(value, int):
                value = 0
            elif isinstance(value, float):
                value = 0.5
        out[key] = value
    return out


def _list(key: str, items: list[Any], f: FormatFields) -> list[Any]:
    if key in f.uri_lists and items and all(isinstance(v, str) and _URI.match(v) for v in items):
        if len(set(items)) == len(items):
            return [_URI_TWIN]
        return items
    converted = [_dict(v, f) if isinstance(v, dict) else v for v in items]
    if key in f.unique_lists or not all(isinstance(v, dict) for v in converted):
        return converted
    distinct: dict[bytes, Any] = {}
    for v in converted:
        distinct.setdefault(orjson.dumps(v, option=orjson.OPT_SORT_KEYS), v)
    return list(distinct.values())


class VerdictCache:
    """Memoised schema verdicts keyed by twin (bounded: cleared when full)."""

    def __init__(
        self, check: Callable[[dict[str, Any]], bool], fields: FormatFields, limit: int = 50_000
    ) -> None:
        self._check = check
        self._fields = fields
        self._limit = limit
        self._verdicts: dict[bytes, bool] = {}

    def valid(self, event: dict[str, Any]) -> bool:
        stand_in = twin(event, self._fields)
        key = orjson.dumps(stand_in, option=orjson.OPT_SORT_KEYS)
        verdict = self._verdicts.get(key)
        if verdict is None:
            if len(self._verdicts) >= self._limit:
                self._verdicts.clear()
            verdict = self._verdicts[key] = self._check(stand_in)
        return verdict
