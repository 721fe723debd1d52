"""Properties of the CBV 2.0 canonical hash (§8.9) that must hold for every event."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dosetrail.epcis import Document, hash_id, read_document, to_json_bytes, to_xml_bytes
from dosetrail.epcis.timestamps import canonical_time

NS = {"ex": "https://example.org/ns/", "ex2": "https://example.org/other#"}
_serial = st.integers(min_value=1, max_value=10**9)
_sgtin = _serial.map(lambda n: f"urn:epc:id:sgtin:4012345.011111.{n}")
_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.", min_size=1, max_size=12)
_ext_leaf = st.one_of(_text, st.integers(0, 10**6).map(str))
_ext = st.recursive(
    _ext_leaf,
    lambda inner: st.dictionaries(st.sampled_from(["ex:a", "ex:b", "ex2:c"]), inner, min_size=1),
    max_leaves=6,
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    when = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10**8)))
    offset = draw(st.sampled_from(["+00:00", "+09:00", "-05:30"]))
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": when.isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": offset,
        "epcList": draw(st.lists(_sgtin, min_size=1, max_size=5, unique=True)),
        "action": draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"])),
        "bizStep": draw(st.sampled_from(["shipping", "receiving", "storing", "commissioning"])),
        "readPoint": {"id": f"urn:epc:id:sgln:4012345.00001.{draw(_serial)}"},
    }
    if draw(st.booleans()):
        event["quantityList"] = [
            {
                "epcClass": f"urn:epc:class:lgtin:4012345.011111.L{draw(_serial)}",
                "quantity": draw(st.integers(1, 1000)),
            }
            for _ in range(draw(st.integers(1, 3)))
        ]
    if draw(st.booleans()):
        event["bizTransactionList"] = [
            {"type": draw(st.sampled_from(["po", "desadv", "inv"])), "bizTransaction": f"urn:x:{n}"}
            for n in draw(st.lists(_serial, min_size=1, max_size=3, unique=True))
        ]
    if draw(st.booleans()):
        event["sensorElementList"] = [
            {
                "sensorMetadata": {"time": event["eventTime"]},
                "sensorReport": [
                    {"type": "Temperature", "value": draw(st.integers(-30, 40)), "uom": "CEL"}
                    for _ in range(draw(st.integers(1, 3)))
                ],
            }
        ]
    for key in draw(st.lists(st.sampled_from(["ex:x", "ex:y", "ex2:z"]), unique=True)):
        event[key] = draw(_ext)
    return event


def _id(event: dict[str, Any]) -> str:
    return hash_id(event, NS)


def _shuffled(value: Any, rnd: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        items = [_shuffled(v, rnd) for v in value]
        rnd.shuffle(items)
        return items
    return value


@settings(max_examples=200, deadline=None)
@given(events(), st.randoms())
def test_order_of_keys_and_list_items_does_not_matter(
    event: dict[str, Any], rnd: random.Random
) -> None:
    """CBV 2.0 §8.9.2: lists are unordered and JSON key order is not data."""
    assert _id(_shuffled(event, rnd)) == _id(event)


@settings(max_examples=200, deadline=None)
@given(events())
def test_json_xml_round_trip_keeps_the_hash(event: dict[str, Any]) -> None:
    doc = Document([event], dict(NS))
    via_xml = read_document(to_xml_bytes(doc), "x.xml")
    again = read_document(to_json_bytes(via_xml), "x.jsonld")
    assert hash_id(via_xml.events[0], via_xml.prefixes()) == _id(event)
    assert hash_id(again.events[0], again.prefixes()) == _id(event)


@settings(max_examples=200, deadline=None)
@given(events(), st.data())
def test_changing_an_epc_changes_the_hash(event: dict[str, Any], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(event["epcList"]) - 1))
    changed = {**event, "epcList": list(event["epcList"])}
    changed["epcList"][i] += "0"
    assert _id(changed) != _id(event)


@settings(max_examples=200, deadline=None)
@given(events())
def test_record_time_event_id_and_error_declaration_do_not_count(event: dict[str, Any]) -> None:
    extra = {
        **event,
        "recordTime": "2030-01-01T00:00:00Z",
        "eventID": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "errorDeclaration": {"declarationTime": "2030-01-02T00:00:00Z", "reason": "did_not_occur"},
    }
    assert _id(extra) == _id(event)


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
    st.integers(min_value=0, max_value=999_999_999),
)
def test_one_instant_has_one_canonical_time(moment: datetime, minutes: int, nanos: int) -> None:
    """CBV 2.0 §8.9.2: UTC, millisecond precision, half up on the fourth digit."""
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    sign = "+" if minutes >= 0 else "-"
    offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    local = moment + timedelta(minutes=minutes)
    text = f"{local:%Y-%m-%dT%H:%M:%S}.{nanos:09d}{offset}"
    rounded = moment + timedelta(milliseconds=(nanos + 500_000) // 1_000_000)
    assert canonical_time(text) == f"{rounded:%Y-%m-%dT%H:%M:%S}.{rounded.microsecond // 1000:03d}Z"
    assert canonical_time(f"{moment:%Y-%m-%dT%H:%M:%S}Z") == f"{moment:%Y-%m-%dT%H:%M:%S}.000Z"
