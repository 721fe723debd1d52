"""Who may record what: the one table of roles, event types and CBV business steps.

A party signs what it records, and its role limits what it may record (DESIGN.md, "Parties and
trust"): a carrier cannot record a vaccination session, a facility cannot commission vials, a
monitor only records its field observations. ``docs/profile.md`` shows the same table for
people; a test keeps the two identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dosetrail.epcis.vocabulary import BIZ_STEP

__all__ = ["ROLES", "ROLE_RULES", "RoleRule", "role_problem"]


@dataclass(frozen=True, slots=True)
class RoleRule:
    """Event types and CBV 2.0 business steps (bare terms) a role may record."""

    event_types: frozenset[str]
    biz_steps: frozenset[str]


def _rule(types: str, steps: str) -> RoleRule:
    return RoleRule(frozenset(types.split()), frozenset(steps.split()))


_OBJECT_AGG = "ObjectEvent AggregationEvent TransactionEvent"

ROLE_RULES: dict[str, RoleRule] = {
    # The donor (or its manufacturer) creates the goods and hands them to carriers.
    "donor": _rule(
        _OBJECT_AGG,
        "commissioning encoding packing shipping staging_outbound loading departing "
        "storing inspecting sensor_reporting holding destroying decommissioning",
    ),
    # Carriers and port/border authorities move goods and report conditions in transit.
    "carrier": _rule(
        "ObjectEvent TransactionEvent",
        "departing arriving transporting entering_exiting loading unloading holding "
        "inspecting sensor_reporting",
    ),
    # Central, provincial and county cold stores.
    "store": _rule(
        _OBJECT_AGG,
        "receiving accepting unloading storing stocking picking packing unpacking "
        "staging_outbound shipping loading departing arriving holding inspecting "
        "sensor_reporting stock_taking cycle_counting destroying decommissioning void_shipping",
    ),
    # Clinics and hospitals: receive, store, vaccinate (dispensing), report wastage.
    "facility": _rule(
        _OBJECT_AGG,
        "receiving accepting storing unpacking dispensing holding inspecting sensor_reporting "
        "stock_taking cycle_counting destroying decommissioning",
    ),
    # Independent monitors record what they observe on sampled sites and sessions.
    "monitor": _rule("ObjectEvent", "inspecting stock_taking"),
    # The log operator and witnesses record no supply-chain events at all.
    "operator": _rule("", ""),
    "witness": _rule("", ""),
}
ROLES = tuple(ROLE_RULES)
assert all(rule.biz_steps <= BIZ_STEP.terms for rule in ROLE_RULES.values())


def role_problem(role: str, event: dict[str, Any]) -> str | None:
    """Why a party with ``role`` may not record ``event``; ``None`` when it may."""
    rule = ROLE_RULES[role]
    etype = event.get("type")
    if etype not in rule.event_types:
        allowed = ", ".join(sorted(rule.event_types)) or "no events"
        return f"a {role} may not record a {etype} (allowed: {allowed})"
    step = event.get("bizStep")
    if step is None:
        return "no bizStep: the dosetrail profile requires one on every event"
    term = BIZ_STEP.term(str(step))
    if term is None or term not in rule.biz_steps:
        allowed = ", ".join(sorted(rule.biz_steps))
        return f"a {role} may not record bizStep {step!r} (allowed: {allowed})"
    return None
