"""CBV 2.0 canonical event hash ID (CBV 2.0 §8.9): the pre-hash string and ``ni:`` URI.

The pre-hash string is ``eventType=<type>`` followed by the event's fields in the canonical
property order, each as ``name=value`` (lists as ``name`` then their items, items sorted by their
rendered text), with no separators. ``recordTime``, ``eventID`` and ``errorDeclaration`` do not
contribute (an event and its error declaration have the same ID). Fields outside the ordered set
(``bizTransactionList``, ``sourceList``, ``destinationList``, ``ilmd`` and user extensions) follow,
sorted by their rendered text, which is how the GS1 reference implementation and its published
vectors order them. Values are normalised first: UTC timestamps with millisecond precision
(:func:`~dosetrail.epcis.timestamps.canonical_time`), numbers without redundant zeros, CBV URNs
and bare JSON-LD terms as CBV Web URIs, EPC URIs and Digital Links as canonical
``https://id.gs1.org`` Digital Links. Extension names are written ``{namespace}local``.

The result is a 32-byte SHA-256 digest rendered as RFC 6920 ``ni:///sha-256;<hex>?ver=CBV2.0``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from dosetrail.epcis.document import Event
from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.epcis.jsonld import context_namespaces
from dosetrail.epcis.structure import (
    SENSOR_METADATA_FIELDS,
    SENSOR_REPORT_FIELDS,
    TYPED_LIST_ITEM,
)
from dosetrail.epcis.timestamps import canonical_time
from dosetrail.epcis.vocabulary import cbv_urn_to_web_uri, expand_curie, expand_field_value
from dosetrail.errors import MalformedInput

__all__ = ["HASH_VERSION", "digest", "hash_id", "hash_id_from_digest", "prehash"]

HASH_VERSION = "CBV2.0"
_NI_PREFIX = "ni:///sha-256;"
_NI_SUFFIX = f"?ver={HASH_VERSION}"

# Not part of the hash (CBV 2.0 §8.9.2), plus JSON-LD keywords and comments, which are not data.
_EXCLUDED = frozenset(
    {"type", "recordTime", "eventID", "errorDeclaration", "@context", "comment", "rdfs:comment"}
)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# -- values --------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _number(text: str) -> str:
    """Numbers without redundant signs or zeros: ``600.00`` → ``600``, ``26.20`` → ``26.2``."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value == value.to_integral_value():
        return str(int(value))
    shortest = repr(float(value))
    return shortest if Decimal(shortest) == value else format(value.normalize(), "f")


@lru_cache(maxsize=1 << 16)  # bounded: a value cache must not grow with the document
def canonical_value(raw: str) -> str:
    """Normalise one value: CURIE and CBV URN → Web URI, number, EPC/Digital Link → canonical DL."""
    value = raw.strip()
    if not value:
        return value
    value = cbv_urn_to_web_uri(expand_curie(value))
    if value[0] in "+-.0123456789" and _NUMBER.fullmatch(value):
        return _number(value)
    if value.startswith(("urn:epc:", "http")):
        return normalise_epc(value)
    return value


def _value(value: Any) -> str:
    return canonical_value(value if type(value) is str else _text(value))


@lru_cache(maxsize=64)
def _vocab(field: str) -> Callable[[Any], str]:
    """Values of ``field`` (a JSON field path such as ``sourceList.type``): bare terms of the
    field's CBV vocabulary become Web URIs, as the JSON-LD ``@context`` scopes them."""

    def render(value: Any) -> str:
        return canonical_value(expand_field_value(field, _text(value).strip()))

    return render


def _time(value: Any) -> str:
    return canonical_time(_text(value))


# -- structure -----------------------------------------------------------------------------------
class _Renderer:
    """Renders one event's pre-hash string given the prefixes in scope."""

    __slots__ = ("_keys", "prefixes")

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        self._keys: dict[str, str] = {}

    def key(self, key: str) -> str:
        """Extension names as ``{uri}local``; attribute keys (``@x:y``) by their XML name."""
        found = self._keys.get(key)
        if found is None:
            name = key[1:] if key.startswith("@") and len(key) > 1 else key
            prefix, sep, local = name.partition(":")
            uri = self.prefixes.get(prefix) if sep else None
            found = f"{{{uri}}}{local}" if uri is not None else name
            self._keys[key] = found
        return found

    def event(self, event: Event) -> str:
        out = ["eventType=", _text(event.get("type"))]
        for name, render in _ORDER:
            if name in event:
                out.append(render(self, name, event[name]))
        tail = [
            piece
            for key, value in event.items()
            if key not in _ORDERED and key not in _EXCLUDED
            for piece in self.tail(key, value)
        ]
        tail.sort()
        out.extend(tail)
        return "".join(out)

    # ordered fields
    def leaf(self, name: str, value: Any, fmt: Callable[[Any], str] = _value) -> str:
        if type(value) is not list:
            text = fmt(value)
            return f"{name}={text}" if text else ""
        pieces = sorted(f"{name}={v}" for v in map(fmt, value) if v)
        return "".join(pieces)

    def text(self, name: str, value: Any) -> str:
        return self.leaf(name, value)

    def time(self, name: str, value: Any) -> str:
        return self.leaf(name, value, _time)

    def epcs(self, name: str, value: Any) -> str:
        items = self.leaf("epc", value if isinstance(value, list) else [value])
        return f"{name}{items}" if items else ""

    def quantities(self, name: str, value: Any) -> str:
        items = sorted(
            piece
            for q in (value if isinstance(value, list) else [value])
            if isinstance(q, dict)
            and (piece := self.fields(q, _QUANTITY_FIELDS, "quantityElement"))
        )
        return name + "".join(items) if items else ""

    def persistent(self, name: str, value: Any) -> str:
        if not isinstance(value, dict):
            return ""
        body = "".join(
            self.leaf(k, value[k], _vocab(f"{name}.{k}")) for k in ("set", "unset") if k in value
        )
        return name + body if body else ""

    def location(self, name: str, value: Any) -> str:
        if not isinstance(value, dict):
            return self.leaf(name, value)
        return self.fields(value, _LOCATION_FIELDS, name)

    def sensors(self, name: str, value: Any) -> str:
        items = sorted(
            piece
            for element in (value if isinstance(value, list) else [value])
            if isinstance(element, dict) and (piece := self.sensor_element(element))
        )
        return name + "".join(items) if items else ""

    def sensor_element(self, element: dict[str, Any]) -> str:
        out = []
        meta = element.get("sensorMetadata")
        if isinstance(meta, dict):
            out.append(self.fields(meta, _METADATA_FIELDS, "sensorMetadata"))
        reports = element.get("sensorReport", [])
        out.extend(
            sorted(
                self.fields(r, _REPORT_FIELDS, "sensorReport")
                for r in (reports if isinstance(reports, list) else [reports])
                if isinstance(r, dict)
            )
        )
        known = {"sensorMetadata", "sensorReport"}
        out.append(self.extensions({k: v for k, v in element.items() if k not in known}))
        body = "".join(out)
        return "sensorElement" + body if body else ""

    def fields(self, obj: dict[str, Any], order: _FieldOrder, name: str) -> str:
        """Standard sub-fields in order, then the object's own extensions (sorted)."""
        present, complete = _layout(tuple(obj), order)
        out = [self.leaf(k, obj[k], fmt) for k, fmt in present]
        if not complete:
            out.append(self.extensions({k: v for k, v in obj.items() if k not in order}))
        body = "".join(out)
        return name + body if body else ""

    def extensions(self, obj: dict[str, Any]) -> str:
        pieces = [p for k, v in obj.items() if k not in _EXCLUDED for p in self.tail(k, v)]
        pieces.sort()
        return "".join(pieces)

    # everything else: generic rendering
    def tail(self, key: str, value: Any) -> list[str]:
        if key in TYPED_LIST_ITEM:
            return [self.typed_list(key, value)]
        name = self.key(key)
        if isinstance(value, list):
            return [self.generic(name, v) for v in value]
        return [self.generic(name, value)]

    def typed_list(self, name: str, value: Any) -> str:
        item, vocab = TYPED_LIST_ITEM[name], _vocab(f"{name}.type")
        pieces = []
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, dict):
                continue
            kind = vocab(entry["type"]) if "type" in entry else ""
            ident = _value(entry.get(item, ""))
            piece = (f"type={kind}" if kind else "") + (f"{item}={ident}" if ident else "")
            if piece:
                pieces.append(piece)
        pieces.sort()
        return name + "".join(pieces)

    def generic(self, name: str, value: Any) -> str:
        if isinstance(value, dict):
            text = _value(value.get("#text", ""))
            children = [
                p
                for k, v in value.items()
                if k not in ("#text", "comment", "rdfs:comment") and not k.startswith("@xmlns")
                for p in self.tail(k, v)
            ]
            children.sort()
            return name + (f"={text}" if text else "") + "".join(children)
        text = _value(value)
        return f"{name}={text}" if text else name


_Field = Callable[[_Renderer, str, Any], str]
_ORDER: tuple[tuple[str, _Field], ...] = (
    ("eventTime", _Renderer.time),
    ("eventTimeZoneOffset", _Renderer.text),
    ("certificationInfo", _Renderer.text),
    ("parentID", _Renderer.text),
    ("epcList", _Renderer.epcs),
    ("inputEPCList", _Renderer.epcs),
    ("childEPCs", _Renderer.epcs),
    ("quantityList", _Renderer.quantities),
    ("childQuantityList", _Renderer.quantities),
    ("inputQuantityList", _Renderer.quantities),
    ("outputEPCList", _Renderer.epcs),
    ("outputQuantityList", _Renderer.quantities),
    ("action", _Renderer.text),
    ("transformationID", _Renderer.text),
    ("bizStep", lambda r, n, v: r.leaf(n, v, _vocab(n))),
    ("disposition", lambda r, n, v: r.leaf(n, v, _vocab(n))),
    ("persistentDisposition", _Renderer.persistent),
    ("readPoint", _Renderer.location),
    ("bizLocation", _Renderer.location),
    ("sensorElementList", _Renderer.sensors),
)
_ORDERED = frozenset(name for name, _ in _ORDER)
_LOCATION_FIELDS: dict[str, tuple[int, Callable[[Any], str]]] = {"id": (0, _value)}
_FieldOrder = dict[str, tuple[int, Callable[[Any], str]]]
_Layout = tuple[tuple[tuple[str, Callable[[Any], str]], ...], bool]
_LAYOUTS: dict[tuple[tuple[str, ...], int], _Layout] = {}


def _layout(keys: tuple[str, ...], order: _FieldOrder) -> _Layout:
    """The standard fields of an object with these ``keys``, in canonical order, and whether
    those are all its keys. Logger series repeat one key layout thousands of times: cached."""
    cache_key = (keys, id(order))
    found = _LAYOUTS.get(cache_key)
    if found is None:
        present = sorted((k for k in keys if k in order), key=lambda k: order[k][0])
        found = (tuple((k, order[k][1]) for k in present), len(present) == len(keys))
        if len(_LAYOUTS) < 4096:
            _LAYOUTS[cache_key] = found
    return found


def _order(fields: tuple[tuple[str, Callable[[Any], str]], ...]) -> _FieldOrder:
    return {name: (i, fmt) for i, (name, fmt) in enumerate(fields)}


_QUANTITY_FIELDS = _order((("epcClass", _value), ("quantity", _value), ("uom", _value)))


def _sensor_format(field: str) -> Callable[[Any], str]:
    if "time" in field.lower():
        return _time
    return _vocab(f"sensorReport.{field}") if field in _SENSOR_VOCAB_FIELDS else _value


_SENSOR_VOCAB_FIELDS = ("type", "exception", "component")


_METADATA_FIELDS = _order(tuple((f, _sensor_format(f)) for f in SENSOR_METADATA_FIELDS))
_REPORT_FIELDS = _order(tuple((f, _sensor_format(f)) for f in SENSOR_REPORT_FIELDS))


# -- API -----------------------------------------------------------------------------------------
def prehash(event: Event, prefixes: dict[str, str]) -> str:
    """The CBV 2.0 pre-hash string of ``event``; ``prefixes`` expand extension names."""
    own = event.get("@context")
    if own is not None:
        prefixes = {**prefixes, **context_namespaces(own if isinstance(own, list) else [own])}
    try:
        return _Renderer(prefixes).event(event)
    except RecursionError as e:
        raise MalformedInput("extensions nested too deeply to hash") from e


def digest(event: Event, prefixes: dict[str, str]) -> bytes:
    """SHA-256 of the pre-hash string: the 32 bytes behind the hash ID."""
    return hashlib.sha256(prehash(event, prefixes).encode()).digest()


def hash_id_from_digest(raw: bytes) -> str:
    return f"{_NI_PREFIX}{raw.hex()}{_NI_SUFFIX}"


def hash_id(event: Event, prefixes: dict[str, str]) -> str:
    """The event hash ID, ``ni:///sha-256;<hex>?ver=CBV2.0``."""
    return hash_id_from_digest(digest(event, prefixes))
