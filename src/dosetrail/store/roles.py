"""Who may record what: the one table of roles, business steps and event shapes.

A party signs what it records and its role limits what it may record (DESIGN.md, "Parties and
trust"); this is the table of ``docs/profile.md`` §2, and a test keeps the two identical. Two
further rules of the profile are enforced here: ``dt:observation`` comes only from a monitor,
and a donor, store or facility records only at its own site or a location below it in the
master data (carriers move between other parties' sites; monitors visit them).
"""

from __future__ import annotations

from typing import Any

from dosetrail.epcis.vocabulary import BIZ_STEP
from dosetrail.profile import DT_NAMESPACE, STEP_SHAPES

__all__ = ["OBSERVATION", "ROLES", "ROLE_STEPS", "SITE_BOUND", "STEP_SHAPES", "role_problem"]

OBSERVATION = "dt:observation"

ROLE_STEPS: dict[str, frozenset[str]] = {
    "donor": frozenset({"commissioning", "packing", "shipping", "sensor_reporting"}),
    "carrier": frozenset({"departing", "arriving", "entering_exiting", "sensor_reporting"}),
    "store": frozenset(
        {
            "packing",
            "unpacking",
            "shipping",
            "receiving",
            "storing",
            "sensor_reporting",
            "inspecting",
            "destroying",
            "cycle_counting",
        }
    ),
    "facility": frozenset(
        {
            "unpacking",
            "shipping",
            "receiving",
            "storing",
            "sensor_reporting",
            "inspecting",
            "dispensing",
            "destroying",
            "cycle_counting",
        }
    ),
    "monitor": frozenset({"inspecting"}),
    "operator": frozenset(),  # orders the log and publishes master data; records no events
    "witness": frozenset(),
}
ROLES = tuple(ROLE_STEPS)
SITE_BOUND = frozenset({"donor", "store", "facility"})
assert all(steps <= set(STEP_SHAPES) for steps in ROLE_STEPS.values())
assert set(STEP_SHAPES) <= BIZ_STEP.terms


def _observes(event: dict[str, Any], prefixes: dict[str, str]) -> bool:
    for key in event:
        prefix, sep, local = key.partition(":")
        if sep and local == "observation" and prefixes.get(prefix) == DT_NAMESPACE:
            return True
    return False


def role_problem(role: str, event: dict[str, Any], prefixes: dict[str, str]) -> str | None:
    """Why a party with ``role`` may not record ``event``; ``None`` when it may."""
    steps = ROLE_STEPS[role]
    if not steps:
        return f"a {role} records no EPCIS events"
    raw = event.get("bizStep")
    if raw is None:
        return "no bizStep: the dosetrail profile requires one on every event"
    step = BIZ_STEP.term(str(raw))
    if step is None or step not in steps:
        return f"a {role} may not record bizStep {raw!r} (allowed: {', '.join(sorted(steps))})"
    kind, action = STEP_SHAPES[step]
    if event.get("type") != kind or event.get("action") != action:
        return f"{step} is recorded as a {kind} with action {action} (docs/profile.md §3)"
    observes = _observes(event, prefixes)
    if observes != (role == "monitor"):
        return (
            "dt:observation is recorded only by a monitor"
            if observes
            else "a monitor records inspections with dt:observation"
        )
    return None
