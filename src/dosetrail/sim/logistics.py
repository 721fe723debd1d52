"""Moving stock: production, export by sea and by rail, and the distribution waves.

Round 1 stock is made in two days, packed 50 vials to a case and 48 cases to a pallet, shipped
by sea in 20-pallet reefer containers to Nampo. Round 2 stock flies to Dandong and crosses the
Sinuiju bridge by rail. The central store unpacks pallets and repacks per province; provincial
stores do the same per county; county stores issue whole cases and loose vials (from opened
cases) to facilities, which unpack everything into their fridge. Each move is a shipping event
by the sender and a receiving (+ unpacking, storing) record by the receiver, joined by the
sender's despatch advice (``desadv``).
"""

# ruff: noqa: PLR0917 - step functions take the facts of one real step, in EPCIS field order

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

from dosetrail.sim import events as ev
from dosetrail.sim.commodities import CASES_PER_PALLET, VIALS_PER_CASE
from dosetrail.sim.distribution import issue_county
from dosetrail.sim.engine import Transport
from dosetrail.sim.geography import County, distance_days
from dosetrail.sim.gs1 import BORDER, CARRIER, DONOR
from dosetrail.sim.parties import KOREA

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.sites import Site

__all__ = ["issue_central", "receive_store", "schedule", "ship_store"]

CONTAINER_PALLETS = 20
LOT_CASES = 600


def schedule(engine: Engine) -> None:
    """Put the whole supply chain on the agenda (arrivals schedule themselves)."""
    t = engine.timeline
    for tranche, days, rnd in (("A", t.production_a, 1), ("B", t.production_b, 2)):
        total = engine.plan.tranche_cases(rnd)
        first = total // 2
        engine.at(days[0], partial(_produce, engine, tranche, first))
        engine.at(days[1], partial(_produce, engine, tranche, total - first))
    engine.at(t.ship_a, partial(export_sea, engine))
    engine.at(t.ship_b, partial(export_rail, engine))
    for rnd, wave in ((1, t.wave1), (2, t.wave2)):
        engine.at(wave, partial(_wave, engine, rnd))


def _produce(engine: Engine, tranche: str, cases: int, day: int) -> None:
    produce(engine, day, tranche, cases)


def _wave(engine: Engine, rnd: int, day: int) -> None:
    issue_central(engine, day, rnd)


# -- production -----------------------------------------------------------------------------------
def produce(engine: Engine, day: int, tranche: str, cases: int) -> None:
    """Commission and pack ``cases`` cases into lots, then pallets; ready for export."""
    donor = engine.parties["donor"]
    site = donor.site or ""
    catalogue = engine.catalogue
    lot_size = min(LOT_CASES, max(1, math.ceil(engine.plan.tranche_cases(1) / 4)))
    made: list[int] = []
    while cases > 0:
        size = min(lot_size, cases)
        number = len([lot for lot in catalogue.lots if lot.tranche == tranche]) + 1
        if tranche == "A" and number == 1:
            expiry = engine.clock.date(engine.timeline.short_expiry - 1)
        else:
            expiry = engine.clock.date(300 + number)
        lot = catalogue.add_lot(f"DTV25{tranche}{number:03d}", expiry, size, tranche)
        made.extend(range(lot.first_case, lot.end_case))
        cases -= size
    offset = donor.offset
    n = len(made)
    for i, case in enumerate(made):
        lot = catalogue.lot_of_case(case)
        minute = 420 + (i * 600) // max(1, n)
        case_epc = catalogue.case_epc(case)
        vials = catalogue.vial_epcs(case * VIALS_PER_CASE, VIALS_PER_CASE)
        time, key = engine.when(day, minute, offset)
        event = ev.commission(time, offset, [case_epc, *vials], site, lot.number, lot.expiry)
        engine.emit(donor.key, day, key, event)
        event = ev.aggregation(time, offset, case_epc, vials, site, add=True)
        engine.emit(donor.key, day, key, event)
    for p in range(0, n, CASES_PER_PALLET):
        chunk = made[p : p + CASES_PER_PALLET]
        engine.counters.export_pallets += 1
        sscc = DONOR.sscc(engine.counters.export_pallets)
        time, key = engine.when(day, 1050 + p // CASES_PER_PALLET % 60, offset)
        event = ev.aggregation(time, offset, sscc, engine.case_epcs(chunk), site, add=True)
        engine.emit(donor.key, day, key, event)
        engine.export[tranche].append((sscc, chunk))


# -- international legs ---------------------------------------------------------------------
def _donor_ship(engine: Engine, day: int, pallets: list[tuple[str, list[int]]]) -> str:
    donor = engine.parties["donor"]
    central = engine.central
    desadv = engine.next_desadv(donor)
    source = (donor.pgln, donor.pgln, donor.site or "")
    destination = (central.party.pgln, central.party.pgln, central.sgln)
    time, key = engine.when(day, 960, donor.offset)
    epcs = [p for p, _ in pallets]
    engine.emit(donor.key, day, key, ev.ship(time, donor.offset, epcs, desadv, source, destination))
    return desadv


def export_sea(engine: Engine, day: int) -> None:
    t = engine.timeline
    carrier = engine.parties["sea-carrier"]
    port = engine.parties["nampo-port"]
    pallets = engine.export["A"]
    for c in range(0, len(pallets), CONTAINER_PALLETS):
        container = pallets[c : c + CONTAINER_PALLETS]
        epcs = [p for p, _ in container]
        desadv = _donor_ship(engine, day, container)
        number = c // CONTAINER_PALLETS + 1
        time, key = engine.when(day, 1320, carrier.offset)
        event = ev.transit(time, carrier.offset, epcs, "departing", carrier.site or "", desadv)
        engine.emit(carrier.key, day, key, event)
        device = CARRIER.giai(f"RF{number:05d}")
        engine.transports.append(
            engine_transport(engine, carrier.key, device, epcs, day, t.arrive_a, carrier.offset)
        )
        nampo = BORDER.sgln(10)
        time, key = engine.when(t.arrive_a, 460, KOREA)
        event = ev.transit(time, KOREA, epcs, "arriving", nampo, desadv)
        engine.emit(carrier.key, t.arrive_a, key, event)
        time, key = engine.when(t.arrive_a, 600, KOREA)
        event = ev.transit(time, KOREA, epcs, "entering_exiting", nampo, desadv)
        engine.emit(port.key, t.arrive_a, key, event)
        engine.at(t.central_a, partial(_into_central, engine, container, desadv))


def export_rail(engine: Engine, day: int) -> None:
    t = engine.timeline
    carrier = engine.parties["rail-carrier"]
    border = engine.parties["sinuiju-border"]
    pallets = engine.export["B"]
    for c in range(0, len(pallets), CONTAINER_PALLETS):
        wagon = pallets[c : c + CONTAINER_PALLETS]
        epcs = [p for p, _ in wagon]
        desadv = _donor_ship(engine, day, wagon)
        number = c // CONTAINER_PALLETS + 1
        time, key = engine.when(t.border_b, 480, carrier.offset)
        event = ev.transit(time, carrier.offset, epcs, "departing", carrier.site or "", desadv)
        engine.emit(carrier.key, t.border_b, key, event)
        device = CARRIER.giai(f"RW{number:05d}")
        engine.transports.append(
            engine_transport(engine, carrier.key, device, epcs, day, t.central_b, carrier.offset)
        )
        crossing = BORDER.sgln(11)
        time, key = engine.when(t.border_b, 600, KOREA)
        event = ev.transit(time, KOREA, epcs, "arriving", crossing, desadv)
        engine.emit(carrier.key, t.border_b, key, event)
        time, key = engine.when(t.border_b, 690, KOREA)
        event = ev.transit(time, KOREA, epcs, "entering_exiting", crossing, desadv)
        engine.emit(border.key, t.border_b, key, event)
        engine.at(t.central_b, partial(_into_central, engine, wagon, desadv))


def engine_transport(
    engine: Engine, party: str, device: str, epcs: list[str], first: int, last: int, offset: str
) -> Transport:
    return Transport(engine.parties[party], device, epcs, first, last, offset)


def _into_central(engine: Engine, pallets: list[tuple[str, list[int]]], da: str, day: int) -> None:
    donor = engine.parties["donor"]
    source = (donor.pgln, donor.pgln, donor.site or "")
    receive_store(engine, engine.central, day, pallets, da, source)


# -- stores ---------------------------------------------------------------------------------------
def receive_store(
    engine: Engine,
    site: Site,
    day: int,
    pallets: list[tuple[str, list[int]]],
    desadv: str,
    source: tuple[str, str, str],
) -> None:
    """Receive pallets, unpack them, put the cases in the cold room."""
    owner = engine.central.party.pgln
    destination = (owner, site.party.pgln, site.sgln)
    cases = [c for _, chunk in pallets for c in chunk]
    omitted, tags = engine.adversary.short_receipt(engine, site, day, cases)
    offset = site.offset
    minute = 600
    received_epcs = [p for p, _ in pallets]
    if omitted:
        dropped = set(omitted)
        cases = [c for c in cases if c not in dropped]
        received_epcs = engine.case_epcs(cases)
    time, key = engine.when(day, minute, offset)
    event = ev.receive(time, offset, received_epcs, desadv, source, destination)
    engine.emit(site.key, day, key, event, tags)
    for sscc, _ in pallets:
        time, key = engine.when(day, minute + 20, offset)
        event = ev.aggregation(time, offset, sscc, None, site.sgln, add=False)
        engine.emit(site.key, day, key, event)
    time, key = engine.when(day, minute + 40, offset)
    engine.emit(site.key, day, key, ev.store(time, offset, engine.case_epcs(cases), site.storage))
    site.stock.add_cases(cases)
    site.active = True


def ship_store(
    engine: Engine, site: Site, target: Site, day: int, cases: list[int], arrival: int
) -> None:
    """Repack ``cases`` on pallets for ``target`` and ship them; schedule the receipt."""
    offset = site.offset
    pallets: list[tuple[str, list[int]]] = []
    for p in range(0, len(cases), CASES_PER_PALLET):
        chunk = cases[p : p + CASES_PER_PALLET]
        sscc = engine.next_pallet()
        time, key = engine.when(day, 480 + len(pallets), offset)
        event = ev.aggregation(time, offset, sscc, engine.case_epcs(chunk), site.sgln, add=True)
        engine.emit(site.key, day, key, event)
        pallets.append((sscc, chunk))
    if not pallets:
        return
    owner = engine.central.party.pgln
    desadv = engine.next_desadv(site.party)
    source = (owner, site.party.pgln, site.sgln)
    destination = (owner, target.party.pgln, target.sgln)
    time, key = engine.when(day, 540, offset)
    epcs = [p for p, _ in pallets]
    engine.emit(site.key, day, key, ev.ship(time, offset, epcs, desadv, source, destination))
    engine.at(arrival, partial(_arrive, engine, target, pallets, desadv, source))


def _arrive(
    engine: Engine,
    target: Site,
    pallets: list[tuple[str, list[int]]],
    desadv: str,
    source: tuple[str, str, str],
    day: int,
) -> None:
    receive_store(engine, target, day, pallets, desadv, source)


def issue_central(engine: Engine, day: int, rnd: int) -> None:
    """Wave ``rnd``: central → provinces today, provinces → counties, counties → facilities."""
    central = engine.central
    for province in engine.country.provinces:
        target = engine.provincial[province.code]
        cases = central.stock.take_cases(engine.plan.province_cases[province.code][rnd - 1])
        hop = min(2, max(1, distance_days((central.lat, central.lon), (target.lat, target.lon))))
        ship_store(engine, central, target, day, cases, day + hop)
        engine.at(day + 3, partial(_province_wave, engine, province.code, rnd))


def _province_wave(engine: Engine, code: str, rnd: int, day: int) -> None:
    issue_province(engine, day, code, rnd)


def _county_wave(engine: Engine, counties: list[County], rnd: int, day: int) -> None:
    _issue_counties(engine, day, counties, rnd)


def issue_province(engine: Engine, day: int, code: str, rnd: int) -> None:
    site = engine.provincial[code]
    province = next(p for p in engine.country.provinces if p.code == code)
    for county in province.counties:
        target = engine.county_stores[county.code]
        want = engine.plan.county_cases[county.code][rnd - 1]
        cases = site.stock.take_cases(want)
        hop = min(1, distance_days((site.lat, site.lon), (target.lat, target.lon)))
        ship_store(engine, site, target, day, cases, day + hop)
    engine.at(day + 2, partial(_county_wave, engine, province.counties, rnd))


def _issue_counties(engine: Engine, day: int, counties: list[County], rnd: int) -> None:
    for county in counties:
        issue_county(engine, day, engine.county_stores[county.code], rnd)
