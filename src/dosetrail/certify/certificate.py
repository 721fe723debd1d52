"""The certificate: a statement per programme and period, signed by the certifying monitor.

The statement is RFC 8785 canonical JSON; the signed note's text is that JSON plus ``\\n``
(C2SP signed-note, Ed25519), and a ``certificate`` log entry carries its SHA-256 and signature.
The **monitor** signs: it is the independent party that drew the sample, made the field checks
and stands behind the findings; the operator runs the system being audited and the donor is the
audience. Nothing in it needs trust in the monitor's arithmetic — ``dosetrail verify``
recomputes every number — except the fields listed in ``attested`` (issue time, doses shipped,
open findings), which need the whole ledger.

:func:`evaluate` is shared with the verifier: observations are matched to units, units judged
and the statistics computed by the same code on both sides.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import rfc8785

from dosetrail.certify.design import Design
from dosetrail.certify.frame import Frame
from dosetrail.certify.outcomes import Claim, Observation
from dosetrail.certify.sampling import Sample, derive_seed
from dosetrail.certify.statistics import ceil_decimal
from dosetrail.certify.summary import UnitResult, headline, statistics, unit_results
from dosetrail.errors import IntegrityError
from dosetrail.log.checkpoint import Checkpoint

__all__ = [
    "ATTESTED",
    "CERTIFICATE_FORMAT",
    "Evaluation",
    "ObservedEvent",
    "certificate_body",
    "encode_certificate",
    "evaluate",
    "match_observation",
]

CERTIFICATE_FORMAT = "dosetrail-certificate/v1"
ATTESTED = ("issued", "doses.shipped", "findings")


@dataclass(frozen=True, slots=True)
class ObservedEvent:
    """An observation event: its log index, hash ID and what it says."""

    log_index: int
    event_id: str
    observation: Observation


def match_observation(
    obs: Observation, sample: Sample, frame: Frame, claims: dict[int, tuple[str, Claim]]
) -> int | None:
    """The unit (log index) an observation is about, or ``None`` if it fits no sampled unit:
    its ``sampleIndex`` must be the unit's first draw, its subject the unit's kind, and its
    session ID (sessions) or place (stock) the unit's."""
    if obs.sample_index is None or not 0 <= obs.sample_index < len(sample.draws):
        return None
    draw = sample.draws[obs.sample_index]
    if sample.first_draw[draw.unit].index != draw.index:
        return None
    unit = frame.by_index[draw.unit]
    claim = claims[draw.unit][1]
    expected_subject = "session" if unit.kind == "session" else "site"
    if obs.subject != expected_subject:
        return None
    if unit.kind == "session" and (claim.session_id is None or obs.session_id != claim.session_id):
        return None
    if unit.kind == "stock" and (claim.site is None or obs.where != claim.site):
        return None
    return draw.unit


@dataclass(frozen=True)
class Evaluation:
    results: list[UnitResult]
    stats: dict[str, Any]
    used: list[ObservedEvent]


def evaluate(
    frame: Frame,
    sample: Sample,
    claims: dict[int, tuple[str, Claim]],
    observed: Iterable[ObservedEvent],
    *,
    strict: bool,
) -> Evaluation:
    """Match observations (the first logged per unit), judge units, compute the statistics.

    ``strict`` (the verifier): every observation given must fit a unit, one per unit.
    """
    chosen: dict[int, ObservedEvent] = {}
    for ob in sorted(observed, key=lambda o: o.log_index):
        unit = match_observation(ob.observation, sample, frame, claims)
        if unit is None:
            if strict:
                raise IntegrityError(
                    f"observation at log index {ob.log_index} fits no sampled unit "
                    f"(sampleIndex {ob.observation.sample_index})"
                )
            continue
        if unit in chosen:
            if strict:
                raise IntegrityError(f"two observations of the unit at log index {unit}")
            continue
        chosen[unit] = ob
    results = unit_results(
        frame,
        sample,
        claims,
        {u: (o.event_id, o.observation) for u, o in chosen.items()},
    )
    stats = statistics(frame, sample, results)
    return Evaluation(results, stats, sorted(chosen.values(), key=lambda o: o.log_index))


def _design(design: Design) -> dict[str, Any]:
    rule = design.lqas
    return {
        **design.as_json(),
        "draws": design.draws,
        "lqas": {
            "n": rule.n,
            "d": rule.d,
            "alpha": ceil_decimal(rule.alpha),
            "beta": ceil_decimal(rule.beta),
        },
    }


def certificate_body(
    *,
    programme: str,
    period: str,
    issued: str,
    certifier: str,
    sampling: Checkpoint,
    frame: Frame,
    frame_index: int,
    frame_sha256: str,
    commit_index: int,
    reveal_index: int,
    nonce: bytes,
    evaluation: Evaluation,
    events_sha256: str,
    doses_shipped: int | None,
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    """The statement (see ``docs/certification.md`` for every field)."""
    stats = evaluation.stats
    severities: dict[str, int] = {}
    for f in findings:
        severities[f["severity"]] = severities.get(f["severity"], 0) + 1
    sessions = stats.get("sessions")
    return {
        "format": CERTIFICATE_FORMAT,
        "programme": programme,
        "period": period,
        "issued": issued,
        "certifier": certifier,
        "headline": headline(stats, frame.design),
        "checkpoint": {
            "origin": sampling.origin,
            "size": sampling.size,
            "root": base64.b64encode(sampling.root).decode(),
        },
        "frame": {"logIndex": frame_index, "sha256": frame_sha256},
        "nonce": {"commitIndex": commit_index, "revealIndex": reveal_index, "value": nonce.hex()},
        "seed": derive_seed(sampling.root, nonce).hex(),
        "design": _design(frame.design),
        "doses": {
            "shipped": doses_shipped,
            "recordedAdministered": sessions["recorded"] if sessions else 0,
        },
        **{k: v for k, v in stats.items() if k != "verdict"},
        "verdict": stats["verdict"],
        "units": [r.as_json() for r in evaluation.results],
        "findings": {"open": len(findings), "bySeverity": severities, "items": findings},
        "evidence": {"events": events_sha256},
        "attested": list(ATTESTED),
    }


def encode_certificate(body: dict[str, Any]) -> bytes:
    """The RFC 8785 bytes that are signed (the note text is these plus a newline)."""
    return bytes(rfc8785.dumps(body))
