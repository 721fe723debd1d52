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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.epcis import Document, digest, read_document
from dosetrail.epcis.reader import sniff
from dosetrail.epcis.validate import event_problems, xsd_problems
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
from dosetrail.store.commit import CaptureResult, PreparedCapture, commit, prepare_event
from dosetrail.store.engine import write_tx
from dosetrail.store.epcs import location_id
from dosetrail.store.locations import descendants, master_data_locations
from dosetrail.store.parties import Party, find_party, party_signer
from dosetrail.store.roles import SITE_BOUND, role_problem
from dosetrail.store.schema import location

__all__ = [
    "CAPTURE_NOTE_HEADER",
    "CaptureRequest",
    "CaptureResult",
    "PartyBook",
    "capture_batch",
    "capture_document",
    "capture_text",
    "prepare_batch",
    "store_prepared",
]

CAPTURE_NOTE_HEADER = "dosetrail-capture/v1"
_CHUNK = 500
_MASTER_DATA_ROLES = frozenset({"operator"})


def capture_text(capture_id: str, count: int, root: bytes) -> str:
    """The note text a party signs for a capture."""
    return f"{CAPTURE_NOTE_HEADER}\n{capture_id}\n{count}\n{base64.b64encode(root).decode()}\n"


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


Allowed = tuple[frozenset[str], frozenset[str]] | None  # (own subtree, all registered)
Prepared = tuple[Party, PreparedCapture, int] | DosetrailError  # ready to store, or why not


def capture_batch(
    engine: Engine, keys_dir: Path, requests: Sequence[CaptureRequest]
) -> list[CaptureResult | DosetrailError]:
    """Capture several documents in ONE transaction (one commit, one log append).

    Each document is still validated and signed on its own: one that is refused gets its error
    in the result list and stores nothing; the others are stored together and acknowledged
    together when the transaction commits.
    """
    parties = PartyBook(engine)
    return store_prepared(engine, prepare_batch(keys_dir, requests, parties.lookup))


class PartyBook:
    """Parties and the locations each may record at, looked up once per name."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._parties: dict[str, tuple[Party, Allowed]] = {}
        self._registered: frozenset[str] | None = None  # shared by every party's entry

    def lookup(self, name: str) -> tuple[Party, Allowed]:
        if name not in self._parties:
            with self._engine.connect() as conn:
                who = find_party(conn, name)
                allowed: Allowed = None
                if who.role in SITE_BOUND and who.site is not None:
                    if self._registered is None:
                        ids = conn.execute(sa.select(location.c.id)).scalars()
                        self._registered = frozenset(ids)
                    allowed = frozenset(descendants(conn, who.site)), self._registered
                self._parties[name] = (who, allowed)
        return self._parties[name]

    def snapshot(self, names: Iterable[str]) -> dict[str, tuple[Party, Allowed]]:
        """Every named party (unknown names are left out: capturing them fails later)."""
        out = {}
        for name in set(names):
            try:
                out[name] = self.lookup(name)
            except DosetrailError:
                continue
        return out


def prepare_batch(
    keys_dir: Path,
    requests: Sequence[CaptureRequest],
    lookup: Callable[[str], tuple[Party, Allowed]],
) -> list[Prepared]:
    """Validate, hash and sign each document (no database writes; safe in worker processes)."""
    now = time.time_ns() // 1000
    out: list[Prepared] = []
    for req in requests:
        try:
            who, allowed = lookup(req.party)
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
            out.append(e)
            continue
        out.append((who, prepared, req.received if req.received is not None else now))
    return out


def store_prepared(
    engine: Engine, prepared: Sequence[Prepared]
) -> list[CaptureResult | DosetrailError]:
    """Store the ready documents of a prepared batch in one transaction, in order."""
    outcomes: list[CaptureResult | DosetrailError | None] = [
        p if isinstance(p, DosetrailError) else None for p in prepared
    ]
    ready = [(i, *p) for i, p in enumerate(prepared) if not isinstance(p, DosetrailError)]
    if ready:
        with write_tx(engine) as conn:
            stored = commit(conn, ready)
        for (i, _, _, _), result in zip(ready, stored, strict=True):
            outcomes[i] = result
    return [o for o in outcomes if o is not None]


def _site_problem(
    ev: dict[str, Any], who: Party, allowed: tuple[frozenset[str], frozenset[str]]
) -> str | None:
    """A registered location outside the party's subtree is someone else's site: refused.
    A location missing from the master data is recorded (and left to analysis to flag)."""
    own, known = allowed
    for key in ("readPoint", "bizLocation"):
        ident = location_id(ev.get(key))
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
    allowed: Allowed,
    proceed: bool = False,
) -> PreparedCapture:
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
    return PreparedCapture(
        name=doc.name,
        namespaces=orjson.dumps(doc.namespaces).decode(),
        capture_id=raw.hex(),
        digest=raw,
        events=[prepare_event(ev, d) for ev, d in zip(doc.events, digests, strict=True)],
        root=root,
        signature_line=line,
        locations=master_data_locations(doc),
        rejected=rejected,
        problems=kept,
    )


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
