"""The transparency log over HTTP: C2SP tlog-tiles, proofs and witness cosignatures.

* ``GET /log/checkpoint`` — the newest signed checkpoint (C2SP tlog-checkpoint), followed by the
  cosignatures registered witnesses submitted for it (C2SP tlog-cosignature); ``?cosigned=1``
  gives the newest checkpoint that has any.
* ``GET /log/tile/<L>/<N>[.p/<W>]`` and ``GET /log/tile/entries/<N>[.p/<W>]`` — exactly the bytes
  of C2SP tlog-tiles, read from ``log_tile`` and ``log_entry`` and encoded by
  :mod:`dosetrail.log.tiles` (the same encoders ``dosetrail log tiles`` writes files with). A
  full tile never changes: ``Cache-Control: public, max-age=31536000, immutable``; partial tiles
  and the checkpoint are fetched again soon.
* ``GET /log/proof/event?id=<event hash ID>`` — RFC 9162 §2.1.3 inclusion proof of the event's
  log entry in the newest checkpoint (or ``size``); ``/log/proof/inclusion?index=`` for any
  entry, ``/log/proof/consistency?old=&new=`` (§2.1.4).
* ``POST /log/cosignature`` — a witness's cosignature line over the current checkpoint (or the
  one of ``?size=``); it must verify with the key of a party registered with role ``witness``.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dosetrail.errors import AuthError, IntegrityError, MalformedInput, NotFound, StorageError
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.cosignature import CosignatureVerifier, cosignature_timestamp
from dosetrail.log.merkle import leaf_hash
from dosetrail.log.note import parse_note
from dosetrail.log.storage import (
    integrated_size,
    latest_checkpoint,
    log_checkpoint,
    log_tile,
    read_entries,
)
from dosetrail.log.tiles import TILE_WIDTH, bundle_path, encode_bundle, tile_path
from dosetrail.server.deps import Body, ServerState, State
from dosetrail.server.render import json_response
from dosetrail.server.tables import log_cosignature
from dosetrail.store.engine import read_tx, write_tx
from dosetrail.store.schema import event, party

__all__ = ["router"]

router = APIRouter(prefix="/log")

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
CHECKPOINT = "public, max-age=5, must-revalidate"
_HASH_ID = re.compile(r"ni:///sha-256;([0-9a-f]{64})\?ver=CBV2\.0")
_ELEMENT = re.compile(r"x?[0-9]{3}")


def _parse_index(parts: list[str]) -> tuple[int, int]:
    """``x001/x234/067[.p/W]`` → ``(1234067, W or 256)``; 404 for anything else."""
    width = TILE_WIDTH
    if len(parts) >= 2 and parts[-2].endswith(".p") and parts[-1].isdigit():
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][:-2]]
        if not 0 < width < TILE_WIDTH:
            raise NotFound("a partial tile's width is 1–255")
    if not parts or not all(_ELEMENT.fullmatch(p) for p in parts):
        raise NotFound("not a tlog-tiles path")
    return int("".join(p.lstrip("x") for p in parts)), width


def _octets(data: bytes, full: bool) -> Response:
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Cache-Control": IMMUTABLE if full else PARTIAL},
    )


def _tile(state: ServerState, level: int, index: int, width: int) -> bytes:
    with read_tx(state.ledger.engine) as conn:
        row = conn.execute(
            sa.select(log_tile.c.width, log_tile.c.hashes).where(
                log_tile.c.level == level, log_tile.c.idx == index
            )
        ).first()
    if row is None or int(row.width) < width:
        raise NotFound(f"tile {level}/{index} of width {width} does not exist (yet)")
    return bytes(row.hashes)[: width * 32]


def _bundle(state: ServerState, index: int, width: int) -> bytes:
    start = index * TILE_WIDTH
    with read_tx(state.ledger.engine) as conn:
        if start + width > integrated_size(conn):
            raise NotFound(f"entry bundle {index} of width {width} does not exist (yet)")
        try:
            return encode_bundle(list(read_entries(conn, start, start + width)))
        except StorageError as e:
            raise NotFound(str(e)) from e


@router.get("/tile/{path:path}")
async def tile(state: State, path: str) -> Response:
    """A tile or an entry bundle, at its C2SP tlog-tiles path."""
    parts = path.split("/")
    if parts[0] == "entries":
        index, width = _parse_index(parts[1:])
        if bundle_path(index, width) != f"tile/{path}":
            raise NotFound(f"tile/{path} is not a canonical tlog-tiles path")
        data = await run_in_threadpool(_bundle, state, index, width)
        return _octets(data, width == TILE_WIDTH)
    if not parts[0].isdigit() or int(parts[0]) > 63:
        raise NotFound("a tile level is 0–63")
    level = int(parts[0])
    index, width = _parse_index(parts[1:])
    if tile_path(level, index, width) != f"tile/{path}":
        raise NotFound(f"tile/{path} is not a canonical tlog-tiles path")
    data = await run_in_threadpool(_tile, state, level, index, width)
    return _octets(data, width == TILE_WIDTH)


def _checkpoint(state: ServerState, cosigned: bool) -> bytes:
    with read_tx(state.ledger.engine) as conn:
        if cosigned:
            size = conn.execute(sa.select(sa.func.max(log_cosignature.c.size))).scalar()
            if size is None:
                raise NotFound("no checkpoint has been cosigned yet")
            note = conn.execute(
                sa.select(log_checkpoint.c.note).where(log_checkpoint.c.size == size)
            ).scalar_one()
        else:
            latest = latest_checkpoint(conn)
            if latest is None:
                raise NotFound("the log has no checkpoint yet")
            size, _, note = latest
        lines = conn.execute(
            sa.select(log_cosignature.c.line)
            .where(log_cosignature.c.size == size)
            .order_by(log_cosignature.c.witness_id)
        ).scalars()
        return bytes(note) + "".join(lines).encode()


@router.get("/checkpoint")
async def checkpoint(state: State, cosigned: bool = False) -> Response:
    note = await run_in_threadpool(_checkpoint, state, cosigned)
    return Response(
        note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": CHECKPOINT}
    )


@router.get("/key")
async def key(state: State) -> Response:
    """The log operator's verifier key (C2SP signed-note)."""
    return Response(state.ledger.operator.verifier_key + "\n", media_type="text/plain")


def _size(state: ServerState, size: int | None) -> int:
    newest = state.log.checkpoint_size()
    if size is None:
        if newest == 0:
            raise NotFound("the log has no checkpoint yet")
        return newest
    if not 0 < size <= newest:
        raise NotFound(f"no checkpoint of size {size} (the newest is {newest})")
    return size


def _note_of(state: ServerState, size: int) -> str:
    with read_tx(state.ledger.engine) as conn:
        note = conn.execute(
            sa.select(log_checkpoint.c.note).where(log_checkpoint.c.size == size)
        ).scalar_one()
    return bytes(note).decode()


def _inclusion(state: ServerState, index: int, size: int | None) -> dict[str, Any]:
    tree = _size(state, size)
    if not 0 <= index < tree:
        raise NotFound(f"log entry {index} is not in the checkpoint of size {tree} (yet)")
    entry = state.log.entry(index)
    proof = state.log.inclusion_proof(index, tree)
    return {
        "logIndex": index,
        "treeSize": tree,
        "entry": base64.b64encode(entry).decode(),
        "leafHash": base64.b64encode(leaf_hash(entry)).decode(),
        "inclusionProof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": _note_of(state, tree),
    }


@router.get("/proof/inclusion")
async def inclusion(
    state: State, index: Annotated[int, Query(ge=0)], size: int | None = None
) -> Response:
    return json_response(await run_in_threadpool(_inclusion, state, index, size))


def _event_proofs(state: ServerState, event_id: str, size: int | None) -> dict[str, Any]:
    m = _HASH_ID.fullmatch(event_id.strip())
    if m is None:
        raise MalformedInput("id: an event hash ID ni:///sha-256;<64 hex>?ver=CBV2.0")
    with read_tx(state.ledger.engine) as conn:
        indices = conn.execute(
            sa.select(event.c.log_index)
            .where(event.c.hash == bytes.fromhex(m.group(1)))
            .order_by(event.c.log_index)
        ).scalars()
        found = [int(i) for i in indices]
    if not found:
        raise NotFound(f"no event {event_id} in the ledger")
    return {"eventID": event_id, "proofs": [_inclusion(state, i, size) for i in found]}


@router.get("/proof/event")
async def event_proof(
    state: State, event_id: Annotated[str, Query(alias="id")], size: int | None = None
) -> Response:
    return json_response(await run_in_threadpool(_event_proofs, state, event_id, size))


@router.get("/proof/consistency")
async def consistency(
    state: State, old: Annotated[int, Query(ge=0)], new: int | None = None
) -> Response:
    def prove() -> dict[str, Any]:
        tree = _size(state, new)
        if old > tree:
            raise NotFound(f"size {old} is larger than {tree}")
        proof = state.log.consistency_proof(old, tree)
        return {
            "oldSize": old,
            "newSize": tree,
            "consistencyProof": [base64.b64encode(h).decode() for h in proof],
        }

    return json_response(await run_in_threadpool(prove))


def _cosign(state: ServerState, body: bytes, size: int | None) -> dict[str, Any]:
    with read_tx(state.ledger.engine) as conn:
        if size is None:
            latest = latest_checkpoint(conn)
            if latest is None:
                raise NotFound("the log has no checkpoint to cosign yet")
            size, note = latest[0], latest[2]
        else:
            stored = conn.execute(
                sa.select(log_checkpoint.c.note).where(log_checkpoint.c.size == size)
            ).scalar_one_or_none()
            if stored is None:
                raise NotFound(f"no checkpoint of size {size}")
            note = bytes(stored)
        witnesses = conn.execute(
            sa.select(party.c.id, party.c.verifier_key).where(party.c.role == "witness")
        ).all()
    text = parse_note(bytes(note))[0]
    try:
        line = body.decode("utf-8").strip("\n") + "\n"
    except UnicodeDecodeError as e:
        raise MalformedInput("a cosignature line is UTF-8 text") from e
    sigs = parse_note((text + "\n" + line).encode())[1]
    if len(sigs) != 1:
        raise MalformedInput("send exactly one cosignature line")
    sig = sigs[0]
    keys = {}
    for w in witnesses:
        verifier = CosignatureVerifier.from_key(w.verifier_key)
        keys[(verifier.name, verifier.key_hash)] = (int(w.id), verifier)
    match = keys.get((sig.name, sig.key_hash))
    if match is None:
        raise AuthError(f"{sig.name}+{sig.key_hash:08x} is not a registered witness's key")
    witness_id, verifier = match
    if not verifier.verify(text.encode(), sig.signature):
        raise IntegrityError(f"the cosignature does not verify over the checkpoint of size {size}")
    stamp = cosignature_timestamp(sig)
    with write_tx(state.ledger.engine) as conn:
        conn.execute(
            sa.delete(log_cosignature).where(
                log_cosignature.c.size == size, log_cosignature.c.witness_id == witness_id
            )
        )
        conn.execute(
            sa.insert(log_cosignature).values(
                size=size,
                witness_id=witness_id,
                line=sig.line(),
                timestamp=stamp,
                received=time.time_ns() // 1000,
            )
        )
    cp = Checkpoint.parse(text)
    return {"origin": cp.origin, "treeSize": cp.size, "witness": sig.name, "timestamp": stamp}


@router.post("/cosignature")
async def cosignature(state: State, body: Body, size: int | None = None) -> Response:
    """Store a registered witness's cosignature (the signature is the authentication)."""
    return json_response(await run_in_threadpool(_cosign, state, body, size))
