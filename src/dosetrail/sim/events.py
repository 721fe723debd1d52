"""Builders for the EPCIS 2.0 events of docs/profile.md, one function per step.

Each returns a plain dict in the JSON-LD binding's compact form, ready for
:class:`~dosetrail.epcis.Document`. They are the only place the simulator decides an event's
shape, so the profile and the output cannot drift apart (tests validate both). They are on the
hot path (millions of calls at national scale): no validation here, just dict literals.
"""

# ruff: noqa: PLR0917 - step functions take the facts of one real step, in EPCIS field order

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dosetrail.epcis.document import EPCIS_CONTEXT_URL
from dosetrail.profile import DT_NAMESPACE

__all__ = [
    "CONTEXT",
    "DT",
    "NAMESPACES",
    "Party3",
    "aggregation",
    "commission",
    "destroy",
    "monitor_observation",
    "receive",
    "sensor_report",
    "session",
    "ship",
    "stock_count",
    "store",
    "transit",
    "vvm_reading",
]

DT = DT_NAMESPACE
NAMESPACES = {"dt": DT}
CONTEXT: list[Any] = [EPCIS_CONTEXT_URL, NAMESPACES]

Event = dict[str, Any]
Party3 = tuple[str, str, str]
"""(owning party PGLN, possessing party PGLN, location SGLN) of a source or destination."""
_TEMPERATURE = "gs1:Temperature"
_ALARM = "gs1:ALARM_CONDITION"


def _object(time: str, offset: str, action: str, step: str) -> Event:
    return {
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": offset,
        "action": action,
        "bizStep": step,
    }


def _at(event: Event, read_point: str, biz_location: str | None) -> Event:
    event["readPoint"] = {"id": read_point}
    if biz_location is not None:
        event["bizLocation"] = {"id": biz_location}
    return event


def commission(time: str, offset: str, epcs: list[str], site: str, lot: str, expiry: str) -> Event:
    event = _object(time, offset, "ADD", "commissioning")
    event["epcList"] = epcs
    event["disposition"] = "active"
    _at(event, site, site)
    event["ilmd"] = {"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": expiry}
    return event


def aggregation(
    time: str, offset: str, parent: str, children: list[str] | None, site: str, *, add: bool
) -> Event:
    """Packing (ADD with children) or unpacking (DELETE, parent only: all children)."""
    event: Event = {
        "type": "AggregationEvent",
        "eventTime": time,
        "eventTimeZoneOffset": offset,
        "parentID": parent,
    }
    if children:
        event["childEPCs"] = children
    event["action"] = "ADD" if add else "DELETE"
    event["bizStep"] = "packing" if add else "unpacking"
    event["disposition"] = "container_closed" if add else "in_progress"
    return _at(event, site, site)


def _parties(source: Party3, destination: Party3) -> dict[str, Any]:
    return {
        "sourceList": [
            {"type": "owning_party", "source": source[0]},
            {"type": "possessing_party", "source": source[1]},
            {"type": "location", "source": source[2]},
        ],
        "destinationList": [
            {"type": "owning_party", "destination": destination[0]},
            {"type": "possessing_party", "destination": destination[1]},
            {"type": "location", "destination": destination[2]},
        ],
    }


def ship(
    time: str,
    offset: str,
    epcs: list[str],
    desadv: str,
    source: Party3,
    destination: Party3,
) -> Event:
    event = _object(time, offset, "OBSERVE", "shipping")
    event["epcList"] = epcs
    event["disposition"] = "in_transit"
    _at(event, source[2], None)
    event["bizTransactionList"] = [{"type": "desadv", "bizTransaction": desadv}]
    event.update(_parties(source, destination))
    return event


def transit(
    time: str, offset: str, epcs: list[str], step: str, read_point: str, desadv: str
) -> Event:
    """A carrier's ``departing``, ``arriving`` or ``entering_exiting`` observation."""
    event = _object(time, offset, "OBSERVE", step)
    event["epcList"] = epcs
    event["disposition"] = "in_transit"
    _at(event, read_point, None)
    event["bizTransactionList"] = [{"type": "desadv", "bizTransaction": desadv}]
    return event


def receive(
    time: str,
    offset: str,
    epcs: list[str],
    desadv: str,
    source: Party3,
    destination: Party3,
) -> Event:
    event = _object(time, offset, "OBSERVE", "receiving")
    event["epcList"] = epcs
    event["disposition"] = "in_progress"
    _at(event, destination[2], destination[2])
    event["bizTransactionList"] = [{"type": "desadv", "bizTransaction": desadv}]
    event.update(_parties(source, destination))
    return event


def store(time: str, offset: str, epcs: list[str], sub_location: str) -> Event:
    event = _object(time, offset, "OBSERVE", "storing")
    event["epcList"] = epcs
    event["disposition"] = "sellable_not_accessible"
    return _at(event, sub_location, sub_location)


def sensor_report(
    time: str,
    offset: str,
    device: str,
    times: Sequence[str],
    values: Sequence[float],
    interval: int,
    *,
    read_point: str | None = None,
    biz_location: str | None = None,
    epcs: list[str] | None = None,
    limits: tuple[float, float] = (2.0, 8.0),
) -> Event:
    """One logger's readings (``times`` and ``values`` paired), as one sensorElement."""
    event = _object(time, offset, "OBSERVE", "sensor_reporting")
    if epcs:
        event["epcList"] = epcs
    if read_point is not None:
        _at(event, read_point, biz_location)
    low, high = limits
    reports = [
        {"type": _TEMPERATURE, "time": t, "value": v, "uom": "CEL"}
        if low <= v <= high
        else {"type": _TEMPERATURE, "exception": _ALARM, "time": t, "value": v, "uom": "CEL"}
        for t, v in zip(times, values, strict=True)
    ]
    metadata = {"deviceID": device}
    if times:
        metadata["startTime"] = times[0]
        metadata["endTime"] = times[-1]
    event["sensorElementList"] = [{"sensorMetadata": metadata, "sensorReport": reports}]
    event["dt:readingIntervalMinutes"] = interval
    return event


def vvm_reading(
    time: str, offset: str, site: str, quantities: list[tuple[str, int]], stage: int
) -> Event:
    event = _object(time, offset, "OBSERVE", "inspecting")
    event["quantityList"] = [{"epcClass": c, "quantity": q} for c, q in quantities]
    event["disposition"] = "sellable_not_accessible" if stage <= 2 else "non_conformant"
    _at(event, site, site)
    event["dt:vvmStage"] = stage
    return event


def session(
    time: str,
    offset: str,
    vials: list[str],
    post: str,
    site: str,
    session_id: str,
    start: str,
    vaccinators: int,
    tallies: list[tuple[str, int, int]],
    open_vial_waste: int,
) -> Event:
    """A vaccination session: every vial opened, aggregate tallies (age group, dose, count)."""
    event = _object(time, offset, "OBSERVE", "dispensing")
    event["epcList"] = vials
    event["disposition"] = "dispensed"
    _at(event, post, site)
    event["dt:sessionID"] = session_id
    event["dt:sessionStart"] = start
    event["dt:vaccinators"] = vaccinators
    event["dt:administered"] = [
        {"dt:ageGroup": g, "dt:doseNumber": d, "dt:count": n} for g, d, n in tallies if n
    ]
    event["dt:openVialWaste"] = open_vial_waste
    return event


def destroy(time: str, offset: str, epcs: list[str], site: str, reason: str, doses: int) -> Event:
    event = _object(time, offset, "OBSERVE", "destroying")
    event["epcList"] = epcs
    event["disposition"] = "destroyed"
    _at(event, site, None)
    event["dt:wasteReason"] = reason
    event["dt:wastedDoses"] = doses
    return event


def stock_count(time: str, offset: str, site: str, quantities: list[tuple[str, int]]) -> Event:
    event = _object(time, offset, "OBSERVE", "cycle_counting")
    event["quantityList"] = [{"epcClass": c, "quantity": q} for c, q in quantities]
    event["disposition"] = "sellable_not_accessible"
    return _at(event, site, site)


def monitor_observation(
    time: str,
    offset: str,
    where: str,
    observation: dict[str, Any],
    counted: list[tuple[str, int]],
) -> Event:
    """A monitor's field observation; ``observation`` keys are profile names without ``dt:``
    (``subject``, ``sessionID``, ``siteExists``, ``registerDoses`` …). ``counted`` is the vials
    seen by class; EPCIS needs at least one entry, so nothing seen is the product class with
    quantity 0."""
    event = _object(time, offset, "OBSERVE", "inspecting")
    event["quantityList"] = [{"epcClass": c, "quantity": q} for c, q in counted]
    _at(event, where, None)
    event["dt:observation"] = {f"dt:{k}": v for k, v in observation.items()}
    return event
