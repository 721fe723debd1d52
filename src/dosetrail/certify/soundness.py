"""Monte-Carlo soundness of the statistical layer, on simulated programmes with known diversion.

A programme here is a frame of sessions (claimed doses, province) with a known share ``δ`` of
its claimed doses that never reached anyone, and a monitor model that mirrors the simulator's
``reality.json`` and :func:`~dosetrail.certify.observations.observations_from_reality`:

* honest session: everything checks out; each of 5 people traced confirms with probability 0.97;
* **ghost** session (never held, or at a facility that does not exist): fails;
* **padded, vials kept** (extra doses claimed, extra vials listed as opened but kept): the empty
  vials are short, it fails;
* **padded smoothly** (register padded to match, no extra vials): only the interviews can tell —
  a person listed confirms with probability ``0.97 · (1 − f)`` for a padding share ``f``.

Diverted doses are spread over the whole programme, or concentrated in one province. Each run
draws a fresh seed, samples with the real :func:`~dosetrail.certify.sampling.draw_sample`, judges
the drawn units and computes the real statistics. Reported per ``δ``: **coverage** (certified
doses ≤ doses that truly reached people), **detection** (verdict "not supported": some province
rejected by LQAS or the lower bound below the claim); at ``δ = 0`` detection is the false
rejection rate. ``bench/certify.py --soundness`` writes the table in ``docs/certification.md``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from dosetrail.certify.design import DEFAULT_DESIGN, Design
from dosetrail.certify.frame import Frame, Unit
from dosetrail.certify.sampling import draw_sample
from dosetrail.certify.summary import UnitResult, statistics

__all__ = ["SoundnessRow", "simulate_programme", "soundness"]

_CONFIRM = 0.97


@dataclass(frozen=True, slots=True)
class _Session:
    claimed: int
    true: int
    mode: str  # honest | ghost | kept | smooth


def simulate_programme(
    rng: random.Random,
    diversion: float,
    *,
    provinces: int = 12,
    sessions: int = 3000,
    concentrated: bool = False,
    smooth_only: bool = False,
) -> tuple[list[Unit], dict[int, _Session]]:
    """Sessions (log index → session) with ``diversion`` of the claimed doses not given."""
    units: list[Unit] = []
    truth: dict[int, _Session] = {}
    claimed = [max(10, int(rng.lognormvariate(5.6, 0.6))) for _ in range(sessions)]
    strata = [f"P{rng.randrange(provinces):02d}" for _ in range(sessions)]
    total = sum(claimed)
    target = diversion * total
    order = list(range(sessions))
    rng.shuffle(order)
    if concentrated:
        order.sort(key=lambda i: strata[i] != "P00")  # stable: province P00 first, shuffled
    diverted = 0.0
    modes = dict.fromkeys(range(sessions), "honest")
    trues = dict(enumerate(claimed))
    for i in order:
        if diverted >= target:
            break
        weights = (0.0, 0.0, 1.0) if smooth_only else (0.4, 0.3, 0.3)
        mode = rng.choices(("ghost", "kept", "smooth"), weights)[0]
        share = 1.0 if mode == "ghost" else rng.uniform(0.1, 0.5)
        lost = min(round(claimed[i] * share), round(target - diverted) or 1, claimed[i])
        modes[i] = mode if lost < claimed[i] else "ghost"
        trues[i] = claimed[i] - lost
        diverted += lost
    for i in range(sessions):
        units.append(Unit("session", strata[i], i, claimed[i]))
        truth[i] = _Session(claimed[i], trues[i], modes[i])
    return units, truth


def _verified(rng: random.Random, s: _Session, design: Design) -> bool:
    if s.mode in ("ghost", "kept"):
        return False
    q = _CONFIRM * (s.true / s.claimed)
    attempted = min(design.interviews, s.claimed)
    confirmed = sum(rng.random() < q for _ in range(attempted))
    return attempted - confirmed <= design.interview_misses


@dataclass(frozen=True, slots=True)
class SoundnessRow:
    diversion: float
    concentrated: bool
    smooth_only: bool
    runs: int
    coverage: float
    detection: float
    mean_bound: float

    def as_json(self) -> dict[str, Any]:
        return {
            "diversion": self.diversion,
            "concentrated": self.concentrated,
            "smooth_only": self.smooth_only,
            "runs": self.runs,
            "coverage": round(self.coverage, 4),
            "detection": round(self.detection, 4),
            "mean_lower_bound": round(self.mean_bound, 4),
        }


def soundness(
    diversion: float,
    runs: int,
    *,
    seed: int = 1,
    design: Design = DEFAULT_DESIGN,
    concentrated: bool = False,
    smooth_only: bool = False,
    sessions: int = 3000,
) -> SoundnessRow:
    """Run ``runs`` simulated programmes at ``diversion``; coverage and detection rates."""
    rng = random.Random(f"soundness:{seed}:{diversion}:{concentrated}:{smooth_only}")
    covered = detected = 0
    bounds = 0.0
    for _ in range(runs):
        units, truth = simulate_programme(
            rng, diversion, sessions=sessions, concentrated=concentrated, smooth_only=smooth_only
        )
        frame = Frame.build("mc", "run", len(units), design, units)
        sample = draw_sample(frame, rng.randbytes(32))
        results = []
        for index, first in sample.first_draw.items():
            ok = _verified(rng, truth[index], design)
            u = frame.by_index[index]
            results.append(
                UnitResult("session", index, "", u.stratum, u.weight, first.index, 1, None, ok)
            )
        stats = statistics(frame, sample, results)
        certified = stats["sessions"]["certified"]
        covered += certified <= sum(s.true for s in truth.values())
        detected += not stats["verdict"]["supported"]
        bounds += float(stats["sessions"]["lowerBound"])
    return SoundnessRow(
        diversion, concentrated, smooth_only, runs, covered / runs, detected / runs, bounds / runs
    )
