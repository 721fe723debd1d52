"""Hostile and broken input: one clear line on stderr, exit 2, never a traceback or a hang."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dosetrail.epcis import hash_ids, read_document, validate
from dosetrail.errors import DosetrailError, MalformedInput
from tests.conftest import HASH_VECTORS, Runner

GOOD = HASH_VECTORS / "epcisDocWithVariousEventTypes.jsonld"
GOOD_XML = HASH_VECTORS / "epcisDocWithVariousEventTypes.xml"


def _doc(events: list[object]) -> bytes:
    return orjson.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2024-01-01T00:00:00Z",
            "epcisBody": {"eventList": events},
        }
    )


EVENT = {
    "type": "ObjectEvent",
    "eventTime": "2024-01-01T00:00:00Z",
    "eventTimeZoneOffset": "+00:00",
    "action": "OBSERVE",
    "epcList": ["urn:epc:id:sgtin:4012345.011111.1"],
}


def _deep_extension_doc(depth: int) -> bytes:
    """A document whose one event nests an extension ``depth`` objects deep (text-built: JSON
    encoders refuse such depth, parsers up to ~1000 accept it)."""
    deep = b'{"ex:n":' * depth + b'"leaf"' + b"}" * depth
    return _doc([{**EVENT, "ex:deep": "PLACEHOLDER"}]).replace(b'"PLACEHOLDER"', deep)


CASES: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n\t ",
    "binary junk": bytes(range(256)) * 8,
    "not json or xml": b"hello, world",
    "truncated json": GOOD.read_bytes()[:500],
    "truncated xml": GOOD_XML.read_bytes()[:700],
    "json array of junk": b"[1, 2, 3]",
    "json scalar": b"42",
    "unknown event type": _doc([{"type": "TeleportEvent", "eventTime": "2024-01-01T00:00:00Z"}]),
    "event not an object": _doc(["ObjectEvent"]),
    "wrong root": b"<html><body>hi</body></html>",
    "xml entity bomb": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<lolz>&lol3;</lolz>"
    ),
    "deep xml": b"<a>" * 5000 + b"</a>" * 5000,
    "deep json": b"[" * 5000 + b"]" * 5000,
    "deep extensions": _deep_extension_doc(900),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_hash_rejects_bad_input_cleanly(name: str, tmp_path: Path, cli: Runner) -> None:
    path = tmp_path / "input"
    path.write_bytes(CASES[name])
    code, _out, err = cli("epcis", "hash", path)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert str(path) in lines[0]
    assert "Traceback" not in err


def test_unknown_event_type_names_event_and_field(tmp_path: Path, cli: Runner) -> None:
    path = tmp_path / "doc.jsonld"
    path.write_bytes(_doc([EVENT, {"type": "TeleportEvent"}]))
    code, _, err = cli("epcis", "hash", path)
    assert code == 2
    assert "event 1: type: unknown event type 'TeleportEvent'" in err


def test_validate_reports_structure_problems_as_invalid(tmp_path: Path, cli: Runner) -> None:
    path = tmp_path / "doc.jsonld"
    path.write_bytes(_doc([{"type": "TeleportEvent"}]))
    code, out, _ = cli("epcis", "validate", path)
    assert code == 1
    assert "event 0: type" in out


def test_validate_of_junk_is_a_bad_input_file(tmp_path: Path, cli: Runner) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"\x00\x01\x02")
    code, _, err = cli("epcis", "validate", path)
    assert code == 2
    assert err.startswith("error: ")


def test_missing_file_and_directory(tmp_path: Path, cli: Runner) -> None:
    assert cli("epcis", "hash", tmp_path / "nope.jsonld")[0] == 2
    assert cli("epcis", "hash", tmp_path)[0] == 2


def test_huge_json_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A 4 GB file (sparse, so the test is cheap) is refused at once, not read into memory."""
    path = tmp_path / "huge.jsonld"
    with path.open("wb") as f:
        f.write(b'{"type": "EPCISDocument", "epcisBody": {"eventList": [')
        f.truncate(4 << 30)
    result = subprocess.run(
        [sys.executable, "-m", "dosetrail.cli", "epcis", "hash", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "exceeds" in result.stderr
    assert "Traceback" not in result.stderr


def test_huge_junk_is_refused_at_the_first_bytes(tmp_path: Path, cli: Runner) -> None:
    path = tmp_path / "huge.bin"
    with path.open("wb") as f:
        f.write(b"\x89PNG")
        f.truncate(4 << 30)
    code, _, err = cli("epcis", "hash", path)
    assert code == 2
    assert "neither JSON nor XML" in err


# -- fuzzing: any input gives a document or a DosetrailError, nothing else ----------------------
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(data: bytes) -> None:
    _read_or_fail(data)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD.read_bytes())), st.binary(max_size=8))
def test_fuzz_damaged_json(cut: int, noise: bytes) -> None:
    raw = GOOD.read_bytes()
    _read_or_fail(raw[:cut] + noise + raw[cut + len(noise) :])


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD_XML.read_bytes())), st.binary(max_size=8))
def test_fuzz_damaged_xml(cut: int, noise: bytes) -> None:
    raw = GOOD_XML.read_bytes()
    _read_or_fail(raw[:cut] + noise + raw[cut + len(noise) :])


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_OPTIONAL = (
    "eventTime",
    "epcList",
    "quantityList",
    "bizTransactionList",
    "sensorElementList",
    "readPoint",
    "persistentDisposition",
    "ilmd",
    "ex:ext",
)
_event = st.fixed_dictionaries(
    {"type": st.sampled_from(["ObjectEvent", "AggregationEvent", "TransformationEvent"])},
    optional=dict.fromkeys(_OPTIONAL, _json),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_event, max_size=3))
def test_fuzz_structurally_odd_events(events: list[dict[str, object]]) -> None:
    """Events of the right type but wrong shapes: hashing and validation never crash."""
    data = _doc(events)
    ids = list(hash_ids(data))
    assert len(ids) == len(events)
    report = validate(data, "fuzz.jsonld")
    assert report.events == len(events)


def _read_or_fail(data: bytes) -> None:
    """Reading either works or raises a DosetrailError with a message; nothing else escapes."""
    message = "ok"
    try:
        read_document(data, "fuzz")
        list(hash_ids(data))
    except DosetrailError as e:
        message = str(e)
    assert message


def test_malformed_input_is_a_dosetrail_error() -> None:
    with pytest.raises(MalformedInput, match="not valid JSON"):
        read_document(b"{", "x")
