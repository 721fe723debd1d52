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
import rfc8785
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dosetrail.epcis import Document, digest, hash_id_from_digest, read_document
from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.epcis.reader import sniff
from dosetrail.epcis.timestamps import parse_time, to_micros
from dosetrail.epcis.validate import event_problems, xsd_problems
from dosetrail.epcis.vocabulary import expand_field_value
from dosetrail.errors import AuthError, IntegrityError, InvalidDocument, Location, Problem
from dosetrail.log.merkle import leaf_hash, root_of
from dosetrail.log.note import open_note, parse_note, sign_note
from dosetrail.log.storage import append_entries
from dosetrail.store.engine import write_tx
from dosetrail.store.epcs import class_key, event_identifiers
from dosetrail.store.locations import descendants, master_data_locations, store_locations
from dosetrail.store.parties import Party, find_party, party_signer
from dosetrail.store.roles import SITE_BOUND, role_problem
from dosetrail.store.schema import capture, event, event_epc, location

__all__ = ["CAPTURE_NOTE_HEADER", "CaptureResult", "capture_document", "capture_text"]

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
    with engine.connect() as conn:
        who = find_party(conn, party_name)
        allowed = _allowed_locations(conn, who)
    prepared = _prepare(keys_dir, data, who, name, signature=signature, allowed=allowed)
    stamp = received if received is not None else time.time_ns() // 1000
    with write_tx(engine) as conn:
        return _store(conn, who, prepared, stamp)


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
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = problems[0]
        raise InvalidDocument(first.message + more, first.location, problems)
    raw = hashlib.sha256(data).digest()
    digests = [digest(ev, prefixes) for ev in doc.events]
    root = root_of([leaf_hash(d) for d in digests])
    text = capture_text(raw.hex(), len(digests), root)
    return _Prepared(doc, raw.hex(), raw, digests, root, _signature(keys_dir, who, text, signature))


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


def _store(conn: Connection, who: Party, p: _Prepared, received: int) -> CaptureResult:
    existing = conn.execute(
        sa.select(capture.c.log_index, capture.c.event_count).where(capture.c.digest == p.digest)
    ).first()
    if existing is not None:
        return CaptureResult(
            p.capture_id,
            who.name,
            int(existing.event_count),
            0,
            int(existing.log_index),
            already_captured=True,
        )
    events = p.doc.events
    declared = [isinstance(ev.get("errorDeclaration"), dict) for ev in events]
    seen = _already_stored(conn, p.digests)
    fresh: list[int] = []
    duplicates: list[tuple[int, str]] = []
    for i, (d, decl) in enumerate(zip(p.digests, declared, strict=True)):
        if (d, decl) in seen:
            duplicates.append((i, hash_id_from_digest(d)))
        else:
            seen.add((d, decl))
            fresh.append(i)
    entries = [_capture_entry(p, who, received)] + [_event_entry(p, i, declared[i]) for i in fresh]
    first = append_entries(conn, entries)
    capture_pk = conn.execute(
        sa.insert(capture).values(
            digest=p.digest,
            party_id=who.id,
            name=p.doc.name,
            received=received,
            event_count=len(events),
            root=p.root,
            digests=b"".join(p.digests),
            signature=p.signature_line,
            namespaces=orjson.dumps(p.doc.namespaces).decode(),
            log_index=first,
        )
    ).inserted_primary_key
    assert capture_pk is not None
    rows: list[dict[str, Any]] = []
    epcs: list[dict[str, Any]] = []
    for n, i in enumerate(fresh, start=1):
        index = first + n
        ev = events[i]
        row = _event_row(ev, index, p.digests[i], declared[i], received)
        row.update(capture_id=int(capture_pk[0]), position=i)
        rows.append(row)
        epcs.extend(
            {
                "event": index,
                "role": int(role),
                "epc": epc,
                "class_key": class_key(epc),
                "quantity": q,
            }
            for role, epc, q in event_identifiers(ev)
        )
    for start in range(0, len(rows), _CHUNK * 4):
        conn.execute(sa.insert(event), rows[start : start + _CHUNK * 4])
    for start in range(0, len(epcs), _CHUNK * 8):
        conn.execute(sa.insert(event_epc), epcs[start : start + _CHUNK * 8])
    store_locations(conn, master_data_locations(p.doc))
    return CaptureResult(
        p.capture_id,
        who.name,
        len(events),
        len(fresh),
        first,
        tuple(duplicates),
        event_log_indices=tuple(range(first + 1, first + 1 + len(fresh))),
    )


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
    return rfc8785.dumps(
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
    return rfc8785.dumps(entry)


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
