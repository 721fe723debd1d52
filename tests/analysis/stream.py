"""Tiny hand-built EPCIS streams that follow docs/profile.md, for per-indicator tests.

One province, one county, a county store and two clinics (each with a fridge); one product
(10-dose vials, 50 to a case). Builders return JSON-LD event dicts; :func:`document` wraps them
with the extension namespace bound to any prefix (the profile says consumers match the
namespace URI, not the prefix ``dt``).
"""

# ruff: noqa: PLR0917 - builders take the facts of one step, in EPCIS field order

from __future__ import annotations

from typing import Any

import orjson

CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
DT = "https://dosetrail.org/epcis/"
PROVINCE = "https://dosetrail.org/area/KP-03"
COUNTY = "https://dosetrail.org/area/KP-03/c007"
STORE = "urn:epc:id:sgln:9524000.10007.0"
CLINIC = "urn:epc:id:sgln:9524000.12345.0"
CLINIC_B = "urn:epc:id:sgln:9524000.12346.0"
DONOR_SITE = "urn:epc:id:sgln:9521000.00002.0"
LOT = "DTV25A01"
TARGET = 400


def vial(n: int) -> str:
    return f"urn:epc:id:sgtin:9521000.000101.{1000 + n}"


def case(n: int) -> str:
    return f"urn:epc:id:sgtin:9521000.100101.{500 + n}"


def fridge(site: str) -> str:
    return site[:-1] + "F1"


def _element(uri: str, name: str, kind: str, children: list[str], **extra: Any) -> dict[str, Any]:
    attributes = [
        {"id": "urn:epcglobal:cbv:mda:name", "attribute": name},
        {"id": DT + "siteType", "attribute": kind},
    ] + [{"id": DT + k, "attribute": v} for k, v in extra.items()]
    out: dict[str, Any] = {"id": uri, "attributes": attributes}
    if children:
        out["children"] = children
    return out


def master_data() -> bytes:
    elements = [
        _element(PROVINCE, "North Pyongan", "province", [COUNTY], targetPopulation=2 * TARGET),
        _element(COUNTY, "county 07", "county", [STORE, CLINIC, CLINIC_B]),
        _element(STORE, "county store", "county_store", [fridge(STORE)]),
        _element(CLINIC, "clinic A", "ri_clinic", [fridge(CLINIC)], targetPopulation=TARGET),
        _element(CLINIC_B, "clinic B", "ri_clinic", [fridge(CLINIC_B)], targetPopulation=TARGET),
        _element(DONOR_SITE, "donor warehouse", "origin_warehouse", []),
    ] + [_element(fridge(s), "fridge", "fridge", []) for s in (STORE, CLINIC, CLINIC_B)]
    doc = {
        "@context": [CONTEXT_URL],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T00:00:00Z",
        "epcisHeader": {
            "epcisMasterData": {
                "vocabularyList": [
                    {
                        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                        "vocabularyElementList": elements,
                    }
                ]
            }
        },
        "epcisBody": {"eventList": []},
    }
    return orjson.dumps(doc)


def _renamed(value: Any, prefix: str) -> Any:
    if isinstance(value, list):
        return [_renamed(v, prefix) for v in value]
    if isinstance(value, dict):
        return {
            (prefix + k[3:] if k.startswith("dt:") else k): _renamed(v, prefix)
            for k, v in value.items()
        }
    return value


def document(events: list[dict[str, Any]], prefix: str = "dt") -> bytes:
    """An EPCISDocument of ``events`` with the dosetrail namespace bound to ``prefix``."""
    return orjson.dumps(
        {
            "@context": [CONTEXT_URL, {prefix: DT}],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2025-03-01T00:00:00Z",
            "epcisBody": {"eventList": [_renamed(e, prefix + ":") for e in events]},
        }
    )


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2025-03-{day:02d}T{hour:02d}:{minute:02d}:00+09:00"


def _object(time: str, step: str, disposition: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+09:00",
        "action": "OBSERVE",
        "bizStep": step,
    }
    if disposition:
        out["disposition"] = disposition
    return out


def commission(
    time: str, epcs: list[str], lot: str = LOT, expiry: str = "2026-02-28"
) -> dict[str, Any]:
    out = _object(time, "commissioning", "active")
    out.update(
        action="ADD",
        epcList=epcs,
        readPoint={"id": DONOR_SITE},
        bizLocation={"id": DONOR_SITE},
        ilmd={"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": expiry},
    )
    return out


def pack(time: str, parent: str, children: list[str]) -> dict[str, Any]:
    return {
        "type": "AggregationEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+09:00",
        "parentID": parent,
        "childEPCs": children,
        "action": "ADD",
        "bizStep": "packing",
        "disposition": "container_closed",
        "readPoint": {"id": DONOR_SITE},
        "bizLocation": {"id": DONOR_SITE},
    }


def _ends(source: str, destination: str) -> dict[str, Any]:
    pgln = "urn:epc:id:pgln:9524000.95000"
    return {
        "sourceList": [
            {"type": "owning_party", "source": pgln},
            {"type": "location", "source": source},
        ],
        "destinationList": [
            {"type": "owning_party", "destination": pgln},
            {"type": "location", "destination": destination},
        ],
    }


def ship(time: str, epcs: list[str], desadv: str, source: str, destination: str) -> dict[str, Any]:
    out = _object(time, "shipping", "in_transit")
    out.update(epcList=epcs, readPoint={"id": source})
    out["bizTransactionList"] = [{"type": "desadv", "bizTransaction": desadv}]
    out.update(_ends(source, destination))
    return out


def receive(
    time: str, epcs: list[str], desadv: str, source: str, destination: str
) -> dict[str, Any]:
    out = _object(time, "receiving", "in_progress")
    out.update(epcList=epcs, readPoint={"id": destination}, bizLocation={"id": destination})
    out["bizTransactionList"] = [{"type": "desadv", "bizTransaction": desadv}]
    out.update(_ends(source, destination))
    return out


def unpack(time: str, parent: str, site: str) -> dict[str, Any]:
    return {
        "type": "AggregationEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+09:00",
        "parentID": parent,
        "action": "DELETE",
        "bizStep": "unpacking",
        "disposition": "in_progress",
        "readPoint": {"id": site},
        "bizLocation": {"id": site},
    }


def session(
    start: str,
    end: str,
    vials: list[str],
    site: str,
    number: int,
    given: list[int],
    vaccinators: int = 1,
    dose: int = 1,
) -> dict[str, Any]:
    out = _object(end, "dispensing", "dispensed")
    groups = ["18-29", "30-49", "50-64", "65+"]
    total = sum(given)
    out.update(
        epcList=vials,
        readPoint={"id": site},
        bizLocation={"id": site},
    )
    out["dt:sessionID"] = f"urn:epc:id:gdti:9524000.00001.{number}"
    out["dt:sessionStart"] = start
    out["dt:vaccinators"] = vaccinators
    out["dt:administered"] = [
        {"dt:ageGroup": g, "dt:doseNumber": dose, "dt:count": n}
        for g, n in zip(groups, given, strict=False)
        if n
    ]
    out["dt:openVialWaste"] = len(vials) * 10 - total
    return out


def sensor(
    site: str, day: int, values: list[float], interval: int = 30, start_minute: int = 0
) -> dict[str, Any]:
    times = [start_minute + i * interval for i in range(len(values))]
    stamps = [
        f"2025-03-{day + m // 1440:02d}T{m % 1440 // 60:02d}:{m % 60:02d}:00+09:00" for m in times
    ]
    out = _object(stamps[-1], "sensor_reporting")
    out.update(readPoint={"id": fridge(site)}, bizLocation={"id": site})
    out["sensorElementList"] = [
        {
            "sensorMetadata": {
                "deviceID": "urn:epc:id:giai:9524000.LOG" + site.split(".")[1],
                "startTime": stamps[0],
                "endTime": stamps[-1],
            },
            "sensorReport": [
                {"type": "gs1:Temperature", "time": t, "value": v, "uom": "CEL"}
                for t, v in zip(stamps, values, strict=True)
            ],
        }
    ]
    out["dt:readingIntervalMinutes"] = interval
    return out


def count(time: str, site: str, vials: int, lot: str = LOT) -> dict[str, Any]:
    out = _object(time, "cycle_counting", "sellable_not_accessible")
    out.update(readPoint={"id": site}, bizLocation={"id": site})
    out["quantityList"] = [
        {"epcClass": f"urn:epc:class:lgtin:9521000.000101.{lot}", "quantity": vials}
    ]
    return out
