"""Vaccination days at facilities: VVM check, sessions with their tallies, breakage.

Each facility vaccinates at its fixed post every round day and at its outreach posts on
alternate days. Attendance follows the catchment: round 1 reaches 85–97 % of the eligible
population over the round (more on the first days), round 2 brings back dose-1 recipients less a
4–10 % drop-out, plus a few late first doses. Each vaccinator (about 90 doses a day) opens vials
as needed; what is left in the last vial at session end is open-vial waste, about 5–10 % in all.
"""

# ruff: noqa: PLR0917 - step functions take the facts of one real step, in EPCIS field order

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

from dosetrail.sim import events as ev
from dosetrail.sim.adversary import Claim, TrueSession
from dosetrail.sim.commodities import DOSES_PER_VIAL
from dosetrail.sim.geography import AGE_GROUPS

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.sites import Site

__all__ = ["schedule", "split_groups"]

DOSES_PER_VACCINATOR = 90
FIXED_POST = (510, 990)  # 08:30-16:30
OUTREACH = (540, 780)  # 09:00-13:00


def schedule(engine: Engine) -> None:
    for rnd in (1, 2):
        for day in engine.timeline.session_days(rnd):
            engine.at(day, partial(_day, engine, rnd))
    rng = engine.sessions_rng
    for site in engine.all_facilities():
        site.coverage = rng.uniform(0.85, 0.97)
        site.dropout = rng.uniform(0.04, 0.10)


def _day(engine: Engine, rnd: int, day: int) -> None:
    vaccination_day(engine, day, rnd)


def vaccination_day(engine: Engine, day: int, rnd: int) -> None:
    days = engine.timeline.session_days(rnd)
    index = day - days.start
    span = len(days)
    weights = [1.3 - 0.6 * i / max(1, span - 1) for i in range(span)]
    share = weights[index] / sum(weights)
    for site in engine.all_facilities():
        if not site.holds_stock() and not site.facility:
            continue
        _facility_day(engine, site, day, rnd, share)


def _facility_day(engine: Engine, site: Site, day: int, rnd: int, share: float) -> None:
    facility = site.facility
    if facility is None:
        return
    rng = engine.sessions_rng
    offset = site.offset
    if site.holds_stock():
        runs = site.stock.runs()
        stage = engine.worst_stage(runs)
        reported, tags = engine.adversary.vvm_stage(engine, site, day, stage)
        quantities = engine.lot_quantities(runs + [(s, n) for s, n in site.phantom])
        if quantities:
            time, key = engine.when(day, 485, offset)
            event = ev.vvm_reading(time, offset, site.sgln, quantities, reported)
            engine.emit(site.key, day, key, event, tags)
    ghost = site.key in engine.paper_only
    coverage = 0.0 if ghost else site.coverage
    if rnd == 1:
        demand = facility.target * coverage * share
        dose_mix = [(1, 1.0)]
    else:
        back = site.dose1 * (1 - site.dropout)
        late = facility.target * 0.02 * (0.0 if ghost else 1.0)
        demand = (back + late) * share
        dose_mix = [(2, back / (back + late)), (1, late / (back + late))] if back + late else []
    posts = [0] + [p for p in range(1, facility.posts + 1) if (day + p) % 2 == 0]
    weights = [0.7 if p == 0 else 0.3 for p in posts]
    total_w = sum(weights)
    for post, w in zip(posts, weights, strict=True):
        mu = demand * w / total_w
        people = 0 if mu <= 0 else max(0, round(rng.gauss(mu, math.sqrt(mu) * 1.2)))
        true = _true_session(engine, site, day, rnd, post, people, mu, dose_mix)
        if true is None:
            continue
        _record(engine, site, true)
    if not ghost and site.stock.loose and rng.random() < 0.02:
        runs, _ = site.stock.take_vials(1)
        time, key = engine.when(day, 1000, offset)
        event = ev.destroy(
            time, offset, engine.run_epcs(runs), site.sgln, "breakage", DOSES_PER_VIAL
        )
        engine.emit(site.key, day, key, event)
    for claim in engine.adversary.extra_sessions(engine, site, day, rnd):
        empty = TrueSession(site, day, rnd, claim.post, [], [], 0, 0, claim.start, claim.end)
        _emit(engine, site, empty, claim)


def _true_session(
    engine: Engine,
    site: Site,
    day: int,
    rnd: int,
    post: int,
    people: int,
    mu: float,
    dose_mix: list[tuple[int, float]],
) -> TrueSession | None:
    rng = engine.sessions_rng
    start, end = FIXED_POST if post == 0 else OUTREACH
    available = site.stock.vials() * DOSES_PER_VIAL
    people = min(people, available)
    vaccinators = max(1, math.ceil(max(mu, 1) / DOSES_PER_VACCINATOR))
    if people <= 0:
        if site.key in engine.paper_only:
            return TrueSession(site, day, rnd, post, [], [], vaccinators, 0, start, end)
        return None
    vaccinators = min(vaccinators, max(1, people // 10))
    vials = 0
    base, extra = divmod(people, vaccinators)
    for v in range(vaccinators):
        vials += math.ceil((base + (1 if v < extra else 0)) / DOSES_PER_VIAL)
    runs, _ = site.stock.take_vials(vials)
    vials = sum(n for _, n in runs)
    people = min(people, vials * DOSES_PER_VIAL)
    mix = site.facility.age_mix if site.facility else (0.25, 0.25, 0.25, 0.25)
    tallies: list[tuple[str, int, int]] = []
    left = people
    for dose, share in dose_mix:
        n = left if dose == dose_mix[-1][0] else round(people * share)
        n = min(n, left)
        left -= n
        for group, count in zip(AGE_GROUPS, split_groups(rng.random, n, mix), strict=True):
            tallies.append((group, dose, count))
    site.dose1 += sum(n for _, d, n in tallies if d == 1)
    waste = vials * DOSES_PER_VIAL - people
    return TrueSession(site, day, rnd, post, tallies, runs, vaccinators, waste, start, end)


def split_groups(random: object, n: int, mix: tuple[float, ...]) -> list[int]:
    """Split ``n`` people over age groups by ``mix`` with binomial-like noise."""
    draw = random  # a bound ``Random.random``
    out: list[int] = []
    left = n
    rest = 1.0
    for share in mix[:-1]:
        p = share / rest if rest > 0 else 0.0
        mean = left * p
        sd = math.sqrt(max(mean * (1 - p), 0.0))
        noise = (draw() + draw() + draw() - 1.5) * 2 * sd  # type: ignore[operator]
        k = min(left, max(0, round(mean + noise)))
        out.append(k)
        left -= k
        rest -= share
    out.append(left)
    return out


def _record(engine: Engine, site: Site, true: TrueSession) -> None:
    epcs = engine.run_epcs(true.runs)
    claim = Claim(
        tallies=list(true.tallies),
        epcs=epcs,
        waste=true.waste,
        vaccinators=true.vaccinators,
        post=true.post,
        start=true.start,
        end=true.end,
    )
    for start, count in true.runs:
        site.recent.extend(range(start, start + count))
    engine.adversary.claim(engine, true, claim)
    if not claim.epcs:
        return
    _emit(engine, site, true, claim)


def _emit(engine: Engine, site: Site, true: TrueSession, claim: Claim) -> None:
    facility = site.facility
    if facility is None:
        return
    offset = site.offset
    session_id = engine.next_session()
    post = facility.post_sgln(claim.post)
    start, _ = engine.when(true.day, claim.start, offset)
    time, key = engine.when(true.day, claim.end, offset)
    event = ev.session(
        time,
        offset,
        claim.epcs,
        post,
        site.sgln,
        session_id,
        start,
        claim.vaccinators,
        claim.tallies,
        claim.waste,
    )
    capture = true.day + claim.capture_delay
    engine.emit(site.key, true.day, key, event, claim.tags, capture=capture)
    compromised = min(true.total, engine.damaged_vials(true.runs) * DOSES_PER_VIAL)
    engine.reality.session(session_id, true, claim, engine.clock.date(true.day), post, compromised)
