"""A reference reconciliation computed from EPCIS documents alone (profile §3, vial accounting).

For each site and lot, in doses: received − shipped = administered + open-vial waste +
closed-vial waste + on hand. Containment is followed through packing / unpacking events, so
shipping and receiving may list pallets or cases. Used by the tests, not by the simulator.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

DOSES_PER_VIAL = 10


class Books:
    def __init__(self) -> None:
        self.children: dict[str, list[str]] = {}
        self.lot: dict[str, str] = {}
        self.vial: set[str] = set()
        self.ledger: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.counts: dict[tuple[str, str], int] = {}

    def vials(self, epc: str) -> list[str]:
        if epc in self.vial:
            return [epc]
        out: list[str] = []
        for child in self.children.get(epc, []):
            out += self.vials(child)
        return out

    def _book(self, site: str, epcs: list[str], column: str, sign: int = 1) -> None:
        for epc in epcs:
            for vial in self.vials(epc):
                self.ledger[(site, self.lot[vial])][column] += sign * DOSES_PER_VIAL

    def add(self, event: dict[str, Any]) -> None:
        step = event.get("bizStep")
        epcs = event.get("epcList", [])
        where = (event.get("bizLocation") or event.get("readPoint") or {}).get("id", "")
        site = where.rsplit(".", 1)[0] + ".0" if where.startswith("urn:epc:id:sgln:") else where
        if step == "commissioning":
            lot = event["ilmd"]["cbvmda:lotNumber"]
            for epc in epcs:
                self.lot[epc] = lot
                if ".000101." in epc:
                    self.vial.add(epc)
            self._book(site, [e for e in epcs if e in self.vial], "received")
        elif step == "packing":
            self.children[event["parentID"]] = list(event["childEPCs"])
        elif step == "shipping":
            source = next(s["source"] for s in event["sourceList"] if s["type"] == "location")
            self._book(source, epcs, "shipped")
        elif step == "receiving":
            self._book(site, epcs, "received")
        elif step == "dispensing":
            administered = sum(t["dt:count"] for t in event["dt:administered"])
            waste = event["dt:openVialWaste"]
            assert administered + waste == len(epcs) * DOSES_PER_VIAL
            for epc in epcs:
                key = (site, self.lot[epc])
                self.ledger[key]["opened"] += DOSES_PER_VIAL
            self.ledger[(site, "*")]["administered"] += administered
            self.ledger[(site, "*")]["openVialWaste"] += waste
        elif step == "destroying":
            self._book(site, epcs, "destroyed")
        elif step == "cycle_counting":
            for q in event["quantityList"]:
                lot = q["epcClass"].rsplit(".", 1)[1]
                self.counts[(site, lot)] = q["quantity"] * DOSES_PER_VIAL


def read_books(out: Path) -> Books:
    books = Books()
    events = []
    for path in sorted((out / "epcis").rglob("*.jsonld")):
        doc = orjson.loads(path.read_bytes())
        events += doc["epcisBody"]["eventList"]
    order = {"commissioning": 0, "packing": 1}
    events.sort(key=lambda e: order.get(e.get("bizStep", ""), 2))
    for event in events:
        books.add(event)
    return books


def on_hand(books: Books) -> dict[tuple[str, str], int]:
    """received − shipped − opened − destroyed per (site, lot), in doses."""
    out = {}
    for key, cols in books.ledger.items():
        if key[1] == "*":
            continue
        out[key] = cols["received"] - cols["shipped"] - cols["opened"] - cols["destroyed"]
    return out
