"""Writing prepared captures: one log append and one bulk insert per table for a whole batch.

A capture's rows are built where it was hashed (:func:`prepare_event`, run in replay worker
processes), so the single writer only numbers them and inserts: the writer is the bottleneck of
a replay, and a prepared capture without the parsed document is cheap to send between processes.

Called inside the caller's write transaction (:func:`dosetrail.store.capture.store_prepared`), so
a batch is stored entirely or not at all. An event already in the ledger (same hash, same
``errorDeclaration`` presence) is a duplicate: it is reported, not stored or logged again.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dosetrail import canonical_json
from dosetrail.epcis import hash_id_from_digest
from dosetrail.epcis.timestamps import parse_time, to_micros
from dosetrail.epcis.vocabulary import expand_field_value
from dosetrail.errors import Problem
from dosetrail.log.storage import append_entries
from dosetrail.store.engine import bulk_insert
from dosetrail.store.epcs import class_key, event_identifiers, location_id
from dosetrail.store.locations import store_locations
from dosetrail.store.parties import Party
from dosetrail.store.schema import capture, event, event_epc

__all__ = ["CaptureResult", "PreparedCapture", "PreparedEvent", "commit", "prepare_event"]

_CHUNK = 500
_Plan = tuple[Party, "PreparedCapture", int, list[int], list[tuple[int, str]]]


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """What a capture did: acknowledged only once this exists (the transaction committed)."""

    capture_id: str
    party: str
    events: int
    stored: int
    log_index: int
    duplicates: tuple[tuple[int, str], ...] = ()
    already_captured: bool = False
    event_log_indices: tuple[int, ...] = field(default=())
    rejected: tuple[Problem, ...] = ()  # problems of the events a ``proceed`` capture left out


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    """One event's hash and ledger rows, all but the numbering and recordTime."""

    digest: bytes
    declaration: bool  # carries an ``errorDeclaration``: a new record even with a known hash
    columns: dict[str, Any]  # ``event`` columns (no log_index, capture, position, record_time)
    identifiers: tuple[tuple[int, str, str | None, float | None], ...]  # role, epc, class, qty


@dataclass(slots=True)
class PreparedCapture:
    """A validated, hashed and signed document, ready to store."""

    name: str
    namespaces: str  # JSON object of the document's prefixes
    capture_id: str
    digest: bytes
    events: list[PreparedEvent]
    root: bytes
    signature_line: str
    locations: list[dict[str, Any]]  # master data location rows
    rejected: frozenset[int] = frozenset()  # events a ``proceed`` capture leaves out
    problems: tuple[Problem, ...] = ()

    @property
    def digests(self) -> list[bytes]:
        return [e.digest for e in self.events]


def prepare_event(ev: dict[str, Any], digest_: bytes) -> PreparedEvent:
    """``ev``'s queryable columns and identifier rows."""
    stamp, _ = parse_time(str(ev["eventTime"]))
    columns = {
        "hash": digest_,
        "type": ev["type"],
        "event_time": to_micros(stamp),
        "action": ev.get("action"),
        "biz_step": _vocab("bizStep", ev.get("bizStep")),
        "disposition": _vocab("disposition", ev.get("disposition")),
        "read_point": location_id(ev.get("readPoint")),
        "biz_location": location_id(ev.get("bizLocation")),
        "body": orjson.dumps(ev),
    }
    declaration = isinstance(ev.get("errorDeclaration"), dict)
    columns["declaration"] = declaration
    identifiers = tuple(
        (int(role), epc, class_key(epc), q) for role, epc, q in event_identifiers(ev)
    )
    return PreparedEvent(digest_, declaration, columns, identifiers)


def commit(
    conn: Connection, items: Sequence[tuple[int, Party, PreparedCapture, int]]
) -> list[CaptureResult]:
    """Store prepared captures: one log append, one insert per table for the whole batch."""
    digests = [p.digest for _, _, p, _ in items]
    existing = {
        bytes(r.digest): (int(r.id), int(r.event_count))
        for start in range(0, len(digests), _CHUNK)
        for r in conn.execute(
            sa.select(capture.c.digest, capture.c.id, capture.c.event_count).where(
                capture.c.digest.in_(digests[start : start + _CHUNK])
            )
        )
    }
    seen = _already_stored(conn, [e.digest for _, _, p, _ in items for e in p.events])
    plans: list[
        tuple[Party, PreparedCapture, int, list[int], list[tuple[int, str]]] | CaptureResult
    ] = []
    entries: list[bytes] = []
    for _, who, p, received in items:
        if p.digest in existing:
            index, count = existing[p.digest]
            plans.append(
                CaptureResult(p.capture_id, who.name, count, 0, index, already_captured=True)
            )
            continue
        existing[p.digest] = (-1, len(p.events))  # the same document twice in one batch
        fresh, duplicates = _split_fresh(p, seen)
        entries.append(_capture_entry(p, who, received))
        entries.extend(_event_entry(p, i) for i in fresh)
        plans.append((who, p, received, fresh, duplicates))
    first = append_entries(conn, entries) if entries else 0
    captures: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    epcs: list[dict[str, Any]] = []
    results: list[CaptureResult] = []
    position = first
    for plan in plans:
        if isinstance(plan, CaptureResult):
            results.append(plan)
            continue
        who, p, received, fresh, duplicates = plan
        capture_index = position
        captures.append(
            {
                "id": capture_index,
                "digest": p.digest,
                "party_id": who.id,
                "name": p.name,
                "received": received,
                "event_count": len(p.events),
                "root": p.root,
                "digests": b"".join(p.digests),  # the capture tree's leaves, for proofs
                "signature": p.signature_line,
                "namespaces": p.namespaces,
            }
        )
        for n, i in enumerate(fresh, start=1):
            ev = p.events[i]
            index = capture_index + n
            rows.append(
                {
                    **ev.columns,
                    "log_index": index,
                    "record_time": received,
                    "capture_id": capture_index,
                    "position": i,
                }
            )
            epcs.extend(
                {"event": index, "role": role, "epc": epc, "class_key": key, "quantity": q}
                for role, epc, key, q in ev.identifiers
            )
        position = capture_index + 1 + len(fresh)
        results.append(
            CaptureResult(
                p.capture_id,
                who.name,
                len(p.events),
                len(fresh),
                capture_index,
                tuple(duplicates),
                event_log_indices=tuple(range(capture_index + 1, position)),
                rejected=p.problems,
            )
        )
    for table, values in ((capture, captures), (event, rows), (event_epc, epcs)):
        bulk_insert(conn, table, values)
    for plan in plans:
        if not isinstance(plan, CaptureResult):
            store_locations(conn, plan[1].locations)
    return results


def _split_fresh(
    p: PreparedCapture, seen: set[tuple[bytes, bool]]
) -> tuple[list[int], list[tuple[int, str]]]:
    """Events not yet in the ledger (nor earlier in this batch), and the duplicates."""
    fresh: list[int] = []
    duplicates: list[tuple[int, str]] = []
    for i, ev in enumerate(p.events):
        if i in p.rejected:
            continue
        key = (ev.digest, ev.declaration)
        if key in seen:
            duplicates.append((i, hash_id_from_digest(ev.digest)))
        else:
            seen.add(key)
            fresh.append(i)
    return fresh, duplicates


def _already_stored(conn: Connection, digests: Sequence[bytes]) -> set[tuple[bytes, bool]]:
    found: set[tuple[bytes, bool]] = set()
    unique = list(dict.fromkeys(digests))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows = conn.execute(
            sa.select(event.c.hash, event.c.declaration).where(event.c.hash.in_(chunk))
        )
        found.update((bytes(r.hash), bool(r.declaration)) for r in rows)
    return found


def _capture_entry(p: PreparedCapture, who: Party, received: int) -> bytes:
    sig = p.signature_line.rsplit(" ", 1)[-1]
    return canonical_json.dumps(
        {
            "kind": "capture",
            "capture": p.capture_id,
            "party": "+".join(who.verifier_key.split("+", 2)[:2]),  # name+keyhash
            "count": len(p.events),
            "root": base64.b64encode(p.root).decode(),
            "signature": sig,
            "received": received,
        }
    )


def _event_entry(p: PreparedCapture, i: int) -> bytes:
    entry: dict[str, Any] = {
        "kind": "event",
        "event": hash_id_from_digest(p.events[i].digest),
        "capture": p.capture_id,
        "index": i,
    }
    if p.events[i].declaration:
        entry["errorDeclaration"] = True
    return canonical_json.dumps(entry)


def _vocab(field_name: str, value: Any) -> str | None:
    return expand_field_value(field_name, value.strip()) if isinstance(value, str) else None
