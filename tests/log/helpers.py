"""Test helpers: build a ledger log, export it, and forge tiles like a dishonest operator."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from dosetrail.log.checkpoint import Checkpoint, sign_checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.integrate import integrate
from dosetrail.log.merkle import leaf_hash, root_of
from dosetrail.log.note import Signer
from dosetrail.log.storage import append_entries
from dosetrail.log.tiles import bundle_path, encode_bundle, tile_path, tile_tree, tiles_at_level
from dosetrail.store.engine import write_tx


def build_log(engine: Engine, signer: Signer, entries: list[bytes], out: Path) -> Checkpoint:
    with write_tx(engine) as conn:
        append_entries(conn, entries)
    integrate(engine, signer)
    return export_tiles(engine, DirectoryTiles(out))


def forge_tiles(out: Path, entries: list[bytes], signer: Signer, origin: str) -> Checkpoint:
    """Write a complete, self-consistent tiles tree for ``entries`` signed by ``signer``."""
    d = DirectoryTiles(out)
    size = len(entries)
    row = b"".join(leaf_hash(e) for e in entries)
    level = 0
    while size >> (8 * level):
        parents = []
        for i, w in tiles_at_level(size, level):
            data = row[i * 8192 : i * 8192 + w * 32]
            d.write(tile_path(level, i, w), data)
            if w == 256:
                parents.append(tile_tree(data)[-32:])
        row = b"".join(parents)
        level += 1
    for i, w in tiles_at_level(size, 0):
        d.write(bundle_path(i, w), encode_bundle(entries[i * 256 : i * 256 + w]))
    cp = Checkpoint(origin, size, root_of([leaf_hash(e) for e in entries]))
    d.write("checkpoint", sign_checkpoint(cp, [signer]))
    return cp
