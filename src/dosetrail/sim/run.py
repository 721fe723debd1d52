"""``simulate()``: build the country, plan the campaign, run it, write every output file.

Output layout (docs/simulator.md): ``parties.json``, ``masterdata.jsonld``, ``plan.json``,
``epcis/<party>/<YYYY-MM-DD>.jsonld`` (one document per party per capture day), ``truth.json``
and ``reality.json``. Same arguments → byte-identical files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dosetrail.epcis import to_json_bytes
from dosetrail.errors import DosetrailError, StorageError
from dosetrail.sim import closing, logistics, vaccination
from dosetrail.sim.campaign import make_plan, plan_json
from dosetrail.sim.commodities import Catalogue
from dosetrail.sim.engine import Engine, World
from dosetrail.sim.geography import build_country
from dosetrail.sim.masterdata import master_data_document
from dosetrail.sim.parties import build_parties
from dosetrail.sim.reality import Reality
from dosetrail.sim.scenarios import build_adversary, parse_scenarios
from dosetrail.sim.timeline import DEFAULT_DAYS, DEFAULT_START, Clock, Timeline
from dosetrail.sim.truth import Truth
from dosetrail.sim.writer import Sink, write_json

__all__ = ["Progress", "SimulationResult", "simulate"]

Progress = Callable[[int, int, int], None]
"""Called after each simulated day: (days done, days in all, events written so far)."""


@dataclass(frozen=True, slots=True)
class SimulationResult:
    out: Path
    scenarios: tuple[str, ...]
    population: int
    seed: int
    days: int
    events: int
    documents: int
    bytes: int
    parties: int
    facilities: int
    anomalies: int


def simulate(
    scenario: str | Sequence[str],
    population: int,
    seed: int,
    out: Path,
    *,
    intensity: float = 0.05,
    days: int = DEFAULT_DAYS,
    xml: bool = False,
    start: date = DEFAULT_START,
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate a campaign for ``population`` people and write it under ``out``.

    Raises:
        DosetrailError: unknown scenario, bad parameters, or an output directory that is not
            empty.
    """
    names = parse_scenarios(scenario)
    if population < 1000:
        raise DosetrailError("--population must be at least 1000")
    if not 0.0 <= intensity <= 0.5:
        raise DosetrailError("--intensity must be between 0 and 0.5")
    timeline = Timeline.build(days)
    _prepare(out)
    country = build_country(population, seed)
    adversary = build_adversary(names, intensity, seed)
    adversary.prepare_country(country)
    parties = build_parties(country)
    plan = make_plan(country)
    clock = Clock(start)
    world = World(country, parties, Catalogue(seed), plan, timeline, clock, seed)
    truth = Truth()
    reality = Reality()
    sink = Sink(out, clock, truth.located, xml=xml)
    engine = Engine(world, adversary, sink, truth, reality)
    logistics.schedule(engine)
    vaccination.schedule(engine)
    closing.schedule(engine)
    adversary.prepare(engine)
    created = f"{clock.date(0)}T00:00:00+09:00"
    write_json(out / "parties.json", {"parties": [p.as_json() for p in parties.values()]})
    masterdata = master_data_document(country, parties, world.catalogue.product, created)
    (out / "masterdata.jsonld").write_bytes(to_json_bytes(masterdata))
    write_json(out / "plan.json", plan_json(country, plan))
    engine.run(progress)
    for site in engine.stores() + engine.all_facilities():
        reality.sites[site.sgln] = closing.site_reality(engine, site)
    header = {
        "scenario": list(names),
        "parameters": {
            "intensity": intensity,
            "days": days,
            "start": start.isoformat(),
            "xml": xml,
        },
        "seed": seed,
        "population": population,
        "timeline": _timeline(timeline, clock),
        "donorNonce": hashlib.sha256(f"dosetrail-sim-nonce:{seed}".encode()).hexdigest(),
    }
    write_json(out / "truth.json", truth.as_json(header))
    write_json(
        out / "reality.json",
        reality.as_json({"seed": seed, "observedOn": clock.date(timeline.close)}),
    )
    return SimulationResult(
        out,
        names,
        population,
        seed,
        days,
        sink.events,
        sink.documents,
        sink.bytes,
        len(parties),
        len(country.facilities()),
        len(truth.anomalies),
    )


def _timeline(timeline: Timeline, clock: Clock) -> dict[str, str]:
    return {
        "start": clock.date(0),
        "seaArrival": clock.date(timeline.arrive_a),
        "round1": clock.date(timeline.round1),
        "round2": clock.date(timeline.round2),
        "railCrossing": clock.date(timeline.border_b),
        "shortLotExpired": clock.date(timeline.short_expiry),
        "stockCount": clock.date(timeline.close),
        "end": clock.date(timeline.days - 1),
    }


def _prepare(out: Path) -> None:
    try:
        if out.exists() and any(out.iterdir()):
            raise DosetrailError(f"output directory {out} is not empty")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"cannot create {out}: {e.strerror}") from e
