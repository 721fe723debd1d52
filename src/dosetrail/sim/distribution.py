"""The last mile: a county store issues its facilities' allocations; facilities receive them.

This is where diversion bites in practice. Before issuing, the store may send cases off the
books (:class:`~dosetrail.sim.adversary.Diversion`) and cover them either by adding them on paper
to a complicit facility's delivery (that facility later "uses" them in padded sessions) or by
recording them as wasted. What is physically left is shared pro rata to the plan, so a diverting
county short-changes its honest facilities too, as real diversion does. Ghost facilities receive
on paper only; their physical share goes off the books.
"""

# ruff: noqa: PLR0917 - step functions take the facts of one real step, in EPCIS field order

from __future__ import annotations

from typing import TYPE_CHECKING

from dosetrail.sim import events as ev
from dosetrail.sim.commodities import DOSES_PER_VIAL, VIALS_PER_CASE
from dosetrail.sim.stock import Run

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.sites import Site

__all__ = ["issue_county", "receive_facility"]


def issue_county(engine: Engine, day: int, store: Site, rnd: int) -> None:
    county = store.county
    if county is None:
        return
    offset = store.offset
    cover: dict[str, list[tuple[str, list[int]]]] = {}
    for diversion in engine.adversary.divert_at_issue(engine, store, day, rnd):
        cases = store.stock.take_cases(diversion.cases)
        if not cases:
            continue
        anomaly = engine.truth.anomalies[diversion.anomaly]
        anomaly.epcs += engine.case_epcs(cases)
        anomaly.doses += len(cases) * VIALS_PER_CASE * DOSES_PER_VIAL
        engine.offbook(diversion.destination, cases, [])
        if diversion.mode == "facility_cover" and diversion.cover:
            cover.setdefault(diversion.cover, []).append((diversion.anomaly, cases))
        else:
            time, key = engine.when(day, 450, offset)
            epcs = engine.case_epcs(cases)
            doses = len(cases) * VIALS_PER_CASE * DOSES_PER_VIAL
            event = ev.destroy(time, offset, epcs, store.sgln, diversion.reason, doses)
            engine.emit(store.key, day, key, event, [diversion.anomaly])
    sites = engine.facilities[county.code]
    plan = [engine.plan.facility_vials[s.key][rnd - 1] for s in sites]
    available = store.stock.vials()
    wanted = sum(plan)
    if available < wanted:
        plan = [available * v // wanted for v in plan]
    for index, (site, vials) in enumerate(zip(sites, plan, strict=True)):
        cases = store.stock.take_cases(vials // VIALS_PER_CASE)
        runs, opened = store.stock.take_vials(vials - len(cases) * VIALS_PER_CASE)
        for case in opened:
            time, key = engine.when(day, 470, offset)
            event = ev.aggregation(
                time, offset, engine.catalogue.case_epc(case), None, store.sgln, add=False
            )
            engine.emit(store.key, day, key, event)
        paper = cover.get(site.key, [])
        if not cases and not runs and not paper:
            continue
        _deliver(engine, day, store, site, cases, runs, paper, 480 + index % 240)


def _deliver(
    engine: Engine,
    day: int,
    store: Site,
    site: Site,
    cases: list[int],
    runs: list[Run],
    paper: list[tuple[str, list[int]]],
    minute: int,
) -> None:
    tags = [anomaly for anomaly, _ in paper]
    ghost = engine.paper_only.get(site.key)
    if ghost is not None:
        anomaly = engine.truth.anomalies[ghost]
        anomaly.epcs += engine.case_epcs(cases) + engine.run_epcs(runs)
        vials = len(cases) * VIALS_PER_CASE + sum(n for _, n in runs)
        anomaly.doses += vials * DOSES_PER_VIAL
        engine.offbook(anomaly.details["destination"], cases, runs)
        paper = [*paper, (ghost, cases)]
        tags.append(ghost)
        ghost_runs = runs
        cases, runs = [], []
    else:
        ghost_runs = []
    paper_cases = [c for _, chunk in paper for c in chunk]
    epcs = engine.case_epcs(cases + paper_cases) + engine.run_epcs(runs + ghost_runs)
    owner = engine.central.party.pgln
    desadv = engine.next_desadv(store.party)
    source = (owner, store.party.pgln, store.sgln)
    destination = (owner, site.party.pgln, site.sgln)
    offset = store.offset
    time, key = engine.when(day, minute, offset)
    engine.emit(store.key, day, key, ev.ship(time, offset, epcs, desadv, source, destination), tags)
    receive_facility(engine, site, day, minute + 90, epcs, desadv, source, destination, tags)
    site.stock.add_runs((c * VIALS_PER_CASE, VIALS_PER_CASE) for c in cases)
    site.stock.add_runs(runs)
    site.phantom.extend([c * VIALS_PER_CASE, VIALS_PER_CASE] for c in paper_cases)
    site.phantom.extend([s, n] for s, n in ghost_runs)
    for case in cases + paper_cases:
        time, key = engine.when(day, minute + 100, site.offset)
        event = ev.aggregation(
            time, site.offset, engine.catalogue.case_epc(case), None, site.sgln, add=False
        )
        engine.emit(site.key, day, key, event, tags if case in paper_cases else ())
    site.active = True


def receive_facility(
    engine: Engine,
    site: Site,
    day: int,
    minute: int,
    epcs: list[str],
    desadv: str,
    source: tuple[str, str, str],
    destination: tuple[str, str, str],
    tags: list[str],
) -> None:
    offset = site.offset
    time, key = engine.when(day, minute, offset)
    engine.emit(
        site.key, day, key, ev.receive(time, offset, epcs, desadv, source, destination), tags
    )
    time, key = engine.when(day, minute + 5, offset)
    engine.emit(site.key, day, key, ev.store(time, offset, epcs, site.storage), tags)
