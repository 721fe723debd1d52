"""Reading and writing both bindings: every GS1 example parses, and JSON ⇄ XML conversion keeps
each event's canonical hash ID (EPCIS 2.0 §10 and §9 describe one data model, two syntaxes)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dosetrail.epcis import hash_id, read_document, to_json_bytes, to_xml_bytes
from dosetrail.errors import NotEpcis
from tests.conftest import HASH_VECTORS, gs1_examples, require_conformance

require_conformance()

# Files in the GS1 example folders that are not EPCIS documents at all.
NOT_EPCIS = {"jsonld-cli-issue-18.jsonld"}  # a generic JSON-LD @graph, from a jsonld-cli issue


def _documents() -> list[Path]:
    files = gs1_examples() + sorted(p for p in HASH_VECTORS.rglob("*") if p.suffix != ".hashes")
    return [p for p in files if p.suffix in (".json", ".jsonld", ".xml")]


def _ids(path: Path) -> list[str]:
    doc = read_document(path)
    return [hash_id(e, doc.prefixes()) for e in doc.events]


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_every_example_parses(path: Path) -> None:
    if path.name in NOT_EPCIS:
        with pytest.raises(NotEpcis):
            read_document(path)
        return
    doc = read_document(path)
    assert doc.kind
    for event in doc.events:
        assert isinstance(event["type"], str)


@pytest.mark.parametrize(
    "path", [p for p in _documents() if p.name not in NOT_EPCIS], ids=lambda p: p.name
)
def test_json_xml_round_trip_keeps_hash_ids(path: Path) -> None:
    doc = read_document(path)
    ids = [hash_id(e, doc.prefixes()) for e in doc.events]
    as_xml = read_document(to_xml_bytes(doc), "as.xml")
    assert [hash_id(e, as_xml.prefixes()) for e in as_xml.events] == ids
    back = read_document(to_json_bytes(as_xml), "back.jsonld")
    assert [hash_id(e, back.prefixes()) for e in back.events] == ids
    if doc.kind not in ("event", "eventList"):  # bare events are wrapped in a document
        assert back.kind == doc.kind


@pytest.mark.parametrize(
    "path",
    [p for p in _documents() if p.suffix != ".xml" and p.name not in NOT_EPCIS],
    ids=lambda p: p.name,
)
def test_json_is_written_back_unchanged(path: Path) -> None:
    """Reading and writing JSON-LD keeps every field, extension and header as it was."""
    original = orjson.loads(path.read_bytes())
    written = orjson.loads(to_json_bytes(read_document(path)))
    if isinstance(original, dict) and "@context" not in original:
        written.pop("@context")
    assert written == original


@pytest.mark.parametrize(
    "path", [p for p in _documents() if p.suffix == ".xml"], ids=lambda p: p.name
)
def test_xml_is_written_back_with_the_same_events(path: Path) -> None:
    doc = read_document(path)
    again = read_document(to_xml_bytes(doc), "again.xml")
    assert again.events == doc.events
    assert again.kind == doc.kind
