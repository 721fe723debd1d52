"""Open an EPCIS document in either binding, recognised by its first bytes, not its file name.

Limits protect every caller (CLI, server, ledger): JSON is parsed whole and so is capped
(``DOSETRAIL_MAX_JSON_BYTES``, default 1 GiB); XML streams and has no size cap. Any failure to
read is a :class:`~dosetrail.errors.MalformedInput` naming the document.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

from dosetrail.epcis.document import Document, Event, EventStream
from dosetrail.epcis.jsonld import document_from_json, parse_json
from dosetrail.epcis.xml_read import XmlReader
from dosetrail.errors import Location, MalformedInput, NotFound

__all__ = ["Source", "max_json_bytes", "read_document", "sniff", "stream_events"]

Source = Path | bytes
_BOM = b"\xef\xbb\xbf"


def max_json_bytes() -> int:
    return int(os.environ.get("DOSETRAIL_MAX_JSON_BYTES", str(1 << 30)))


def sniff(head: bytes, name: str) -> str:
    """``"json"`` or ``"xml"`` from the first bytes of a document."""
    text = head.removeprefix(_BOM).lstrip()
    if not text:
        raise MalformedInput("empty document", Location(name))
    if text[:1] in (b"{", b"["):
        return "json"
    if text[:1] == b"<":
        return "xml"
    raise MalformedInput("neither JSON nor XML (first byte is not '{', '[' or '<')", Location(name))


def _head(source: Source, name: str) -> bytes:
    if isinstance(source, bytes):
        return source[:4096]
    try:
        with source.open("rb") as f:
            return f.read(4096)
    except FileNotFoundError as e:
        raise NotFound(f"no such file: {source}") from e
    except IsADirectoryError as e:
        raise MalformedInput("is a directory, not a document", Location(name)) from e
    except OSError as e:
        raise MalformedInput(f"cannot read: {e.strerror}", Location(name)) from e


def _name(source: Source, name: str | None) -> str:
    if name:
        return name
    return str(source) if isinstance(source, Path) else "<document>"


def read_document(source: Source, name: str | None = None) -> Document:
    """Read a whole document (JSON-LD or XML) into memory."""
    name = _name(source, name)
    stream = stream_events(source, name)
    events = list(stream)
    if isinstance(stream, _XmlStream):
        reader = stream.reader
        return Document(
            events,
            reader.namespaces,
            reader.kind,
            reader.header,
            reader.query,
            [],
            name,
            reader.event_lines,
        )
    assert isinstance(stream, _JsonStream)
    return stream.document


def stream_events(source: Source, name: str | None = None) -> EventStream:
    """Events one at a time. XML is streamed in bounded memory; JSON is parsed whole."""
    name = _name(source, name)
    kind = sniff(_head(source, name), name)
    if kind == "xml":
        handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        return _XmlStream(XmlReader(handle, name))
    data = source if isinstance(source, bytes) else _read_capped(source, name)
    try:
        document = document_from_json(parse_json(data, name), name)
    except RecursionError as e:
        raise MalformedInput("nesting too deep", Location(name)) from e
    return _JsonStream(document)


def _read_capped(path: Path, name: str) -> bytes:
    limit = max_json_bytes()
    size = path.stat().st_size
    if size > limit:
        raise MalformedInput(
            f"JSON document of {size:,} bytes exceeds the {limit:,}-byte limit "
            "(set DOSETRAIL_MAX_JSON_BYTES, or use the XML binding, which streams)",
            Location(name),
        )
    return path.read_bytes()


class _JsonStream(EventStream):
    def __init__(self, document: Document) -> None:
        self.document = document
        self.name = document.name
        self.namespaces = document.namespaces

    def __iter__(self) -> Iterator[Event]:
        return iter(self.document.events)


class _XmlStream(EventStream):
    def __init__(self, reader: XmlReader) -> None:
        self.reader = reader
        self.name = reader.name
        self.namespaces = reader.namespaces

    def __iter__(self) -> Iterator[Event]:
        return self.reader.events()
