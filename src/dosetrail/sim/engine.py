"""The campaign, day by day: an agenda of actions, daily cold-chain reports, documents flushed.

The engine owns the run's state (sites and their stock, what is in transit, VVM damage per case,
sequence numbers) and the one way events leave it (:meth:`Engine.emit`). What happens on a given
day is in :mod:`~dosetrail.sim.logistics`, :mod:`~dosetrail.sim.vaccination` and
:mod:`~dosetrail.sim.coldchain`; what parties *claim* differently is asked of the adversary.
Randomness comes from named ``random.Random`` streams seeded from the run's seed, consumed in a
fixed order: the same seed gives the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dosetrail.sim.adversary import Adversary
from dosetrail.sim.campaign import Plan
from dosetrail.sim.commodities import VIALS_PER_CASE, Catalogue
from dosetrail.sim.geography import Country
from dosetrail.sim.gs1 import MINISTRY
from dosetrail.sim.parties import Party
from dosetrail.sim.reality import Reality
from dosetrail.sim.sites import Site, make_site
from dosetrail.sim.stock import Run, run_vials, vials_by_lot
from dosetrail.sim.timeline import Clock, Timeline
from dosetrail.sim.truth import Truth
from dosetrail.sim.writer import Sink

__all__ = ["Counters", "Engine", "Transport", "World"]

Action = Callable[[int], None]


@dataclass(slots=True)
class Transport:
    """Containers in a carrier's hands with a logger, between two days (inclusive)."""

    party: Party
    device: str
    epcs: list[str]
    first: int
    last: int
    offset: str
    temperature: float = 4.8


@dataclass(slots=True)
class World:
    country: Country
    parties: dict[str, Party]
    catalogue: Catalogue
    plan: Plan
    timeline: Timeline
    clock: Clock
    seed: int


@dataclass(slots=True)
class Counters:
    sessions: int = 0
    desadv: int = 0
    pallets: int = 0
    export_pallets: int = 0
    tallies: dict[str, int] = field(default_factory=dict)


class Engine:
    def __init__(
        self, world: World, adversary: Adversary, sink: Sink, truth: Truth, reality: Reality
    ) -> None:
        self.world = world
        self.country = world.country
        self.parties = world.parties
        self.catalogue = world.catalogue
        self.plan = world.plan
        self.timeline = world.timeline
        self.clock = world.clock
        self.adversary = adversary
        self.sink = sink
        self.truth = truth
        self.reality = reality
        seed = world.seed
        self.rng = random.Random(f"{seed}:campaign")
        self.sessions_rng = random.Random(f"{seed}:sessions")
        self.temperature_rng = random.Random(f"{seed}:temperature")
        self.counters = Counters()
        self.agenda: dict[int, list[Action]] = {}
        self.transports: list[Transport] = []
        self.damage: dict[int, int] = {}  # case -> VVM stage reached (heat), 9 = frozen
        self.paper_only: dict[str, str] = {}  # facility key -> ghost anomaly id
        self.export: dict[str, list[tuple[str, list[int]]]] = {"A": [], "B": []}
        self.sites: dict[str, Site] = {}
        self._make_sites()

    # -- sites ----------------------------------------------------------------------------------
    def _make_sites(self) -> None:
        central = self.parties["central-store"]
        self.central = self._site(central, self.country.central_ref, 39.03, 125.75)
        self.provincial: dict[str, Site] = {}
        self.county_stores: dict[str, Site] = {}
        self.facilities: dict[str, list[Site]] = {}
        for province in self.country.provinces:
            party = self.parties[f"prov-{province.code.lower()}"]
            spec = province.spec
            self.provincial[province.code] = self._site(
                party, province.store_ref, spec.lat, spec.lon, province=province.code
            )
            for county in province.counties:
                number = county.code.split("/c")[1]
                party = self.parties[f"county-{county.province.lower()}-{number}"]
                self.county_stores[county.code] = self._site(
                    party, county.store_ref, county.lat, county.lon, county=county
                )
                self.facilities[county.code] = [
                    self._site(self.parties[f.key], f.ref, f.lat, f.lon, facility=f, county=county)
                    for f in county.facilities
                ]

    def _site(self, party: Party, ref: int, lat: float, lon: float, **kw: Any) -> Site:
        setpoint = round(self.temperature_rng.uniform(3.8, 5.4), 2)
        site = make_site(party, ref, lat, lon, setpoint=setpoint, **kw)
        self.sites[party.key] = site
        return site

    def all_facilities(self) -> list[Site]:
        return [s for sites in self.facilities.values() for s in sites]

    def stores(self) -> list[Site]:
        return [self.central, *self.provincial.values(), *self.county_stores.values()]

    # -- agenda and emission --------------------------------------------------------------------
    def at(self, day: int, action: Action) -> None:
        self.agenda.setdefault(day, []).append(action)

    def when(self, day: int, minute: int, offset: str) -> tuple[str, int]:
        return self.clock.stamp(day, minute, offset), Clock.key(day, minute, offset)

    def emit(  # noqa: PLR0917
        self,
        party: str,
        day: int,
        key: int,
        event: dict[str, Any],
        tags: Iterable[str] = (),
        capture: int | None = None,
    ) -> None:
        more = self.adversary.tags(self, party, day, event)
        ghost = self.paper_only.get(party)
        if ghost is not None and ghost not in tags:
            more.append(ghost)
        self.sink.emit(party, day if capture is None else capture, key, event, [*tags, *more])

    def run(self, progress: Callable[[int, int, int], None] | None = None) -> None:
        from dosetrail.sim import coldchain

        days = self.timeline.days
        for day in range(days):
            while day in self.agenda:  # actions may add more for the same day
                for action in self.agenda.pop(day):
                    action(day)
            coldchain.daily(self, day)
            self.sink.flush(day)
            if progress is not None:
                progress(day + 1, days, self.sink.events)
        self.adversary.finish(self)
        self.sink.close()

    # -- helpers shared by the step modules -----------------------------------------------------
    def next_desadv(self, party: Party) -> str:
        self.counters.desadv += 1
        gln = _gln(party.pgln)
        return f"urn:epcglobal:cbv:bt:{gln}:DA-{self.counters.desadv:06d}"

    def next_pallet(self) -> str:
        self.counters.pallets += 1
        return MINISTRY.sscc(self.counters.pallets)

    def next_session(self) -> str:
        self.counters.sessions += 1
        return MINISTRY.gdti(1, 100000 + self.counters.sessions)

    def case_epcs(self, cases: Iterable[int]) -> list[str]:
        epc = self.catalogue.case_epc
        return [epc(c) for c in cases]

    def run_epcs(self, runs: Iterable[Run]) -> list[str]:
        out: list[str] = []
        for start, count in runs:
            out += self.catalogue.vial_epcs(start, count)
        return out

    def lot_quantities(self, runs: Iterable[Run]) -> list[tuple[str, int]]:
        counts = vials_by_lot(runs, self.catalogue)
        return [(self.catalogue.lgtin(lot), n) for lot, n in counts.items()]

    def mark_damage(self, runs: Iterable[Run], stage: int) -> int:
        """Record heat (VVM stage) or freeze damage (9) on the cases of ``runs``; vials hit."""
        hit = 0
        for start, count in runs:
            case = start // VIALS_PER_CASE
            if self.damage.get(case, 1) < stage:
                self.damage[case] = stage
            hit += count
        return hit

    def damaged_vials(self, runs: Iterable[Run]) -> int:
        damage = self.damage
        return sum(n for s, n in runs if damage.get(s // VIALS_PER_CASE, 1) >= 3)

    def worst_stage(self, runs: Iterable[Run]) -> int:
        damage = self.damage
        stages = [damage.get(s // VIALS_PER_CASE, 1) for s, _ in runs]
        return min(4, max(stages, default=1))

    def offbook(self, destination: dict[str, Any], cases: list[int], runs: list[Run]) -> None:
        """Stock that left the books: reality keeps where it went."""
        key = destination["id"]
        entry = self.reality.offbook.setdefault(key, {**destination, "vials": 0, "lots": {}})
        all_runs = runs + [(c * VIALS_PER_CASE, VIALS_PER_CASE) for c in cases]
        entry["vials"] += run_vials(all_runs)
        for lot, n in vials_by_lot(all_runs, self.catalogue).items():
            entry["lots"][lot] = entry["lots"].get(lot, 0) + n


def _gln(pgln: str) -> str:
    """13-digit GLN of a ``urn:epc:id:pgln:`` URI (company prefix + reference + check digit)."""
    from dosetrail.epcis.gs1keys import gs1_check_digit

    body = pgln.rsplit(":", 1)[1].replace(".", "")
    return body + str(gs1_check_digit(body))
