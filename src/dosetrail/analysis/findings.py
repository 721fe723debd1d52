"""Findings: what the analysis reports, in the stable ``findings.json`` schema (DESIGN.md).

A finding names its kind (one of :data:`KINDS`, a closed list documented in
``docs/findings.md``), a severity, the places, parties and EPCs involved, its evidence (event hash
IDs and their log indices, so each can be proven against the checkpoint the analysis covered) and
a plain-language explanation.

Identity: a finding's ``id`` is derived from its kind and its *subject* (the site and lot, the
despatch advice, the logger and start time, the serial…), not from the analysis run, so analysing
the same ledger twice gives the same ids, and a finding whose evidence grows as the ledger grows
keeps its id. Findings are stored in the ledger's ``finding`` table under the key
``analysis/<id>`` (upserted); analysis findings no longer produced are removed, so the table
lists the open ones. Other writers' findings (other key prefixes) are never touched.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dosetrail.store.schema import finding

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "Finding",
    "Findings",
    "Severity",
    "finding_id",
    "store_findings",
]

SCHEMA_VERSION = 1
Severity = Literal["high", "medium", "low"]
_ORDER = {"high": 0, "medium": 1, "low": 2}
_KEY_PREFIX = "analysis/"

KINDS: dict[str, str] = {
    # stock
    "stock_gap": "books (received − shipped − opened − destroyed) differ from the stock count",
    "stock_negative": "a site shipped, used or destroyed more of a lot than it had received",
    "shipment_not_received": "a shipment (despatch advice) never received",
    "receipt_without_shipment": "a receipt that no recorded shipment explains",
    "receipt_short": "fewer doses received than the shipment carried",
    "receipt_over": "more doses received than the shipment carried",
    "receipt_misdirected": "received at a site other than the shipment's destination",
    "unregistered_destination": "a shipment to a location that is not a registered site",
    "oversupply": "a facility received far more than its target population needs",
    "closed_vial_wastage": "closed vials destroyed (other than expiry) above the indicative rate",
    "open_vial_wastage": "open-vial wastage above the WHO indicative rate for the vial size",
    "expired_use": "doses administered from a lot past its expiry date",
    # cold chain
    "heat_alarm": "WHO 30-DTR heat alarm: above +8 °C for 10 h continuously",
    "freeze_alarm": "WHO 30-DTR freeze alarm: at or below −0.5 °C for 60 min",
    "logger_gap": "temperature readings missing for an hour or more",
    "vvm_inconsistent": "VVM readings do not reflect the heat exposure the logger recorded",
    "exposed_doses": "doses given after an excursion or logger gap at the site that held them",
    # coverage
    "coverage_over_100": "more first doses than the target population",
    "dose2_exceeds_dose1": "more second doses than first doses",
    "impossible_throughput": "more doses per vaccinator-hour than a person can give",
    "session_at_night": "a session outside daytime hours",
    "session_on_holiday": "a session on a public holiday of the configured calendar",
    "session_overlap": "two sessions at the same post at the same time",
    # fabrication
    "digit_preference": "tallies ending in 0 or 5 far more often than chance",
    "too_smooth": "session totals vary less than counts of people can (below Poisson)",
    # contradictions
    "clone": "the same serial consumed twice, or at two places",
    "double_aggregation": "an object packed into a second parent while still in the first",
    "backdated": "events recorded long after they say they happened",
    "future_event": "events dated after the ledger recorded them",
    "out_of_order": "events whose times contradict custody order (received before shipped)",
    "unregistered_location": "events at a location missing from the master data",
}


def finding_id(kind: str, subject: Sequence[object]) -> str:
    """``<kind>-<16 hex>``: SHA-256 over the kind and the finding's subject."""
    text = "\x1f".join([kind, *(str(s) for s in subject)])
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding. ``subject`` fixes its id; ``metrics`` are numbers the report may chart."""

    kind: str
    severity: Severity
    title: str
    explanation: str
    subject: tuple[object, ...]
    locations: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    epcs: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    log_indices: tuple[int, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")

    @property
    def id(self) -> str:
        return finding_id(self.kind, self.subject)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "explanation": self.explanation,
            "locations": list(self.locations),
            "parties": list(self.parties),
            "epcs": list(self.epcs),
            "events": list(self.events),
            "log_indices": list(self.log_indices),
            "metrics": self.metrics,
        }


@dataclass(slots=True)
class Findings:
    """All findings of one analysis, plus the log prefix it covered and the report's tables."""

    findings: list[Finding]
    covered: dict[str, Any]
    generated_at: str
    tables: dict[str, Any] = field(default_factory=dict)

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (_ORDER[f.severity], f.kind, f.id))

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "generated": {"at": self.generated_at, **self.covered},
            "kinds": KINDS,
            "findings": [f.as_json() for f in self.sorted()],
        }

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.as_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def dedupe(found: Iterable[Finding]) -> list[Finding]:
    """One finding per id (the first produced wins)."""
    out: dict[str, Finding] = {}
    for f in found:
        out.setdefault(f.id, f)
    return list(out.values())


def store_findings(conn: Connection, findings: Sequence[Finding]) -> None:
    """Upsert ``findings`` into the ``finding`` table and remove analysis findings not in it.

    ``found`` keeps the time a finding was first stored; its body is replaced by the newest.
    """
    now = time.time_ns() // 1000
    existing = {
        str(k)
        for k in conn.execute(
            sa.select(finding.c.key).where(finding.c.key.like(_KEY_PREFIX + "%"))
        ).scalars()
    }
    wanted: set[str] = set()
    for f in findings:
        key = _KEY_PREFIX + f.id
        wanted.add(key)
        body = orjson.dumps(f.as_json()).decode()
        if key in existing:
            conn.execute(
                sa.update(finding)
                .where(finding.c.key == key)
                .values(kind=f.kind, severity=f.severity, body=body)
            )
        else:
            conn.execute(
                sa.insert(finding).values(
                    key=key, kind=f.kind, severity=f.severity, body=body, found=now
                )
            )
    stale = sorted(existing - wanted)
    for start in range(0, len(stale), 500):
        conn.execute(sa.delete(finding).where(finding.c.key.in_(stale[start : start + 500])))
