"""Constants of the dosetrail EPCIS profile (``docs/profile.md``), in one place for every package.

The simulator writes them, the ledger enforces them, analysis and certification read them.
"""

from __future__ import annotations

__all__ = ["DT_NAMESPACE", "STEP_SHAPES"]

DT_NAMESPACE = "https://dosetrail.org/epcis/"
"""The namespace of dosetrail's extension fields (``dt:`` in the profile's examples)."""

# bizStep → (event type, action) as the profile defines each step.
STEP_SHAPES: dict[str, tuple[str, str]] = {
    "commissioning": ("ObjectEvent", "ADD"),
    "packing": ("AggregationEvent", "ADD"),
    "unpacking": ("AggregationEvent", "DELETE"),
    "shipping": ("ObjectEvent", "OBSERVE"),
    "departing": ("ObjectEvent", "OBSERVE"),
    "arriving": ("ObjectEvent", "OBSERVE"),
    "entering_exiting": ("ObjectEvent", "OBSERVE"),
    "receiving": ("ObjectEvent", "OBSERVE"),
    "storing": ("ObjectEvent", "OBSERVE"),
    "sensor_reporting": ("ObjectEvent", "OBSERVE"),
    "inspecting": ("ObjectEvent", "OBSERVE"),
    "dispensing": ("ObjectEvent", "OBSERVE"),
    "destroying": ("ObjectEvent", "OBSERVE"),
    "cycle_counting": ("ObjectEvent", "OBSERVE"),
}
