"""Ground truth: every injected anomaly, exactly what was done, where, and in which events.

An anomaly's ``events`` are the CBV 2.0 hash IDs of the events the adversary falsified or made
up (never honest events it merely hid behind), each also placed by document and index. Its
``epcs`` are the objects concerned (cases for diverted stock, vials for cloned serials), and
``doses`` the doses affected. ``rewrite`` lists what the log operator will try to do to events
after they are logged: EPCIS files cannot express that, the log tests apply it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Anomaly", "Truth"]


@dataclass(slots=True)
class Anomaly:
    id: str
    kind: str
    mode: str
    site: str | None
    party: str | None
    doses: int = 0
    epcs: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "mode": self.mode,
            "site": self.site,
            "party": self.party,
            "doses": self.doses,
            "epcs": self.epcs,
            "events": self.events,
            "documents": self.documents,
            "details": self.details,
        }


@dataclass(slots=True)
class Truth:
    anomalies: dict[str, Anomaly] = field(default_factory=dict)
    rewrite: dict[str, dict[str, Any]] = field(default_factory=dict)

    def new(self, kind: str, mode: str, site: str | None, party: str | None) -> Anomaly:
        anomaly = Anomaly(f"A{len(self.anomalies) + 1:04d}", kind, mode, site, party)
        self.anomalies[anomaly.id] = anomaly
        return anomaly

    def new_rewrite(self, attempt: dict[str, Any]) -> str:
        rid = f"R{len(self.rewrite) + 1:04d}"
        self.rewrite[rid] = {"id": rid, **attempt}
        return rid

    def located(self, tag: str, event: str, document: str, index: int) -> None:
        """Sink callback: a tagged event was written."""
        anomaly = self.anomalies.get(tag)
        if anomaly is not None:
            anomaly.events.append(event)
            anomaly.documents.append({"document": document, "index": index, "event": event})
            return
        attempt = self.rewrite.get(tag)
        if attempt is not None:
            attempt["event"] = event
            attempt["document"] = document
            attempt["index"] = index

    def as_json(self, header: dict[str, Any]) -> dict[str, Any]:
        """The truth file; anomalies that found nothing to act on (no event) are left out."""
        done = [a for a in self.anomalies.values() if a.events]
        by_kind: dict[str, dict[str, int]] = {}
        for a in done:
            entry = by_kind.setdefault(a.kind, {"anomalies": 0, "doses": 0, "events": 0})
            entry["anomalies"] += 1
            entry["doses"] += a.doses
            entry["events"] += len(a.events)
        return {
            **header,
            "anomalySummary": by_kind,
            "anomalies": [a.as_json() for a in done],
            "rewrite": list(self.rewrite.values()),
        }
