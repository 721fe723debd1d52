"""The schema twin gets exactly the verdict of the event it stands for (see schema_twin.py)."""

from __future__ import annotations

import copy
from typing import Any

import fastjsonschema
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from dosetrail.epcis import read_document
from dosetrail.epcis.schema_twin import format_fields, twin
from dosetrail.epcis.schemas import json_schema
from tests.conftest import GS1

FIELDS = format_fields(json_schema())
CHECK = fastjsonschema.compile(
    {
        "$schema": json_schema()["$schema"],
        "$ref": "#/definitions/EPCIS-Document-Event",
        "definitions": json_schema()["definitions"],
    }
)
SEEDS: list[dict[str, Any]] = [
    e
    for path in sorted((GS1 / "json" / "JSON").rglob("*.jsonld"))
    for e in read_document(path).events
]


def _valid(event: Any) -> bool:
    try:
        CHECK(event)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


_NASTY = st.sampled_from(
    [
        "",
        "not a uri",
        "urn:epc:id:sgtin:1.2.3",
        "urn:epc:id:sgtin:1.2.3",
        "2024-02-30T00:00:00Z",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00Z",
        "shipping",
        "urn:epcglobal:cbv:bizstep:x",
        "https://x/y z",
        "x:y",
        7,
        2.5,
        True,
        None,
        [],
        {},
        ["a", "a"],
        ["urn:a:1", "urn:a:1"],
    ]
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found.extend(_paths(v, (*prefix, i)))
    return found


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(SEEDS), st.data())
def test_twin_verdict_equals_event_verdict(seed: dict[str, Any], data: st.DataObject) -> None:
    event = copy.deepcopy(seed)
    paths = _paths(event)
    for _ in range(data.draw(st.integers(0, 3))):
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        _set(event, path, copy.deepcopy(data.draw(_NASTY)))
        paths = _paths(event)
    assert _valid(twin(event, FIELDS)) == _valid(event), orjson.dumps(event)[:400]


def test_twins_are_shared_by_events_of_one_shape() -> None:
    a = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T00:00:00Z",
        "epcList": ["urn:a:1", "urn:a:2"],
    }
    b = {"type": "ObjectEvent", "eventTime": "2024-06-01T10:00:00+09:00", "epcList": ["urn:b:9"]}
    assert twin(a, FIELDS) == twin(b, FIELDS)
    c = {**a, "epcList": ["urn:a:1", "urn:a:1"]}  # duplicates: must not collapse
    assert twin(c, FIELDS)["epcList"] == ["urn:a:1", "urn:a:1"]
