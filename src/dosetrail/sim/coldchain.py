"""Temperature loggers: one report per logger per day while it guards campaign stock.

A working refrigerator holds its set point with a slowly wandering error, modelled as an AR(1)
series (φ = 0.9) around a per-site set point of 3.8–5.4 °C, read to 0.1 °C: stores every 15 min,
facility fridges and reefer containers every 30 or 15 min. About one logger-day in a hundred has
a short honest excursion (a door left open, a brief power cut) to 8.5–11 °C, recorded with an
alarm. Adversarial excursions come from the adversary, which may also hide them: a gap (readings
removed) or an edited series (readings replaced by plausible ones). Heat exposure advances the
VVM of the vials on the shelf (degree-hours above 8 °C), freezing damages them silently.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from dosetrail.sim import events as ev
from dosetrail.sim.adversary import Excursion
from dosetrail.sim.stock import run_vials

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine, Transport
    from dosetrail.sim.sites import Site

__all__ = ["daily", "heat_stage", "series"]

PHI = 0.9


def series(rng: random.Random, n: int, start: float, setpoint: float, sd: float) -> list[float]:
    """AR(1) temperatures (unrounded) continuing from ``start``."""
    out = []
    x = start
    gauss = rng.gauss
    for _ in range(n):
        x = setpoint + PHI * (x - setpoint) + gauss(0.0, sd)
        out.append(x)
    return out


def heat_stage(values: list[float], interval: int) -> int:
    """VVM stage after this exposure: 1 + one stage per ~150 degree-hours above 8 °C."""
    hours = interval / 60
    dose = sum((v - 8.0) * hours for v in values if v > 8.0)
    return min(4, 1 + int(dose // 150))


def _shape(values: list[float], excursion: Excursion) -> None:
    """Move readings ``start``..``end`` toward ``peak``: fast rise, plateau, slower recovery."""
    length = max(1, excursion.end - excursion.start)
    for i in range(excursion.start, min(excursion.end, len(values))):
        t = (i - excursion.start) / length
        weight = min(1.0, t * 4) if t < 0.5 else min(1.0, (1 - t) * 2.5)
        values[i] = values[i] + (excursion.peak - values[i]) * weight


def daily(engine: Engine, day: int) -> None:
    rng = engine.temperature_rng
    for site in engine.stores() + engine.all_facilities():
        if site.active and site.holds_stock():
            _site_day(engine, site, day, rng)
    for transport in engine.transports:
        if transport.first <= day <= transport.last:
            _transport_day(engine, transport, day, rng)


def _site_day(engine: Engine, site: Site, day: int, rng: random.Random) -> None:
    times = engine.clock.day_times(day, site.interval, site.offset)
    n = len(times)
    sd = 0.12 if site.interval == 15 else 0.2
    raw = series(rng, n, site.temperature, site.setpoint, sd)
    site.temperature = raw[-1]
    tags: list[str] = []
    excursion = engine.adversary.excursion(engine, site, day, n)
    if excursion is None and rng.random() < 0.01:
        start = rng.randrange(n - 6)
        excursion = Excursion(start, start + rng.randint(2, 6), rng.uniform(8.5, 11.0))
    if excursion is not None:
        _shape(raw, excursion)
        window = raw[excursion.start : excursion.end]
        held = site.stock.runs()
        hit = run_vials(held)
        if excursion.peak < 0:
            engine.mark_damage(held, 9)
        else:
            stage = heat_stage(window, site.interval)
            if stage > 1:
                engine.mark_damage(held, stage)
        if excursion.anomaly is not None:
            anomaly = engine.truth.anomalies[excursion.anomaly]
            anomaly.details.setdefault("vialsExposed", 0)
            anomaly.details["vialsExposed"] += hit
            anomaly.details["peakC"] = round(max(window) if excursion.peak > 0 else min(window), 1)
            anomaly.details["start"] = times[excursion.start]
            anomaly.details["end"] = times[min(excursion.end, n) - 1]
            tags.append(excursion.anomaly)
    values = [round(v, 1) for v in raw]
    shown = list(times)
    if excursion is not None and excursion.hidden == "gap":
        del shown[excursion.start : excursion.end]
        del values[excursion.start : excursion.end]
    elif excursion is not None and excursion.hidden == "edited":
        calm = series(rng, excursion.end - excursion.start, site.setpoint, site.setpoint, 0.1)
        values[excursion.start : excursion.end] = [round(v, 1) for v in calm]
    time, key = engine.when(day, 1440 - site.interval, site.offset)
    event = ev.sensor_report(
        time,
        site.offset,
        site.logger,
        shown,
        values,
        site.interval,
        read_point=site.storage,
        biz_location=site.sgln,
    )
    engine.emit(site.key, day, key, event, tags)


def _transport_day(engine: Engine, transport: Transport, day: int, rng: random.Random) -> None:
    times = engine.clock.day_times(day, 15, transport.offset)
    raw = series(rng, len(times), transport.temperature, 5.0, 0.1)
    transport.temperature = raw[-1]
    values = [round(v, 1) for v in raw]
    time, key = engine.when(day, 1425, transport.offset)
    event = ev.sensor_report(
        time, transport.offset, transport.device, times, values, 15, epcs=transport.epcs
    )
    engine.emit(transport.party.key, day, key, event)
