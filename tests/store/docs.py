"""Small, valid EPCIS documents for the store tests (dosetrail profile shapes)."""

from __future__ import annotations

from typing import Any

import orjson

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"dt": "https://dosetrail.org/epcis/"},
]
CP = "9520001"
ORIGIN = f"urn:epc:id:sgln:{CP}.00001.0"
STORE = f"urn:epc:id:sgln:{CP}.00002.0"
CLINIC = f"urn:epc:id:sgln:{CP}.00003.0"


def vial(n: int) -> str:
    return f"urn:epc:id:sgtin:{CP}.012345.{n}"


def case(n: int) -> str:
    return f"urn:epc:id:sgtin:{CP}.112345.{n}"


def pallet(n: int) -> str:
    return f"urn:epc:id:sscc:{CP}.{n:010d}"


def when(day: int, hour: int = 8) -> str:
    return f"2024-03-{day:02d}T{hour:02d}:00:00.000+09:00"


def event(kind: str, day: int, step: str, where: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": kind,
        "eventTime": when(day, fields.pop("hour", 8)),
        "eventTimeZoneOffset": "+09:00",
    }
    out.update(fields)
    out["bizStep"] = step
    out["readPoint"] = {"id": where}
    out["bizLocation"] = {"id": where}
    return out


def commission(day: int, vials: list[str]) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        day,
        "commissioning",
        ORIGIN,
        epcList=vials,
        action="ADD",
        disposition="active",
        ilmd={"cbvmda:lotNumber": "L1"},
    )


def pack(day: int, parent: str, children: list[str], where: str = ORIGIN) -> dict[str, Any]:
    return event(
        "AggregationEvent", day, "packing", where, parentID=parent, childEPCs=children, action="ADD"
    )


def unpack(day: int, parent: str, children: list[str] | None, where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"parentID": parent, "action": "DELETE"}
    if children:
        fields["childEPCs"] = children
    return event("AggregationEvent", day, "unpacking", where, **fields)


def observe(
    day: int, step: str, where: str, epcs: list[str], disposition: str = "in_progress"
) -> dict[str, Any]:
    return event(
        "ObjectEvent", day, step, where, epcList=epcs, action="OBSERVE", disposition=disposition
    )


def document(*events: dict[str, Any], master_data: dict[str, Any] | None = None) -> bytes:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T00:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }
    if master_data is not None:
        doc["epcisHeader"] = {"epcisMasterData": master_data}
    return orjson.dumps(doc)


def locations(tree: dict[str, list[str]], names: dict[str, str]) -> dict[str, Any]:
    """Master data: a BusinessLocation vocabulary with ``children`` and names."""
    ids = set(tree) | {c for kids in tree.values() for c in kids}
    elements = []
    for ident in sorted(ids):
        element: dict[str, Any] = {"id": ident}
        if ident in names:
            element["attributes"] = [
                {"id": "urn:epcglobal:cbv:mda#name", "attribute": names[ident]}
            ]
        if tree.get(ident):
            element["children"] = tree[ident]
        elements.append(element)
    return {
        "vocabularyList": [
            {
                "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                "vocabularyElementList": elements,
            }
        ]
    }
