"""From sample, claims and observations to the certificate's numbers (certifier and verifier).

The same function computes the statistics when a certificate is issued and when a bundle is
verified, from the same inputs, so the verifier's comparison is exact.

Per kind (sessions, stock):

* headline: ``n`` headline draws, ``x`` of them on verified units; the verified fraction
  ``x/n``; its exact one-sided Clopper–Pearson lower bound ``L`` (rounded down to 10⁻⁶); and the
  certified amount ``⌊L · D⌋`` where ``D`` is the recorded total (doses administered, vials on
  hand). Draws are with probability proportional to weight, so ``x ~ Bin(n, p)`` where ``p`` is
  the verified *share of the recorded total*; ``L ≤ p`` with probability ≥ 95 %.
* per stratum: its LQAS sample (first ``lqasDraws`` draws in it), the failures ``f``, the rule
  ``(n, d)`` with its risks, and the decision (reject when ``f > d``).
* verdict: supported when ``L ≥ claim`` and every stratum accepts, for every kind present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from dosetrail.certify.design import KINDS, Design
from dosetrail.certify.frame import Frame
from dosetrail.certify.outcomes import Claim, Observation, judge
from dosetrail.certify.sampling import Sample
from dosetrail.certify.statistics import ceil_decimal, clopper_pearson_lower, floor_decimal

__all__ = ["SECTION", "UNIT_NAME", "UnitResult", "headline", "statistics", "unit_results"]

SECTION = {"session": "sessions", "stock": "stock"}
UNIT_NAME = {"session": "doses", "stock": "vials"}


@dataclass(frozen=True, slots=True)
class UnitResult:
    kind: str
    log_index: int
    event: str
    stratum: str
    weight: int
    sample_index: int
    draws: int
    observation: str | None
    verified: bool
    reasons: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "logIndex": self.log_index,
            "event": self.event,
            "stratum": self.stratum,
            "weight": self.weight,
            "sampleIndex": self.sample_index,
            "draws": self.draws,
            "observation": self.observation,
            "verified": self.verified,
            "reasons": list(self.reasons),
        }


def unit_results(
    frame: Frame,
    sample: Sample,
    claims: dict[int, tuple[str, Claim]],
    observations: dict[int, tuple[str, Observation]],
) -> list[UnitResult]:
    """The result of every drawn unit. ``claims``: unit log index → (event hash ID, claim);
    ``observations``: unit log index → (observation hash ID, observation)."""
    counts: dict[int, int] = {}
    for d in sample.draws:
        counts[d.unit] = counts.get(d.unit, 0) + 1
    out = []
    for index, first in sorted(sample.first_draw.items(), key=lambda kv: kv[1].index):
        unit = frame.by_index[index]
        event_id, claim = claims[index]
        obs_id, obs = observations.get(index, (None, None))
        verified, reasons = judge(unit.kind, unit.weight, claim, obs, frame.design)
        out.append(
            UnitResult(
                unit.kind,
                index,
                event_id,
                unit.stratum,
                unit.weight,
                first.index,
                counts[index],
                obs_id,
                verified,
                tuple(reasons),
            )
        )
    return out


def statistics(frame: Frame, sample: Sample, results: list[UnitResult]) -> dict[str, Any]:
    """The ``sessions`` and ``stock`` sections and the ``verdict`` of the certificate."""
    design = frame.design
    ok = {r.log_index: r.verified for r in results}
    out: dict[str, Any] = {}
    reasons: list[str] = []
    for kind in KINDS:
        strata = frame.strata[kind]
        if not strata:
            continue
        start, end = frame.kind_range(kind)
        head = sample.headline(kind)
        n = len(head)
        x = sum(1 for d in head if ok[d.unit])
        bound = clopper_pearson_lower(x, n, design.confidence)
        recorded = frame.weight(kind)
        certified = bound.numerator * recorded // bound.denominator
        rows = []
        for s in strata:
            lq = sample.lqas(kind, s.id)
            failures = sum(1 for d in lq if not ok[d.unit])
            rule = design.lqas
            decision = "accept" if len(lq) == rule.n and rule.accepts(failures) else "reject"
            m = len(lq)
            rows.append(
                {
                    "id": s.id,
                    "units": s.end - s.start,
                    "recorded": s.weight,
                    "draws": m,
                    "failures": failures,
                    "verifiedFraction": floor_decimal(Fraction(m - failures, m or 1)),
                    "lowerBound": floor_decimal(
                        clopper_pearson_lower(m - failures, m, design.confidence)
                    ),
                    "lqas": {
                        "n": rule.n,
                        "d": rule.d,
                        "alpha": ceil_decimal(rule.alpha),
                        "beta": ceil_decimal(rule.beta),
                        "decision": decision,
                    },
                }
            )
            if decision == "reject":
                reasons.append(
                    f"{SECTION[kind]} in {s.id}: {failures} of {m} sampled failed (LQAS d={rule.d})"
                )
        if bound < design.claim:
            reasons.append(
                f"{SECTION[kind]}: lower bound {floor_decimal(bound)} is below the claim "
                f"{floor_decimal(design.claim)}"
            )
        out[SECTION[kind]] = {
            "units": end - start,
            "recorded": recorded,
            "draws": n,
            "verified": x,
            "verifiedFraction": floor_decimal(Fraction(x, n or 1)),
            "lowerBound": floor_decimal(bound),
            "certified": certified,
            "unitsVisited": sum(1 for r in results if r.kind == kind),
            "strata": rows,
        }
    out["verdict"] = {"supported": not reasons, "reasons": reasons}
    return out


def headline(stats: dict[str, Any], design: Design) -> str:
    """The one sentence a donor reads first."""
    confidence = f"{float(design.confidence * 100):g}"
    sessions = stats.get("sessions")
    if sessions is None:
        return "No administration sessions were recorded: no doses are certified."
    return (
        f"At least {sessions['certified']:,} doses reached beneficiaries "
        f"({confidence} % confidence)."
    )
