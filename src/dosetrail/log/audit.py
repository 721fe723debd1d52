"""Audit a C2SP tlog-tiles log with nothing but its files and a trusted verifier key.

:func:`audit_log` is what a donor, monitor or witness runs offline on ``dosetrail log tiles``
output (or any tlog-tiles log): it verifies the checkpoint signature, recomputes every leaf hash
from the entry bundles, every tile from the level below and the root from the tiles, and checks
it against the checkpoint — so every entry is proven included, and any changed, dropped,
reordered or inserted entry, truncated tile or bad root is reported by name (entry index, tile
path or checkpoint line). Given an earlier trusted checkpoint it also checks, with a consistency
proof computed from the tiles, that the log only grew since (no fork, no rollback).
Memory stays bounded: tiles are streamed level by level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dosetrail.errors import IntegrityError, NotFound
from dosetrail.log.checkpoint import Checkpoint, open_checkpoint
from dosetrail.log.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from dosetrail.log.note import NoteVerifier
from dosetrail.log.tiles import (
    TILE_WIDTH,
    TileHashes,
    TileSource,
    bundle_path,
    decode_bundle,
    source_fetcher,
    tile_path,
    tile_root,
    tile_tree,
    tiles_at_level,
)

__all__ = ["AuditResult", "audit_log", "check_consistency"]


@dataclass(frozen=True, slots=True)
class AuditResult:
    """What the audit established: the verified checkpoint and how many entries it covers."""

    checkpoint: Checkpoint
    entries: int
    tiles: int


def audit_log(
    source: TileSource,
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str | None = None,
    previous: Checkpoint | None = None,
    proofs: int = 0,
) -> AuditResult:
    """Verify the whole log in ``source``; raise :class:`IntegrityError` naming what is wrong.

    ``previous`` is an earlier checkpoint the caller trusts (checked for consistency);
    ``proofs`` > 0 additionally checks that many RFC 9162 inclusion proofs, spread over the log.
    """
    cp = open_checkpoint(_read(source, "checkpoint", "the log"), verifiers, origin).checkpoint
    size = cp.size
    tiles = _check_level0(source, size)
    level = 1
    while size >> (8 * level):
        tiles += _check_level(source, size, level)
        level += 1
    hashes = TileHashes(source_fetcher(source), size)
    if tree_root(size, hashes) != cp.root:
        raise IntegrityError(
            f"checkpoint line 3: root hash does not match the root computed from the tiles "
            f"(tree size {size})"
        )
    if previous is not None:
        check_consistency(previous, cp, hashes)
    for k in range(min(proofs, size)):
        index = k * size // min(proofs, size)
        leaf = hashes.node(0, index)
        verify_inclusion(leaf, index, size, inclusion_proof(index, size, hashes), cp.root)
    return AuditResult(cp, size, tiles)


def check_consistency(previous: Checkpoint, current: Checkpoint, hashes: TileHashes) -> None:
    """Check that ``current`` extends ``previous``, proving it from the tiles of ``current``."""
    if previous.origin != current.origin:
        raise IntegrityError(
            f"checkpoint line 1: origin {current.origin!r} is not the trusted {previous.origin!r}"
        )
    if current.size < previous.size:
        raise IntegrityError(
            f"checkpoint line 2: tree size {current.size} is smaller than the trusted size "
            f"{previous.size} (rollback)"
        )
    proof = consistency_proof(previous.size, current.size, hashes)
    try:
        verify_consistency(previous.size, current.size, previous.root, current.root, proof)
    except IntegrityError as e:
        raise IntegrityError(
            f"fork: checkpoint of size {current.size} is not consistent with the trusted "
            f"checkpoint of size {previous.size} ({e.message})"
        ) from e


def _read(source: TileSource, path: str, what: str) -> bytes:
    try:
        return source.read(path)
    except NotFound as e:
        raise IntegrityError(f"{path} is missing from {what}") from e


def _read_row(source: TileSource, level: int, index: int, width: int) -> bytes:
    path = tile_path(level, index, width)
    row = _read(source, path, f"the log (needed for level {level})")
    if len(row) != width * 32:
        raise IntegrityError(
            f"{path} is {len(row)} bytes, expected {width * 32} (truncated or padded)"
        )
    return row


def _check_level0(source: TileSource, size: int) -> int:
    """Entry bundles against level-0 tiles: every leaf hash, named by entry index."""
    n = 0
    for i, width in tiles_at_level(size, 0):
        first = i * TILE_WIDTH
        bpath = bundle_path(i, width)
        entries = decode_bundle(_read(source, bpath, "the log"), bpath, first)
        if len(entries) != width:
            raise IntegrityError(
                f"{bpath} holds {len(entries)} entries, the checkpoint needs {width} "
                f"(entries {first}–{first + width - 1}: one dropped or inserted)"
            )
        row = _read_row(source, 0, i, width)
        tpath = tile_path(0, i, width)
        for k, e in enumerate(entries):
            if leaf_hash(e) != row[k * 32 : k * 32 + 32]:
                raise IntegrityError(
                    f"entry {first + k} ({bpath}, position {k}) does not match its hash in "
                    f"{tpath}: the entry was changed, reordered or replaced"
                )
        n += 1
    return n


def _check_level(source: TileSource, size: int, level: int) -> int:
    """Each hash of ``level`` against the full tile it summarises on ``level - 1``."""
    n = 0
    for i, width in tiles_at_level(size, level):
        row = _read_row(source, level, i, width)
        for k in range(width):
            child = i * TILE_WIDTH + k
            below = tile_tree(_read_row(source, level - 1, child, TILE_WIDTH))
            if tile_root(below) != row[k * 32 : k * 32 + 32]:
                raise IntegrityError(
                    f"{tile_path(level - 1, child)} does not hash to entry {k} of "
                    f"{tile_path(level, i, width)}"
                )
        n += 1
    return n
