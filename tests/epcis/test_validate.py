"""Validation: GS1 schemas plus the EPCIS/CBV rules they cannot express."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from dosetrail.epcis import validate
from dosetrail.epcis.rules import check_event
from dosetrail.epcis.schemas import NOTICE
from tests.conftest import GS1, gs1_examples, require_conformance

require_conformance()

# GS1 examples that break the GS1 schemas themselves, each with the field our report must name.
KNOWN_INVALID = {
    # sourceList/destinationList written as objects, not arrays (JSON Schema)
    "JSON-simple-context/Example-TransactionEvents-2020_07_03y.jsonld": (1, "sourceList"),
    # CBV 1.x URNs where the JSON binding wants bare terms or Web URIs (JSON Schema)
    "XML/WithEventHashID/event_with_identical_hash_id_7.json": (0, "bizStep"),
    # the document lacks schemaVersion and creationDate (JSON Schema, document level)
    "JSON-simple-context/WithSensorData/SensorDataExample12.jsonld": (None, None),
    # schemaVersion is the number 2.0, not the string "2.0" (JSON Schema)
    "JSON-simple-context/WithSensorData/SensorDataExample17.jsonld": (None, "schemaVersion"),
    # ilmd on an OBSERVE event (EPCIS 2.0 §7.4.2) and sensor keys outside the schema
    "JSON-simple-context/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld": (
        0,
        "ilmd",
    ),
    # a generic JSON-LD @graph from a jsonld-cli issue: not an EPCIS document
    "jsonld-cli-issue-18.jsonld": (None, "type"),
}


def _key(path: Path) -> str:
    rel = path.relative_to(GS1)
    return str(Path(*rel.parts[1:]))


def test_bundled_schemas_are_the_gs1_ones() -> None:
    """The schemas shipped in the package are byte-identical to the GS1 conformance copies."""
    bundled = Path(NOTICE).parent
    assert (bundled / "EPCIS-JSON-Schema.json").read_bytes() == (
        GS1 / "schema" / "EPCIS-JSON-Schema.json"
    ).read_bytes()
    for xsd in (GS1 / "xsd" / "XSD").glob("*.xsd"):
        assert (bundled / "xsd" / xsd.name).read_bytes() == xsd.read_bytes(), xsd.name


@pytest.mark.parametrize("path", gs1_examples(), ids=_key)
def test_gs1_examples(path: Path) -> None:
    report = validate(path)
    expected = KNOWN_INVALID.get(_key(path))
    if expected is None:
        assert report.valid, [str(p) for p in report.problems]
        return
    assert not report.valid
    event, field = expected
    located = [p.location for p in report.problems]
    assert any(loc.event == event and (field is None or loc.field == field) for loc in located), [
        str(p) for p in report.problems
    ]
    assert all(loc.document == str(path) for loc in located)


# -- rules, one at a time (EPCIS 2.0 §7.4) ------------------------------------------------------
BASE: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2024-03-01T08:00:00.000+09:00",
    "eventTimeZoneOffset": "+09:00",
    "epcList": ["urn:epc:id:sgtin:4012345.011111.1001"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"},
}


def _with(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def _fields(event: dict[str, Any]) -> set[str]:
    return {field for field, _ in check_event(event, {})}


def test_base_event_is_clean() -> None:
    assert check_event(BASE, {}) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"eventTime": "2024-03-01T08:00:00"}, "eventTime"),  # no offset
        ({"eventTime": None}, "eventTime"),
        ({"eventTimeZoneOffset": "+9"}, "eventTimeZoneOffset"),
        ({"eventTimeZoneOffset": "+15:00"}, "eventTimeZoneOffset"),
        ({"action": "MOVE"}, "action"),
        ({"action": None}, "action"),
        ({"epcList": []}, "epcList"),
        ({"ilmd": {"ex:lot": "A1"}}, "ilmd"),  # ilmd needs action ADD
        ({"bizStep": "teleporting"}, "bizStep"),
        ({"bizStep": "urn:epcglobal:cbv:bizstep:teleporting"}, "bizStep"),
        ({"bizStep": "urn:epcglobal:cbv:disp:in_transit"}, "bizStep"),
        ({"disposition": "broken_ish"}, "disposition"),
        ({"readPoint": {}}, "readPoint.id"),
        (
            {
                "quantityList": [
                    {"epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "quantity": 2.5}
                ]
            },
            "quantityList[0].quantity",
        ),
        (
            {"quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "uom": "KGM"}]},
            "quantityList[0].uom",
        ),
        (
            {
                "quantityList": [
                    {
                        "epcClass": "urn:epc:class:lgtin:4012345.011111.L1",
                        "quantity": 1,
                        "uom": "kg",
                    }
                ]
            },
            "quantityList[0].uom",
        ),
        ({"quantityList": [{"quantity": 3}]}, "quantityList[0].epcClass"),
        ({"ex:undeclared": "x"}, "ex:undeclared"),
        ({"recordTime": "yesterday"}, "recordTime"),
    ],
)
def test_rule_violations_are_named(changes: dict[str, Any], field: str) -> None:
    assert field in _fields(_with(**changes))


def test_quantity_with_unit_may_be_fractional() -> None:
    q = [{"epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "quantity": 2.5, "uom": "KGM"}]
    assert check_event(_with(quantityList=q), {}) == []


def test_aggregation_rules() -> None:
    agg = {**BASE, "type": "AggregationEvent", "action": "ADD"}
    agg.pop("epcList")
    found = _fields(agg)
    assert {"parentID", "childEPCs"} <= found
    observe = {**agg, "action": "OBSERVE", "childEPCs": ["urn:epc:id:sgtin:4012345.011111.1"]}
    assert "parentID" not in _fields(observe)  # optional when observing (§7.4.3)
    delete = {**agg, "action": "DELETE", "parentID": "urn:epc:id:sscc:4012345.0000000001"}
    assert _fields(delete) == set()  # empty children on DELETE = disaggregate all


def test_transformation_and_transaction_rules() -> None:
    tf = {k: v for k, v in BASE.items() if k not in ("action", "epcList")}
    tf["type"] = "TransformationEvent"
    assert "inputEPCList" in _fields(tf)
    assert "action" in _fields({**tf, "action": "ADD", "inputEPCList": ["urn:x:1"]})
    tx = {**BASE, "type": "TransactionEvent"}
    assert "bizTransactionList" in _fields(tx)


def test_invalid_json_document_lists_every_problem(tmp_path: Path) -> None:
    bad = [_with(eventTime="2024-03-01T08:00:00"), BASE, _with(action="MOVE")]
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T00:00:00Z",
        "epcisBody": {"eventList": bad},
    }
    path = tmp_path / "bad.jsonld"
    path.write_bytes(orjson.dumps(doc))
    report = validate(path)
    events = {p.location.event for p in report.problems}
    assert events == {0, 2}
    assert {p.location.field for p in report.problems if p.location.event == 2} >= {"action"}
