"""Hiding what went wrong: cold-chain breaches kept out of the record, sessions recorded late.

- **cold-breach**: a real excursion at a county store or facility (a power cut: 14–28 °C for
  6–20 hours; or freezing, −3 to −0.5 °C), hidden by a gap in the logger series (``gap``) or by
  readings replaced with calm ones (``edited``). The site then keeps reporting VVM stage 1 while
  its vials show stage 3 or worse, and keeps using them.
- **backdate**: a facility records the last sessions of a round weeks later, all in one document
  on the capture day, with their original event times; ``late`` keeps the tallies true,
  ``late_padded`` moves the open-vial waste into the tallies (near-zero reported wastage).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from dosetrail.sim.adversary import Claim, Excursion, Injection, TrueSession

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.sites import Site

__all__ = ["Backdate", "ColdBreach"]


def _count(intensity: float, n: int) -> int:
    return max(1, min(n, round(intensity * n)))


class ColdBreach(Injection):
    name = "cold-breach"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        super().__init__(intensity, rng)
        self.plan: dict[tuple[str, int], tuple[str, str, float, float, float]] = {}
        self.breached: dict[str, tuple[int, str]] = {}

    def prepare(self, engine: Engine) -> None:
        t = engine.timeline
        sites: list[Site] = [
            *engine.county_stores.values(),
            *(s for s in engine.all_facilities() if s.key not in engine.paper_only),
        ]
        for site in self.rng.sample(sites, _count(self.intensity, len(sites))):
            store = site.party.role == "store"
            window = range(t.wave1 + 3, t.close - 1) if store else t.session_days(1)
            day = window.start + self.rng.randrange(max(1, len(window) - 1))
            mode = self.rng.choice(("gap", "edited"))
            freeze = self.rng.random() < 0.2
            peak = self.rng.uniform(-3.0, -0.5) if freeze else self.rng.uniform(14.0, 28.0)
            anomaly = engine.truth.new("cold-breach", mode, site.sgln, site.key)
            anomaly.details.update(
                {
                    "damage": "freeze" if freeze else "heat",
                    "date": engine.clock.date(day),
                    "logger": site.logger,
                }
            )
            start = self.rng.uniform(0.15, 0.45)
            hours = self.rng.uniform(6, 20)
            self.plan[(site.key, day)] = (anomaly.id, mode, peak, start, hours)

    def excursion(self, engine: Engine, site: Site, day: int, readings: int) -> Excursion | None:
        found = self.plan.pop((site.key, day), None)
        if found is None:
            return None
        anomaly_id, mode, peak, start, hours = found
        first = int(readings * start)
        last = min(readings - 1, first + round(hours * 60 / site.interval))
        self.breached[site.key] = (day, anomaly_id)
        anomaly = engine.truth.anomalies[anomaly_id]
        cases = sorted({s // 50 for s, _ in site.stock.runs()})
        anomaly.epcs += engine.case_epcs(cases)
        return Excursion(first, last, peak, mode, anomaly_id)

    def vvm_stage(self, engine: Engine, site: Site, day: int, stage: int) -> tuple[int, list[str]]:
        found = self.breached.get(site.key)
        if found is None or day <= found[0] or stage < 3:
            return stage, []
        return 1, [found[1]]

    def finish(self, engine: Engine) -> None:
        for anomaly in engine.truth.anomalies.values():
            if anomaly.kind == "cold-breach":
                anomaly.doses = anomaly.details.get("vialsExposed", 0) * 10


class Backdate(Injection):
    name = "backdate"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        super().__init__(intensity, rng)
        self.window: dict[tuple[str, int], tuple[str, int, bool]] = {}

    def prepare(self, engine: Engine) -> None:
        t = engine.timeline
        real = [s for s in engine.all_facilities() if s.key not in engine.paper_only]
        for site in self.rng.sample(real, _count(self.intensity, len(real))):
            rnd = 1 + self.rng.randrange(2)
            days = list(t.session_days(rnd))
            late = days[-self.rng.randint(1, min(4, len(days))) :]
            capture = days[-1] + self.rng.randint(14, 35)
            padded = self.rng.random() < 0.5
            mode = "late_padded" if padded else "late"
            anomaly = engine.truth.new("backdate", mode, site.sgln, site.key)
            anomaly.details.update(
                {
                    "captureDay": engine.clock.date(capture),
                    "sessionDays": [engine.clock.date(d) for d in late],
                    "document": f"epcis/{site.key}/{engine.clock.date(capture)}.jsonld",
                }
            )
            for day in late:
                self.window[(site.key, day)] = (anomaly.id, capture, padded)

    def claim(self, engine: Engine, true: TrueSession, claim: Claim) -> None:
        found = self.window.get((true.site.key, true.day))
        if found is None:
            return
        anomaly_id, capture, padded = found
        claim.capture_delay = capture - true.day
        claim.tags.append(anomaly_id)
        anomaly = engine.truth.anomalies[anomaly_id]
        if padded and claim.waste > 1 and claim.tallies:
            moved = claim.waste - 1
            group, dose, _ = max(claim.tallies, key=lambda t: t[2])
            claim.tallies = [
                (g, d, c + moved if (g, d) == (group, dose) else c) for g, d, c in claim.tallies
            ]
            claim.waste = 1
            anomaly.doses += moved
        else:
            anomaly.doses += claim.total if not padded else 0
