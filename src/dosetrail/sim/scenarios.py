"""Scenario names, mixtures and intensity → the injections of a run.

``honest`` injects nothing. Each adversarial scenario is one :class:`Injection` whose
``intensity`` (0–0.5) means, per scenario: ``diversion`` share of all doses diverted;
``ghost`` share of facilities added on paper only, and of real facilities reporting sessions that
never took place; ``inflated`` share of facilities padding tallies; ``cold-breach`` share of
stores and facilities with a hidden excursion; ``clone`` share of facilities reporting vials whose
serials belong to vials used elsewhere; ``backdate`` share of facilities recording sessions weeks
late; ``rewrite`` share of sessions (at least three) whose logged events the operator attempts to
tamper with. Any adversarial scenario injects at least one anomaly. ``mixed`` = all of them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from dosetrail.errors import DosetrailError
from dosetrail.sim.adversary import Adversary, Injection

__all__ = ["SCENARIOS", "build_adversary", "parse_scenarios"]


def _registry() -> dict[str, type[Injection]]:
    from dosetrail.sim.concealment import Backdate, ColdBreach
    from dosetrail.sim.diversion import DiversionInjection
    from dosetrail.sim.fabrication import Clone, Ghost, Inflated
    from dosetrail.sim.tampering import Rewrite

    return {
        "diversion": DiversionInjection,
        "ghost": Ghost,
        "inflated": Inflated,
        "cold-breach": ColdBreach,
        "clone": Clone,
        "backdate": Backdate,
        "rewrite": Rewrite,
    }


SCENARIOS = (
    "honest",
    "diversion",
    "ghost",
    "inflated",
    "cold-breach",
    "clone",
    "backdate",
    "rewrite",
    "mixed",
)


def parse_scenarios(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"diversion,ghost"`` → ``("diversion", "ghost")``; ``mixed`` expands to every one.

    Raises:
        DosetrailError: naming the valid scenarios, if one is unknown.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in (i.strip().lower() for i in items):
        if item not in SCENARIOS:
            raise DosetrailError(
                f"unknown scenario {item!r}; valid scenarios: {', '.join(SCENARIOS)} "
                "(combine with commas, e.g. diversion,ghost)"
            )
        expanded = [s for s in SCENARIOS if s not in ("honest", "mixed")]
        for name in expanded if item == "mixed" else [item]:
            if name not in names:
                names.append(name)
    adversarial = [n for n in names if n != "honest"]
    return tuple(adversarial) or ("honest",)


def build_adversary(names: Sequence[str], intensity: float, seed: int) -> Adversary:
    registry = _registry()
    injections = [
        registry[name](intensity, random.Random(f"{seed}:scenario:{name}"))
        for name in names
        if name != "honest"
    ]
    return Adversary(injections)
