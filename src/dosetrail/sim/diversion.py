"""Diversion: doses leave the programme for elite or military sites, or are re-exported, and
the books are made to balance where it happened.

Incidents are drawn until ``intensity`` × all doses are diverted, each at a county store in one
round, covered one of three ways:

- ``facility_cover``: the cases go on paper to a complicit facility (shipping and receiving
  records), which then pads its sessions to "use" them, so every book balances;
- ``wastage_cover``: the store records the cases as destroyed (breakage or heat);
- ``receipt_short``: the store records receiving fewer cases than arrived, blaming transit.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from dosetrail.sim.adversary import Claim, Diversion, Injection, TrueSession
from dosetrail.sim.commodities import DOSES_PER_VIAL, VIALS_PER_CASE
from dosetrail.sim.fabrication import pad_claim

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.sites import Site

__all__ = ["DESTINATIONS", "DiversionInjection"]

DESTINATIONS = (
    {"kind": "military", "name": "military hospital"},
    {"kind": "elite", "name": "elite clinic"},
    {"kind": "re-export", "name": "re-exported across the border"},
)


class DiversionInjection(Injection):
    name = "diversion"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        super().__init__(intensity, rng)
        self.at_issue: dict[tuple[str, int], list[Diversion]] = {}
        self.at_receipt: dict[tuple[str, int], tuple[str, int, dict[str, Any]]] = {}
        self.burn: dict[str, tuple[str, int, bool]] = {}

    def prepare(self, engine: Engine) -> None:
        plan = engine.plan
        total = sum(plan.tranche_cases(r) for r in (1, 2))
        goal = max(1, round(self.intensity * total))
        stores = list(engine.county_stores.values())
        done = 0
        while done < goal:
            store = stores[self.rng.randrange(len(stores))]
            county = store.county
            if county is None:
                break
            rnd = 1 + self.rng.randrange(2)
            have = plan.county_cases[county.code][rnd - 1]
            cases = min(goal - done, max(1, round(have * self.rng.uniform(0.1, 0.4))))
            done += cases
            mode = self.rng.choices(
                ("facility_cover", "wastage_cover", "receipt_short"), (0.5, 0.3, 0.2)
            )[0]
            pick = DESTINATIONS[self.rng.randrange(len(DESTINATIONS))]
            number = len(engine.truth.anomalies) + 1
            destination = {
                "id": f"https://dosetrail.org/sim/offbook/{pick['kind']}-{number}",
                **pick,
            }
            anomaly = engine.truth.new("diversion", mode, store.sgln, store.key)
            anomaly.details.update(
                {"round": rnd, "casesPlanned": cases, "destination": destination}
            )
            if mode == "receipt_short":
                self.at_receipt[(store.key, rnd)] = (anomaly.id, cases, destination)
                continue
            sites = [s for s in engine.facilities[county.code] if s.key not in engine.paper_only]
            cover = sites[self.rng.randrange(len(sites))] if sites else None
            if mode == "facility_cover" and cover is not None:
                anomaly.details["cover"] = cover.sgln
                register = self.rng.random() < 0.5
                anomaly.details["registerPadded"] = register
                self.burn[cover.key] = (anomaly.id, rnd, register)
            reason = self.rng.choice(("breakage", "heat"))
            diversion = Diversion(
                anomaly.id,
                cases,
                mode,
                destination,
                cover.key if cover and mode == "facility_cover" else None,
                reason,
            )
            if mode == "wastage_cover":
                anomaly.details["reason"] = reason
            self.at_issue.setdefault((store.key, rnd), []).append(diversion)

    def divert_at_issue(self, engine: Engine, site: Site, day: int, rnd: int) -> list[Diversion]:
        return self.at_issue.get((site.key, rnd), [])

    def short_receipt(
        self, engine: Engine, site: Site, day: int, cases: list[int]
    ) -> tuple[list[int], list[str]]:
        rnd = 1 if day < engine.timeline.wave2 else 2
        found = self.at_receipt.pop((site.key, rnd), None)
        if found is None or not cases:
            return [], []
        anomaly_id, count, destination = found
        omitted = sorted(self.rng.sample(cases, min(count, len(cases))))
        anomaly = engine.truth.anomalies[anomaly_id]
        anomaly.epcs += engine.case_epcs(omitted)
        anomaly.doses += len(omitted) * VIALS_PER_CASE * DOSES_PER_VIAL
        engine.offbook(destination, omitted, [])
        return omitted, [anomaly_id]

    def claim(self, engine: Engine, true: TrueSession, claim: Claim) -> None:
        site = true.site
        burn = self.burn.get(site.key)
        if burn is None or not site.phantom or true.total == 0:
            return
        anomaly_id, _, register = burn
        left = sum(r[1] for r in site.phantom)
        sessions_left = max(1, engine.timeline.round_days - (true.day - _round_start(engine, true)))
        vials = min(left, max(1, -(-left // sessions_left)))
        runs = site.take_phantom(vials)
        got = sum(n for _, n in runs)
        extra = got * DOSES_PER_VIAL - self.rng.randint(0, max(0, got // 2))
        facility = site.facility
        mix = facility.age_mix if facility else (0.25, 0.25, 0.25, 0.25)
        pad_claim(claim, extra, self.rng, mix)
        claim.epcs = claim.epcs + engine.run_epcs(runs)
        claim.waste = len(claim.epcs) * DOSES_PER_VIAL - claim.total
        claim.tags.append(anomaly_id)
        if register:
            claim.register_doses = claim.total


def _round_start(engine: Engine, true: TrueSession) -> int:
    return engine.timeline.session_days(true.round).start
