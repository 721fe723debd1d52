"""The identifiers an event names, in the canonical form queries and trace match on.

Every EPC is stored as its canonical GS1 Digital Link (CBV 2.0 §8.9 normalisation), so a vial
written as ``urn:epc:id:sgtin:…`` in one document and as a Digital Link in another is the same
row key; ``class_key`` is its product class (``https://id.gs1.org/01/<GTIN>``) for class-level
matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import IntEnum
from typing import Any

from dosetrail.epcis.identifiers import normalise_epc

__all__ = ["Role", "class_key", "event_identifiers", "location_id"]


class Role(IntEnum):
    """Where in an event an identifier appears."""

    EPC = 0  # epcList
    CHILD = 1  # childEPCs
    PARENT = 2  # parentID
    INPUT = 3  # inputEPCList
    OUTPUT = 4  # outputEPCList
    QUANTITY = 5  # quantityList[].epcClass
    CHILD_QUANTITY = 6
    INPUT_QUANTITY = 7
    OUTPUT_QUANTITY = 8


_LISTS = (
    ("epcList", Role.EPC),
    ("childEPCs", Role.CHILD),
    ("inputEPCList", Role.INPUT),
    ("outputEPCList", Role.OUTPUT),
)
_QUANTITIES = (
    ("quantityList", Role.QUANTITY),
    ("childQuantityList", Role.CHILD_QUANTITY),
    ("inputQuantityList", Role.INPUT_QUANTITY),
    ("outputQuantityList", Role.OUTPUT_QUANTITY),
)
_GTIN = re.compile(r"(https://id\.gs1\.org/01/[0-9]{14})(?:/.*)?")


def class_key(epc: str) -> str | None:
    """The GTIN-level class of a canonical Digital Link (serial or lot dropped); else ``None``."""
    m = _GTIN.fullmatch(epc)
    return m.group(1) if m else None


def event_identifiers(event: dict[str, Any]) -> Iterator[tuple[Role, str, float | None]]:
    """(role, canonical identifier, quantity) for every identifier ``event`` names."""
    parent = event.get("parentID")
    if isinstance(parent, str) and parent:
        yield Role.PARENT, normalise_epc(parent.strip()), None
    for name, role in _LISTS:
        values = event.get(name)
        if isinstance(values, list):
            for epc in values:
                if isinstance(epc, str) and epc:
                    yield role, normalise_epc(epc.strip()), None
    for name, role in _QUANTITIES:
        values = event.get(name)
        if isinstance(values, list):
            for q in values:
                if isinstance(q, dict) and isinstance(q.get("epcClass"), str):
                    amount = q.get("quantity")
                    number = float(amount) if isinstance(amount, int | float) else None
                    yield role, normalise_epc(q["epcClass"].strip()), number


def location_id(where: Any) -> str | None:
    """The canonical identifier of a ``readPoint``/``bizLocation`` object, if it has one."""
    if isinstance(where, dict) and isinstance(where.get("id"), str):
        return normalise_epc(where["id"].strip())
    return None
