"""Claims of vaccinations that did not happen: ghost facilities and sessions, padded tallies,
cloned serials.

- **ghost**: facilities registered by the ministry that do not exist (a plausible unused GLN in
  the county's block, a clinic-sized catchment). The county store ships to them on paper; the
  stock goes off the books; the ghost records receipts, fridge logs and smooth, on-plan sessions.
  Real facilities also report a few sessions that never took place (an afternoon session, or an
  outreach post not in the master data), using real vials taken off the shelf and sold.
- **inflated**: padded tallies with digit preference (counts rounded up to multiples of 5), or a
  too-smooth series (the plan quota every day). Extra vials are listed as opened to keep wastage
  plausible; physically they stay in the fridge, so a stock count finds more than the books.
- **clone**: sessions list vials whose serials were copied from vials another facility already
  used: either to cover made-up doses, or on counterfeit vials that were really injected.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from dosetrail.sim.adversary import Claim, Injection, TrueSession
from dosetrail.sim.commodities import DOSES_PER_VIAL
from dosetrail.sim.geography import AGE_GROUPS, Country, add_ghost
from dosetrail.sim.vaccination import OUTREACH, split_groups

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.sites import Site

__all__ = ["Clone", "Ghost", "Inflated", "pad_claim"]

_BLACK_MARKET = {
    "id": "https://dosetrail.org/sim/offbook/market",
    "kind": "sold",
    "name": "sold on the informal market",
}


def _count(intensity: float, n: int) -> int:
    return max(1, min(n, round(intensity * n)))


def pad_claim(claim: Claim, extra: int, rng: random.Random, mix: tuple[float, ...]) -> None:
    """Add ``extra`` made-up doses to the claim's tallies, spread over age groups, on the dose
    the session mostly gave."""
    if extra <= 0:
        return
    doses: dict[int, int] = {}
    for _, d, n in claim.tallies:
        doses[d] = doses.get(d, 0) + n
    dose = max(doses, key=lambda d: doses[d]) if doses else 1
    counts = {(g, d): n for g, d, n in claim.tallies}
    for group, n in zip(AGE_GROUPS, split_groups(rng.random, extra, mix), strict=True):
        counts[(group, dose)] = counts.get((group, dose), 0) + n
    claim.tallies = [
        (g, d, n) for (g, d), n in sorted(counts.items(), key=lambda i: (i[0][1], i[0][0]))
    ]


def _vials_for(doses: int, waste: float) -> int:
    return max(1, math.ceil(doses / (DOSES_PER_VIAL * (1 - waste))))


class Ghost(Injection):
    name = "ghost"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        super().__init__(intensity, rng)
        self.ghosts: list[tuple[str, str]] = []
        self.fake: dict[tuple[str, int], str] = {}

    def prepare_country(self, country: Country) -> None:
        counties = country.counties()
        real = len(country.facilities())
        for i in range(_count(self.intensity, real)):
            county = counties[self.rng.randrange(len(counties))]
            ghost = add_ghost(county, self.rng, i)
            self.ghosts.append((ghost.key, ghost.sgln))

    def prepare(self, engine: Engine) -> None:
        for key, sgln in self.ghosts:
            anomaly = engine.truth.new("ghost", "facility", sgln, key)
            anomaly.details["destination"] = {
                **_BLACK_MARKET,
                "id": _BLACK_MARKET["id"] + "/" + key,
            }
            engine.paper_only[key] = anomaly.id
        real = [s for s in engine.all_facilities() if s.key not in engine.paper_only]
        rounds = [engine.timeline.session_days(1), engine.timeline.session_days(2)]
        for site in self.rng.sample(real, _count(self.intensity, len(real))):
            days = rounds[self.rng.randrange(2)]
            for day in self.rng.sample(list(days), min(len(days), self.rng.randint(1, 3))):
                anomaly = engine.truth.new("ghost", "session", site.sgln, site.key)
                anomaly.details["destination"] = _BLACK_MARKET
                self.fake[(site.key, day)] = anomaly.id

    def claim(self, engine: Engine, true: TrueSession, claim: Claim) -> None:
        site = true.site
        ghost = engine.paper_only.get(site.key)
        if ghost is None or site.facility is None:
            return
        rounds = engine.timeline.round_days
        quota = site.facility.target * 0.95 / rounds
        doses = max(1, round(quota * (0.97 if true.round == 2 else 1.0)))
        runs = site.take_phantom(_vials_for(doses, 0.06))
        if not runs:
            return
        vials = sum(n for _, n in runs)
        doses = min(doses, vials * DOSES_PER_VIAL)
        claim.tallies = []
        claim.epcs = engine.run_epcs(runs)
        pad_claim(claim, doses, self.rng, site.facility.age_mix)
        claim.tallies = [(g, true.round, n) for g, _, n in claim.tallies]
        claim.waste = vials * DOSES_PER_VIAL - doses
        claim.vaccinators = max(1, math.ceil(doses / 90))
        claim.held = False
        claim.register_doses = doses
        claim.tags.append(ghost)

    def extra_sessions(self, engine: Engine, site: Site, day: int, rnd: int) -> list[Claim]:
        anomaly_id = self.fake.get((site.key, day))
        if anomaly_id is None or site.facility is None:
            return []
        doses = max(10, round(site.facility.target * self.rng.uniform(0.02, 0.05)))
        runs, _ = site.stock.take_vials(_vials_for(doses, 0.05))
        if not runs:
            return []
        vials = sum(n for _, n in runs)
        doses = min(doses, vials * DOSES_PER_VIAL - 1)
        anomaly = engine.truth.anomalies[anomaly_id]
        engine.offbook(anomaly.details["destination"], [], runs)
        anomaly.doses += doses
        anomaly.epcs += engine.run_epcs(runs)
        afternoon = self.rng.random() < 0.5
        post = 0 if afternoon else site.facility.posts + 1
        anomaly.details["post"] = site.facility.post_sgln(post)
        anomaly.details["postInMasterData"] = afternoon
        start, end = (840, 1080) if afternoon else OUTREACH
        claim = Claim([], engine.run_epcs(runs), 0, max(1, doses // 90), post, start, end)
        pad_claim(claim, doses, self.rng, site.facility.age_mix)
        claim.tallies = [(g, rnd, n) for g, _, n in claim.tallies]
        claim.waste = vials * DOSES_PER_VIAL - doses
        claim.held = False
        claim.register_found = self.rng.random() < 0.5
        claim.register_doses = doses
        claim.tags.append(anomaly_id)
        return [claim]


class Inflated(Injection):
    name = "inflated"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        super().__init__(intensity, rng)
        self.targets: dict[str, tuple[str, str, float, bool]] = {}

    def prepare(self, engine: Engine) -> None:
        real = [s for s in engine.all_facilities() if s.key not in engine.paper_only]
        for site in self.rng.sample(real, _count(self.intensity, len(real))):
            mode = "padded" if self.rng.random() < 0.6 else "smooth"
            pad = self.rng.uniform(0.1, 0.3)
            register = self.rng.random() < 0.5
            anomaly = engine.truth.new("inflated", mode, site.sgln, site.key)
            anomaly.details.update(
                {"pad": round(pad, 3), "registerPadded": register, "vialsWrittenOffButKept": 0}
            )
            self.targets[site.key] = (anomaly.id, mode, pad, register)

    def claim(self, engine: Engine, true: TrueSession, claim: Claim) -> None:
        target = self.targets.get(true.site.key)
        facility = true.site.facility
        if target is None or facility is None or true.total == 0:
            return
        anomaly_id, mode, pad, register = target
        if mode == "padded":
            wanted = sum(5 * math.ceil(n * (1 + pad) / 5) for _, _, n in claim.tallies if n)
        else:
            wanted = max(
                claim.total,
                round(
                    facility.target
                    * 0.95
                    / engine.timeline.round_days
                    * (0.7 if true.post else 1.0)
                ),
            )
        extra = wanted - claim.total
        if extra <= 0:
            return
        _extend(engine, true.site, claim, extra, self.rng, keep=True, anomaly=anomaly_id)
        if register:
            claim.register_doses = claim.total
        anomaly = engine.truth.anomalies[anomaly_id]
        anomaly.doses += extra


def _extend(
    engine: Engine,
    site: Site,
    claim: Claim,
    extra: int,
    rng: random.Random,
    *,
    keep: bool,
    anomaly: str,
) -> None:
    """Pad ``claim`` by ``extra`` doses, listing more real vials as opened (kept on the shelf
    if ``keep``) so that reported open-vial waste stays near 6 %."""
    facility = site.facility
    mix = facility.age_mix if facility else (0.25, 0.25, 0.25, 0.25)
    pad_claim(claim, extra, rng, mix)
    need = _vials_for(claim.total, 0.06) - len(claim.epcs)
    if need > 0:
        runs, _ = site.stock.take_vials(need)
        if keep:
            site.retained.extend(runs)
        claim.epcs = claim.epcs + engine.run_epcs(runs)
        record = engine.truth.anomalies[anomaly]
        record.epcs += engine.run_epcs(runs)
        record.details["vialsWrittenOffButKept"] = record.details.get(
            "vialsWrittenOffButKept", 0
        ) + sum(n for _, n in runs)
    claim.waste = max(0, len(claim.epcs) * DOSES_PER_VIAL - claim.total)
    if claim.waste == 0 and claim.total > len(claim.epcs) * DOSES_PER_VIAL:
        over = claim.total - len(claim.epcs) * DOSES_PER_VIAL
        claim.tallies = _trim(claim.tallies, over)
    claim.tags.append(anomaly)


def _trim(tallies: list[tuple[str, int, int]], over: int) -> list[tuple[str, int, int]]:
    out = []
    for g, d, n in sorted(tallies, key=lambda t: -t[2]):
        cut = min(n, over)
        over -= cut
        out.append((g, d, n - cut))
    return sorted(out, key=lambda t: (t[1], t[0]))


class Clone(Injection):
    name = "clone"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        super().__init__(intensity, rng)
        self.targets: dict[str, dict[str, Any]] = {}

    def prepare(self, engine: Engine) -> None:
        real = [s for s in engine.all_facilities() if s.key not in engine.paper_only]
        if len(real) < 2:
            return
        for site in self.rng.sample(real, _count(self.intensity, len(real) - 1)):
            others = [s for s in real if s is not site and s.county is site.county] or [
                s for s in real if s is not site
            ]
            source = others[self.rng.randrange(len(others))]
            mode = "fabricated" if self.rng.random() < 0.6 else "counterfeit"
            anomaly = engine.truth.new("clone", mode, site.sgln, site.key)
            anomaly.details["serialsFrom"] = source.sgln
            self.targets[site.key] = {
                "anomaly": anomaly.id,
                "source": source,
                "mode": mode,
                "sessions": self.rng.randint(2, 4),
            }

    def claim(self, engine: Engine, true: TrueSession, claim: Claim) -> None:
        target = self.targets.get(true.site.key)
        if target is None or target["sessions"] <= 0 or true.total == 0:
            return
        source: Site = target["source"]
        if len(source.recent) < 20:
            return
        target["sessions"] -= 1
        count = self.rng.randint(3, 8)
        picks = sorted(self.rng.sample(list(source.recent), count))
        epcs = [engine.catalogue.vial_epc(v) for v in picks]
        extra = count * DOSES_PER_VIAL - self.rng.randint(0, 4)
        facility = true.site.facility
        mix = facility.age_mix if facility else (0.25, 0.25, 0.25, 0.25)
        before = list(claim.tallies)
        pad_claim(claim, extra, self.rng, mix)
        claim.epcs = claim.epcs + epcs
        claim.waste += count * DOSES_PER_VIAL - extra
        claim.tags.append(target["anomaly"])
        anomaly = engine.truth.anomalies[target["anomaly"]]
        anomaly.epcs += epcs
        anomaly.doses += extra
        if target["mode"] == "counterfeit":
            true.tallies = list(claim.tallies)
            claim.genuine = False
        else:
            claim.register_doses = sum(n for _, _, n in before) + extra
