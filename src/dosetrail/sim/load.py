"""Replay a simulated campaign into a ledger, as its parties would have captured it.

Every party of ``parties.json`` is registered with its role and site (keys created in the
ledger's home); the operator publishes ``masterdata.jsonld``; then every document is captured by
its party in capture-day order, with recordTime set to that day (a live ledger uses its clock;
a replay must not, or every event would look recorded late).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from dosetrail.epcis.timestamps import to_micros
from dosetrail.errors import DosetrailError, MalformedInput
from dosetrail.store.capture import CaptureRequest
from dosetrail.store.ledger import Ledger

__all__ = ["LoadResult", "load_simulation"]

Progress = Callable[[int, int], None]  # (documents done, documents in all)
_CAPTURE_HOUR_UTC = 9  # 18:00 in Pyongyang: documents of a day are captured that evening
_BATCH = 64  # documents per transaction: a replay need not pay one commit per document


@dataclass(frozen=True, slots=True)
class LoadResult:
    parties: int
    documents: int
    events: int
    duplicates: int


def _documents(sim: Path) -> list[tuple[date, str, Path]]:
    found = []
    for path in sorted((sim / "epcis").glob("*/*.jsonld")):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError as e:
            raise MalformedInput(f"{path}: file name is not a capture day (YYYY-MM-DD)") from e
        found.append((day, path.parent.name, path))
    return sorted(found)


def load_simulation(ledger: Ledger, sim: Path, progress: Progress | None = None) -> LoadResult:
    """Register the simulation's parties and capture all its documents into ``ledger``."""
    try:
        parties = orjson.loads((sim / "parties.json").read_bytes())["parties"]
    except (OSError, orjson.JSONDecodeError, KeyError) as e:
        raise MalformedInput(f"{sim}: not a simulation output (parties.json): {e}") from e
    known = {p.name for p in ledger.parties()}
    operator = None
    for p in parties:
        if p["role"] == "operator":
            operator = p["key"]
        if p["key"] not in known:
            ledger.add_party(p["key"], p["role"], site=p.get("site"))
    if operator is None:
        operator = "operator"
        if operator not in known:
            ledger.add_party(operator, "operator")
    ledger.capture((sim / "masterdata.jsonld").read_bytes(), operator, name="masterdata.jsonld")
    documents = _documents(sim)
    events = duplicates = done = 0
    for start in range(0, len(documents), _BATCH):
        batch = []
        for day, party, path in documents[start : start + _BATCH]:
            received = datetime(day.year, day.month, day.day, _CAPTURE_HOUR_UTC, tzinfo=UTC)
            name = str(path.relative_to(sim))
            batch.append(CaptureRequest(path.read_bytes(), party, name, None, to_micros(received)))
        for outcome in ledger.capture_batch(batch):
            if isinstance(outcome, DosetrailError):
                raise outcome
            events += outcome.stored
            duplicates += len(outcome.duplicates)
        done += len(batch)
        if progress is not None:
            progress(done, len(documents))
    return LoadResult(len(parties), len(documents), events, duplicates)
