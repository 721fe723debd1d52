"""GS1 EPCIS 2.0 events: read and write both bindings, validate, identify, hash.

The public surface: :func:`read_document` / :func:`stream_events` (JSON-LD or XML, recognised by
content), :func:`to_json_bytes` / :func:`to_xml_bytes`, :func:`validate`, and the CBV 2.0 canonical
event hash (:func:`hash_id`, :func:`prehash`, :func:`digest`, :func:`hash_ids` for whole files).
"""

from __future__ import annotations

from collections.abc import Iterator

from dosetrail.epcis.canonical import digest, hash_id, hash_id_from_digest, prehash
from dosetrail.epcis.document import Document, Event, EventStream, standalone_event
from dosetrail.epcis.jsonld import to_json, to_json_bytes
from dosetrail.epcis.reader import Source, read_document, stream_events
from dosetrail.epcis.validate import ValidationReport, require_valid, validate
from dosetrail.epcis.xml_write import to_xml_bytes
from dosetrail.errors import Location, MalformedInput

__all__ = [
    "Document",
    "Event",
    "EventStream",
    "Source",
    "ValidationReport",
    "digest",
    "hash_id",
    "hash_id_from_digest",
    "hash_ids",
    "prehash",
    "read_document",
    "require_valid",
    "standalone_event",
    "stream_events",
    "to_json",
    "to_json_bytes",
    "to_xml_bytes",
    "validate",
]


def hash_ids(source: Source, *, prehash: bool = False) -> Iterator[str]:
    """Hash ID (or pre-hash string) of every event in ``source``, in document order, streaming."""
    from dosetrail.epcis.canonical import prehash as render

    stream = stream_events(source)
    for i, event in enumerate(stream):
        try:
            text = render(event, stream.prefixes())
        except MalformedInput as e:
            raise MalformedInput(e.message, Location(stream.name, i)) from e
        yield text if prehash else hash_id_from_digest(_sha256(text))


def _sha256(text: str) -> bytes:
    import hashlib

    return hashlib.sha256(text.encode()).digest()
