"""End of the campaign: the short-dated lot expires, every site counts its stock.

Expiry is honest housekeeping (each site destroys what it holds of the expired lot), so an honest
run's books show all three ways doses leave stock: administered, wasted, still on hand. The stock
count is what each site's books say (stock plus paper-only vials); reality.json records what a
monitor counting the shelf would find (stock plus vials written off but kept).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from dosetrail.sim import events as ev
from dosetrail.sim.commodities import DOSES_PER_VIAL, VIALS_PER_CASE
from dosetrail.sim.stock import run_vials, take_range, vials_by_lot

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.sites import Site

__all__ = ["schedule", "site_reality"]


def schedule(engine: Engine) -> None:
    t = engine.timeline
    engine.at(t.short_expiry, partial(expire, engine))
    engine.at(t.close, partial(count, engine))


def expire(engine: Engine, day: int) -> None:
    lot = engine.catalogue.lots[0]
    for site in engine.stores() + engine.all_facilities():
        cases, runs = take_range(site.stock, lot.first_case, lot.end_case)
        vials = len(cases) * VIALS_PER_CASE + run_vials(runs)
        if not vials:
            continue
        epcs = engine.case_epcs(cases) + engine.run_epcs(runs)
        time, key = engine.when(day, 420, site.offset)
        event = ev.destroy(time, site.offset, epcs, site.sgln, "expiry", vials * DOSES_PER_VIAL)
        engine.emit(site.key, day, key, event)


def count(engine: Engine, day: int) -> None:
    nothing = [(_product_class(engine), 0)]
    for site in engine.stores() + engine.all_facilities():
        if not site.active:
            continue
        books = site.stock.runs() + [(s, n) for s, n in site.phantom]
        quantities = [(c, q) for c, q in engine.lot_quantities(books) if q] or nothing
        time, key = engine.when(day, 1020, site.offset)
        engine.emit(site.key, day, key, ev.stock_count(time, site.offset, site.sgln, quantities))


def _product_class(engine: Engine) -> str:
    from dosetrail.sim.gs1 import DONOR

    return DONOR.product_class(engine.catalogue.product.vial_gtin)


def site_reality(engine: Engine, site: Site) -> dict[str, Any]:
    """What a monitor visiting ``site`` at the stock count would find."""
    real = site.stock.runs() + site.retained
    lots = vials_by_lot(real, engine.catalogue)
    stages: dict[str, int] = {}
    for start, _ in real:
        lot = engine.catalogue.lot_of_vial(start).number
        stage = min(4, engine.damage.get(start // VIALS_PER_CASE, 1))
        stages[lot] = max(stages.get(lot, 1), stage)
    exists = site.key not in engine.paper_only
    return {
        "party": site.key,
        "name": site.party.name,
        "kind": site.kind,
        "exists": exists,
        "trueStockByLot": lots if exists else {},
        "vialsCounted": run_vials(real) if exists else 0,
        "vvmStageByLot": stages if exists else {},
        "frozenVials": sum(n for s, n in real if engine.damage.get(s // VIALS_PER_CASE) == 9),
    }
