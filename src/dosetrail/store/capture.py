"""Signed capture: validate, hash, sign and store an EPCIS document in one transaction.

The signed text (DESIGN.md, "Capture") is a C2SP signed note::

    dosetrail-capture/v1
    <capture id: SHA-256 of the document bytes, hex>
    <number of events>
    <base64 RFC 9162 root over the events' 32-byte hash digests, in document order>

so an event's authorship can later be shown with its digest, an inclusion proof in that small
tree and the signature. In one database transaction the capture, its new events (queryable
columns + JSON-LD) and their log entries (RFC 8785 JSON) are stored with gap-free log indices:
a crash at any point leaves either all of it or none of it. An event whose hash is already in
the ledger is reported as a duplicate and not stored again; an error declaration (same hash,
with ``errorDeclaration``) is a new record and keeps both versions.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dosetrail import canonical_json
from dosetrail.epcis import Document, digest, hash_id_from_digest, read_document
from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.epcis.reader import sniff
from dosetrail.epcis.timestamps import parse_time, to_micros
from dosetrail.epcis.validate import event_problems, xsd_problems
from dosetrail.epcis.vocabulary import expand_field_value
from dosetrail.errors import (
    AuthError,
    DosetrailError,
    IntegrityError,
    InvalidDocument,
    Location,
    Problem,
)
from dosetrail.log.merkle import leaf_hash, root_of
from dosetrail.log.note import open_note, parse_note, sign_note
from dosetrail.log.storage import append_entries
from dosetrail.store.engine import bulk_insert, write_tx
from dosetrail.store.epcs import class_key, event_identifiers
from dosetrail.store.locations import descendants, master_data_locations, store_locations
from dosetrail.store.parties import Party, find_party, party_signer
from dosetrail.store.roles import SITE_BOUND, role_problem
from dosetrail.store.schema import capture, event, event_epc, location

__all__ = [
    "CAPTURE_NOTE_HEADER",
    "CaptureRequest",
    "CaptureResult",
    "capture_batch",
    "capture_document",
    "capture_text",
]

CAPTURE_NOTE_HEADER = "dosetrail-capture/v1"
_CHUNK = 500
_MASTER_DATA_ROLES = frozenset({"operator"})


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


def capture_text(capture_id: str, count: int, root: bytes) -> str:
    """The note text a party signs for a capture."""
    return f"{CAPTURE_NOTE_HEADER}\n{capture_id}\n{count}\n{base64.b64encode(root).decode()}\n"


@dataclass(slots=True)
class _Prepared:
    doc: Document
    capture_id: str
    digest: bytes
    digests: list[bytes]
    root: bytes
    signature_line: str
    rejected: frozenset[int] = frozenset()
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    """One document to capture: bytes as received, the recording party, its signature if the
    party signs itself, and (for replays only) the recordTime to use."""

    data: bytes
    party: str
    name: str = "<document>"
    signature: bytes | None = None
    received: int | None = None
    proceed: bool = False  # EPCIS 2.0 captureErrorBehaviour "proceed": store the valid events


def capture_document(
    engine: Engine,
    keys_dir: Path,
    data: bytes,
    party_name: str,
    *,
    name: str = "<document>",
    signature: bytes | None = None,
    received: int | None = None,
) -> CaptureResult:
    """Capture ``data`` (EPCIS JSON-LD or XML) as ``party_name``.

    ``signature`` is the party's signed note over :func:`capture_text` when its key is not in
    ``keys_dir``. ``received`` (µs since the epoch) replaces the ledger clock when replaying a
    simulated campaign; a live ledger always uses its own clock for recordTime.
    """
    request = CaptureRequest(data, party_name, name, signature, received)
    outcome = capture_batch(engine, keys_dir, [request])[0]
    if isinstance(outcome, DosetrailError):
        raise outcome
    return outcome


def capture_batch(
    engine: Engine, keys_dir: Path, requests: Sequence[CaptureRequest]
) -> list[CaptureResult | DosetrailError]:
    """Capture several documents in ONE transaction (one commit, one log append).

    Each document is still validated and signed on its own: one that is refused gets its error
    in the result list and stores nothing; the others are stored together and acknowledged
    together when the transaction commits.
    """
    outcomes: list[CaptureResult | DosetrailError | None] = [None] * len(requests)
    ready: list[tuple[int, Party, _Prepared, int]] = []
    who_cache: dict[str, tuple[Party, tuple[set[str], set[str]] | None]] = {}
    now = time.time_ns() // 1000
    for i, req in enumerate(requests):
        try:
            if req.party not in who_cache:
                with engine.connect() as conn:
                    who = find_party(conn, req.party)
                    who_cache[req.party] = (who, _allowed_locations(conn, who))
            who, allowed = who_cache[req.party]
            prepared = _prepare(
                keys_dir,
                req.data,
                who,
                req.name,
                signature=req.signature,
                allowed=allowed,
                proceed=req.proceed,
            )
        except DosetrailError as e:
            outcomes[i] = e
            continue
        ready.append((i, who, prepared, req.received if req.received is not None else now))
    if ready:
        with write_tx(engine) as conn:
            stored = _store(conn, ready)
        for (i, _, _, _), result in zip(ready, stored, strict=True):
            outcomes[i] = result
    return [o for o in outcomes if o is not None]


def _allowed_locations(conn: Connection, who: Party) -> tuple[set[str], set[str]] | None:
    """For a site-bound party: (its site's subtree, every location in the master data)."""
    if who.role not in SITE_BOUND or who.site is None:
        return None
    known = set(conn.execute(sa.select(location.c.id)).scalars())
    return set(descendants(conn, who.site)), known


def _site_problem(ev: dict[str, Any], who: Party, allowed: tuple[set[str], set[str]]) -> str | None:
    """A registered location outside the party's subtree is someone else's site: refused.
    A location missing from the master data is recorded (and left to analysis to flag)."""
    own, known = allowed
    for key in ("readPoint", "bizLocation"):
        ident = _location_id(ev.get(key))
        if ident is not None and ident in known and ident not in own:
            return f"{key} {ident} is not {who.name}'s site {who.site} or below it"
    return None


def _prepare(
    keys_dir: Path,
    data: bytes,
    who: Party,
    name: str,
    *,
    signature: bytes | None,
    allowed: tuple[set[str], set[str]] | None,
    proceed: bool = False,
) -> _Prepared:
    doc = read_document(data, name)
    prefixes = doc.prefixes()
    json_binding = sniff(data[:4096], name) == "json"
    problems: list[Problem] = []
    for i, ev in enumerate(doc.events):
        problems.extend(event_problems(ev, prefixes, i, name, schema=json_binding))
        why = role_problem(who.role, ev, prefixes)
        if why is not None:
            problems.append(Problem(Location(name, i, "bizStep"), why))
        elif allowed is not None and (where := _site_problem(ev, who, allowed)):
            problems.append(Problem(Location(name, i, "bizLocation"), where))
    if not json_binding:
        problems.extend(xsd_problems(data, name, doc.event_lines))
    if _has_master_data(doc) and who.role not in _MASTER_DATA_ROLES:
        problems.append(
            Problem(Location(name, field="epcisHeader"), f"a {who.role} may not define locations")
        )
    rejected = _rejected(problems, len(doc.events)) if proceed else frozenset()
    kept = tuple(problems) if rejected else ()
    if rejected:
        problems = []
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = problems[0]
        raise InvalidDocument(first.message + more, first.location, problems)
    raw = hashlib.sha256(data).digest()
    digests = [digest(ev, prefixes) for ev in doc.events]
    root = root_of([leaf_hash(d) for d in digests])
    text = capture_text(raw.hex(), len(digests), root)
    line = _signature(keys_dir, who, text, signature)
    return _Prepared(doc, raw.hex(), raw, digests, root, line, rejected, kept)


def _rejected(problems: Sequence[Problem], count: int) -> frozenset[int]:
    """Events a ``proceed`` capture leaves out: only if every problem is an event's own and
    some event is left to store (the party's signature still covers the whole document, and
    each stored event keeps its index in it, as duplicates do)."""
    events = frozenset(p.location.event for p in problems if p.location.event is not None)
    if not problems or len(events) == count or any(p.location.event is None for p in problems):
        return frozenset()
    return events


def _has_master_data(doc: Document) -> bool:
    header = doc.header.get("epcisHeader")
    return bool(doc.header.get("epcisMasterData")) or (
        isinstance(header, dict) and bool(header.get("epcisMasterData"))
    )


def _signature(keys_dir: Path, who: Party, text: str, signature: bytes | None) -> str:
    """The party's signature line over ``text``: checked if given, else made with its key."""
    if signature is None:
        signer = party_signer(keys_dir, who)
        if signer is None:
            raise AuthError(
                f"no private key for party {who.name!r} here: sign the capture yourself "
                "and pass the signed note"
            )
        note = sign_note(text, [signer])
    else:
        note = signature
        signed_text, _ = parse_note(note)
        if signed_text != text:
            raise IntegrityError(
                "the signed note is not over this document (capture id, event count or root differ)"
            )
    opened = open_note(note, [who.verifier])
    return opened.sigs[0].line().rstrip("\n")


def _store(
    conn: Connection, items: Sequence[tuple[int, Party, _Prepared, int]]
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
    seen = _already_stored(conn, [d for _, _, p, _ in items for d in p.digests])
    plans: list[tuple[Party, _Prepared, int, list[int], list[tuple[int, str]]] | CaptureResult] = []
    entries: list[bytes] = []
    for _, who, p, received in items:
        if p.digest in existing:
            index, count = existing[p.digest]
            plans.append(
                CaptureResult(p.capture_id, who.name, count, 0, index, already_captured=True)
            )
            continue
        existing[p.digest] = (-1, len(p.digests))  # the same document twice in one batch
        fresh, duplicates = _split_fresh(p, seen)
        entries.append(_capture_entry(p, who, received))
        entries.extend(_event_entry(p, i, _declares(p.doc.events[i])) for i in fresh)
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
                "name": p.doc.name,
                "received": received,
                "event_count": len(p.digests),
                "root": p.root,
                "signature": p.signature_line,
                "namespaces": orjson.dumps(p.doc.namespaces).decode(),
            }
        )
        for n, i in enumerate(fresh, start=1):
            ev = p.doc.events[i]
            row = _event_row(ev, capture_index + n, p.digests[i], _declares(ev), received)
            row.update(capture_id=capture_index, position=i)
            rows.append(row)
            epcs.extend(
                {
                    "event": capture_index + n,
                    "role": int(role),
                    "epc": epc,
                    "class_key": class_key(epc),
                    "quantity": q,
                }
                for role, epc, q in event_identifiers(ev)
            )
        position = capture_index + 1 + len(fresh)
        results.append(
            CaptureResult(
                p.capture_id,
                who.name,
                len(p.digests),
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
            store_locations(conn, master_data_locations(plan[1].doc))
    return results


def _declares(ev: dict[str, Any]) -> bool:
    return isinstance(ev.get("errorDeclaration"), dict)


def _split_fresh(
    p: _Prepared, seen: set[tuple[bytes, bool]]
) -> tuple[list[int], list[tuple[int, str]]]:
    """Events not yet in the ledger (nor earlier in this batch), and the duplicates."""
    fresh: list[int] = []
    duplicates: list[tuple[int, str]] = []
    for i, d in enumerate(p.digests):
        if i in p.rejected:
            continue
        key = (d, _declares(p.doc.events[i]))
        if key in seen:
            duplicates.append((i, hash_id_from_digest(d)))
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


def _capture_entry(p: _Prepared, who: Party, received: int) -> bytes:
    sig = p.signature_line.rsplit(" ", 1)[-1]
    return canonical_json.dumps(
        {
            "kind": "capture",
            "capture": p.capture_id,
            "party": who.verifier_key.rsplit("+", 1)[0],
            "count": len(p.digests),
            "root": base64.b64encode(p.root).decode(),
            "signature": sig,
            "received": received,
        }
    )


def _event_entry(p: _Prepared, i: int, declaration: bool) -> bytes:
    entry: dict[str, Any] = {
        "kind": "event",
        "event": hash_id_from_digest(p.digests[i]),
        "capture": p.capture_id,
        "index": i,
    }
    if declaration:
        entry["errorDeclaration"] = True
    return canonical_json.dumps(entry)


def _event_row(
    ev: dict[str, Any], index: int, digest_: bytes, declaration: bool, received: int
) -> dict[str, Any]:
    """The ``event`` row's queryable columns (the caller adds capture and position)."""
    stamp, _ = parse_time(str(ev["eventTime"]))
    where = ev.get("readPoint")
    biz = ev.get("bizLocation")
    return {
        "log_index": index,
        "hash": digest_,
        "declaration": declaration,
        "type": ev["type"],
        "event_time": to_micros(stamp),
        "record_time": received,
        "action": ev.get("action"),
        "biz_step": _vocab("bizStep", ev.get("bizStep")),
        "disposition": _vocab("disposition", ev.get("disposition")),
        "read_point": _location_id(where),
        "biz_location": _location_id(biz),
        "body": orjson.dumps(ev),
    }


def _vocab(field_name: str, value: Any) -> str | None:
    return expand_field_value(field_name, value.strip()) if isinstance(value, str) else None


def _location_id(where: Any) -> str | None:
    if isinstance(where, dict) and isinstance(where.get("id"), str):
        return normalise_epc(where["id"].strip())
    return None
