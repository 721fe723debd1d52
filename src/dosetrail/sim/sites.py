"""Runtime state of each physical (or paper) site: stock, logger, and what is off the books.

A site's ``stock`` is what its books and the physical shelf agree on. Two side pools hold what
an adversary makes them disagree about: ``phantom`` vials exist only on paper (received on paper,
physically diverted upstream; they must later be "used" in claims), ``retained`` vials are
physically on the shelf but written off as used (inflated sessions). Reality is stock +
retained; the books are stock + phantom.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from dosetrail.sim.geography import County, Facility
from dosetrail.sim.gs1 import MINISTRY
from dosetrail.sim.parties import Party
from dosetrail.sim.stock import Run, Stock, take_runs

__all__ = ["Site", "make_site"]


@dataclass(slots=True)
class Site:
    party: Party
    kind: str
    ref: int
    sgln: str
    storage: str
    logger: str
    interval: int
    lat: float
    lon: float
    facility: Facility | None = None
    county: County | None = None
    province: str | None = None
    stock: Stock = field(default_factory=Stock)
    phantom: deque[list[int]] = field(default_factory=deque)
    retained: list[Run] = field(default_factory=list)
    temperature: float = 4.5
    setpoint: float = 4.5
    dose1: int = 0
    coverage: float = 0.9
    dropout: float = 0.07
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=400))
    active: bool = False

    @property
    def key(self) -> str:
        return self.party.key

    @property
    def offset(self) -> str:
        return self.party.offset

    def holds_stock(self) -> bool:
        return bool(self.stock.cases or self.stock.loose or self.phantom)

    def take_phantom(self, count: int) -> list[Run]:
        return take_runs(self.phantom, count)


def make_site(
    party: Party,
    ref: int,
    lat: float,
    lon: float,
    *,
    facility: Facility | None = None,
    county: County | None = None,
    province: str | None = None,
    setpoint: float = 4.5,
) -> Site:
    """Stores keep vaccine in a cold room (``CR1``, logger every 15 min); facilities in a
    fridge (``F1``, every 30 min)."""
    store = party.role == "store"
    sub = "CR1" if store else "F1"
    return Site(
        party=party,
        kind=party.site_type or "",
        ref=ref,
        sgln=MINISTRY.sgln(ref),
        storage=MINISTRY.sgln(ref, sub),
        logger=MINISTRY.giai(f"LOG{ref:05d}{sub}"),
        interval=15 if store else 30,
        lat=lat,
        lon=lon,
        facility=facility,
        county=county,
        province=province,
        temperature=setpoint,
        setpoint=setpoint,
    )
