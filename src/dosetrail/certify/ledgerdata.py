"""What certification reads from the ledger: the frame, the evidence for a unit, context figures.

Read-only helpers on a ledger connection: :func:`frame_units` (every session and every site's
last stock count, with its stratum), :func:`event_evidence` (a stored event as a standalone
JSON-LD object with its capture-tree inclusion proof), :func:`doses_shipped` and
:func:`open_findings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dosetrail.certify.frame import Unit
from dosetrail.certify.outcomes import Claim, claim_of
from dosetrail.epcis import standalone_event
from dosetrail.epcis.document import Document
from dosetrail.epcis.vocabulary import expand_field_value
from dosetrail.errors import NotFound, StorageError
from dosetrail.log.merkle import inclusion_proof, leaf_hash, root_of
from dosetrail.store.schema import capture, event, finding, location, party

__all__ = [
    "EventEvidence",
    "StoredEvent",
    "doses_shipped",
    "event_evidence",
    "frame_units",
    "open_findings",
    "stored_events",
]

_DISPENSING = expand_field_value("bizStep", "dispensing")
_COUNTING = expand_field_value("bizStep", "cycle_counting")
_SHIPPING = expand_field_value("bizStep", "shipping")
_PACKING = expand_field_value("bizStep", "packing")
_CHUNK = 500
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class StoredEvent:
    log_index: int
    event_time: int
    body: dict[str, Any]
    prefixes: dict[str, str]
    party_role: str


def _prefixes(namespaces: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    found = cache.get(namespaces)
    if found is None:
        found = cache[namespaces] = Document([], orjson.loads(namespaces)).prefixes()
    return found


def stored_events(
    conn: Connection,
    steps: Iterable[str],
    *,
    below: int,
    start: int | None = None,
    end: int | None = None,
) -> Iterator[StoredEvent]:
    """Stored events with these bizStep URIs, log index below ``below``, event time in
    ``[start, end)`` (µs), excluding error declarations and the events they retract."""
    retracted = sa.select(event.c.hash).where(event.c.declaration.is_(True)).scalar_subquery()
    query = (
        sa.select(
            event.c.log_index,
            event.c.event_time,
            event.c.body,
            capture.c.namespaces,
            party.c.role,
        )
        .join(capture, capture.c.id == event.c.capture_id)
        .join(party, party.c.id == capture.c.party_id)
        .where(
            event.c.biz_step.in_(list(steps)),
            event.c.declaration.is_(False),
            event.c.log_index < below,
            event.c.hash.not_in(retracted),
        )
        .order_by(event.c.log_index)
    )
    if start is not None:
        query = query.where(event.c.event_time >= start)
    if end is not None:
        query = query.where(event.c.event_time < end)
    cache: dict[str, dict[str, str]] = {}
    result = conn.execution_options(yield_per=_BATCH).execute(query)
    for row in result:
        yield StoredEvent(
            int(row.log_index),
            int(row.event_time),
            orjson.loads(row.body),
            _prefixes(row.namespaces, cache),
            str(row.role),
        )


def _strata(conn: Connection) -> dict[str, str]:
    """Location id → stratum: the code of its province (else of the top area, else 'none')."""
    rows = conn.execute(sa.select(location.c.id, location.c.site_type, location.c.parent)).all()
    parent = {r.id: r.parent for r in rows}
    kind = {r.id: r.site_type for r in rows}
    out: dict[str, str] = {}
    for ident in parent:
        node: str | None = ident
        top: str | None = None
        seen: set[str] = set()
        while node is not None and node not in seen:
            seen.add(node)
            if kind.get(node) == "province":
                top = node
                break
            if kind.get(node) == "country":
                top = node
            node = parent.get(node)
        out[ident] = top.rstrip("/").rsplit("/", 1)[-1] if top else "none"
    return out


def frame_units(
    conn: Connection, *, below: int, start: int | None = None, end: int | None = None
) -> list[Unit]:
    """Every session and every site's last stock count, by a facility or store, as units."""
    strata = _strata(conn)
    units: list[Unit] = []
    last_count: dict[str, tuple[int, int, Unit]] = {}
    steps = (_DISPENSING, _COUNTING)
    for ev in stored_events(conn, steps, below=below, start=start, end=end):
        claim = claim_of(ev.body, ev.prefixes)
        if claim.kind is None or claim.weight <= 0:
            continue
        if claim.kind == "session" and ev.party_role != "facility":
            continue
        if claim.kind == "stock" and ev.party_role not in ("facility", "store"):
            continue
        unit = Unit(claim.kind, strata.get(claim.site or "", "none"), ev.log_index, claim.weight)
        if claim.kind == "session":
            units.append(unit)
        else:
            key = (ev.event_time, ev.log_index)
            site = claim.site or f"#{ev.log_index}"
            if site not in last_count or key > last_count[site][:2]:
                last_count[site] = (*key, unit)
    units.extend(u for *_, u in last_count.values())
    return units


def _claim_only(conn: Connection, index: int) -> Claim:
    row = conn.execute(
        sa.select(event.c.body, capture.c.namespaces)
        .join(capture, capture.c.id == event.c.capture_id)
        .where(event.c.log_index == index)
    ).first()
    if row is None:
        raise NotFound(f"no stored event at log index {index}")
    return claim_of(orjson.loads(row.body), _prefixes(row.namespaces, {}))


@dataclass(frozen=True, slots=True)
class EventEvidence:
    """A stored event, standalone, and what proves its authorship."""

    log_index: int
    event: dict[str, Any]  # standalone JSON-LD (with @context)
    prefixes: dict[str, str]
    capture_index: int  # log index of its capture entry
    capture_proof: list[bytes]  # inclusion of its digest in the capture's tree


def _capture_digests(conn: Connection, capture_pk: int, count: int, stored: Any) -> list[bytes]:
    if stored is not None:
        raw = bytes(stored)
        if len(raw) != 32 * count:
            raise StorageError(f"capture {capture_pk}: {len(raw) // 32} digests, not {count}")
        return [raw[i : i + 32] for i in range(0, len(raw), 32)]
    rows = conn.execute(
        sa.select(event.c.position, event.c.hash)
        .where(event.c.capture_id == capture_pk)
        .order_by(event.c.position)
    ).all()
    if [int(r.position) for r in rows] != list(range(count)):
        raise NotFound(
            f"capture {capture_pk} was stored before capture digests were kept and has "
            "duplicate events: its tree cannot be rebuilt"
        )
    return [bytes(r.hash) for r in rows]


def _tree_proof(digests: list[bytes], position: int) -> list[bytes]:
    leaves = [leaf_hash(d) for d in digests]

    def node(level: int, index: int) -> bytes:
        return root_of(leaves[index << level : (index + 1) << level])

    return inclusion_proof(position, len(leaves), node)


def event_evidence(conn: Connection, indices: Iterable[int]) -> list[EventEvidence]:
    """Evidence for the stored events at these log indices (sorted by log index)."""
    wanted = sorted(set(indices))
    rows: list[Any] = []
    for i in range(0, len(wanted), _CHUNK):
        rows += conn.execute(
            sa.select(
                event.c.log_index,
                event.c.body,
                event.c.position,
                capture.c.id,
                capture.c.id.label("capture_index"),
                capture.c.event_count,
                capture.c.root,
                capture.c.digests,
                capture.c.namespaces,
            )
            .join(capture, capture.c.id == event.c.capture_id)
            .where(event.c.log_index.in_(wanted[i : i + _CHUNK]))
        ).all()
    found = {int(r.log_index) for r in rows}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"no stored event at log index {missing[0]}")
    trees: dict[int, list[bytes]] = {}
    out = []
    for r in sorted(rows, key=lambda r: int(r.log_index)):
        cid = int(r.id)
        if cid not in trees:
            trees[cid] = _capture_digests(conn, cid, int(r.event_count), r.digests)
            if root_of([leaf_hash(d) for d in trees[cid]]) != bytes(r.root):
                raise StorageError(f"capture {cid}: stored digests do not give its signed root")
        namespaces = orjson.loads(r.namespaces)
        body = orjson.loads(r.body)
        out.append(
            EventEvidence(
                int(r.log_index),
                standalone_event(body, namespaces),
                Document([], namespaces).prefixes(),
                int(r.capture_index),
                _tree_proof(trees[cid], int(r.position)),
            )
        )
    return out


def doses_shipped(conn: Connection, *, below: int) -> int | None:
    """Doses the donor shipped: vials in its ``shipping`` events (through its own ``packing``
    aggregations) times doses per vial, read from the sessions' vial accounting (profile §3:
    Σ tallies + open-vial waste = vials × dosesPerVial). ``None`` when it cannot be told."""
    donor_events = (
        sa.select(event.c.log_index, event.c.biz_step, event.c.body)
        .join(capture, capture.c.id == event.c.capture_id)
        .join(party, party.c.id == capture.c.party_id)
        .where(
            party.c.role == "donor",
            event.c.biz_step.in_([_SHIPPING, _PACKING]),
            event.c.declaration.is_(False),
            event.c.log_index < below,
        )
        .order_by(event.c.log_index)
    )
    children: dict[str, list[str]] = {}
    shipped: list[str] = []
    for row in conn.execute(donor_events):
        body = orjson.loads(row.body)
        if row.biz_step == _PACKING and isinstance(body.get("parentID"), str):
            children.setdefault(body["parentID"], []).extend(
                c for c in body.get("childEPCs", []) if isinstance(c, str)
            )
        elif row.biz_step == _SHIPPING:
            shipped.extend(e for e in body.get("epcList", []) if isinstance(e, str))
    vials: set[str] = set()
    stack, seen = list(shipped), set()
    while stack:
        epc = stack.pop()
        if epc in seen:
            continue
        seen.add(epc)
        if epc in children:
            stack.extend(children[epc])
        elif epc.startswith("urn:epc:id:sgtin:"):
            vials.add(epc)
    per_vial = _doses_per_vial(conn, below)
    if not vials or per_vial is None:
        return None
    return len(vials) * per_vial


def _doses_per_vial(conn: Connection, below: int) -> int | None:
    for ev in stored_events(conn, [_DISPENSING], below=below):
        claim = claim_of(ev.body, ev.prefixes)
        waste = None
        for key, value in ev.body.items():
            if key.endswith(":openVialWaste") and type(value) is int:
                waste = value
        if claim.kind == "session" and claim.vials and waste is not None:
            total = claim.weight + waste
            if total % claim.vials == 0:
                return total // claim.vials
    return None


def open_findings(conn: Connection) -> list[dict[str, Any]]:
    """Findings of analysis that are not closed: key, kind, severity and title."""
    out = []
    for row in conn.execute(
        sa.select(finding.c.key, finding.c.kind, finding.c.severity, finding.c.body).order_by(
            finding.c.id
        )
    ):
        try:
            body = orjson.loads(row.body)
        except orjson.JSONDecodeError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if str(body.get("status", "open")).lower() in ("closed", "resolved", "dismissed"):
            continue
        title = body.get("title")
        out.append(
            {
                "key": str(row.key),
                "kind": str(row.kind),
                "severity": str(row.severity),
                "title": str(title) if title is not None else str(row.kind),
            }
        )
    return out
