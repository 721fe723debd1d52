"""Scoring findings against a simulation's ground truth (``truth.json``, docs/simulator.md).

A finding *detects* an anomaly when it shares evidence with it: an event hash ID the adversary
falsified or made up, an object it concerned, or the anomaly's place as the finding's primary
location (its first). An anomaly's places are its site, its cover facility (diversion covered on
paper), and its session post (ghost sessions). Precision is the share of findings that detect
some anomaly; recall the share of anomalies some finding detects. Nothing here knows which
finding kinds "should" fire for which scenario: a finding of any kind that points at the right
place or evidence counts, one that points elsewhere is a false finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dosetrail.analysis.findings import Finding
from dosetrail.epcis.identifiers import normalise_epc

__all__ = ["Score", "score"]


@dataclass(frozen=True, slots=True)
class Score:
    findings: int
    true_findings: int
    anomalies: int
    detected: int
    recall_by_kind: dict[str, tuple[int, int]]
    missed: tuple[str, ...]

    @property
    def precision(self) -> float:
        return self.true_findings / self.findings if self.findings else 1.0

    @property
    def recall(self) -> float:
        return self.detected / self.anomalies if self.anomalies else 1.0

    def as_json(self) -> dict[str, Any]:
        return {
            "findings": self.findings,
            "trueFindings": self.true_findings,
            "precision": round(self.precision, 3),
            "anomalies": self.anomalies,
            "detected": self.detected,
            "recall": round(self.recall, 3),
            "recallByKind": {
                k: {"detected": d, "of": n} for k, (d, n) in sorted(self.recall_by_kind.items())
            },
            "missed": list(self.missed),
        }


def _places(anomaly: dict[str, Any]) -> set[str]:
    details = anomaly.get("details") or {}
    found = {anomaly.get("site"), details.get("cover"), details.get("post")}
    return {normalise_epc(p) for p in found if isinstance(p, str)}


def _matches(finding: Finding, anomaly: dict[str, Any], places: set[str]) -> bool:
    if finding.locations and finding.locations[0] in places:
        return True
    if set(finding.events) & set(anomaly.get("events") or []):
        return True
    epcs = {normalise_epc(e) for e in anomaly.get("epcs") or []}
    return bool(epcs & set(finding.epcs))


def score(findings: Sequence[Finding], truth: dict[str, Any]) -> Score:
    anomalies = list(truth.get("anomalies") or [])
    places = [_places(a) for a in anomalies]
    detected = [False] * len(anomalies)
    true_findings = 0
    for f in findings:
        hit = False
        for i, anomaly in enumerate(anomalies):
            if _matches(f, anomaly, places[i]):
                detected[i] = True
                hit = True
        true_findings += hit
    by_kind: dict[str, tuple[int, int]] = {}
    for anomaly, found in zip(anomalies, detected, strict=True):
        key = f"{anomaly['kind']}/{anomaly['mode']}"
        d, n = by_kind.get(key, (0, 0))
        by_kind[key] = (d + found, n + 1)
    missed = tuple(
        f"{a['id']} {a['kind']}/{a['mode']}"
        for a, d in zip(anomalies, detected, strict=True)
        if not d
    )
    return Score(len(findings), true_findings, len(anomalies), sum(detected), by_kind, missed)
