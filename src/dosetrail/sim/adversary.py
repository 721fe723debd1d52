"""How scenarios reach into the campaign: decision hooks the engine calls at each real step.

The engine simulates what physically happens and what honest parties record; at a few points it
asks the adversary what the parties *say* instead. :class:`Injection` is one scenario's answers
(every hook defaults to honesty); :class:`Adversary` chains the injections of a mixture. The
decisions live in the scenario modules; the mechanics (moving stock, writing events) stay in the
engine, so every scenario produces events through the same builders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dosetrail.sim.stock import Run

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine
    from dosetrail.sim.geography import Country
    from dosetrail.sim.sites import Site

__all__ = ["Adversary", "Claim", "Diversion", "Excursion", "Injection", "TrueSession"]


@dataclass(slots=True)
class TrueSession:
    """What really happened at one session (or nothing, for a session that never was)."""

    site: Site
    day: int
    round: int
    post: int
    tallies: list[tuple[str, int, int]]
    runs: list[Run]
    vaccinators: int
    waste: int
    start: int
    end: int

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.tallies)


@dataclass(slots=True)
class Claim:
    """What the facility records for a session, plus the reality a monitor would find."""

    tallies: list[tuple[str, int, int]]
    epcs: list[str]
    waste: int
    vaccinators: int
    post: int
    start: int
    end: int
    tags: list[str] = field(default_factory=list)
    held: bool = True
    register_found: bool = True
    register_doses: int | None = None
    genuine: bool = True
    capture_delay: int = 0

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.tallies)


@dataclass(slots=True)
class Diversion:
    """Cases a store sends off the books, and how it covers them."""

    anomaly: str
    cases: int
    mode: str  # facility_cover | wastage_cover
    destination: dict[str, Any]
    cover: str | None = None
    reason: str = "breakage"


@dataclass(slots=True)
class Excursion:
    """A real temperature excursion: readings ``start``..``end`` (indexes) move toward ``peak``."""

    start: int
    end: int
    peak: float
    hidden: str | None = None  # None (recorded honestly), "gap" or "edited"
    anomaly: str | None = None


class Injection:
    """One scenario's answers; every hook returns the honest answer unless overridden."""

    name = "honest"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        self.intensity = intensity
        self.rng = rng

    def prepare_country(self, country: Country) -> None:
        """Before planning: add paper-only facilities (ghosts)."""

    def prepare(self, engine: Engine) -> None:
        """After sites exist: choose where and when to act."""

    def short_receipt(
        self, engine: Engine, site: Site, day: int, cases: list[int]
    ) -> tuple[list[int], list[str]]:
        """Cases a store leaves out of its receiving record (and diverts), and the tags of that
        falsified record."""
        return [], []

    def divert_at_issue(self, engine: Engine, site: Site, day: int, rnd: int) -> list[Diversion]:
        return []

    def claim(self, engine: Engine, true: TrueSession, claim: Claim) -> None:
        """Change what a facility records for a session (``claim`` starts as the truth)."""

    def extra_sessions(self, engine: Engine, site: Site, day: int, rnd: int) -> list[Claim]:
        """Sessions recorded that never took place."""
        return []

    def excursion(self, engine: Engine, site: Site, day: int, readings: int) -> Excursion | None:
        return None

    def vvm_stage(self, engine: Engine, site: Site, day: int, stage: int) -> tuple[int, list[str]]:
        return stage, []

    def tags(self, engine: Engine, party: str, day: int, event: dict[str, Any]) -> list[str]:
        """Tags for an event just emitted (the log operator choosing what to tamper with)."""
        return []

    def finish(self, engine: Engine) -> None:
        """After the last day: complete ground-truth records."""


class Adversary:
    """The injections of a run, consulted in order."""

    def __init__(self, injections: list[Injection]) -> None:
        self.injections = injections

    def prepare_country(self, country: Country) -> None:
        for i in self.injections:
            i.prepare_country(country)

    def prepare(self, engine: Engine) -> None:
        for i in self.injections:
            i.prepare(engine)

    def short_receipt(
        self, engine: Engine, site: Site, day: int, cases: list[int]
    ) -> tuple[list[int], list[str]]:
        out: list[int] = []
        tags: list[str] = []
        for i in self.injections:
            left = [c for c in cases if c not in set(out)]
            omitted, more = i.short_receipt(engine, site, day, left)
            out += omitted
            tags += more
        return out, tags

    def divert_at_issue(self, engine: Engine, site: Site, day: int, rnd: int) -> list[Diversion]:
        return [d for i in self.injections for d in i.divert_at_issue(engine, site, day, rnd)]

    def claim(self, engine: Engine, true: TrueSession, claim: Claim) -> None:
        for i in self.injections:
            i.claim(engine, true, claim)

    def extra_sessions(self, engine: Engine, site: Site, day: int, rnd: int) -> list[Claim]:
        return [c for i in self.injections for c in i.extra_sessions(engine, site, day, rnd)]

    def excursion(self, engine: Engine, site: Site, day: int, readings: int) -> Excursion | None:
        for i in self.injections:
            found = i.excursion(engine, site, day, readings)
            if found is not None:
                return found
        return None

    def vvm_stage(self, engine: Engine, site: Site, day: int, stage: int) -> tuple[int, list[str]]:
        tags: list[str] = []
        for i in self.injections:
            stage, more = i.vvm_stage(engine, site, day, stage)
            tags += more
        return stage, tags

    def tags(self, engine: Engine, party: str, day: int, event: dict[str, Any]) -> list[str]:
        return [t for i in self.injections for t in i.tags(engine, party, day, event)]

    def finish(self, engine: Engine) -> None:
        for i in self.injections:
            i.finish(engine)
